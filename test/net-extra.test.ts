// The helpers of src/helpers/net-extra.ts on progs/net_extra.bpf.o: what the kernel recording
// (test/data/kernel/net_extra.json, replayed in kernel-testrun.test.ts) cannot pin down because
// it differs between machines or needs devices the host lacks: the simulated ids and cookies,
// jiffies at CONFIG_HZ, bpf_check_mtu on a FIB device with a small MTU, and which types have
// which helper (spec program-types §4.0).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { type FibConfig } from '../src/net/fib.js';
import { loadObject, type LoadedObject } from '../src/object.js';
import { helpersFor } from '../src/progtypes/helpers.js';
import { BPF_FUNC } from '../src/uapi.js';
import { PROJECT_ROOT } from './suite.js';

const PROG = join(PROJECT_ROOT, 'progs', 'net_extra.bpf.o');
const EINVAL = -22n, ENODEV = -19n;
/** A 47-byte Ethernet / IPv4 / UDP frame (the kernel oracle's pkt_udp4(payload=b"hello")). */
const UDP = Uint8Array.from(Buffer.from('02000000000202000000000108004500002112340000401154960a0000010a00000204d2162e000d8cff68656c6c6f', 'hex'));
/** 2: a device with MTU 100 (dev_len 114); the 47-byte frame fits, a 47 + 100 one does not. */
const FIB: FibConfig = { devices: [{ ifindex: 2, name: 'small', mtu: 100 }] };
const KEY0 = new Uint8Array(4);

interface Ctl { ifindex?: number; mtuIn?: number; lenDiff?: number; stopKey?: number; flags?: bigint; badFlags?: bigint }

function setCtl(obj: LoadedObject, c: Ctl): void {
  const v = new Uint8Array(32);
  const d = new DataView(v.buffer);
  d.setUint32(0, c.ifindex ?? 0, true);
  d.setUint32(4, c.mtuIn ?? 0, true);
  d.setInt32(8, c.lenDiff ?? 0, true);
  d.setUint32(12, c.stopKey ?? 0, true);
  d.setBigUint64(16, c.flags ?? 0n, true);
  d.setBigUint64(24, c.badFlags ?? 0n, true);
  obj.map('ctl').update(KEY0, v);
}

function u64s(bytes: Uint8Array): bigint[] {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, k) => d.getBigInt64(8 * k, true));
}

/** raw[0..3]: cgroup id, socket cookie, netns cookie, jiffies64. */
function raw(obj: LoadedObject): bigint[] {
  return [0, 1, 2, 3].map((k) => {
    const key = new Uint8Array(4);
    key[0] = k;
    return u64s(obj.map('raw').lookup(key)!)[0];
  });
}

/** An __sk_buff ctx_in with gso_segs 1 and gso_size. */
function gsoCtx(gsoSize: number): Uint8Array {
  const ctx = new Uint8Array(192);
  const v = new DataView(ctx.buffer);
  v.setUint32(164, 1, true);
  v.setUint32(176, gsoSize, true);
  return ctx;
}

