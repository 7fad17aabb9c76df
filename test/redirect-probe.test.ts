// The redirect helpers that only record (bpf_redirect_peer, bpf_redirect_neigh), the one that
// clones (bpf_clone_redirect), and the probe reads over the simulated user memory (the arena's
// user mapping), and the return ranges of §5.1. The verdicts are also replayed against Linux 6.18 in kernel-testrun.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { LoadError } from '../src/errors.js';
import { loadObject } from '../src/object.js';
import { returnRange } from '../src/progtypes/return-range.js';
import { PROJECT_ROOT } from './suite.js';
import { bpfrun } from './helpers.js';

const REDIRECT = join(PROJECT_ROOT, 'progs', 'net_redirect.bpf.o');
const PROBE = join(PROJECT_ROOT, 'progs', 'probe_read.bpf.o');
const EINVAL = -22n, EFAULT = -14n, ERANGE = -34n, EBADMSG = -74n;

/** A 47-byte Ethernet / IPv4 / UDP frame (as the kernel oracle's pkt_udp4(payload=b"hello")). */
const UDP = Uint8Array.from(Buffer.from('02000000000202000000000108004500002112340000401154960a0000010a00000204d2162e000d8cff68656c6c6f', 'hex'));
/** An __sk_buff ctx_in with mark (and gso_size, gso_segs) set. */
function skbCtx(mark: number, gsoSize = 0): Uint8Array {
  const ctx = new Uint8Array(192);
  const v = new DataView(ctx.buffer);
  v.setUint32(8, mark, true);
  if (gsoSize) { v.setUint32(164, 1, true); v.setUint32(176, gsoSize, true); }
  return ctx;
}

