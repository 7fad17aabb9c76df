// Structured control flow for the JIT (src/codegen/structure.ts): loopOrder sorts clang's rotated loops
// so they nest, and the JIT then emits them as labelled loops instead of a dispatch switch.
import assert from 'node:assert/strict';
import { loopOrder } from '../src/codegen/structure.js';
import { rawProgram } from '../bench/compiled.js';
import { createEngine } from '../src/engines.js';
import { prepareConformanceProgram } from '../src/conformance.js';
import { AddressSpace } from '../src/memory.js';
import { PROJECT_ROOT } from './suite.js';

describe('src/codegen/structure.ts loopOrder', () => {
  it('puts a rotated loop (entered in its middle) contiguous, header first', () => {
    // clang-19's insertion sort: 0 enters the outer loop at its header 4; 4 -> 5 (inner loop,
    // back edge 6 -> 5), 5 -> 2, 6 -> 7 -> 3, 2 -> 3 -> 4 (back edge) | 8 (exit).
    const succs = [[4], [], [3], [4, 8], [5], [2, 6], [5, 7], [3], []];
    const order = loopOrder(succs)!;
    assert.deepEqual(order.slice(0, 2), [0, 4]);
    const pos = (b: number) => order.indexOf(b);
    // The outer loop {4, 5, 6, 7, 2, 3} is contiguous and starts at 4; the inner {5, 6} too.
    const outer = [4, 5, 6, 7, 2, 3].map(pos).sort((a, b) => a - b);
    assert.equal(outer[outer.length - 1] - outer[0], 5);
    assert.ok(Math.abs(pos(6) - pos(5)) === 1 && pos(5) < pos(6));
    assert.equal(pos(8) > pos(3), true);
    assert.equal(pos(1), order.length - 1); // unreachable: last
  });

  it('refuses an irreducible graph (two entries into one cycle)', () => {
    assert.equal(loopOrder([[1, 2], [2], [1]]), undefined);
  });

  it('the JIT emits clang\'s rotated loops structured, with the interpreter\'s results', () => {
    const insns = rawProgram(PROJECT_ROOT, 'sort', 1);
    const mem = new Uint8Array(4096);
    for (let i = 0; i < mem.length; i++) mem[i] = (i * 97 + 13) & 0xff;
    const env = { memory: new AddressSpace(), natives: { helpers: new Map(), kfuncs: new Map() } };
    const listing = createEngine('jit', insns, env).listing!('sort');
    assert.doesNotMatch(listing, /switch \(pc\)/);
    assert.match(listing, /L\d+: for \(;;\) \{/);
    const [jit, interp] = (['jit', 'interp'] as const).map((e) => prepareConformanceProgram(insns, mem, e).run({ instructionBudget: Infinity }));
    assert.equal(jit.r0, interp.r0);
    assert.equal(jit.instructions, interp.instructions);
  });
});