for (const engine of ENGINES) {
  describe(`net_extra helpers [${engine}]`, () => {
    describe('bpf_check_mtu on a FIB device with MTU 100', () => {
      const obj = loadObject(PROG, { engine, fib: FIB });
      const mtu = (prog: 'tc_mtu' | 'xdp_mtu', c: Ctl, data = UDP, ctx?: Uint8Array) => {
        setCtl(obj, c);
        obj.program(prog).testRun({ data, ctx });
        const [ret, rest] = u64s(obj.global('mtu_res').bytes);
        return { ret, mtu: Number(rest & 0xffffffffn) };
      };
      const big = new Uint8Array(UDP.length + 100);
      big.set(UDP);

      it('the device\'s MTU comes back; a frame over MTU + 14 needs fragmenting', () => {
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2 }), { ret: 0n, mtu: 100 });
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2 }, big), { ret: 1n, mtu: 100 });
        assert.deepEqual(mtu('xdp_mtu', { ifindex: 2 }, big), { ret: 1n, mtu: 100 });
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2, lenDiff: 67 }), { ret: 0n, mtu: 100 }); // 47 + 67 = 114
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2, lenDiff: 68 }), { ret: 1n, mtu: 100 });
        assert.deepEqual(mtu('xdp_mtu', { ifindex: 2, mtuIn: 101 }), { ret: 1n, mtu: 100 });
      });

      it('ifindex 0 is lo (the run\'s device); an unknown one is ENODEV', () => {
        assert.deepEqual(mtu('tc_mtu', { ifindex: 0 }, big), { ret: 0n, mtu: 65536 });
        assert.deepEqual(mtu('xdp_mtu', { ifindex: 3, mtuIn: 5 }), { ret: ENODEV, mtu: 5 });
      });

      it('GSO: over the MTU is SUCCESS; BPF_MTU_CHK_SEGS needs a transport header, which a test run has not', () => {
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2 }, big, gsoCtx(50)), { ret: 0n, mtu: 100 });
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2, flags: 1n }, big, gsoCtx(50)), { ret: EINVAL, mtu: 0 });
        assert.deepEqual(mtu('tc_mtu', { ifindex: 2, flags: 1n }, UDP, gsoCtx(50)), { ret: 0n, mtu: 100 });
      });
    });

    describe('ids, cookies and jiffies', () => {
      it('the root cgroup (1), init_net (7), one socket cookie per test run, kept across repeats', () => {
        const obj = loadObject(PROG, { engine });
        obj.program('tc_ids').testRun({ data: UDP });
        assert.deepEqual(raw(obj).slice(0, 3), [1n, 1n, 7n]);
        obj.program('tc_ids').testRun({ data: UDP, repeat: 3 });
        assert.equal(raw(obj)[1], 2n); // a new dummy socket, its cookie taken once for 3 runs
        obj.program('sock_ids').testRun({ data: UDP });
        assert.equal(raw(obj)[1], 3n);
        obj.program('cg_ids').testRun({ data: UDP });
        assert.deepEqual(raw(obj).slice(0, 3), [1n, 4n, 7n]);
        const ids = u64s(obj.global('ids').bytes);
        assert.deepEqual(ids, [0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n, 1n]);
      });

      it('jiffies64 starts at INITIAL_JIFFIES + 1 s of ticks and follows CONFIG_HZ', () => {
        const at250 = loadObject(PROG, { engine });
        at250.program('xdp_ids').testRun({ data: UDP });
        const j = raw(at250)[3];
        assert.ok(j >= 2n ** 32n - 300n * 250n + 250n && j < 2n ** 32n - 300n * 250n + 251n, `jiffies ${j}`);
        const at1000 = loadObject(PROG, { engine, kconfig: { CONFIG_HZ: 1000 } });
        at1000.program('xdp_ids').testRun({ data: UDP });
        assert.equal(raw(at1000)[3], 2n ** 32n - 300n * 1000n + 1000n);
        const ids = u64s(at1000.global('ids').bytes);
        assert.deepEqual(ids.slice(7), [1n, 1n]); // non-zero, not decreasing
      });
    });

    describe('socket lookups and bpf_for_each_map_elem', () => {
      it('every lookup is NULL: the simulation has no sockets', () => {
        const obj = loadObject(PROG, { engine });
        for (const p of ['tc_lookup', 'cg_lookup', 'xdp_lookup']) {
          obj.global('found').bytes.fill(0xff);
          obj.program(p).testRun({ data: UDP });
          assert.deepEqual(u64s(obj.global('found').bytes), new Array(10).fill(0n), p);
        }
      });

      it('a hash map is walked in insertion order (a stop is order-dependent; the kernel walks buckets)', () => {
        const obj = loadObject(PROG, { engine });
        for (const [k, v] of [[5, 1n], [3, 2n], [9, 4n]] as const) {
          const key = new Uint8Array(4), value = new Uint8Array(8);
          new DataView(key.buffer).setUint32(0, k, true);
          new DataView(value.buffer).setBigUint64(0, v, true);
          obj.map('hash').update(key, value);
        }
        setCtl(obj, { stopKey: 2 });
        obj.program('xdp_foreach').testRun({ data: UDP });
        const fe = u64s(obj.global('fe').bytes);
        // arr_n 3 (stopped at key 2), arr_n2 8, hash_n 3, hash_n2 3, bad_n 8, arr_keys 0+1+2,
        // arr_vals 10+20+30, arr_vals2 360 + 100+101+102, hash_keys 17, hash_vals 7, hash_vals2 14, arr_last 2.
        assert.deepEqual(fe, [3n, 8n, 3n, 3n, 8n, 3n, 60n, 663n, 17n, 7n, 14n, 2n]);
      });
    });
  });
}

describe('net_extra helpers: availability by type (spec §4.0)', () => {
  const has = (family: Parameters<typeof helpersFor>[0], name: keyof typeof BPF_FUNC) => helpersFor(family).has(BPF_FUNC[name]);
  it('check_mtu: tc and XDP; ecn_set_ce and skb_cgroup_id: tc and cgroup_skb', () => {
    for (const f of ['tc', 'xdp'] as const) assert.ok(has(f, 'check_mtu'), f);
    for (const f of ['socket', 'cgroup', 'flow', 'lwt_xmit', 'tracing'] as const) assert.ok(!has(f, 'check_mtu'), f);
    for (const n of ['skb_ecn_set_ce', 'skb_cgroup_id'] as const) {
      assert.ok(has('tc', n) && has('cgroup', n), n);
      assert.ok(!has('xdp', n) && !has('socket', n), n);
    }
  });
  it('cookies: socket filter, tc, cgroup_skb; lookups and release: tc, cgroup_skb, XDP; the base set everywhere', () => {
    for (const n of ['get_socket_cookie', 'get_netns_cookie'] as const) {
      for (const f of ['socket', 'tc', 'cgroup'] as const) assert.ok(has(f, n), `${n} ${f}`);
      assert.ok(!has('xdp', n), n);
    }
    for (const n of ['sk_lookup_tcp', 'sk_lookup_udp', 'skc_lookup_tcp', 'sk_release'] as const) {
      for (const f of ['tc', 'cgroup', 'xdp'] as const) assert.ok(has(f, n), `${n} ${f}`);
      assert.ok(!has('socket', n) && !has('flow', n), n);
    }
    for (const n of ['get_numa_node_id', 'jiffies64', 'get_cgroup_classid', 'for_each_map_elem'] as const) {
      for (const f of ['socket', 'tc', 'cgroup', 'xdp', 'flow', 'tracing'] as const) assert.ok(has(f, n), `${n} ${f}`);
    }
  });
});
