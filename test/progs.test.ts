// The committed BPF objects (progs/*.bpf.o, built by clang-19) run as the kernel would run them:
// each expectation comes from the table at the top of the program's C source, which states the
// kernel's result for every program and global.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { join } from 'node:path';
import { BpfError, UnknownKfuncError } from '../src/errors.js';
import { LoadedObject, LoadOptions, openObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';
import { loadEvery } from './helpers.js';

const prog = (name: string) => join(PROJECT_ROOT, 'progs', name);
const u32Hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Runs programs in order and returns their return values as the C `int` they return (the
 * kernel's test run reports a u32 retval; r0's upper half is zero after a 32-bit move).
 */
function runAll(obj: LoadedObject, names: string[]): bigint[] {
  return names.map((n) => BigInt.asIntN(32, obj.program(n).run().retval));
}

function globals(obj: LoadedObject, expected: Record<string, bigint | number>): void {
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(obj.global(name).value, BigInt(value), `global ${name}`);
  }
}

function str(obj: LoadedObject, name: string): string {
  return Buffer.from(obj.global(name).bytes).toString('latin1');
}

for (const engine of ENGINES) {
describe(`${'progs: clang-built objects'} [${engine}]`, () => {
  const load = (file: string, options: LoadOptions = {}) => loadEvery(prog(file), { engine, ...options });

  for (const file of ['globals.bpf.o', 'globals.v3.bpf.o']) {
    describe(file, () => {
      it('runs read_sized, loop_sum, mutate with the kernel\'s results', () => {
        const obj = load(file);
        assert.deepEqual(runAll(obj, ['read_sized', 'loop_sum', 'mutate']), [-305n, 129n, 32n]);
        globals(obj, {
          data_int: 5, v_s8: 126, v_u8: 4, v_s16: 5536, v_u16: 464, v_s32: 70000, v_u32: 205032704,
          v_s64: -2500000000n, v_u64: 3333333333n, 'loop_sum.runs': 101, counter: 3,
          sum_signed: -5000070305n, sum_unsigned: 14000065250n, greeting_val: 0, loop_total: 129,
          loop_runs: 101, hidden_total: 15, hidden_copy: 15, limit: 10, custom_var: 104,
          custom_u64: 0x1122334455667777n,
        });
        assert.equal(u32Hex(obj.global('data_arr').bytes), '0b000000020000000300000004000000');
        assert.equal(u32Hex(obj.global('data_pair').bytes), '15000000000000009bffffffffffffff'); // {21, -101}
        assert.equal(u32Hex(obj.global('greeting').bytes), '0000000000000000'); // .rel.data is ignored
        assert.deepEqual(obj.trace, ['loop_sum 129 runs 101\n', 'mutate\n']);
      });

      it('a const volatile global written before load changes the result; .rodata is frozen after', () => {
        const opened = openObject(prog(file));
        opened.setGlobal('limit', 4);
        const obj = opened.load({ engine });
        assert.equal(obj.program('loop_sum').run().retval, 30n);
        assert.throws(() => obj.setGlobal('limit', 5), (e: unknown) => e instanceof BpfError && /EPERM/.test(e.message));
      });
    });
  }

  it('maps.bpf.o: every map type, flags, error codes, ringbuf and tail calls', () => {
    const obj = load('maps.bpf.o');
    const rets = runAll(obj, ['tail_target', 'use_array', 'use_hash', 'use_lru', 'use_ringbuf', 'use_tail_call']);
    assert.deepEqual(rets, [42n, 106n, 337n, 5n, 64n, 42n]);
    globals(obj, {
      tail_hits: 2, r_arr_upd_any: 0, r_arr_upd_noexist: -17, r_arr_upd_exist: 0, r_arr_upd_oob: -7,
      r_arr_lookup_oob_null: 1, r_arr_delete: -22, r_arr_fetch_add: 100, arr_val1: 106, r_pcpu_arr_upd: 0,
      pcpu_val0: 7, pcpu_val1: 9, r_hash_full: -7, r_hash_noexist: -17, r_hash_exist: 0,
      r_hash_exist_missing: -2, r_hash_lookup_missing_null: 1, r_hash_del_missing: -2, r_hash_del: 0,
      r_hash_ins_after_del: 0, r_hash_fetch_add: 330, hash_sum3: 337, hash_count3: 33, r_pcpu_hash_upd: 0,
      pcpu_hash_val: 12, r_pinned_upd: 0, pinned_val: 70, r_lru_upd1: 0, r_lru_upd2: 0, lru_hit1: 10,
      r_lru_upd3: 0, lru_has1: 1, lru_has2: 0, lru_has3: 1, lru_val3: 30, r_rb_output: 0, rb_avail: 64,
      rb_size: 4096, rb_cons: 0, rb_prod: 64, rb_too_big_null: 1, tail_empty_fallthrough: 1, tail_not_taken: 0,
    });
    const key = (k: number) => Uint8Array.of(k, 0, 0, 0);
    const arr = obj.map('arr');
    assert.deepEqual([0, 1, 2, 3].map((k) => new DataView(arr.lookup(key(k))!.buffer).getBigUint64(0, true)), [0n, 106n, 200n, 0n]);
    const hash = obj.map('hash');
    assert.deepEqual([...hash.entries()].map(([k]) => k[0]).sort(), [1, 2, 3, 6]);
    const lru = obj.map('lru');
    assert.deepEqual([...lru.entries()].map(([k, v]) => [k[0], v[0]]).sort(), [[1, 10], [3, 30]]);
    const records = (obj.map('rb') as unknown as { consume(): Uint8Array[] }).consume();
    assert.deepEqual(records.map((r) => r.length), [16, 12]);
  });

  it('subprog.bpf.o: global, static and hidden subprograms, a bpf_loop callback', () => {
    const obj = load('subprog.bpf.o');
    assert.deepEqual(runAll(obj, ['prog_a', 'prog_b']), [164n, 27n]);
    globals(obj, { res_add: 12, res_mul: 35, res_mid: 47, res_loop_ret: 5, res_loop_sum: 70, res_sub: 2, res_mul_b: 25 });
    // libbpf's append model: each program carries its own copy of the subprograms it reaches.
    const a = obj.program('prog_a').spec.functions.map((f) => f.name);
    assert.equal(a[0], 'prog_a');
    assert.ok(a.length > 1 && new Set(a).size === a.length);
  });

  it('loops.bpf.o: bpf_for, bpf_repeat, cond_break, can_loop, bpf_loop, plain loop', () => {
    const obj = load('loops.bpf.o');
    const names = ['loop_bpf_for', 'loop_repeat', 'loop_cond_break', 'loop_can_loop', 'loop_bpf_loop', 'loop_plain'];
    assert.deepEqual(runAll(obj, names), names.map(() => 329766n));
    globals(obj, {
      sum_for: 329766, sum_repeat: 329766, sum_cond_break: 329766, sum_can_loop: 329766, sum_bpf_loop: 329766,
      sum_plain: 329766, iters_for: 100, iters_repeat: 100, iters_cond_break: 100, iters_can_loop: 100,
      iters_plain: 100, bpf_loop_ret: 100,
    });
  });

  it('helpers.bpf.o: probe reads, snprintf, strncmp, printk, clock, ids', () => {
    const obj = load('helpers.bpf.o');
    assert.deepEqual(runAll(obj, ['basics', 'probe_read', 'strings', 'printk_calls']), [0n, 8n, 20n, 29n]);
    globals(obj, {
      cpu_id: 0, ktime_ok: 1, r_probe: 0, r_probe_str: 8, r_probe_str_trunc: 4, r_probe_null: -34,
      r_snprintf: 20, r_snprintf_trunc: 20, r_strncmp_lt: -1, r_strncmp_eq: 0, r_strncmp_gt: 1,
      r_printk0: 6, r_printk1: 6, r_printk2: 11, r_printk3: 15, r_vprintk4: 13, r_vprintk5: 29,
    });
    const g = (n: string) => obj.global(n).value!;
    assert.equal(g('pid_tgid'), (g('tgid') << 32n) | g('pid'));
    assert.ok(g('t1') > 0n && g('t2') >= g('t1'));
    assert.equal(str(obj, 'read_out'), 'bpfrun!\0');
    assert.equal(str(obj, 'read_str_out'), 'bpfrun!\0' + '\0'.repeat(8));
    assert.equal(str(obj, 'read_trunc_out'), 'bpf\0\0\0\0\0');
    assert.equal(str(obj, 'read_null_out'), '\0'.repeat(8));
    assert.equal(str(obj, 'snp_out'), 'v=-5 u=7 x=ff s=bpf' + '\0'.repeat(13));
    assert.equal(str(obj, 'snp_trunc'), 'v=-5 u=\0');
    assert.deepEqual(obj.trace, ['hello\n', 'one 1\n', 'two -2 bpf\n', 'three 3 beef Z\n', 'four 1 2 3 4\n',
      'five -1 2 ab -5000000000 bpf\n']);
  });

  it('kfuncs.bpf.o: iterator kfuncs, a missing weak kfunc tested and (in ?syscall) called', () => {
    const obj = load('kfuncs.bpf.o');
    assert.deepEqual(runAll(obj, ['iter_direct', 'iter_for', 'weak_check']), [20n, 91n, 7n]);
    globals(obj, {
      iter_new_ret: 0, iter_sum: 20, iter_count: 5, iter_bad_ret: -22, iter_bad_count: 0, for_sum: 91,
      for_count: 7, present_iter: 1, present_missing: 0, weak_addr: 0, weak_called: 0, weak_absent: 1,
    });
    const missing = obj.program('call_missing');
    assert.equal(missing.spec.autoload, false);
    assert.throws(() => missing.run(), (e: unknown) => e instanceof UnknownKfuncError && /bpf_definitely_missing_kfunc/.test(e.message));
  });

  for (const file of ['isa.bpf.o', 'isa.v3.bpf.o']) {
    it(`${file}: division, sign extension, byte swaps, 32-bit ALU, atomics`, () => {
      const obj = load(file);
      assert.deepEqual(runAll(obj, ['divs', 'mods', 'sext', 'bswap', 'alu32', 'atomics']), [14n, 2n, -127n, 0x3412n, 1n, 12n]);
      globals(obj, {
        udiv64: 14, umod64: 2, udiv32: 14, umod32: 2, udiv64_0: 0, umod64_0: 100, udiv32_0: 0, umod32_0: 100,
        out_s8: -2, out_s16: -1000, out_s32: -100000, out_movsx8: -127, out_movsx16: -32767, out_movsx32: -15,
        r_bswap16: 0x3412, r_bswap32: 0x78563412, r_bswap64: 0x0807060504030201n,
        r_add32: 1, r_sub32: 3, r_mul32: 0, r_shl32: 0x80000000, r_ashr32: -16, r_lshr32: 0x0ffffff0,
        r_neg32: -2, r_xor32: 0xfffeffff, r_zext: 1,
        r_fadd64: 10, r_fadd32: 10, atom64: 115, atom32: 12, r_for64: 0x0f, r_fand64: 0xff, r_fxor64: 0x3c,
        bits64: 0xc3, r_for32: 0x0f, r_fand32: 0xff, r_fxor32: 0x3c, bits32: 0xc3, nf64: 0x103, nf32: 0x103,
        r_xchg64: 5, xchg64: 77, r_xchg32: 5, xchg32: 77, r_cas64_hit: 3, r_cas64_miss: 9, r_cas64_bool: 1,
        cas64: 12, r_cas32_hit: 3, r_cas32_miss: 9, cas32: 9,
      });
      const signed: Record<string, bigint | number> = file === 'isa.bpf.o'
        ? { sdiv_done: 1, smod_done: 1, sdiv64: -3, smod64: -2, sdiv64_n: 3, smod64_n: -2, sdiv32: -3, smod32: -2,
          sdiv64_min: -(1n << 63n), smod64_min: 0, sdiv32_min: -2147483648, smod32_min: 0, sdiv64_0: 0,
          smod64_0: -17, sdiv32_0: 0, smod32_0: -17 }
        : { sdiv_done: 0, smod_done: 0, sdiv64: 0, smod64: 0 }; // v3 cannot express signed division
      globals(obj, signed);
    });
  }

  it('runtime errors name the program and the C source line', () => {
    const obj = load('kfuncs.bpf.o');
    assert.throws(() => obj.program('call_missing').run(), (e: unknown) => {
      assert.ok(e instanceof UnknownKfuncError);
      assert.match(e.message, /^program call_missing: instruction \d+: call to unknown kfunc bpf_definitely_missing_kfunc \(call_missing at .*kfuncs\.bpf\.c:\d+:\d+: .+\)$/);
      assert.equal(e.location?.function, 'call_missing');
      return true;
    });
  });

  it('an instruction budget stops a program with its source line', () => {
    const obj = load('loops.bpf.o');
    assert.throws(() => obj.program('loop_plain').run({ instructionBudget: 50 }),
      (e: unknown) => e instanceof BpfError && e.kind === 'budget-exceeded' && /loops\.bpf\.c:\d+/.test(e.message));
  });

  for (const file of ['arena.bpf.o', 'arena.v3.bpf.o']) {
    for (const where of ['end', 'start'] as const) {
      it(`${file} (globals at the ${where}): a list in arena pages, free and reuse, reserve`, () => {
        const obj = load(file, { arenaGlobals: where });
        assert.deepEqual(runAll(obj, ['arena_build', 'arena_free', 'arena_reserve']), [465n, 2n, -16n]);
        // spec §1.9: the globals' page is allocated first, through the user view.
        const P = where === 'end' ? 0x100000000000n : 0x100000001000n;
        assert.equal(obj.arenaGlobalsOffset, where === 'end' ? 15 * 4096 : 0);
        globals(obj, {
          arena_init_val: 42, arena_sum: 465, result: 465, user_ptr: P, head_ptr: P + 0xd0n,
          build_done: 1, free_done: 1, realloc_same: 1, realloc_zero: 1, r_reserve: 0, r_reserve_again: -16,
          reserved_alloc_null: 1,
        });
        assert.equal(str(obj, 'arena_buf'), 'arena\0\0\0');
        assert.equal(u32Hex(obj.global('arena_head').bytes), '0000000000000000'); // a NULL __arena pointer
        assert.equal(obj.arena!.pagesAllocated, 2); // the globals' page and P (re-allocated, zeroed)
        assert.equal(obj.arena!.pagesScratched, 0);
        for (const p of obj.programs) assert.equal(p.streams.stderr.text, '', `${p.name} stderr`);
      });
    }
  }

  it('streams.bpf.o: stream printk to stdout/stderr, and arena faults reported to stderr', () => {
    const obj = load('streams.bpf.o');
    assert.deepEqual(runAll(obj, ['stream_print', 'stream_fault']), [0n, 0n]);
    globals(obj, { r_out1: 0, r_out2: 0, r_err1: 0, r_bad: -2, fault_read_val: 0 });
    const print = obj.program('stream_print').streams;
    assert.equal(print.stdout.readAll(), 'hello stream 42\nname=bpf n=7\n');
    assert.equal(print.stderr.readAll(), 'warn 0xbeef\n');
    const fault = obj.program('stream_fault').streams;
    assert.equal(fault.stdout.readAll(), 'after fault: 0\n');
    const stderr = fault.stderr.readAll();
    // spec §3.4: the exact byte address in user form, WRITE then READ, each with a stack dump.
    const report = /^ERROR: Arena (READ|WRITE) access at unmapped address 0x([0-9a-f]+)\nCPU: 0 UID: 0 PID: 1 Comm: bpfrun\nCall trace:\n((?:[a-zA-Z_][a-zA-Z0-9_]*\+0x[0-9a-f]+\/0x[0-9a-f]+\n|[ \t]+[^\n]+\n)*)\n/;
    const first = report.exec(stderr)!;
    assert.ok(first, stderr);
    assert.equal(first[1], 'WRITE');
    assert.equal(first[2], '100000008010');
    assert.match(first[3], /^bpf_prog_[0-9a-f]{16}_stream_fault\+0x[0-9a-f]+\/0x[0-9a-f]+\n  \*p = 0x1234;.* @ streams\.bpf\.c:\d+\n$/);
    const second = report.exec(stderr.slice(first[0].length))!;
    assert.ok(second, stderr);
    assert.equal(second[1], 'READ');
    assert.equal(second[2], '100000008010');
    assert.equal(first[0].length + second[0].length, stderr.length);
    assert.equal(obj.arena!.pagesScratched, 0); // in-program faults never install the scratch page
  });

});
}
