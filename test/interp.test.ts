// ISA behaviour the conformance suite does not cover, on every engine of the registry: may_goto, load-acquire /
// store-release, ld_imm64 pseudo forms, 32-bit atomics' zero extension, far gotol, frames,
// budgets, memory errors and the helper interface.
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/assembler.js';
import {
  BudgetExceededError, CallDepthError, InvalidInstructionError, MemoryAccessError, RunTimeoutError, RuntimeError,
  UnknownHelperError, UnknownKfuncError,
} from '../src/errors.js';
import { Instruction } from '../src/isa/instruction.js';
import { AddressSpace } from '../src/memory.js';
import { ExecEnv, HelperDef, LdImm64Resolver, RunOptions } from '../src/runtime.js';
import { createEngine, EngineName, ENGINES } from '../src/engines.js';
import { CHECKPOINT_INSTRUCTIONS, Engine, STACK_BYTES } from '../src/shell.js';

interface Setup {
  mem?: Uint8Array;
  helpers?: Array<[number, HelperDef]>;
  kfuncs?: Array<[number, HelperDef]>;
  resolveLdImm64?: LdImm64Resolver;
  options?: RunOptions;
}

function runOn(engine: EngineName, src: string | Instruction[], setup: Setup = {}): bigint {
  const memory = new AddressSpace();
  const input = memory.map('input', setup.mem ?? new Uint8Array(16));
  const env: ExecEnv = {
    memory,
    natives: { helpers: new Map(setup.helpers ?? []), kfuncs: new Map(setup.kfuncs ?? []) },
    resolveLdImm64: setup.resolveLdImm64,
  };
  const vm = createEngine(engine, typeof src === 'string' ? assemble(src) : src, env);
  return vm.run([AddressSpace.address(input), BigInt(input.bytes.length)], setup.options).r0;
}

