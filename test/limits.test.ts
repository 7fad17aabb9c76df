// The kernel's limits on programs, and inputs large enough that a quadratic or recursive walk
// would overflow the stack or time out (reliability defects 9 and 13). Each test asserts on the
// result, never on the time taken: mocha's timeout is what catches a regression.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { InvalidInstructionError } from '../src/errors.js';
import { checkFunctionPointers } from '../src/isa/func-ptr.js';
import { insn, Instruction } from '../src/isa/instruction.js';
import { BPF_COMPLEXITY_LIMIT_INSNS, BPF_MAX_SUBPROGS, validate } from '../src/isa/validate.js';
import { formatRunReport } from '../src/report.js';
import type { RunData } from '../src/runs.js';

const EXIT = insn(0x95);
const MOV0 = insn(0xb7, 0, 0, 0, 0); // r0 = 0
const JEQ_NEXT = insn(0x15, 0, 0, 0, 0); // if r0 == 0 goto +0
/** A BPF-to-BPF call from slot `at` to slot `to`. */
const call = (at: number, to: number) => insn(0x85, 0, 1, 0, to - at - 1);

function rejects(insns: Instruction[], index: number, reason: RegExp): void {
  assert.throws(() => validate(insns), (e: unknown) => {
    assert.ok(e instanceof InvalidInstructionError, String(e));
    assert.equal(e.index, index, e.message);
    assert.match(e.message, reason);
    return true;
  });
}

/**
 * main calls subprograms 1..n-1 in turn (and, with `funcPtr`, loads the last one's address into
 * r2); each subprogram is `body` conditional jumps, then exit.
 */
function subprograms(n: number, body: number, funcPtr = false): Instruction[] {
  const mainSlots = n + (funcPtr ? 2 : 0); // n-1 calls, the ld_imm64, an exit
  const start = (i: number) => mainSlots + (i - 1) * (body + 1);
  const out: Instruction[] = [];
  for (let i = 1; i < n; i++) out.push(call(i - 1, start(i)));
  if (funcPtr) out.push(insn(0x18, 2, 4, 0, start(n - 1) - (n - 1) - 1, 0)); // r2 = &subprogram n-1
  out.push(EXIT);
  for (let i = 1; i < n; i++) {
    for (let k = 0; k < body; k++) out.push(JEQ_NEXT);
    out.push(EXIT);
  }
  return out;
}

describe('kernel limits on programs (validate)', () => {
  it('refuses more than BPF_MAX_SUBPROGS subprograms at the call that adds one too many', () => {
    assert.equal(BPF_MAX_SUBPROGS, 256);
    assert.equal(validate(subprograms(256, 0)).subprogStarts.length, 256);
    rejects(subprograms(257, 0), 255, /too many subprograms: the one at 512 is past BPF_MAX_SUBPROGS \(256\): E2BIG/);
    // 100 000 subprograms once took 41 s (quadratic); now the 257th is refused as it is found.
    rejects(subprograms(100_000, 0), 255, /too many subprograms/);
  });

  it('refuses more than BPF_COMPLEXITY_LIMIT_INSNS instructions (bpf_prog_load E2BIG)', () => {
    const big = new Array<Instruction>(BPF_COMPLEXITY_LIMIT_INSNS + 1).fill(MOV0);
    big[big.length - 1] = EXIT;
    rejects(big, BPF_COMPLEXITY_LIMIT_INSNS, /1000001 instructions, more than BPF_COMPLEXITY_LIMIT_INSNS \(1000000\): E2BIG/);
    // Counted in slots: ld_imm64 takes two.
    const wide = new Array<Instruction>(BPF_COMPLEXITY_LIMIT_INSNS / 2 + 1).fill(insn(0x18, 1, 0, 0, 1, 2));
    wide.push(EXIT);
    rejects(wide, BPF_COMPLEXITY_LIMIT_INSNS, /1000003 instructions/);
  });

  it('validates the largest legal shape, 256 subprograms of jumps in 1M slots, in linear time', () => {
    const body = Math.floor(BPF_COMPLEXITY_LIMIT_INSNS / BPF_MAX_SUBPROGS) - 2;
    // The function pointer makes the function-pointer dataflow run over it all.
    const insns = subprograms(BPF_MAX_SUBPROGS, body, true);
    const layout = validate(insns);
    assert.ok(layout.slotCount <= BPF_COMPLEXITY_LIMIT_INSNS && layout.slotCount > 0.99 * BPF_COMPLEXITY_LIMIT_INSNS);
    assert.equal(layout.subprogStarts.length, BPF_MAX_SUBPROGS);
    assert.equal(layout.subprogStarts.at(-1), BPF_MAX_SUBPROGS + 2 + (BPF_MAX_SUBPROGS - 2) * (body + 1));
    checkFunctionPointers(insns, layout, () => undefined);
  });
});

describe('report over very many globals', () => {
  it('formats 150 000 globals (Math.max(...names) overflowed the stack)', () => {
    const n = 150_000;
    const globals = Array.from({ length: n }, (_, i) => ({ name: `v${i}`, section: '.bss', bytes: new Uint8Array(1), value: 0n }));
    const data: RunData = { engine: ENGINES[0], programs: [], globals, trace: [], events: [], droppedEvents: 0 };
    const lines = formatRunReport(data).split('\n');
    assert.equal(lines.filter((l) => l.startsWith('  v')).length, n);
    assert.equal(lines.at(-1), `  v149999  .bss           0`);
  });
});