for (const engine of ENGINES) {
  describe(`redirect helpers [${engine}]`, () => {
    const obj = loadObject(REDIRECT, { engine });
    const cloneResults = () => {
      const b = obj.global('tcl').bytes;
      const v = new DataView(b.buffer, b.byteOffset);
      return [0, 8, 16, 24].map((o) => v.getBigInt64(o, true));
    };
    const peer = (mark: number) => obj.program('tc_redirect_peer').testRun({ data: UDP, ctx: skbCtx(mark) });

    it('bpf_redirect_peer records its target; flags refuse with TC_ACT_SHOT and record nothing', () => {
      const ok = peer(0);
      assert.equal(ok.retval, 7);
      assert.deepEqual(ok.redirect, { helper: 'bpf_redirect_peer', ifindex: 1, flags: 0 });
      const bad = peer(1);
      assert.equal(bad.retval, 2);
      assert.equal(bad.redirect, undefined);
    });

    it('bpf_redirect_neigh copies the 20-byte next hop when plen is given', () => {
      assert.deepEqual(peer(2).redirect, { helper: 'bpf_redirect_neigh', ifindex: 1, flags: 0, nexthop: undefined });
      const v4 = peer(3);
      assert.equal(v4.retval, 7);
      assert.deepEqual(v4.redirect?.nexthop, { family: 2, address: Uint8Array.from([10, 0, 0, 1]) });
      const v6 = peer(6).redirect?.nexthop;
      assert.equal(v6?.family, 10);
      assert.equal(Buffer.from(v6!.address).toString('hex'), '20010db8000000000000000000000001');
      assert.equal(peer(4).retval, 2); // plen 8 < 20
      assert.equal(peer(5).retval, 2); // flags
    });

    it('bpf_clone_redirect validates, then records each clone with the bytes of that moment', () => {
      const r = obj.program('tc_clone').testRun({ data: UDP });
      assert.deepEqual(cloneResults(), [EINVAL, EINVAL, 0n, 0n]); // bad_flags, no_dev, egress, ingress
      assert.deepEqual(r.clones?.map((c) => [c.ifindex, c.flags]), [[1, 0], [1, 1]]);
      assert.deepEqual(r.clones?.[0].data, UDP, 'the egress clone was taken before the write');
      assert.equal(r.clones?.[1].data[0], 0xee, 'the ingress clone after it');
      assert.equal(r.data?.[0], 0xee);
    });

    it('bpf_clone_redirect reaches the devices of the configured network', () => {
      const withDev = loadObject(REDIRECT, { engine, fib: { devices: [{ ifindex: 12345, name: 'veth0', mac: '02:00:00:00:00:09' }] } });
      const r = withDev.program('tc_clone').testRun({ data: UDP });
      assert.deepEqual(r.clones?.map((c) => c.ifindex), [12345, 1, 1]);
    });

    it('bpf_clone_redirect refuses a GSO skb without a gso_type (a ctx_in gso_size) with EBADMSG', () => {
      const r = obj.program('tc_clone').testRun({ data: UDP, ctx: skbCtx(0, 1400) });
      assert.deepEqual(cloneResults(), [EINVAL, EBADMSG, EBADMSG, EBADMSG]);
      assert.deepEqual(r.clones, []);
    });
  });

  describe(`probe reads over user and kernel memory [${engine}]`, () => {
    const read = (setup: (user: bigint) => bigint) => {
      const obj = loadObject(PROBE, { engine });
      const arena = obj.arena!;
      const arg = setup(arena.userVmStart);
      const write = (at: bigint, text: string) => arena.userWrite(at, Uint8Array.from(Buffer.from(text, 'latin1')));
      const ctx = new Uint8Array(8);
      new DataView(ctx.buffer).setBigUint64(0, arg, true);
      return { obj, ctx, write, arena };
    };
    const results = (obj: ReturnType<typeof loadObject>) => {
      const b = obj.global('pr').bytes;
      const v = new DataView(b.buffer, b.byteOffset);
      const n = (k: number) => v.getBigInt64(8 * k, true);
      const s = (off: number, len: number) => Buffer.from(b.subarray(off, off + len)).toString('latin1');
      return {
        user: n(0), userStr: n(1), compat: n(2), compatStr: n(3), kernelOnUser: n(4), userOnKernel: n(5), compatKernel: n(6), strZero: n(7),
        bufUser: s(64, 8), bufUserStr: s(72, 16), bufCompat: s(88, 8), bufCompatStr: s(96, 16), bufKernel: b.slice(112, 120),
        bufKstr: s(120, 16), bufFault: b.slice(136, 144),
      };
    };

    it('read a present user page through the _user and compat variants; kernel variants refuse user addresses', () => {
      const { obj, ctx, write, arena } = read((u) => u + 0x10n);
      write(arena.userVmStart + 0x10n, 'hello, arena\0');
      obj.program('probe_reads').testRun({ ctx });
      const r = results(obj);
      assert.deepEqual([r.user, r.userStr, r.compat, r.compatStr], [0n, 13n, 0n, 13n]);
      assert.equal(r.bufUser, 'hello, a');
      assert.equal(r.bufUserStr, 'hello, arena\0\0\0\0');
      assert.equal(r.bufCompatStr, 'hello, arena\0\0\0\0');
      assert.equal(r.kernelOnUser, ERANGE);
      assert.deepEqual([...r.bufKernel], new Array(8).fill(0), 'zero-filled on failure');
      assert.equal(r.userOnKernel, EFAULT);
      assert.deepEqual([...r.bufFault], new Array(8).fill(0));
      assert.equal(r.compatKernel, 8n);
      assert.equal(r.bufKstr.slice(0, 8), 'kernel!\0');
      assert.equal(r.strZero, 0n);
    });

    it('a long user string is cut at size - 1 bytes plus a NUL, and the size is returned', () => {
      const { obj, ctx, write, arena } = read((u) => u);
      write(arena.userVmStart, 'abcdefghijklmnopqrstuvwxyz\0');
      obj.program('probe_reads').testRun({ ctx });
      const r = results(obj);
      assert.equal(r.userStr, 16n);
      assert.equal(r.bufUserStr, 'abcdefghijklmno\0');
    });

    it('a user page never touched is not faulted in: EFAULT, zero-filled, and the page stays absent', () => {
      const { obj, ctx, arena } = read((u) => u + 0x2000n);
      const before = arena.pagesAllocated;
      obj.program('probe_reads').testRun({ ctx });
      const r = results(obj);
      assert.deepEqual([r.user, r.userStr, r.compat, r.compatStr], [EFAULT, EFAULT, EFAULT, EFAULT]);
      assert.equal(r.bufUser, '\0'.repeat(8));
      assert.equal(arena.pagesAllocated, before);
    });

    it('a string that runs into an absent page is EFAULT, not a partial copy', () => {
      const { obj, ctx, write, arena } = read((u) => u + 0xffcn);
      write(arena.userVmStart + 0xffcn, 'abcd'); // no NUL before the page ends
      obj.program('probe_reads').testRun({ ctx });
      const r = results(obj);
      assert.equal(r.user, EFAULT);
      assert.equal(r.userStr, EFAULT);
      assert.equal(r.bufUserStr, '\0'.repeat(16));
    });
  });
}

