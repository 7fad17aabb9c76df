// The WebAssembly engine's own machinery: its budget variants, the mirrors of memory (the
// policy, growth of the shared memory, write-back before natives and at the end of a run, after
// an error too). Everything else it shares with the other engines' tests (they run on every
// engine of the registry).
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/assembler.js';
import { prepareConformanceProgram } from '../src/conformance.js';
import { createEngine } from '../src/engines.js';
import { BudgetExceededError, MemoryAccessError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';

/** sum of the bytes of [r1, r1 + r2), and each byte incremented in place. */
const BUMP_AND_SUM = assemble(`
  mov %r0, 0
  mov %r3, 0
loop:
  jge %r3, %r2, done
  mov %r4, %r1
  add %r4, %r3
  ldxb %r5, [%r4+0]
  add %r0, %r5
  add %r5, 1
  stxb [%r4+0], %r5
  add %r3, 1
  ja loop
done:
  exit`);

function bytes(len: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 37 + 11) & 0xff);
}

const expectedSum = (mem: Uint8Array) => mem.reduce((s, b) => s + b, 0);

describe('wasm engine', () => {
  for (const len of [64, 5000, 3 << 20]) {
    it(`a ${len}-byte region: read and written through its mirror, written back at the end (${len > 4096 ? 'mirrored after 8 accesses' : 'mirrored at once'})`, () => {
      const mem = bytes(len);
      const vm = prepareConformanceProgram(BUMP_AND_SUM, mem, 'wasm');
      const r = vm.run({ instructionBudget: Infinity });
      assert.equal(r.r0, BigInt(expectedSum(mem)));
      assert.deepEqual(vm.input, mem.map((b) => (b + 1) & 0xff));
    });
  }

  it('runs with and without a budget (two modules) count the same instructions', () => {
    const mem = bytes(300);
    const vm = prepareConformanceProgram(BUMP_AND_SUM, mem, 'wasm');
    const unlimited = vm.run({ instructionBudget: Infinity });
    const budgeted = vm.run({ instructionBudget: 1_000_000 });
    assert.equal(budgeted.r0, unlimited.r0);
    assert.equal(budgeted.instructions, unlimited.instructions);
    assert.equal(unlimited.instructions, 2 + 300 * 9 + 1 + 1);
  });

  it('a run its budget stops has written back the stores made before the stop, as the interpreter', () => {
    const outcome = (engine: 'interp' | 'wasm') => {
      const vm = prepareConformanceProgram(BUMP_AND_SUM, bytes(100), engine);
      let error: unknown;
      try { vm.run({ instructionBudget: 500 }); } catch (e) { error = e; }
      assert.ok(error instanceof BudgetExceededError);
      return [error.message, ...vm.input];
    };
    assert.deepEqual(outcome('wasm'), outcome('interp'));
  });

  it('memory is written back before a helper reads it and re-read after the helper wrote it', () => {
    // helper 1: reads the byte at r1 and writes twice its value at r1 + 1.
    const seen: number[] = [];
    const helper: HelperDef = {
      name: 'double',
      fn: (ctx) => {
        const at = ctx.arg(1);
        const b = ctx.memory.read(at, 1)![0];
        seen.push(b);
        ctx.memory.write(at + 1n, Uint8Array.of(2 * b));
        return 0n;
      },
    };
    const memory = new AddressSpace();
    const region = memory.map('data', new Uint8Array(16));
    const env: ExecEnv = { memory, natives: { helpers: new Map([[1, helper]]), kfuncs: new Map() } };
    const vm = createEngine('wasm', assemble(`
      mov %r6, %r1
      stb [%r6+0], 21
      call 1
      ldxb %r0, [%r6+1]
      exit`), env);
    const r = vm.run([AddressSpace.address(region)]);
    assert.deepEqual(seen, [21]);
    assert.equal(r.r0, 42n);
  });

  it('a fault ends the run with the memory written so far written back', () => {
    const memory = new AddressSpace();
    const region = memory.map('data', new Uint8Array(8));
    const env: ExecEnv = { memory, natives: { helpers: new Map(), kfuncs: new Map() } };
    const vm = createEngine('wasm', assemble(`
      stb [%r1+0], 7
      stb [%r1+8], 9
      exit`), env);
    assert.throws(() => vm.run([AddressSpace.address(region)]), MemoryAccessError);
    assert.equal(region.bytes[0], 7);
  });
});
