// Differential fuzzing of the engines (src/fuzz/): seeded random valid programs run on every
// engine of ENGINES and compared on r0, instruction count, final input memory, the ending
// error (kind, instruction) and, for the arena variant, fault reports and page contents. With
// a single engine each program runs twice on fresh memory (determinism). `npm run fuzz` is
// the long run.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { budgetStop, checkProgram, compareOutcomes, describeProgram, runOn, shrinkProgram } from '../src/fuzz/diff.js';
import { generateProgram } from '../src/fuzz/generate.js';
import { validate } from '../src/isa/validate.js';
import { BPF_ATOMIC, BPF_STX, BPF_XCHG } from '../src/isa/opcodes.js';

const PROGRAMS = 600;
const ARENA_PROGRAMS = 300;
const BUDGET_PROGRAMS = 400;

function fuzz(count: number, base: number, arena: boolean, stop = false): void {
  for (let seed = base; seed < base + count; seed++) {
    const generated = generateProgram(seed, { arena });
    validate(generated.insns);
    const prog = stop ? budgetStop(generated, ENGINES[0]) : generated;
    const d = checkProgram(prog, ENGINES);
    if (d) assert.fail(`seed ${seed}${arena ? ' (arena)' : ''}: ${d.engines.join(' vs ')}: ${d.what}\n${describeProgram(prog)}`);
  }
}

describe(`differential fuzzing (${ENGINES.join(', ')}${ENGINES.length === 1 ? ', run twice' : ''})`, () => {
  it(`${PROGRAMS} random programs agree on r0, instructions, memory and errors`, () => fuzz(PROGRAMS, 1, false));

  it(`${ARENA_PROGRAMS} arena programs also agree on fault reports and page contents`, () => fuzz(ARENA_PROGRAMS, 100_001, true));

  it(`${BUDGET_PROGRAMS} programs stopped part way by the instruction budget agree on where, and on what was done`, () => {
    fuzz(BUDGET_PROGRAMS / 2, 200_001, false, true);
    fuzz(BUDGET_PROGRAMS / 2, 300_001, true, true);
  });

  it('a budget stop is chosen inside the run, so it stops it', () => {
    let stoppedEarly = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const prog = budgetStop(generateProgram(seed), ENGINES[0]);
      const o = runOn(ENGINES[0], prog);
      if (o.error?.kind === 'budget-exceeded') stoppedEarly++;
    }
    assert.ok(stoppedEarly >= 40, `${stoppedEarly} of 50 stopped by the budget`);
  });

  it('the generator is deterministic, and its programs validate, terminate and cover the ISA', () => {
    assert.deepEqual(generateProgram(42), generateProgram(42));
    const seen = new Set<string>();
    let ended = 0, errors = 0, faults = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const prog = generateProgram(seed, { arena: seed % 2 === 0 });
      validate(prog.insns);
      for (const i of prog.insns) {
        const cls = i.opcode & 7, code = i.opcode & 0xf0;
        if (cls === 4 || cls === 7) {
          seen.add(`alu${cls === 7 ? 64 : 32}:${code.toString(16)}${(i.opcode & 8) && code !== 0xd0 ? 'x' : 'k'}${i.off ? `/${i.off}` : ''}`);
        } else if (cls === 5 || cls === 6) {
          seen.add(`jmp${cls === 6 ? 32 : ''}:${code.toString(16)}${i.opcode & 8 ? 'x' : 'k'}${code === 0x80 ? `/${i.src}` : ''}`);
        } else if (i.opcode === (BPF_STX | BPF_ATOMIC | 0x18) || i.opcode === (BPF_STX | BPF_ATOMIC)) {
          seen.add(`atomic${i.opcode & 0x18 ? 64 : 32}:${i.imm.toString(16)}`);
        } else {
          seen.add(`mem:${i.opcode.toString(16)}`);
        }
      }
      const o = runOn(ENGINES[0], prog);
      if (o.error) errors++; else ended++;
      faults += o.faults?.length ?? 0;
    }
    const want = [
      // every ALU op in both widths and forms; signed div/mod (off 1), movsx, bswap/le/be, neg
      ...['0', '10', '20', '30', '40', '50', '60', '70', '90', 'a0', 'b0', 'c0'].flatMap((op) =>
        ['alu32', 'alu64'].flatMap((c) => [`${c}:${op}k`, `${c}:${op}x`])),
      'alu32:30x/1', 'alu64:30k/1', 'alu32:90k/1', 'alu64:90x/1', 'alu32:b0x/8', 'alu32:b0x/16',
      'alu64:b0x/8', 'alu64:b0x/16', 'alu64:b0x/32', 'alu32:d0k', 'alu64:d0k', 'alu32:80k', 'alu64:80k',
      'alu64:b0x/1', // addr_space_cast (arena variant)
      // every condition in both widths and forms, ja, gotol, may_goto, local and helper calls
      ...['10', '20', '30', '40', '50', '60', '70', 'a0', 'b0', 'c0', 'd0'].flatMap((op) =>
        ['jmp', 'jmp32'].flatMap((c) => [`${c}:${op}k`, `${c}:${op}x`])),
      'jmp:0k', 'jmp32:0k', 'jmp:e0k', 'jmp:80k/1', 'jmp:80k/0',
      // atomics: add/or/and/xor with and without fetch, xchg, cmpxchg, 32 and 64
      ...['0', '1', '40', '41', '50', '51', 'a0', 'a1', 'e1', 'f1'].flatMap((op) => [`atomic32:${op}`, `atomic64:${op}`]),
      // ld_imm64, loads (zero- and sign-extending), stores (ST and STX) of every size
      'mem:18', ...['61', '69', '71', '79', '81', '89', '91', '62', '6a', '72', '7a', '63', '6b', '73', '7b'].map((o) => `mem:${o}`),
    ];
    for (const w of want) assert.ok(seen.has(w), `never generated ${w}`);
    assert.ok(ended > 150, `only ${ended} of 200 programs ended normally`);
    assert.ok(errors > 0, 'no program ended in an error');
    assert.ok(faults > 50, `only ${faults} arena faults`);
  });

  it('a difference in r0, memory or arena faults is reported', () => {
    const prog = generateProgram(7, { arena: true });
    const a = runOn(ENGINES[0], prog);
    assert.equal(compareOutcomes(a, runOn(ENGINES[0], prog)), undefined);
    assert.match(compareOutcomes(a, { ...a, r0: (a.r0 ?? 0n) + 1n, error: undefined })!, / vs /);
    const mem = a.mem.slice();
    mem[0] ^= 1;
    assert.match(compareOutcomes(a, { ...a, mem })!, /input memory differs/);
    assert.match(compareOutcomes(a, { ...a, faults: [...(a.faults ?? []), 'READ 0x0 [1]'] })!, /arena faults differ/);
  });

  it('shrinking keeps a program valid and failing while removing what does not matter', () => {
    const isXchg = (i: { opcode: number; imm: number }) => (i.opcode & 0xe7) === (BPF_STX | BPF_ATOMIC) && i.imm === BPF_XCHG;
    let seed = 1;
    while (!generateProgram(seed).insns.some(isXchg)) seed++;
    const prog = generateProgram(seed);
    const small = shrinkProgram(prog, (p) => p.insns.some(isXchg));
    validate(small.insns);
    assert.ok(small.insns.some(isXchg));
    assert.ok(small.insns.length <= 3, describeProgram(small)); // the xchg and an exit (and maybe a jump)
  });
});
