// bpf_fib_lookup (#69) over the simulated FIB (src/net/fib.ts, spec program-types §4.7):
// progs/net_fib.bpf.o's XDP and tc programs fill struct bpf_fib_lookup from the packet, call the
// helper and leave its return value and the params after the call in `res`; `ctl` changes the
// call. Every program test runs on every engine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, EngineName } from '../src/engines.js';
import { FibConfigError } from '../src/errors.js';
import { Fib, FibConfig, parseAddress } from '../src/net/fib.js';
import { loadObject } from '../src/object.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const PROG = join(PROJECT_ROOT, 'progs', 'net_fib.bpf.o');

const XDP_ABORTED = 0, XDP_PASS = 2, XDP_REDIRECT = 4;
const TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7;
const DIRECT = 1, OUTPUT = 2, SKIP_NEIGH = 4, TBID = 8, SRC = 16, MARK = 32;
const ENODEV = 19, EINVAL = 22, EAFNOSUPPORT = 97;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => [...Buffer.from(h, 'hex')];
const v4 = (a: string) => a.split('.').map(Number);

function ipv4Packet(src: string, dst: string, payload = 0, tos = 0): Uint8Array {
  const totLen = 28 + payload;
  return Uint8Array.from([
    ...new Array(12).fill(0), 0x08, 0x00,
    0x45, tos, totLen >> 8, totLen & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, ...v4(src), ...v4(dst),
    0x04, 0xd2, 0x00, 0x35, (8 + payload) >> 8, (8 + payload) & 0xff, 0, 0, ...new Array(payload).fill(0),
  ]);
}

/** An IPv6/UDP frame; addresses as 32 hex digits. */
function ipv6Packet(src: string, dst: string, payload = 0): Uint8Array {
  const len = 8 + payload;
  return Uint8Array.from([
    ...new Array(12).fill(0), 0x86, 0xdd,
    0x60, 0, 0, 0, len >> 8, len & 0xff, 17, 64, ...bytes(src), ...bytes(dst),
    0x04, 0xd2, 0x00, 0x35, len >> 8, len & 0xff, 0, 0, ...new Array(payload).fill(0),
  ]);
}

const A6 = {
  dst1: '20010db8000100000000000000000007', // 2001:db8:1::7
  dst2: '20010db8000200000000000000000005', // 2001:db8:2::5
  src: '20010db8009900000000000000000001', // 2001:db8:99::1
  linkLocal: 'fe800000000000000000000000000001', // fe80::1
  multicast: 'ff020000000000000000000000000001', // ff02::1
  blackhole: '20010db80bad00000000000000000001',
  unreachable: '20010db8dead00000000000000000001',
  prohibit: '20010db8beef00000000000000000001',
  nowhere: '20010db8777700000000000000000001',
};

