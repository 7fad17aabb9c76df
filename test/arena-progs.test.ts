// Arena programs built with clang against the kernel's rules (expectations: the table at the
// top of each C source): data structures in arena pages, allocation order and reuse, faults of
// BPF instructions (exception table), a kfunc written in TypeScript touching allocated and
// unallocated pages (kernel fault path, scratch page), streams filled to capacity.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { join } from 'node:path';
import { KernelOopsError } from '../src/errors.js';
import { LoadedObject, LoadOptions } from '../src/object.js';
import { arenaTestKfuncs, loadEvery } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const prog = (name: string) => join(PROJECT_ROOT, 'progs', name);
const PG = (n: number) => (1n << 44n) + BigInt(n) * 0x1000n;


function run(obj: LoadedObject, name: string): bigint {
  return BigInt.asIntN(32, obj.program(name).run().retval);
}

function g(obj: LoadedObject, name: string): bigint {
  return obj.global(name).value!;
}

/** The ERROR lines of a program's stderr, in order. */
function reports(obj: LoadedObject, name: string): string[] {
  return obj.program(name).streams.stderr.text.split('\n').filter((l) => l.startsWith('ERROR:'));
}

/** The frame symbols of the stack dump that follows the n-th report (innermost first). */
function dumpFrames(obj: LoadedObject, name: string, n = 0): string[] {
  const block = obj.program(name).streams.stderr.text.split(/^ERROR: .*\n/m)[n + 1];
  return block.split('\n').filter((l) => /^\S+\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(l)).map((l) => l.replace(/\+0x.*/, ''));
}

const readErr = (addr: bigint) => `ERROR: Arena READ access at unmapped address 0x${addr.toString(16)}`;
const writeErr = (addr: bigint) => `ERROR: Arena WRITE access at unmapped address 0x${addr.toString(16)}`;

