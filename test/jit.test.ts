// The JIT's code generator and exception table on small programs: what it emits, which sites
// get entries, and that the fixups and errors match the interpreter's.
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/assembler.js';
import { runConformanceProgram } from '../src/conformance.js';
import { createEngine, ENGINE_KINDS, ENGINES } from '../src/engines.js';
import { Instruction } from '../src/isa/instruction.js';
import { predecode } from '../src/lower.js';
import { AddressSpace } from '../src/memory.js';
import { ArenaMap } from '../src/maps/arena.js';
import { createMap } from '../src/maps/map.js';
import { BPF_F_MMAPABLE, BPF_MAP_TYPE_ARENA } from '../src/uapi.js';
import { EngineFrame, ExecEnv } from '../src/runtime.js';
import { JitProgram } from '../jit/jit.js';

const plainEnv = (): ExecEnv => ({ memory: new AddressSpace(), natives: { helpers: new Map(), kfuncs: new Map() } });
/** The JIT itself (its source and exception table), built as the registry builds it. */
const compile = (insns: readonly Instruction[], env: ExecEnv) => new JitProgram(ENGINE_KINDS.jit, predecode(insns, env), env);

describe('jit', () => {
  describe('code generation', () => {
    it('registers become int32-pair locals and each BPF function one JS function', () => {
      const jit = compile(assemble('mov %r1, 5\ncall local f\nexit\nf:\nmov %r0, %r1\nexit'), plainEnv());
      assert.match(jit.source, /^function F0\(depth\) \{/m);
      assert.match(jit.source, /^function F3\(depth\) \{/m);
      assert.match(jit.source, /let l0 = R\[0\], h0 = R\[1\]/);
      assert.match(jit.source, /F3\(depth \+ 1\)/);
      assert.match(jit.source, /return \[\[0, F0\], \[3, F3\]\];$/);
    });

    it('stack accesses at constant offsets from r10 are direct; other accesses get exception-table sites', () => {
      const jit = compile(assemble(`
        stdw [%r10-8], 7
        ldxdw %r0, [%r10-8]
        ldxw %r2, [%r1+4]
        stxb [%r1+0], %r2
        lock add [%r1+8], %r2
        exit`), plainEnv());
      assert.match(jit.source, /SV\.setInt32\(fpo \+ -8, 7, true\)/);
      assert.match(jit.source, /l0 = SV\.getInt32\(fpo \+ -8, true\); h0 = SV\.getInt32\(fpo \+ -4, true\)/);
      assert.deepEqual(jit.table, [
        { site: 0, pc: 2, dst: 2, access: 'read', size: 4 },
        { site: 1, pc: 3, dst: -1, access: 'write', size: 1 },
        { site: 2, pc: 4, dst: -1, access: 'atomic', size: 8 },
      ]);
    });

    it('loops become labelled JS loops and forward jumps labelled blocks; no dispatch switch', () => {
      const prog = `
        mov %r0, 0
        mov %r1, 0
      outer:
        jge %r1, 10, done
        mov %r2, 0
      inner:
        jge %r2, %r1, next
        add %r0, %r2
        jeq %r0, 1000, done
        add %r2, 1
        ja inner
      next:
        add %r1, 1
        ja outer
      done:
        exit`;
      const jit = compile(assemble(prog), plainEnv());
      assert.doesNotMatch(jit.source, /switch \(pc\)/);
      assert.match(jit.source, /L2: for \(;;\) \{[\s\S]*L4: for \(;;\) \{[\s\S]*continue L4;[\s\S]*continue L2;/);
      assert.match(jit.source, /break B11;/); // leaving both loops at once
      for (const other of ENGINES) assert.equal(jit.run().r0, createEngine(other, assemble(prog), plainEnv()).run().r0);
    });

    it('a jump into the middle of a loop (irreducible) falls back to block dispatch, with the same result', () => {
      const prog = `
        mov %r0, 0
        mov %r1, 5
        jeq %r1, 5, middle
      head:
        add %r0, 1
      middle:
        add %r0, 2
        sub %r1, 1
        jne %r1, 0, head
        exit`;
      const jit = compile(assemble(prog), plainEnv());
      assert.match(jit.source, /for \(;;\) switch \(pc\) \{/);
      assert.equal(jit.run().r0, 14n);
      for (const other of ENGINES) assert.equal(createEngine(other, assemble(prog), plainEnv()).run().r0, 14n);
    });

    it('constants are folded into the code (K operands and ld_imm64)', () => {
      const jit = compile(assemble('lddw %r0, 0x1122334455667788\nadd %r0, -1\nexit'), plainEnv());
      assert.match(jit.source, /l0 = 1432778632; h0 = 287454020;/);
      assert.match(jit.source, /t = \(l0 >>> 0\) \+ 4294967295; h0 = \(h0 \+ -1 \+/); // the K operand -1, sign-extended
    });
  });

  describe('behaviour shared with the interpreter', () => {
    const both = (src: string, mem = new Uint8Array(16)) => ENGINES.map((kind) => {
      const env = plainEnv();
      const region = env.memory.map('input', mem.slice());
      const vm = createEngine(kind, assemble(src), env);
      try {
        return vm.run([AddressSpace.address(region), BigInt(mem.length)], { instructionBudget: 1000 });
      } catch (e) {
        return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    });

    it('an out-of-bounds access is the same MemoryAccessError', () => {
      const [i, j] = both('ldxdw %r0, [%r1+12]\nexit');
      assert.equal(j, i);
      assert.match(String(j), /^MemoryAccessError: instruction 0: read of 8 bytes at 0xffff88810000000c runs past the end of input/);
    });

    it('the instruction budget stops at the same instruction, counted exactly', () => {
      const [i, j] = both('mov %r0, 0\nloop:\nadd %r0, 1\nmov %r2, %r0\nja loop\nexit');
      assert.equal(j, i);
      assert.match(String(j), /^BudgetExceededError: instruction \d+: instruction budget of 1000 exhausted/);
    });

    it('regression (fuzz seed 12): an unwind inside a callee counts the same instructions', () => {
      const src = 'call local f\nexit\nf:\nmov %r1, 0\ncall 5\nexit';
      const [i, j] = ENGINES.map((e) => runConformanceProgram(assemble(src), new Uint8Array(0), e));
      assert.deepEqual(j, i);
      assert.equal(i.instructions, 3);
    });

    it('the region cache never lets a store into a read-only region through', () => {
      const env = plainEnv();
      const ro = env.memory.map('ro', new Uint8Array(8), false);
      const prog = assemble(`lddw %r1, ${AddressSpace.address(ro)}\nldxw %r0, [%r1+0]\nstw [%r1+0], 1\nexit`);
      assert.throws(() => compile(prog, env).run(), /write of 4 bytes .* is in read-only ro/);
    });
  });

  describe('the exception table at arena sites', () => {
    for (const [kernel, atomicFaultZeroes] of [['6.18', false], ['7.2', true]] as const) {
    it(`fixes up load (0), store (dropped) and atomic (Linux ${kernel}: ${atomicFaultZeroes ? 'load register zeroed' : 'untouched'}) and reports with the site's instruction`, () => {
      const memory = new AddressSpace();
      const arena = createMap({ name: 'arena', type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: 4,
        flags: BPF_F_MMAPABLE, mapExtra: 1n << 44n }, memory, { nrCpus: 1 }) as ArenaMap;
      const faults: Array<[boolean, bigint, readonly EngineFrame[]]> = [];
      const env: ExecEnv = {
        memory, natives: { helpers: new Map(), kfuncs: new Map() },
        arena: {
          userVmStart: arena.userVmStart, noUserConv: false, pageAt: (o) => arena.pageAtOffset(o),
          reportFault: (w, a, f) => { faults.push([w, a, f]); }, atomicFaultZeroes,
        },
      };
      const jit = compile(assemble(`
        mov %r1, 0x2000
        mov %r0, 9
        ldxdw %r0, [%r1+16]
        stw [%r1+4], 3
        mov %r2, 5
        lock fetch add [%r1+8], %r2
        add %r0, %r2
        exit`), env);
      // r0 zeroed by the load fixup; r2 untouched by the atomic on 6.18, zeroed on 7.2
      assert.equal(jit.run().r0, atomicFaultZeroes ? 0n : 5n);
      assert.deepEqual(faults.map(([w, a, f]) => [w, a - (1n << 44n), f]), [
        [false, 0x2010n, [{ kind: 'bpf', pc: 2 }]],
        [true, 0x2004n, [{ kind: 'bpf', pc: 3 }]],
        [true, 0x2008n, [{ kind: 'bpf', pc: 5 }]],
      ]);
      assert.deepEqual(jit.table.map((e) => [e.pc, e.access, e.dst]), [[2, 'read', 0], [3, 'write', -1], [5, 'atomic', atomicFaultZeroes ? 2 : -1]]);
    });
    }
  });
});
