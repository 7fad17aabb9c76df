// Synthetic opcodes (src/isa/xop.ts): the lowering produces exactly the named xops, the
// interpreter's dense handler table matches the `case` labels of its dispatch switch (read from
// the source, where each `case k:` names its xop in a comment), and both engines handle every xop.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_KINDS, ENGINES } from '../src/engines.js';
import { InvalidInstructionError } from '../src/errors.js';
import { insn, Instruction } from '../src/isa/instruction.js';
import { BPF_LOAD_ACQ, BPF_STORE_REL, OP_EXIT, sizeBytes } from '../src/isa/opcodes.js';
import * as xop from '../src/isa/xop.js';
import { ATOMIC_RMW_OPS, xopIsAtomic } from '../src/isa/xop.js';
import { XOP_NAMES, xopName, XOPS } from '../src/isa/xop-names.js';
import { ContextLowering, predecode } from '../src/lower.js';
import { AddressSpace } from '../src/memory.js';
import { ExecEnv } from '../src/runtime.js';
import { ATOMIC_HANDLER, HANDLER_XOPS } from '../interp/interpreter.js';
import { PROJECT_ROOT } from './suite.js';

/** An environment with an arena, so that addr_space_cast lowers too. */
const env = (): ExecEnv => ({
  memory: new AddressSpace(),
  natives: { helpers: new Map(), kfuncs: new Map() },
  arena: { userVmStart: 1n << 44n, noUserConv: false, pageAt: () => undefined, reportFault: () => undefined },
});

/**
 * A context whose every access converts (r1 is the context at entry, so an access through r1
 * becomes ctx_ld / ctx_st), LD_ABS / LD_IND included; atomics on it are refused as the kernel
 * refuses them.
 */
const everyContext: ContextLowering = {
  packetLoads: true,
  site: (access) => {
    if (access.kind === 'atomic') throw new InvalidInstructionError(access.slot, 'atomic context access');
    return 0;
  },
};

/**
 * One instruction of every valid shape the field values below allow, each followed by two exits
 * (so that a jump or a local call by +1 lands on an instruction), with the xop it lowers to.
 */
function lowerEverything(): Map<number, Instruction> {
  const imms = [0, 1, 16, 32, 64, 0x10000, ...ATOMIC_RMW_OPS.map((op) => op.imm), BPF_LOAD_ACQ, BPF_STORE_REL];
  const produced = new Map<number, Instruction>();
  const exit = insn(OP_EXIT);
  const lowerEnv = env();
  for (let opcode = 0; opcode < 256; opcode++) {
    for (const dst of [0, 1]) {
      for (const src of [0, 1, 2]) {
        for (const off of [0, 1, 8, 16, 32]) {
          for (const imm of imms) {
            const ins = insn(opcode, dst, src, off, imm);
            let x: number;
            try {
              x = predecode([ins, exit, exit], lowerEnv, everyContext).xop[0];
            } catch (e) {
              if (e instanceof InvalidInstructionError) continue;
              throw e;
            }
            if (!produced.has(x)) produced.set(x, ins);
          }
        }
      }
    }
  }
  return produced;
}

describe('synthetic opcodes', () => {
  let produced = new Map<number, Instruction>();
  before(() => { produced = lowerEverything(); });

  it('the lowering produces exactly the named xops (src/isa/xop.ts)', () => {
    const names = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b).map(xopName);
    assert.deepEqual(names(produced.keys()), names(XOPS));
  });

  it('names are unique, and a _B/_H/_W/_DW suffix is the access size', () => {
    assert.equal(new Set(XOP_NAMES.values()).size, XOPS.length);
    const bytes: Record<string, number> = { b: 1, h: 2, w: 4, dw: 8 };
    for (const [x, name] of XOP_NAMES) {
      const size = /_(b|h|w|dw)$/.exec(name)?.[1];
      if (size !== undefined) assert.equal(sizeBytes(x), bytes[size], name);
    }
  });

  it("each `case k:` of the interpreter's switch handles HANDLER_XOPS[k], the xop its comment names", () => {
    const source = readFileSync(join(PROJECT_ROOT, 'interp', 'interpreter.ts'), 'utf8');
    const cases = source.split('\n').filter((line) => /^\s*case \d+:/.test(line));
    assert.deepEqual(cases.map((line) => Number(/case (\d+):/.exec(line)![1])),
      Array.from({ length: ATOMIC_HANDLER + 1 }, (_, k) => k), 'the cases are 0..ATOMIC_HANDLER, in order');
    const values: Record<string, unknown> = xop;
    for (const line of cases) {
      const k = Number(/case (\d+):/.exec(line)![1]);
      const named = /\/\/\s*(XOP_[A-Z0-9_]+|ATOMIC_HANDLER)\b/.exec(line)?.[1];
      assert.ok(named !== undefined, `case ${k} names no xop in a comment: ${line.trim()}`);
      if (named === 'ATOMIC_HANDLER') {
        assert.equal(k, ATOMIC_HANDLER, `case ${k} is commented ATOMIC_HANDLER`);
        continue;
      }
      assert.equal(typeof values[named], 'number', `case ${k}: ${named} is not an xop of src/isa/xop.ts`);
      assert.equal(xopName(HANDLER_XOPS[k]), xopName(values[named] as number),
        `case ${k} is commented ${named} but HANDLER_XOPS[${k}] is ${xopName(HANDLER_XOPS[k])}`);
    }
  });

  it('the interpreter has a handler for every xop: its own case, or the atomics case', () => {
    const handled = new Set([...HANDLER_XOPS, ...XOPS.filter(xopIsAtomic)]);
    assert.deepEqual(XOPS.filter((x) => !handled.has(x)).map(xopName), []);
    assert.equal(handled.size, HANDLER_XOPS.length + XOPS.filter(xopIsAtomic).length, 'no xop has two handlers');
  });

  it('every engine builds every xop', () => {
    for (const engine of ENGINES) {
      for (const [x, ins] of produced) {
        const e = env();
        assert.doesNotThrow(() => ENGINE_KINDS[engine].create(predecode([ins, insn(OP_EXIT), insn(OP_EXIT)], e, everyContext), e),
          `${engine}: ${xopName(x)}`);
      }
    }
  });
});