for (const engine of ENGINES) {
describe(`${'arena programs'} [${engine}]`, () => {
  const load = (file: string, options: LoadOptions = {}) => loadEvery(prog(file), { engine, ...options });

  describe('arena_kfunc.bpf.o: a TypeScript kfunc and BPF instructions on the same pages', () => {
    const obj = load('arena_kfunc.bpf.o', { kfuncs: arenaTestKfuncs });
    const names = ['kf_alloc_write', 'kf_unalloc_write', 'kf_fault_orders', 'kf_alloc_free_scratch', 'kf_from_subprog',
      'kf_from_loop_cb', 'kf_from_loop_inlined'];
    const rets = names.map((n) => run(obj, n));

    it('every program passes its own checks', () => {
      assert.deepEqual(rets, [0n, 0n, 0n, 0n, 0n, 1n, 1n]);
      assert.deepEqual([...obj.global('failed').bytes].filter((b) => b !== 0), []);
    });

    it('an allocated page: no fault, both sides see the value', () => {
      assert.equal(g(obj, 'a_page'), PG(0));
      assert.equal(g(obj, 'a_prog_read'), 0xa1b2c3d4n);
      assert.equal(g(obj, 'a_kread'), 0xa1b2c3d4n);
      assert.deepEqual(reports(obj, 'kf_alloc_write'), []);
    });

    it('kfunc faults install the shared scratch page and report the page-aligned address once', () => {
      assert.equal(g(obj, 'b_read40'), 0x11111111n);
      assert.equal(g(obj, 'b_kread5'), 0x11111111n);
      assert.equal(g(obj, 'b_kread5_80'), 0x22222222n);
      assert.deepEqual(reports(obj, 'kf_unalloc_write'), [writeErr(PG(3)), readErr(PG(5))]);
      assert.deepEqual(dumpFrames(obj, 'kf_unalloc_write'), ['bpfrun_test_arena_write', dumpFrames(obj, 'kf_unalloc_write')[1]]);
      assert.match(dumpFrames(obj, 'kf_unalloc_write')[1], /^bpf_prog_[0-9a-f]{16}_kf_unalloc_write$/);
    });

    it('program first then kfunc, and kfunc first then program', () => {
      assert.equal(g(obj, 'c_read_first'), 0n);
      assert.equal(g(obj, 'c_read_after'), 0x33333333n);
      assert.equal(g(obj, 'c_read9'), 0x44444444n);
      assert.equal(g(obj, 'c_shared24'), 0x33333333n);
      assert.equal(g(obj, 'c_shared30'), 0x44444444n);
      // The BPF instruction's report has the exact byte, the kernel fault's the page.
      assert.deepEqual(reports(obj, 'kf_fault_orders'), [readErr(PG(7) + 0x24n), writeErr(PG(7)), writeErr(PG(9))]);
    });

    it('alloc over a scratched slot gives a fresh zeroed page; free of a scratched slot clears it', () => {
      assert.equal(g(obj, 'd_page3'), PG(3));
      assert.equal(g(obj, 'd_read_new'), 0n);
      assert.equal(g(obj, 'd_kread_new'), 0x55555555n);
      assert.equal(g(obj, 'd_scratch5'), 0x11111111n);
      assert.equal(g(obj, 'd_read5'), 0n);
      assert.equal(g(obj, 'd_read3'), 0n);
      assert.equal(g(obj, 'd_kread5'), 0x11111111n);
      assert.deepEqual(reports(obj, 'kf_alloc_free_scratch'), [readErr(PG(5) + 0x40n), readErr(PG(3) + 0x40n), readErr(PG(5))]);
    });

    it('bpf_prog_find_from_stack finds the program through subprograms and callbacks', () => {
      assert.equal(g(obj, 'e_sub_read'), 0x66666666n);
      assert.equal(g(obj, 'e_cb_read'), 0x77777777n);
      assert.equal(g(obj, 'e_in_read'), 0x88888888n);
      assert.deepEqual(reports(obj, 'kf_from_subprog'), [writeErr(PG(11))]);
      assert.deepEqual(reports(obj, 'kf_from_loop_cb'), [writeErr(PG(12))]);
      assert.deepEqual(reports(obj, 'kf_from_loop_inlined'), [writeErr(PG(13))]);
      const names = (p: string) => dumpFrames(obj, p).map((f) => f.replace(/^bpf_prog_[0-9a-f]{16}_/, 'prog:'));
      assert.deepEqual(names('kf_from_subprog'), ['bpfrun_test_arena_write', 'prog:kwrite_sub', 'prog:kf_from_subprog']);
      assert.deepEqual(names('kf_from_loop_cb'), ['bpfrun_test_arena_write', 'prog:loop_cb', 'bpf_loop', 'prog:kf_from_loop_cb']);
      // flags = constant 0: the verifier inlines bpf_loop, so no helper frame.
      assert.deepEqual(names('kf_from_loop_inlined'), ['bpfrun_test_arena_write', 'prog:loop_cb2', 'prog:kf_from_loop_inlined']);
      assert.match(obj.program('kf_from_subprog').streams.stderr.text, /\n  .+ @ arena_kfunc\.bpf\.c:\d+\n/);
    });

    it('the scratch page is shared by every scratched slot and survives', () => {
      const arena = obj.arena!;
      assert.equal(arena.pagesScratched, 6); // PG(5), 7, 9, 11, 12, 13
      assert.equal(arena.pagesAllocated, 1); // PG(0)
    });

    it('a kfunc touching the lower guard oopses: a typed error, no stream report, the host goes on', () => {
      const fresh = load('arena_kfunc.bpf.o', { kfuncs: arenaTestKfuncs });
      const p = fresh.program('kf_lower_guard');
      assert.equal(p.spec.autoload, false);
      assert.throws(() => p.run(), (e: unknown) => {
        assert.ok(e instanceof KernelOopsError);
        assert.equal(e.address, fresh.arena!.kernVmStart - 8n);
        assert.equal(e.access, 'read');
        assert.equal(e.faultIp, 'bpfrun_test_arena_read_off');
        assert.match(e.message, /Call Trace:\n <TASK>\n bpfrun_test_arena_read_off\+0x0\/0x0\n bpf_prog_[0-9a-f]{16}_kf_lower_guard\+0x[0-9a-f]+\/0x[0-9a-f]+\n <\/TASK>/);
        return true;
      });
      assert.equal(p.streams.stderr.text, '');
      assert.equal(fresh.arena!.pagesScratched, 0);
    });
  });

  for (const file of ['arena_ds.bpf.o', 'arena_ds.v3.bpf.o']) {
    it(`${file}: hash table and list in arena pages, allocation order and reuse, use-after-free`, () => {
      const obj = load(file);
      const names = ['ds_htab_build', 'ds_htab_ops', 'ds_list', 'ds_alloc_order', 'ds_faults'];
      assert.deepEqual(names.map((n) => run(obj, n)), [100n, 76n, 20n, 0n, 0n]);
      const expect: Record<string, bigint> = {
        buckets_addr: PG(0), ins_cnt: 100n, upd_cnt: 25n, err_cnt: 0n, max_chain: 4n, used_buckets: 48n,
        build_sum: 25119925n, lookup_found: 100n, lookup_sum: 25119925n, miss_cnt: 2n, del_cnt: 34n,
        del_again: 0n, found_after_del: 66n, reins_cnt: 10n, reuse_addr0: 0x1000000022a0n, reuse_addr1: 0x100000002210n,
        ops_key_sum: 43034n, list_cnt: 20n, list_key_sum: 1003n, list_val_sum: 210n, list_first_key: 3n,
        list_last_key: 97n, list_sorted: 1n, list_head_addr: 0x100000001750n, rev_first_key: 97n,
        rev_head_addr: 0x1000000012d0n, rev_cnt: 20n, pg_s1: 3n, pg_s2: 4n, pg_s3: 5n, pg_m: 6n, pg_e1: 40n,
        pg_e2: -1n, pg_e3: -1n, pg_e4: -1n, pg_e5: -1n, pg_b1: 4n, pg_b2: 7n, pg_b3: 41n, pg_t1: 5n, pg_t2: 3n,
        pg_r6: 6n, pg_t3: 7n, pg_t4: 3n, r_res1: 0n, r_res2: -16n, r_res3: -16n, r_res4: -16n, r_res5: -16n,
        pg_rs1: -1n, pg_rs2: -1n, pg_big: 52n, rsv_read: 0n, pg_rs3: 50n, checks_failed: 0n, pg_u: 51n, uaf_read: 0n,
        uaf_read2: 0n, pg_u2: 51n, uaf_fresh: 0n, beyond_read: 0n, checks_failed5: 0n,
      };
      for (const [name, value] of Object.entries(expect)) assert.equal(g(obj, name), value, name);
      assert.deepEqual(reports(obj, 'ds_alloc_order'), [readErr(0x100000032018n)]);
      assert.deepEqual(reports(obj, 'ds_faults'),
        [readErr(0x100000033100n), writeErr(0x100000033208n), readErr(0x100000033208n), readErr(0x100000040008n)]);
      for (const n of ['ds_htab_build', 'ds_htab_ops', 'ds_list']) assert.deepEqual(reports(obj, n), [], n);
    });
  }

  for (const options of [{ arenaGlobals: 'start' }, { kernel: '6.18' }] as const) {
    it(`arena_ds.bpf.o with globals at the start (${JSON.stringify(options)}): the same checks pass, implicit pages move up one`, () => {
      const obj = load('arena_ds.bpf.o', options);
      assert.deepEqual(['ds_htab_build', 'ds_htab_ops', 'ds_list', 'ds_alloc_order', 'ds_faults'].map((n) => run(obj, n)),
        [100n, 76n, 20n, 0n, 0n]);
      assert.equal(g(obj, 'buckets_addr'), PG(1));
      assert.equal(obj.arenaGlobalsOffset, 0);
    });
  }

  it('stream_exhaust.bpf.o: the admission rule at 100 000 bytes, per program and per stream', () => {
    const obj = load('stream_exhaust.bpf.o');
    assert.deepEqual(['stream_exhaust', 'stream_boundary', 'stream_fresh'].map((n) => run(obj, n)), [0n, 0n, 0n]);
    const expect: Record<string, bigint> = {
      ex_msgs: 1851n, ex_size: 99954n, ex_err: -28n, ex_calls: 1852n, ex_after: -28n, bd_msgs: 1851n, bd_err: -28n,
      bd_r46: -28n, bd_r45: 0n, bd_r1: -28n, bd_r0: 0n, bd_err1: 0n, bd_out: -28n, fr_out: 0n,
    };
    for (const [name, value] of Object.entries(expect)) assert.equal(g(obj, name), value, name);
    const ex = obj.program('stream_exhaust').streams;
    assert.equal(ex.stdout.text, 'a'.repeat(54 * 1851));
    const bd = obj.program('stream_boundary').streams;
    assert.equal(bd.stdout.text, 'a'.repeat(54 * 1851) + 'b'.repeat(45));
    assert.equal(bd.stderr.text, 'stderr still works\n');
    assert.equal(obj.program('stream_fresh').streams.stdout.text, 'fresh 3\n');
    // Reading releases capacity, element by element, FIFO across element boundaries.
    assert.equal(new TextDecoder().decode(bd.stdout.read(60)), 'a'.repeat(60));
  });
});
}
