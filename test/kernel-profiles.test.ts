// Kernel profiles (src/kernel/profile.ts): every rule the specs mark per version, on both engines,
// with the results Linux 7.2 (default) and Linux 6.18 give: registers after a faulting arena
// atomic (spec §1.8, §6.2), arena globals placement (§1.9), deferred frees per call site (§2),
// scratch-page recovery of kernel-side faults (§3), the stream kfunc names (§4.2), and the rules
// both share (page-crossing accesses, x86-64's refusal of arena and/or/xor with fetch).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { KernelOopsError } from '../src/errors.js';
import { kernelProfile, KERNEL_VERSIONS, KernelVersion } from '../src/kernel/profile.js';
import { loadObject, LoadedObject, LoadOptions, openObject } from '../src/object.js';
import { arenaTestKfuncs, bpfrun, loadEvery, throwsLoad } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';
import { assemble } from '../src/asm/assembler.js';
import { nonSleepableCallSites } from '../src/isa/sleepable-sites.js';
import { findArenaPointers } from '../src/isa/arena-ptr.js';
import { validate } from '../src/isa/validate.js';

const prog = (name: string) => join(PROJECT_ROOT, 'progs', name);
const PG = (n: number) => (1n << 44n) + BigInt(n) * 0x1000n;
const rcuKfuncs = { bpf_rcu_read_lock: () => 0, bpf_rcu_read_unlock: () => 0 };

const g = (obj: LoadedObject, name: string) => obj.global(name).value!;
const reports = (obj: LoadedObject, name: string) => obj.program(name).streams.stderr.text.split('\n').filter((l) => l.startsWith('ERROR:'));

/** What each profile gives for arena_profiles.bpf.o (the table at the top of its source). */
const EXPECTED: Record<KernelVersion, {
  fetch: bigint; xchg: bigint; cmpxchg: bigint; firstPage: bigint; still: bigint; sameSlot: bigint;
}> = {
  '7.2': { fetch: 0n, xchg: 0n, cmpxchg: 0n, firstPage: PG(0), still: 5n, sameSlot: 0n },
  '6.18': { fetch: 7n, xchg: 9n, cmpxchg: 11n, firstPage: PG(1), still: 0n, sameSlot: 1n },
};