/** The test network: packets come in on lo (ifindex 1), which forwards here. */
const NET: FibConfig = {
  devices: [
    { ifindex: 1, forwarding: { ipv4: true, ipv6: true } },
    { ifindex: 2, name: 'eth0', mac: '02:00:00:00:00:02', forwarding: { ipv4: true, ipv6: true } },
    { ifindex: 3, name: 'eth1', mac: '02:00:00:00:00:03', mtu: 9000, forwarding: { ipv4: true } },
    { ifindex: 4, name: 'small', mac: '02:00:00:00:00:04', mtu: 100 },
  ],
  routes: [
    { dst: '10.1.0.0/16', dev: 'eth0', gateway: '10.0.0.254', metric: 10 },
    { dst: '10.1.2.0/24', dev: 'eth1', metric: 30, prefsrc: '10.1.2.1' },
    { dst: '10.1.2.0/24', dev: 'eth0', metric: 20 },
    { dst: '10.2.0.0/16', dev: 'small' },
    { dst: '10.3.0.0/16', dev: 'eth0', gateway: '10.0.0.254', mtu: 1400 },
    { dst: '10.4.0.0/16', dev: 'eth0', lwt: true },
    { dst: '10.5.0.0/16', dev: 'eth0', gateway: 'fe80::1' },
    { dst: '10.6.0.0/16', dev: 'eth0', gateway: '10.0.0.253' },
    { dst: '10.7.0.0/16', dev: 'eth1', table: 100 },
    { dst: '10.8.0.0/16', dev: 'lo' },
    { dst: '10.9.0.0/16', dev: 2, gateway: '10.0.0.252' },
    { dst: '192.0.2.0/24', type: 'blackhole' },
    { dst: '198.51.100.0/24', type: 'unreachable' },
    { dst: '203.0.113.0/24', type: 'prohibit' },
    { dst: '2001:db8:1::/48', dev: 'eth0', gateway: 'fe80::1' },
    { dst: '2001:db8:2::/48', dev: 'eth0', metric: 7, prefsrc: '2001:db8:2::1' },
    { dst: '2001:db8:bad::/48', type: 'blackhole' },
    { dst: '2001:db8:dead::/48', type: 'unreachable' },
    { dst: '2001:db8:beef::/48', type: 'prohibit' },
  ],
  neighbours: [
    { dev: 'eth0', ip: '10.0.0.254', mac: '02:aa:00:00:00:fe' },
    { dev: 'eth0', ip: '10.0.0.253', mac: '02:aa:00:00:00:fd', valid: false },
    { dev: 'eth0', ip: '10.1.2.3', mac: '02:aa:00:00:01:03' },
    { dev: 'eth1', ip: '10.1.2.3', mac: '02:bb:00:00:01:03' },
    { dev: 'eth1', ip: '10.7.0.7', mac: '02:bb:00:00:07:07' },
    { dev: 'small', ip: '10.2.0.5', mac: '02:cc:00:00:00:05' },
    { dev: 'lo', ip: '10.8.0.1', mac: '00:00:00:00:00:01' },
    { dev: 'eth0', ip: 'fe80::1', mac: '02:aa:00:00:00:01' },
    { dev: 'eth0', ip: '2001:db8:2::5', mac: '02:aa:00:02:00:05' },
  ],
};

interface Ctl {
  flags: number; ifindex: number; tbid: number; mark: number; family: number; shortPlen: boolean; noTotLen: boolean;
}

function ctlBytes(c: Partial<Ctl>): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  [c.flags ?? 0, c.ifindex ?? 0, c.tbid ?? 0, c.mark ?? 0, c.family ?? 0, c.shortPlen ? 1 : 0, c.noTotLen ? 1 : 0]
    .forEach((x, k) => v.setUint32(4 * k, x, true));
  return b;
}

/** A run's verdict and `res`: the helper's return value and the params after the call. */
interface Outcome {
  retval: number; data: string; rc: number; parsed: number;
  family: number; mtu: number; ifindex: number; metric: number; src4: string; dst4: string; src6: string; dst6: string;
  vlan: number; smac: string; dmac: string;
}

function run(engine: EngineName, prog: 'xdp' | 'tc', fib: FibConfig | undefined, packet: Uint8Array, ctl: Partial<Ctl> = {}): Outcome {
  const obj = loadObject(PROG, { engine, fib });
  obj.setGlobal('ctl', ctlBytes(ctl));
  const r = obj.program(prog === 'xdp' ? 'xdp_fib' : 'tc_fib').testRun({ data: packet });
  const b = obj.global('res').bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const P = 16;
  return {
    retval: r.retval, data: hex(r.data ?? new Uint8Array()), rc: Number(v.getBigInt64(0, true)), parsed: v.getUint32(8, true),
    family: b[P], mtu: v.getUint16(P + 6, true), ifindex: v.getUint32(P + 8, true), metric: v.getUint32(P + 12, true),
    src4: [...b.subarray(P + 16, P + 20)].join('.'), dst4: [...b.subarray(P + 32, P + 36)].join('.'),
    src6: hex(b.subarray(P + 16, P + 32)), dst6: hex(b.subarray(P + 32, P + 48)),
    vlan: v.getUint32(P + 48, true), smac: hex(b.subarray(P + 52, P + 58)), dmac: hex(b.subarray(P + 58, P + 64)),
  };
}