for (const engine of ENGINES) describe(`ISA behaviour on ${engine}`, () => {
  const run = (src: string | Instruction[], setup: Setup = {}) => runOn(engine, src, setup);
  describe('may_goto', () => {
    const loop = `
      mov %r0, 0
    again:
      may_goto done
      add %r0, 1
      ja again
    done:
      exit`;

    it('falls through until the per-frame budget is spent, then jumps', () => {
      assert.equal(run(loop, { options: { mayGotoBudget: 1000 } }), 1000n);
    });

    it("defaults to the kernel's BPF_MAX_LOOPS (8M)", () => {
      assert.equal(run(loop), 8n * 1024n * 1024n);
    });

    it('gives each call frame its own budget, and restores the caller\'s on return', () => {
      const prog = `
        mov %r6, 0
        call local count
        add %r6, %r0
        call local count
        add %r6, %r0
        mov %r0, 0
      mine:
        may_goto out
        add %r0, 1
        ja mine
      out:
        add %r0, %r6
        exit
      count:
        mov %r0, 0
      l:
        may_goto d
        add %r0, 1
        ja l
      d:
        exit`;
      // two callees with 50 each, then the entry frame's own 50
      assert.equal(run(prog, { options: { mayGotoBudget: 50 } }), 150n);
    });
  });

  describe('load-acquire / store-release', () => {
    it('store and load every size, zero-extending', () => {
      const prog = `
        lddw %r1, 0xfedcba9876543280
        strelb [%r10-1], %r1
        strelh [%r10-4], %r1
        strelw [%r10-8], %r1
        streldw [%r10-16], %r1
        ldacqb %r2, [%r10-1]
        ldacqh %r3, [%r10-4]
        ldacqw %r4, [%r10-8]
        ldacqdw %r5, [%r10-16]
        mov %r0, 0
        jne %r2, 0x80, fail
        jne %r3, 0x3280, fail
        lddw %r6, 0x76543280
        jne %r4, %r6, fail
        jne %r5, %r1, fail
        mov %r0, 1
      fail:
        exit`;
      assert.equal(run(prog), 1n);
    });
  });

  describe('ld_imm64 pseudo forms', () => {
    it('src 4 (function address) can be called through callx', () => {
      const prog = `
        lddw %r1, func f
        mov %r2, 7
        call %r1
        exit
      f:
        mov %r0, %r2
        mul %r0, 6
        exit`;
      assert.equal(run(prog), 42n);
    });

    it('src 1, 2, 3, 5, 6 are resolved by the loader hook with (kind, imm, imm2)', () => {
      const seen: string[] = [];
      const resolve: LdImm64Resolver = (kind, imm, imm2, index) => {
        seen.push(`${kind}:${imm}:${imm2}@${index}`);
        return (BigInt(kind) << 40n) + BigInt(imm) + BigInt(imm2);
      };
      const prog = `
        lddw %r1, map_fd 3
        lddw %r2, map_value 4, 16
        lddw %r3, btf_id 9
        lddw %r4, map_idx 1
        lddw %r5, map_idx_value 2, 8
        mov %r0, %r1
        add %r0, %r2
        add %r0, %r3
        add %r0, %r4
        add %r0, %r5
        exit`;
      const expected = (1n << 40n) + 3n + (2n << 40n) + 20n + (3n << 40n) + 9n + (5n << 40n) + 1n + (6n << 40n) + 10n;
      assert.equal(run(prog, { resolveLdImm64: resolve }), expected);
      assert.deepEqual(seen, ['1:3:0@0', '2:4:16@2', '3:9:0@4', '5:1:0@6', '6:2:8@8']);
    });

    it('a map form without a loader is rejected at load with the instruction index', () => {
      assert.throws(() => run('mov %r0, 0\nlddw %r1, map_fd 3\nexit'),
        (e: unknown) => e instanceof InvalidInstructionError && e.index === 1 && /needs a loader/.test(e.message));
    });
  });

  describe('32-bit atomics zero-extend what they return', () => {
    it('fetch forms and xchg32 clear the upper half of src', () => {
      const prog = `
        lddw %r1, 0x1111111122222222
        stxdw [%r10-8], %r1
        lddw %r2, 0xffffffff00000001
        lock fetch add32 [%r10-8], %r2
        lddw %r3, 0x22222222
        mov %r0, 0
        jne %r2, %r3, fail
        ldxdw %r4, [%r10-8]
        lddw %r5, 0x1111111122222223
        jne %r4, %r5, fail
        lddw %r2, 0xabcdef0000000009
        lock xchg32 [%r10-8], %r2
        lddw %r3, 0x22222223
        jne %r2, %r3, fail
        mov %r0, 1
      fail:
        exit`;
      assert.equal(run(prog), 1n);
    });

    it('cmpxchg32 compares the low half of r0 and returns the old value zero-extended', () => {
      const prog = `
        mov %r1, 5
        stxdw [%r10-8], %r1
        lddw %r0, 0xdead000000000005
        mov %r2, 9
        lock cmpxchg32 [%r10-8], %r2
        mov %r3, %r0
        ldxdw %r4, [%r10-8]
        mov %r0, 0
        jne %r3, 5, fail
        jne %r4, 9, fail
        mov %r0, 1
      fail:
        exit`;
      assert.equal(run(prog), 1n);
    });
  });

  describe('gotol', () => {
    it('reaches targets beyond the 16-bit offset range, both directions', () => {
      const filler = Array.from({ length: 40000 }, () => 'mov %r0, 1').join('\n');
      const prog = `mov %r0, 0\nja32 far\nback:\nmov %r0, 7\nexit\n${filler}\nexit\nfar:\nja32 back`;
      assert.equal(run(prog), 7n);
    });

    it('a 16-bit ja to the same distance is an assembler error', () => {
      const filler = Array.from({ length: 40000 }, () => 'mov %r0, 1').join('\n');
      assert.throws(() => assemble(`ja far\n${filler}\nfar:\nexit`), /ja32/);
    });
  });

  describe('call frames', () => {
    const recurse = (n: number) => `
        mov %r1, ${n}
        call local f
        exit
      f:
        mov %r0, %r1
        jeq %r1, 0, done
        stxdw [%r10-8], %r1
        sub %r1, 1
        call local f
        ldxdw %r1, [%r10-8]
        add %r0, %r1
      done:
        exit`;

    it('allows 8 frames (entry + 7 nested calls), each with its own stack', () => {
      assert.equal(run(recurse(6)), 21n); // frames: entry, f(6) .. f(0)
    });

    it('rejects a ninth frame with CallDepthError', () => {
      assert.throws(() => run(recurse(7)), (e: unknown) => e instanceof CallDepthError && /8 frames/.test(e.message));
    });

    it('preserves r6-r9 and r10 across calls', () => {
      const prog = `
        mov %r6, 6
        mov %r9, 9
        mov %r8, %r10
        call local f
        jne %r6, 6, bad
        jne %r9, 9, bad
        jne %r8, %r10, bad
        exit
      bad:
        mov %r0, -1
        exit
      f:
        mov %r6, 0
        mov %r9, 0
        mov %r0, %r10
        exit`;
      assert.notEqual(run(prog), 0xffffffffffffffffn);
    });

    it("a callee's r10 is 512 bytes below its caller's", () => {
      const prog = `
        mov %r6, %r10
        call local f
        sub %r6, %r0
        mov %r0, %r6
        exit
      f:
        mov %r0, %r10
        exit`;
      assert.equal(run(prog), 512n);
    });
  });

  describe('budgets and errors', () => {
    it('an instruction budget ends a runaway loop with the instruction index', () => {
      assert.throws(() => run('mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit', { options: { instructionBudget: 1000 } }),
        (e: unknown) => e instanceof BudgetExceededError && e.budget === 1000 && (e.index === 1 || e.index === 2));
    });

    it('each run starts on a zeroed stack, in every frame a run used, whichever engine ran before', () => {
      // f reads its frame's fp-8 before writing it: a second run must read 0 again. The stack is
      // the program's (ExecEnv.stack), shared with the other engine.
      const src = `
        call local f
        exit
        f:
        ldxdw %r0, [%r10-8]
        stdw [%r10-8], 42
        stdw [%r10-512], 7
        exit`;
      const memory = new AddressSpace();
      const env: ExecEnv = { memory, natives: { helpers: new Map(), kfuncs: new Map() }, stack: memory.mapStack(new Uint8Array(STACK_BYTES)) };
      const vms = ENGINES.map((e) => createEngine(e, assemble(src), env));
      for (const vm of [...vms, ...vms]) assert.equal(vm.run().r0, 0n);
    });

    /** Runs `src` with `budget`; the stopping instruction and the input memory afterwards. */
    const stopped = (src: string, budget: number) => {
      const memory = new AddressSpace();
      const input = memory.map('input', new Uint8Array(8));
      const vm = createEngine(engine, assemble(src), { memory, natives: { helpers: new Map(), kfuncs: new Map() } });
      try {
        vm.run([AddressSpace.address(input)], { instructionBudget: budget });
      } catch (e) {
        if (e instanceof BudgetExceededError) return { at: e.index, mem: [...input.bytes] };
        throw e;
      }
      return { at: -1, mem: [...input.bytes] };
    };

    it('the budget stops at the exact instruction with exactly the earlier stores done', () => {
      // One straight-line block of stores: budget k has done k stores and stops at the next one.
      const stores = 'stb [%r1+0], 1\nstb [%r1+1], 2\nstb [%r1+2], 3\nstb [%r1+3], 4\nexit';
      assert.deepEqual(stopped(stores, 0), { at: 0, mem: [0, 0, 0, 0, 0, 0, 0, 0] });
      assert.deepEqual(stopped(stores, 2), { at: 2, mem: [1, 2, 0, 0, 0, 0, 0, 0] });
      assert.deepEqual(stopped(stores, 4), { at: 4, mem: [1, 2, 3, 4, 0, 0, 0, 0] });
      // Stores between register-only instructions: stopping after the store keeps it.
      const mixed = 'mov %r2, 7\nstxb [%r1+0], %r2\nadd %r2, 1\nadd %r2, 1\nstxb [%r1+1], %r2\nexit';
      assert.deepEqual(stopped(mixed, 3), { at: 3, mem: [7, 0, 0, 0, 0, 0, 0, 0] });
      assert.deepEqual(stopped(mixed, 4), { at: 4, mem: [7, 0, 0, 0, 0, 0, 0, 0] });
      assert.deepEqual(stopped(mixed, 5), { at: 5, mem: [7, 9, 0, 0, 0, 0, 0, 0] });
    });

    it('a wall-clock timeout ends an endless loop with RunTimeoutError', () => {
      assert.throws(() => run('mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit', { options: { timeoutMs: 20 } }),
        (e: unknown) => e instanceof RunTimeoutError && e.kind === 'timeout' && e.timeoutMs === 20
          && (e.index === 1 || e.index === 2) && e.instructions >= CHECKPOINT_INSTRUCTIONS);
    });

    it('with a timeout, the clock checkpoints change nothing: the same count, the same budget stop', () => {
      // 2 instructions per iteration, 600 000 iterations: past the first checkpoint (2^20).
      const loop = 'mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 600000, loop\nexit';
      const count = (options: RunOptions) => {
        const vm = createEngine(engine, assemble(loop), { memory: new AddressSpace(), natives: { helpers: new Map(), kfuncs: new Map() } });
        try {
          return vm.run([], options);
        } catch (e) {
          return e instanceof BudgetExceededError ? `stopped at ${e.index} by ${e.budget}` : e;
        }
      };
      assert.deepEqual(count({ timeoutMs: 60_000 }), count({}));
      assert.deepEqual(count({}), { r0: 600_000n, instructions: 1 + 2 * 600_000 + 1 });
      for (const budget of [CHECKPOINT_INSTRUCTIONS, CHECKPOINT_INSTRUCTIONS + 1, CHECKPOINT_INSTRUCTIONS + 2, 1_100_000]) {
        assert.deepEqual(count({ timeoutMs: 60_000, instructionBudget: budget }), count({ instructionBudget: budget }), `budget ${budget}`);
      }
    });

    it('a budget that runs out in a callee stops there, after the call', () => {
      // call f; (a loop); f: store, exit — the call is instruction 0, the callee's store the next one run.
      const src = 'call local f\nja -2\nexit\nf:\nstb [%r1+0], 5\nexit';
      assert.deepEqual(stopped(src, 1), { at: 3, mem: [0, 0, 0, 0, 0, 0, 0, 0] });
      assert.deepEqual(stopped(src, 2), { at: 4, mem: [5, 0, 0, 0, 0, 0, 0, 0] });
    });

    it('an out-of-bounds read names the instruction, address, size and the mapped regions', () => {
      assert.throws(() => run('ldxdw %r0, [%r1+12]\nexit', { mem: new Uint8Array(16) }), (e: unknown) => {
        assert.ok(e instanceof MemoryAccessError);
        assert.equal(e.index, 0);
        assert.equal(e.size, 8);
        assert.equal(e.address, 0xffff88810000000cn);
        assert.match(e.message, /instruction 0: read of 8 bytes at 0xffff88810000000c runs past the end of input/);
        return true;
      });
    });

    it('a NULL dereference is outside every region', () => {
      assert.throws(() => run('mov %r1, 0\nstw [%r1+0], 1\nmov %r0, 0\nexit'),
        (e: unknown) => e instanceof MemoryAccessError && e.index === 1 && e.access === 'write' && /outside every memory region/.test(e.message));
    });

    it('a frame cannot touch the stack below its own 512 bytes', () => {
      assert.throws(() => run('mov %r0, 0\nstxdw [%r10-520], %r0\nexit'),
        (e: unknown) => e instanceof MemoryAccessError && e.index === 1 && /below the current frame/.test(e.message));
    });

    it('unknown helpers and kfuncs stop the run naming them', () => {
      assert.throws(() => run('call 70\nexit'), (e: unknown) => e instanceof UnknownHelperError && e.helperId === 70
        && e.message === 'instruction 0: call to unknown helper bpf_sock_hash_update (#70)');
      assert.throws(() => run('lddw %r1, 70\ncall %r1\nexit'), (e: unknown) => e instanceof UnknownHelperError
        && e.message === 'instruction 2: call to unknown helper bpf_sock_hash_update (#70)');
      assert.throws(() => run('call 9999\nexit'), (e: unknown) => e instanceof UnknownHelperError
        && e.message === 'instruction 0: call to unknown helper #9999');
      assert.throws(() => run('call kfunc 12\nexit'), (e: unknown) => e instanceof UnknownKfuncError && /12/.test(e.message));
    });

    it('callx to a value that is neither a function nor a helper id is a runtime error', () => {
      assert.throws(() => run('lddw %r1, 0x1234567800000000\ncall %r1\nexit'), RuntimeError);
    });

    describe('a code address that is not the start of a function', () => {
      const midFunction = (call: string) => `
        lddw %r1, func f
        mov %r2, %r1
        add %r2, 8
        mov %r0, 0
        ${call}
        exit
      f:
        mov %r0, 1
        mov %r0, 2
        exit`;
      const refused = (slot: number, reg: number) => (e: unknown) => e instanceof InvalidInstructionError && e.index === slot
        && e.message === `invalid instruction ${slot}: dereference of modified func ptr R${reg} off=8 disallowed`;
      const callback: HelperDef = { name: 'bpf_loop', fn: (c) => c.callFunction(c.arg(2), []), callbackArgs: [2] };

      it('is refused at load as a callx target, naming the instruction (the verifier\'s rule)', () => {
        assert.throws(() => run(midFunction('call %r2')), refused(5, 2));
      });

      it('is refused at load as a helper\'s callback argument', () => {
        assert.throws(() => run(midFunction('call 181'), { helpers: [[181, callback]] }), refused(5, 2));
      });

      it('that the load-time check cannot follow (through the stack) is refused when called', () => {
        const viaStack = midFunction('stxdw [%r10-8], %r2\n        ldxdw %r2, [%r10-8]\n        call 181');
        assert.throws(() => run(viaStack, { helpers: [[181, callback]] }), (e: unknown) => e instanceof RuntimeError
          && e.index === 7 && /0xffffffffa0000050 is not the address of a function of this program/.test(e.message));
        const callx = midFunction('stxdw [%r10-8], %r2\n        ldxdw %r2, [%r10-8]\n        call %r2');
        assert.throws(() => run(callx), (e: unknown) => e instanceof RuntimeError
          && e.index === 7 && /0xffffffffa0000050 is not the address of a function of this program/.test(e.message));
      });

      it('an unmodified copy of a function pointer may be called', () => {
        assert.equal(run(midFunction('add %r2, -8\n        call %r2')), 2n);
      });
    });
  });

  describe('helpers and kfuncs', () => {
    it('receive r1-r5 and set r0 (numbers sign-extend, bigints wrap)', () => {
      const sum: HelperDef = { name: 'sum', fn: (c) => c.arg(1) + c.arg(2) + c.arg(3) + c.arg(4) + c.arg(5) };
      const neg: HelperDef = { name: 'neg', fn: () => -2 };
      assert.equal(run('mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit', { helpers: [[1, sum]] }), 15n);
      assert.equal(run('call kfunc 3\nexit', { kfuncs: [[3, neg]] }), 0xfffffffffffffffen);
    });

    it('can read the input memory by address', () => {
      const peek: HelperDef = {
        name: 'peek',
        fn: (c) => {
          const r = c.memory.find(c.argLo(1), c.argHi(1), 1)!;
          return r.bytes[(c.argLo(1) >>> 0) - r.start];
        },
      };
      assert.equal(run('add %r1, 2\ncall 9\nexit', { mem: Uint8Array.of(1, 2, 3), helpers: [[9, peek]] }), 3n);
    });

    it('can call back into the program (bpf_loop-style), on a frame of its own', () => {
      const loop: HelperDef = {
        name: 'loop',
        fn: (c) => {
          let i = 0n;
          for (; i < c.arg(1); i++) if (c.callFunction(c.arg(2), [i, c.arg(3)]) === 1n) { i++; break; }
          return i;
        },
      };
      const prog = `
        mov %r6, 100
        mov %r1, 10
        lddw %r2, func cb
        mov %r3, %r10
        sub %r3, 8
        stdw [%r10-8], 0
        call 181
        ldxdw %r1, [%r10-8]
        lsh %r1, 8
        add %r0, %r1
        add %r0, %r6
        exit
      cb:
        ldxdw %r3, [%r2]
        add %r3, %r1
        stxdw [%r2], %r3
        mov %r6, 0
        mov %r0, 0
        jlt %r1, 4, out
        mov %r0, 1
      out:
        exit`;
      // callbacks for i = 0..4 (the fifth returns 1): sum 10, 5 iterations; r6 survives the call
      assert.equal(run(prog, { helpers: [[181, loop]] }), (10n << 8n) + 5n + 100n);
    });

    it('tail calls chain programs with the caller\'s r1, at most 33 times', () => {
      const memory = new AddressSpace();
      const input = memory.map('input', new Uint8Array(8));
      const target = {};
      let self: Engine | undefined;
      const tail: HelperDef = { name: 'tail_call', fn: (c) => (c.tailCall(target) ? 0 : -2) };
      const env: ExecEnv = {
        memory,
        natives: { helpers: new Map([[12, tail]]), kfuncs: new Map() },
        tailCallTarget: (t: unknown) => (t === target ? self : undefined),
      };
      // Each run adds 1 to the counter in the input and tail-calls itself.
      self = createEngine(engine, assemble(`
        ldxdw %r2, [%r1]
        add %r2, 1
        stxdw [%r1], %r2
        call 12
        mov %r0, %r2
        exit`), env);
      const r = self.run([AddressSpace.address(input)]);
      assert.equal(r.r0, 34n); // the first run and 33 tail calls; the 34th call falls through
      assert.equal(input.view.getUint32(0, true), 34);
    });

    it("a host exception inside a helper becomes a RuntimeError naming it", () => {
      const bad: HelperDef = { name: 'bad_helper', fn: () => { throw new TypeError('boom'); } };
      assert.throws(() => run('call 4\nexit', { helpers: [[4, bad]] }),
        (e: unknown) => e instanceof RuntimeError && e.index === 0 && /bad_helper failed: boom/.test(e.message));
    });
  });
});