describe('kernel profiles', () => {
  it('7.2 is the default; every rule is a named field', () => {
    assert.deepEqual(KERNEL_VERSIONS, ['7.2', '6.18']);
    assert.equal(kernelProfile().version, '7.2');
    const [a, b] = KERNEL_VERSIONS.map((v) => kernelProfile(v));
    assert.deepEqual([a.arenaGlobals, b.arenaGlobals], ['end', 'start']);
    assert.deepEqual([a.streamVprintk, b.streamVprintk], ['bpf_stream_vprintk', 'bpf_stream_vprintk_impl']);
    assert.deepEqual([a.scratchRecovery, b.scratchRecovery], [true, false]);
    assert.deepEqual([a.atomicFaultZeroes, b.atomicFaultZeroes], [true, false]);
    assert.deepEqual([a.arenaAluNarrowing, b.arenaAluNarrowing], ['any-operand', 'dst']);
    assert.deepEqual([a.deferredFree, b.deferredFree], ['call-site', 'program']);
    assert.throws(() => kernelProfile('6.1'), /unknown kernel profile '6.1'/);
  });

  it('an unknown kernel in LoadOptions is a LoadError', () => {
    throwsLoad(() => loadObject(prog('arena.bpf.o'), { kernel: '6.1' as KernelVersion }), 'options', /unknown kernel profile '6\.1'/);
  });

  for (const engine of ENGINES) for (const kernel of KERNEL_VERSIONS) {
    describe(`Linux ${kernel} on ${engine}`, () => {
      const options: LoadOptions = { engine, kernel };
      const want = EXPECTED[kernel];

      describe('arena_profiles.bpf.o', () => {
        const obj = loadObject(prog('arena_profiles.bpf.o'), { ...options, kfuncs: rcuKfuncs });
        const rets = ['atomic_fault', 'cross_page', 'free_under_rcu'].map((n) => obj.program(n).run().retval);

        it('every program returns 0', () => assert.deepEqual(rets, [0n, 0n, 0n]));

        it('a faulting arena atomic: 7.2 zeroes src (fetch_add, xchg) and r0 (cmpxchg), 6.18 keeps them; both report WRITE', () => {
          assert.deepEqual([g(obj, 'fetch_ret'), g(obj, 'xchg_ret'), g(obj, 'cmpxchg_ret')], [want.fetch, want.xchg, want.cmpxchg]);
          const writeErr = (a: bigint) => `ERROR: Arena WRITE access at unmapped address 0x${a.toString(16)}`;
          assert.deepEqual(reports(obj, 'atomic_fault'), [writeErr(PG(2)), writeErr(PG(2) + 8n), writeErr(PG(2) + 16n)]);
        });

        it('__arena globals: at the end of the arena on 7.2, at its start on 6.18 (first allocation after them)', () => {
          assert.equal(g(obj, 'first_page'), want.firstPage);
          assert.equal(obj.arenaGlobalsOffset, kernel === '7.2' ? 3 * 4096 : 0);
        });

        it('an unaligned u64 across two present pages is written and read back; into an empty page it faults as a whole', () => {
          assert.equal(g(obj, 'cross_val'), 0x1122334455667788n);
          assert.equal(g(obj, 'cross_empty'), 0n);
          const at = (want.firstPage + 0x1ffcn).toString(16);
          assert.deepEqual(reports(obj, 'cross_page'), [
            `ERROR: Arena WRITE access at unmapped address 0x${at}`, `ERROR: Arena READ access at unmapped address 0x${at}`]);
        });

        it('a free inside bpf_rcu_read_lock: deferred on 7.2 (per call site), immediate on 6.18 (sleepable program)', () => {
          assert.equal(g(obj, 'still'), want.still);
          assert.equal(g(obj, 'same_slot'), want.sameSlot);
          assert.deepEqual(reports(obj, 'free_under_rcu'), kernel === '7.2' ? [] : [`ERROR: Arena READ access at unmapped address 0x${PG(3).toString(16)}`]);
        });

        it('x86-64 refuses arena fetch_or at load (both kernels)', () => {
          throwsLoad(() => loadEvery(prog('arena_profiles.bpf.o'), { ...options, kfuncs: rcuKfuncs }), 'program fetch_or_arena',
            /BPF_ATOMIC stores into R\d arena is not allowed/);
        });
      });

      it('the explicit arenaGlobals option overrides the profile', () => {
        const obj = loadObject(prog('arena_profiles.bpf.o'), { ...options, kfuncs: rcuKfuncs, arenaGlobals: kernel === '7.2' ? 'start' : 'end' });
        assert.equal(obj.arenaGlobalsOffset, kernel === '7.2' ? 0 : 3 * 4096);
      });

      it(kernel === '7.2' ? 'a kfunc fault on an empty arena page is recovered through the scratch page'
        : 'a kfunc fault on an empty arena page oopses (no scratch-page recovery before 7.2)', () => {
        const obj = loadObject(prog('arena_kfunc.bpf.o'), { ...options, kfuncs: arenaTestKfuncs });
        const p = obj.program('kf_unalloc_write');
        if (kernel === '7.2') {
          assert.equal(p.run().retval, 0n);
          assert.equal(reports(obj, 'kf_unalloc_write')[0], `ERROR: Arena WRITE access at unmapped address 0x${PG(3).toString(16)}`);
          assert.ok(obj.arena!.pagesScratched > 0);
        } else {
          assert.throws(() => p.run(), (e: unknown) => e instanceof KernelOopsError && e.access === 'write' && e.faultIp === 'bpfrun_test_arena_write');
          assert.equal(p.streams.stderr.text, '');
          assert.equal(obj.arena!.pagesScratched, 0);
        }
      });

      it('streams.bpf.o (weak externs) writes the same text through the kfunc this kernel links', () => {
        const texts = loadObject(prog('streams.bpf.o'), options).programs.map((p) => { p.run(); return p.streams.stdout.text; });
        const reference = loadObject(prog('streams.bpf.o'), { engine, kernel: '7.2' }).programs.map((p) => { p.run(); return p.streams.stdout.text; });
        assert.deepEqual(texts, reference);
        assert.ok(texts.some((t) => t.length > 0));
      });

      it(kernel === '7.2' ? 'an object calling bpf_stream_vprintk_impl (6.18) does not load'
        : 'an object calling bpf_stream_vprintk_impl loads and prints', () => {
        if (kernel === '7.2') {
          // The program that calls it fails (externs resolve per program).
          throwsLoad(() => loadObject(prog('stream_impl.bpf.o'), options), 'program say_impl',
            /^cannot find address for kernel function bpf_stream_vprintk_impl \(EINVAL\)$/);
        } else {
          const p = loadObject(prog('stream_impl.bpf.o'), options).program('say_impl');
          assert.equal(p.run().retval, 0n);
          assert.equal(p.streams.stdout.text, 'impl 42\n');
        }
      });

      it(kernel === '7.2' ? 'an object calling the 4-argument bpf_stream_vprintk loads and prints'
        : 'an object calling bpf_stream_vprintk / bpf_stream_print_stack (7.x) does not load', () => {
        if (kernel === '7.2') {
          const p = loadObject(prog('stream_vprintk.bpf.o'), options).program('say_new');
          assert.equal(p.run().retval, 0n);
          assert.equal(p.streams.stdout.text, 'new 42\n');
        } else {
          throwsLoad(() => loadObject(prog('stream_vprintk.bpf.o'), options), /^program say_new$/, /not in Linux 6\.18/);
        }
      });
    });
  }

  it('7.2 call sites in a non-sleepable context: lock / RCU regions (on any path) and timer callbacks', () => {
    const kfuncNames = ['bpf_rcu_read_lock', 'bpf_rcu_read_unlock', 'bpf_arena_free_pages'];
    const sites = (src: string) => {
      const insns = assemble(src);
      return [...nonSleepableCallSites(insns, validate(insns), (imm) => kfuncNames[imm])].sort((a, b) => a - b);
    };
    // 0: free (outside); 1: spin_lock; 2: free (inside); 3: spin_unlock (inside); 4: free (outside)
    assert.deepEqual(sites('call kfunc 2\ncall 93\ncall kfunc 2\ncall 94\ncall kfunc 2\nexit'), [2, 3]);
    // RCU taken on one path only: the free after the join is marked (the verifier's mark is sticky).
    assert.deepEqual(sites('jeq %r1, 0, +1\ncall kfunc 0\ncall kfunc 2\nmov %r0, 0\nexit'), [2]);
    // A callee called inside the region is inside; a timer callback (r2 at bpf_timer_set_callback) is.
    assert.deepEqual(sites('call 93\ncall local f\ncall 94\nlddw %r2, func cb\ncall 170\nexit\nf:\ncall kfunc 2\nexit\ncb:\ncall kfunc 2\nexit'),
      [1, 2, 7, 9]);
    // A callback for another helper (bpf_loop) is not a timer callback.
    assert.deepEqual(sites('lddw %r2, func cb\ncall 181\nexit\ncb:\ncall kfunc 2\nexit'), []);
  });

  it('arena pointers through calls: a static callee gets them (and may return one), a global one starts with scalars', () => {
    const insns = assemble('mov %r1, 0\naddr_space_cast %r1, %r1, 0, 1\ncall local f\nadd %r0, 1\nexit\nf:\nadd %r1, -1\nmov %r0, %r1\nexit');
    const layout = validate(insns);
    const narrowed = (globalFunctions?: Set<number>) => [...findArenaPointers(insns, layout, { narrowing: 'any-operand', globalFunctions }).narrowed].sort();
    assert.deepEqual(narrowed(), [3, 5]); // the callee's add, and the add on the returned arena pointer
    assert.deepEqual(narrowed(new Set([5])), []);
    // 6.18 ('dst'): scalar op arena is not narrowed, arena op scalar is.
    const mixed = assemble('mov %r1, 0\naddr_space_cast %r1, %r1, 0, 1\nmov %r2, 5\nadd %r2, %r1\nadd %r1, %r2\nexit');
    assert.deepEqual([...findArenaPointers(mixed, validate(mixed), { narrowing: 'dst' }).narrowed], [4]);
    assert.deepEqual([...findArenaPointers(mixed, validate(mixed), { narrowing: 'any-operand' }).narrowed], [3, 4]);
  });

  it('arena.bpf.o: the first allocation is page 0 on 7.2 and page 1 on 6.18 (globals placement), same sums', () => {
    for (const kernel of KERNEL_VERSIONS) {
      const opened = openObject(prog('arena.bpf.o'));
      const obj = opened.load({ kernel });
      assert.equal(obj.program('arena_build').run().retval, 465n);
      assert.equal(g(obj, 'user_ptr'), kernel === '7.2' ? PG(0) : PG(1));
    }
  });

  it('bpfrun run --kernel 6.18|7.2, and a bad value is a usage error', () => {
    const fetchRet = (kernel: string) => {
      const r = bpfrun(['run', 'progs/arena_profiles.bpf.o', '--prog', 'atomic_fault', '--kernel', kernel]);
      assert.equal(r.status, 0, r.stderr);
      return /^ {2}fetch_ret +\.bss +(\d+)$/m.exec(r.stdout)?.[1];
    };
    assert.equal(fetchRet('7.2'), '0');
    assert.equal(fetchRet('6.18'), '7');
    // The JIT's exception table names the register a faulting atomic zeroes on 7.2 only.
    const listing = (kernel: string) => bpfrun(['disasm', 'progs/arena_profiles.bpf.o', '--emit-js', '--prog', 'atomic_fault', '--kernel', kernel]).stdout;
    assert.match(listing('7.2'), /site \d+: insn \d+ atomic 8 bytes, r0 = 0 on fault/);
    assert.doesNotMatch(listing('6.18'), /atomic 8 bytes, r\d = 0 on fault/);
    const bad = bpfrun(['run', 'progs/arena_profiles.bpf.o', '--kernel', '5.15']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--kernel must be one of 7\.2, 6\.18/);
    const testRun = bpfrun(['test-run', 'progs/stream_impl.bpf.o', '--prog', 'say_impl', '--kernel', '6.18']);
    assert.equal(testRun.status, 0, testRun.stderr);
    assert.notEqual(bpfrun(['test-run', 'progs/stream_impl.bpf.o', '--prog', 'say_impl']).status, 0);
  });
});