for (const engine of ENGINES) {
  describe(`bpf_fib_lookup [${engine}]`, () => {
    const xdp = (packet: Uint8Array, ctl: Partial<Ctl> = {}, fib: FibConfig | undefined = NET) => run(engine, 'xdp', fib, packet, ctl);
    const tc = (packet: Uint8Array, ctl: Partial<Ctl> = {}, fib: FibConfig | undefined = NET) => run(engine, 'tc', fib, packet, ctl);

    it('the default FIB (lo only, forwarding off) answers FWD_DISABLED (5), as a kernel test run does', () => {
      for (const packet of [ipv4Packet('10.0.0.1', '10.1.2.3'), ipv6Packet(A6.src, A6.dst1)]) {
        const x = run(engine, 'xdp', undefined, packet); // no `fib` option at all
        assert.deepEqual([x.rc, x.retval, x.ifindex], [5, XDP_PASS, 1]);
        const t = tc(packet, {}, {});
        assert.deepEqual([t.rc, t.retval, t.ifindex], [5, TC_ACT_OK, 1]);
      }
      // forwarding on for one family only
      const only4: FibConfig = { devices: [{ ifindex: 1, forwarding: { ipv4: true } }] };
      assert.equal(xdp(ipv6Packet(A6.src, A6.dst1), {}, only4).rc, 5);
      assert.equal(xdp(ipv4Packet('10.0.0.1', '10.1.2.3'), {}, only4).rc, 4); // forwarding, but no route
    });

    it('IPv4 SUCCESS through a gateway: egress, gateway, metric, MACs, mtu_result; XDP rewrites the MACs and redirects', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'));
      assert.deepEqual([x.rc, x.retval, x.parsed], [0, XDP_REDIRECT, 4]);
      assert.deepEqual([x.family, x.ifindex, x.metric, x.dst4, x.src4], [2, 2, 10, '10.0.0.254', '10.0.0.1']);
      assert.deepEqual([x.smac, x.dmac, x.vlan, x.mtu], ['020000000002', '02aa000000fe', 0, 1500]);
      assert.equal(x.data.slice(0, 24), '02aa000000fe' + '020000000002');
      const t = tc(ipv4Packet('10.0.0.1', '10.1.9.9'));
      assert.deepEqual([t.rc, t.retval, t.ifindex, t.dst4, t.smac, t.dmac, t.mtu], [0, TC_ACT_REDIRECT, 2, '10.0.0.254', '020000000002', '02aa000000fe', 1500]);
      assert.equal(t.data.slice(0, 24), '02aa000000fe020000000002');
    });

    it('longest prefix first, then the lowest metric; OUTPUT keeps only routes on the given device', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.1.2.3'));
      assert.deepEqual([x.rc, x.ifindex, x.metric, x.dst4, x.dmac], [0, 2, 20, '10.1.2.3', '02aa00000103']); // /24 metric 20, no gateway
      const out = xdp(ipv4Packet('10.0.0.1', '10.1.2.3'), { flags: OUTPUT, ifindex: 3 });
      assert.deepEqual([out.rc, out.ifindex, out.metric, out.dmac, out.smac, out.mtu], [0, 3, 30, '02bb00000103', '020000000003', 9000]);
      // OUTPUT on lo: no route of 10.1/16 leaves by lo
      assert.equal(xdp(ipv4Packet('10.0.0.1', '10.1.2.3'), { flags: OUTPUT }).rc, 4);
    });

    it('IPv6 SUCCESS: the gateway replaces ipv6_dst, the family stays AF_INET6, metric 1024 by default', () => {
      const x = xdp(ipv6Packet(A6.src, A6.dst1));
      assert.deepEqual([x.rc, x.retval, x.parsed, x.family, x.ifindex, x.metric], [0, XDP_REDIRECT, 6, 10, 2, 1024]);
      assert.deepEqual([x.dst6, x.src6, x.smac, x.dmac, x.mtu], [A6.linkLocal, A6.src, '020000000002', '02aa00000001', 1500]);
      const t = tc(ipv6Packet(A6.src, A6.dst2));
      assert.deepEqual([t.rc, t.retval, t.metric, t.dst6, t.dmac], [0, TC_ACT_REDIRECT, 7, A6.dst2, '02aa00020005']);
    });

    it('an IPv4 route with an IPv6 gateway sets family AF_INET6 and resolves the IPv6 neighbour', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.5.0.1'));
      assert.deepEqual([x.rc, x.family, x.ifindex, x.dst6, x.dmac], [0, 10, 2, A6.linkLocal, '02aa00000001']);
    });

    it('NO_NEIGH (7): no entry, or one not in a valid state; the other outputs are already written', () => {
      for (const dst of ['10.9.0.1', '10.6.0.1']) {
        const x = xdp(ipv4Packet('10.0.0.1', dst));
        assert.deepEqual([x.rc, x.retval, x.ifindex, x.metric], [7, XDP_PASS, 2, 0]);
        assert.equal(x.dst4, dst === '10.9.0.1' ? '10.0.0.252' : '10.0.0.253');
        assert.deepEqual([x.smac, x.dmac, x.mtu], ['000000000000', '000000000000', 28]); // tot_len still the input
      }
      const t = tc(ipv4Packet('10.0.0.1', '10.9.0.1'));
      assert.deepEqual([t.rc, t.retval, t.ifindex, t.dst4], [7, TC_ACT_OK, 2, '10.0.0.252']);
    });

    it('SKIP_NEIGH: SUCCESS without a neighbour, MACs untouched', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.9.0.1'), { flags: SKIP_NEIGH });
      assert.deepEqual([x.rc, x.ifindex, x.dst4, x.smac, x.dmac, x.mtu], [0, 2, '10.0.0.252', '000000000000', '000000000000', 1500]);
    });

    it('FRAG_NEEDED (8) with mtu_result: tot_len over the egress MTU or the route MTU, XDP and tc alike', () => {
      for (const prog of ['xdp', 'tc'] as const) {
        const big = run(engine, prog, NET, ipv4Packet('10.0.0.1', '10.1.9.9', 1473)); // tot_len 1501 > 1500
        assert.deepEqual([big.rc, big.mtu, big.ifindex, big.dst4], [8, 1500, 1, '10.1.9.9']); // nothing else written
        const fits = run(engine, prog, NET, ipv4Packet('10.0.0.1', '10.1.9.9', 1472));
        assert.deepEqual([fits.rc, fits.mtu], [0, 1500]);
        const route = run(engine, prog, NET, ipv4Packet('10.0.0.1', '10.3.0.1', 1373)); // route mtu 1400
        assert.deepEqual([route.rc, route.mtu], [8, 1400]);
        const v6 = run(engine, prog, NET, ipv6Packet(A6.src, A6.dst1, 1493)); // payload_len 1501
        assert.deepEqual([v6.rc, v6.mtu], [8, 1500]);
      }
    });

    it('without tot_len: XDP checks 0 against the MTU (SUCCESS); tc checks the skb against the egress device', () => {
      const frame = ipv4Packet('10.0.0.1', '10.2.0.5', 200); // 242 bytes; egress "small" has MTU 100
      const x = xdp(frame, { noTotLen: true });
      assert.deepEqual([x.rc, x.mtu, x.ifindex], [0, 100, 4]);
      const t = tc(frame, { noTotLen: true });
      assert.deepEqual([t.rc, t.retval, t.mtu, t.ifindex, t.dmac], [8, TC_ACT_OK, 100, 4, '02cc00000005']);
      // MTU + ETH_HLEN + VLAN_HLEN fits: 118 bytes
      const edge = tc(ipv4Packet('10.0.0.1', '10.2.0.5', 118 - 42), { noTotLen: true });
      assert.deepEqual([edge.rc, edge.mtu], [0, 100]);
      assert.equal(tc(ipv4Packet('10.0.0.1', '10.2.0.5', 119 - 42), { noTotLen: true }).rc, 8);
      // tc without tot_len on success: mtu_result = the egress device's MTU
      const ok = tc(ipv4Packet('10.0.0.1', '10.1.9.9'), { noTotLen: true });
      assert.deepEqual([ok.rc, ok.mtu], [0, 1500]);
    });

    it('the route MTU via lo: 65536 capped at IP_MAX_MTU for IPv4', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.8.0.1'));
      assert.deepEqual([x.rc, x.ifindex, x.mtu, x.dmac, x.smac], [0, 1, 65535, '000000000001', '000000000000']);
      const t = tc(ipv4Packet('10.0.0.1', '10.8.0.1'), { noTotLen: true });
      assert.deepEqual([t.rc, t.mtu], [0, 0]); // tc writes dev->mtu into the u16: 65536 & 0xffff
    });

    it('blackhole, unreachable and prohibit routes give 1, 2, 3 (IPv4 and IPv6)', () => {
      assert.deepEqual(['192.0.2.1', '198.51.100.1', '203.0.113.1'].map((d) => xdp(ipv4Packet('10.0.0.1', d)).rc), [1, 2, 3]);
      assert.deepEqual([A6.blackhole, A6.unreachable, A6.prohibit].map((d) => tc(ipv6Packet(A6.src, d)).rc), [1, 2, 3]);
    });

    it('NOT_FWDED (4): no route; IPv6 link-local, multicast or loopback source/destination (before the device check)', () => {
      assert.deepEqual([xdp(ipv4Packet('10.0.0.1', '172.16.0.1')).rc, xdp(ipv6Packet(A6.src, A6.nowhere)).rc], [4, 4]);
      const loopback = '00000000000000000000000000000001';
      for (const [src, dst] of [[A6.src, A6.linkLocal], [A6.linkLocal, A6.dst1], [A6.src, A6.multicast], [A6.src, loopback]]) {
        assert.equal(xdp(ipv6Packet(src, dst), { ifindex: 42 }).rc, 4, `${src} -> ${dst}`);
      }
    });

    it('UNSUPP_LWT (6) for a next hop with lightweight-tunnel encapsulation', () => {
      assert.equal(xdp(ipv4Packet('10.0.0.1', '10.4.0.1')).rc, 6);
    });

    it('ENODEV for an unknown ifindex; EINVAL for unknown flags or a short plen, params untouched; EAFNOSUPPORT', () => {
      const nodev = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { ifindex: 42 });
      assert.deepEqual([nodev.rc, nodev.retval, nodev.ifindex], [-ENODEV, XDP_ABORTED, 42]);
      assert.deepEqual([tc(ipv4Packet('10.0.0.1', '10.1.9.9'), { ifindex: 42 }).rc, tc(ipv4Packet('10.0.0.1', '10.1.9.9'), { ifindex: 42 }).retval],
        [-ENODEV, TC_ACT_SHOT]);
      for (const ctl of [{ flags: 64 }, { flags: 0x80000000 }, { shortPlen: true }]) {
        const x = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), ctl);
        assert.deepEqual([x.rc, x.retval, x.ifindex, x.dst4, x.mtu], [-EINVAL, XDP_ABORTED, 1, '10.1.9.9', 28]);
      }
      const af = tc(ipv4Packet('10.0.0.1', '10.1.9.9'), { family: 7 });
      assert.deepEqual([af.rc, af.retval, af.family], [-EAFNOSUPPORT, TC_ACT_SHOT, 7]);
    });

    it('DIRECT | TBID looks in the given table and zeroes tbid; a table that does not exist is NOT_FWDED', () => {
      assert.equal(xdp(ipv4Packet('10.0.0.1', '10.7.0.7')).rc, 4); // table 100 is not among the rules' tables
      const x = xdp(ipv4Packet('10.0.0.1', '10.7.0.7'), { flags: DIRECT | TBID, tbid: 100 });
      assert.deepEqual([x.rc, x.ifindex, x.dmac, x.vlan], [0, 3, '02bb00000707', 0]);
      const miss = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { flags: DIRECT | TBID, tbid: 100 });
      assert.deepEqual([miss.rc, miss.vlan], [4, 0]); // tbid zeroed on the way
      const none = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { flags: DIRECT | TBID, tbid: 77 });
      assert.deepEqual([none.rc, none.vlan], [4, 0]);
      assert.equal(xdp(ipv6Packet(A6.src, A6.dst1), { flags: DIRECT | TBID, tbid: 100 }).rc, 4); // no IPv6 table 100
      // DIRECT alone: main; TBID without DIRECT: ignored, tbid left as given
      assert.equal(xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { flags: DIRECT }).rc, 0);
      const tbidOnly = xdp(ipv4Packet('10.0.0.1', '10.9.0.1'), { flags: TBID, tbid: 100 });
      assert.deepEqual([tbidOnly.rc, tbidOnly.vlan], [7, 100]);
    });

    it('SRC: the route\'s prefsrc; IPv4 without one 0.0.0.0; IPv6 without one NO_SRC_ADDR (9)', () => {
      const withSrc = xdp(ipv4Packet('10.0.0.1', '10.1.2.3'), { flags: SRC | OUTPUT, ifindex: 3 });
      assert.deepEqual([withSrc.rc, withSrc.src4], [0, '10.1.2.1']);
      const noSrc = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { flags: SRC });
      assert.deepEqual([noSrc.rc, noSrc.src4], [0, '0.0.0.0']);
      const v6 = xdp(ipv6Packet(A6.src, A6.dst2), { flags: SRC });
      assert.deepEqual([v6.rc, v6.src6], [0, '20010db8000200000000000000000001']);
      const v6none = tc(ipv6Packet(A6.src, A6.dst1), { flags: SRC });
      assert.deepEqual([v6none.rc, v6none.ifindex, v6none.dst6, v6none.src6], [9, 2, A6.linkLocal, A6.src]);
    });

    it('MARK is accepted and, with the default rules only, changes nothing', () => {
      const x = xdp(ipv4Packet('10.0.0.1', '10.1.9.9'), { flags: MARK, mark: 0x1234 });
      assert.deepEqual([x.rc, x.ifindex, x.dmac], [0, 2, '02aa000000fe']);
    });

    it('IPv6 needs a device MTU of at least 1280 (no inet6_dev below it): FWD_DISABLED', () => {
      const fib: FibConfig = { devices: [{ ifindex: 1, mtu: 1000, forwarding: { ipv4: true, ipv6: true } }] };
      assert.equal(xdp(ipv6Packet(A6.src, A6.dst1), {}, fib).rc, 5);
    });
  });
}