describe('bpfrun test-run shows what a redirect helper recorded', () => {
  it('in the text and in --json', () => {
    const hex = Buffer.from(UDP).toString('hex');
    const ctx = Buffer.from(skbCtx(3)).toString('hex');
    const text = bpfrun(['test-run', REDIRECT, '--prog', 'tc_redirect_peer', '--data-hex', hex, '--ctx-in', ctx]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /redirect: bpf_redirect_neigh to ifindex 1, flags 0x0, next hop inet 0a000001/);
    const json = JSON.parse(bpfrun(['test-run', REDIRECT, '--prog', 'tc_clone', '--data-hex', hex, '--json']).stdout);
    assert.deepEqual(json.clones.map((c: { ifindex: number; flags: number }) => [c.ifindex, c.flags]), [[1, 0], [1, 1]]);
    assert.equal(json.clones[0].data, hex);
  });
});

describe('return values outside the type range', () => {
  const RANGE = join(PROJECT_ROOT, 'progs', 'ret_range.bpf.o');
  const ctx = (mark: number) => skbCtx(mark);
  for (const engine of ENGINES) {
    it(`cgroup_skb ingress allows [0, 1], egress [0, 3]; a run outside is the verifier's refusal [${engine}]`, () => {
      const obj = loadObject(RANGE, { engine });
      const run = (prog: string, mark: number) => obj.program(prog).testRun({ data: UDP, ctx: ctx(mark) }).retval;
      assert.equal(run('cg_in_mark', 1), 1);
      assert.equal(run('cg_out_mark', 3), 3);
      assert.throws(() => run('cg_in_mark', 2), (e: unknown) => e instanceof LoadError
        && e.message === 'program cg_in_mark: At program exit the register R0 has smin=2 smax=2 should have been in [0, 1] '
          + '(the kernel\'s verifier refuses this program at load; bpfrun found it when the run returned 2)');
      assert.throws(() => run('cg_out_mark', 4), /smin=4 smax=4 should have been in \[0, 3\]/);
      assert.equal(obj.program('cg_in_mark').returnRange?.max, 1);
    });
  }
  it('the ranges of §5.1 by type and section', () => {
    assert.deepEqual(returnRange('cgroup_skb', 'cgroup/skb'), { min: 0, max: 1 });
    assert.deepEqual(returnRange('tracing', 'fentry/do_nanosleep'), { min: 0, max: 0 });
    assert.deepEqual(returnRange('tracing', 'fexit.s/x'), { min: 0, max: 0 });
    assert.deepEqual(returnRange('tracing', 'iter/task'), { min: 0, max: 1 });
    assert.equal(returnRange('tracing', 'fmod_ret/x'), undefined);
    assert.equal(returnRange('xdp', 'xdp'), undefined);
    assert.deepEqual(returnRange('sk_lookup', 'sk_lookup'), { min: 0, max: 1 });
  });
});