describe('bpf_fib_lookup: the FIB configuration', () => {
  const bad = (config: unknown, where: string, reason: RegExp) => assert.throws(() => Fib.parse(config), (e: unknown) => {
    assert.ok(e instanceof FibConfigError, `expected FibConfigError, got ${String(e)}`);
    assert.equal(e.where, where);
    assert.match(e.reason, reason);
    assert.equal(e.kind, 'fib-config');
    return true;
  });

  it('names the entry and field of what is wrong', () => {
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1 }, { dst: '10.0.0.0/8', dev: 1, metric: 1 }, { dst: '10.0.0/33', dev: 1 }] },
      'routes[2].dst', /bad prefix "10.0.0\/33"/);
    bad({ routes: [{ dst: '10.0.0.1/8', dev: 1 }] }, 'routes[0].dst', /host bits/);
    bad({ routes: [{ dst: '2001:db8:::/32', dev: 1 }] }, 'routes[0].dst', /bad prefix/);
    bad({ routes: [{ dst: '::/129', dev: 1 }] }, 'routes[0].dst', /bad prefix/);
    bad({ routes: [{ dst: '10.0.0.0/8' }] }, 'routes[0].dev', /egress device/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 'eth9' }] }, 'routes[0].dev', /no device named "eth9"/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 5 }] }, 'routes[0].dev', /no device with ifindex 5/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1, type: 'local' }] }, 'routes[0].type', /unknown route type/);
    bad({ routes: [{ dst: '10.0.0.0/8', type: 'blackhole', gateway: '10.0.0.1' }] }, 'routes[0].gateway', /blackhole route has no gateway/);
    bad({ routes: [{ dst: '2001:db8::/32', dev: 1, gateway: '10.0.0.1' }] }, 'routes[0].gateway', /IPv4 gateway/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1, prefsrc: '2001:db8::1' }] }, 'routes[0].prefsrc', /family/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1 }, { dst: '10.0.0.0/8', dev: 1 }] }, 'routes[1]', /same prefix, table and metric as routes\[0\]/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1, gatway: '10.0.0.1' }] }, 'routes[0].gatway', /unknown field/);
    bad({ routes: [{ dst: '10.0.0.0/8', dev: 1, table: 0 }] }, 'routes[0].table', /integer from 1/);
    bad({ devices: [{ ifindex: 2, mac: '02:00:00:00:00' }] }, 'devices[0].mac', /bad MAC address/);
    bad({ devices: [{ ifindex: 2 }, { ifindex: 2 }] }, 'devices[1].ifindex', /already defined/);
    bad({ devices: [{ ifindex: 0 }] }, 'devices[0].ifindex', /integer from 1/);
    bad({ devices: [{ ifindex: 2, mtu: 67 }] }, 'devices[0].mtu', /integer from 68 to 65536/);
    bad({ devices: [{ ifindex: 2, name: 'lo' }] }, 'devices', /"lo" is lo's/);
    bad({ devices: [{ ifindex: 2, forwarding: { ipv4: 'yes' } }] }, 'devices[0].forwarding.ipv4', /true or false/);
    bad({ neighbours: [{ dev: 1, ip: '10.0.0.300', mac: '02:00:00:00:00:01' }] }, 'neighbours[0].ip', /bad address/);
    bad({ neighbours: [{ dev: 1, ip: '10.0.0.1', mac: 'x' }] }, 'neighbours[0].mac', /bad MAC/);
    bad({ routes: {} }, 'routes', /array/);
    bad([], 'config', /object/);
    bad({ neighbors: [] }, 'config.neighbors', /unknown field/);
  });

  it('parses addresses as inet_pton does', () => {
    const words = (t: string) => parseAddress(t)?.words.map((w) => w.toString(16).padStart(8, '0')).join('');
    assert.equal(words('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(words('::'), '0'.repeat(32));
    assert.equal(words('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
    assert.equal(words('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
    assert.equal(words('1:2:3:4:5:6:7::'), '00010002000300040005000600070000');
    assert.equal(words('10.1.2.3'), '0a010203');
    for (const t of ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', '1.2.3', '256.0.0.1', ':1', 'g::']) assert.equal(parseAddress(t), undefined, t);
  });

  it('lo is always there unless ifindex 1 is redefined; the parsed FIB is frozen', () => {
    const fib = Fib.parse({ devices: [{ ifindex: 2, name: 'eth0' }] });
    assert.deepEqual([fib.device(1)?.name, fib.device(1)?.mtu, fib.device(1)?.forwardIpv4, fib.device(2)?.mtu], ['lo', 65536, false, 1500]);
    const mine = Fib.parse({ devices: [{ ifindex: 1, name: 'lo0', mtu: 1500, forwarding: { ipv4: true } }] });
    assert.deepEqual([mine.device(1)?.name, mine.device(1)?.mtu, mine.device(1)?.forwardIpv4], ['lo0', 1500, true]);
    assert.ok(Object.isFrozen(fib) && Object.isFrozen(fib.device(1)));
  });

  it('a bad configuration given to loadObject is a FibConfigError', () => {
    assert.throws(() => loadObject(PROG, { fib: { routes: [{ dst: 'nope', dev: 1 }] } }),
      (e: unknown) => e instanceof FibConfigError && e.message === 'FIB config: routes[0].dst: bad prefix "nope"');
  });
});

describe('bpf_fib_lookup: bpfrun test-run --fib', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'bpfrun-fib-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const frame = Buffer.from(ipv4Packet('10.0.0.1', '10.1.9.9')).toString('hex');

  it('runs the program over the FIB of the file', () => {
    const file = join(dir, 'net.json');
    writeFileSync(file, JSON.stringify(NET));
    const r = bpfrun(['test-run', 'progs/net_fib.bpf.o', '--prog', 'xdp_fib', '--data-hex', frame, '--fib', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { retval: number; data_out?: string };
    assert.equal(out.retval, XDP_REDIRECT);
    const without = bpfrun(['test-run', 'progs/net_fib.bpf.o', '--prog', 'xdp_fib', '--data-hex', frame, '--json']);
    assert.equal((JSON.parse(without.stdout) as { retval: number }).retval, XDP_PASS); // FWD_DISABLED
  });

  it('a malformed file is one line naming the file and the entry, status 1', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ routes: [{ dst: '10.0.0.0/8', dev: 1 }, { dst: '10.0.0/33', dev: 1 }] }));
    const r = bpfrun(['test-run', 'progs/net_fib.bpf.o', '--prog', 'xdp_fib', '--data-hex', frame, '--fib', file]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `bpfrun: ${file}: FIB config: routes[1].dst: bad prefix "10.0.0/33"\n`);
    writeFileSync(file, '{ "routes": [');
    const json = bpfrun(['test-run', 'progs/net_fib.bpf.o', '--prog', 'xdp_fib', '--data-hex', frame, '--fib', file]);
    assert.equal(json.status, 1);
    assert.match(json.stderr, /^bpfrun: .*bad\.json: not valid JSON/);
    const missing = bpfrun(['test-run', 'progs/net_fib.bpf.o', '--prog', 'xdp_fib', '--data-hex', frame, '--fib', join(dir, 'none.json')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /none\.json.*ENOENT/);
  });
});
