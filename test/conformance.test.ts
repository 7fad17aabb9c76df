// Runs the BPF ISA conformance suite (../shared/conformance) through the assembler (or the
// `-- raw` bytes) and each engine. Every positive file must pass and every negative file must
// be rejected; nothing is skipped.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
import { ConformanceTest, parseConformanceData, runConformanceProgram } from '../src/conformance.js';
import { ENGINES } from '../src/engines.js';
import { BpfError } from '../src/errors.js';
import { decode, Instruction, parseHexBytecode } from '../src/isa/instruction.js';
import { SUITE_DIR } from './suite.js';


/** The file's program, or undefined when it has neither `-- asm` nor `-- raw`. */
function program(t: ConformanceTest): Instruction[] | undefined {
  if (t.asm !== undefined) return assemble(t.asm);
  if (t.raw !== undefined) return decode(parseHexBytecode(t.raw));
  return undefined;
}

function files(dir: string): string[] {
  return readdirSync(join(SUITE_DIR, dir)).filter((f) => f.endsWith('.data')).sort();
}

describe('conformance suite', () => {
  const positive = files('tests');

  it('has all 313 positive files', () => {
    assert.equal(positive.length, 313);
  });

  for (const engine of ENGINES) {
    describe(`${engine}: tests/`, () => {
      for (const f of positive) {
        it(f, () => {
          const t = parseConformanceData(readFileSync(join(SUITE_DIR, 'tests', f), 'utf8'));
          assert.ok(t.result !== undefined, 'positive file states a result');
          const insns = program(t);
          assert.ok(insns, 'positive file has a program');
          const { r0 } = runConformanceProgram(insns, t.mem, engine);
          assert.equal('0x' + r0.toString(16), '0x' + t.result!.toString(16));
        });
      }
    });

    describe(`${engine}: negative/`, () => {
      for (const f of files('negative')) {
        it(`${f} is rejected`, () => {
          const t = parseConformanceData(readFileSync(join(SUITE_DIR, 'negative', f), 'utf8'));
          let outcome: string;
          try {
            const insns = program(t);
            if (insns === undefined) {
              outcome = 'no program';
            } else {
              const { r0 } = runConformanceProgram(insns, t.mem, engine);
              outcome = t.error !== undefined ? 'no error' : t.result === r0 ? 'passed' : 'wrong result';
            }
          } catch (e) {
            if (!(e instanceof BpfError)) throw e; // a host exception is a bug, never a rejection
            outcome = e.kind;
          }
          // How each kind of negative file must fail: reserved fields are invalid instructions,
          // bad assembler input is an assembler error, the rest run and mismatch (or have no
          // program at all).
          const expected = f.startsWith('unused-') ? ['invalid-instruction']
            : f.startsWith('invalid_') && f !== 'invalid_unknown_directive.data' ? ['asm']
            : ['wrong result', 'no error', 'invalid-instruction', 'no program'];
          assert.ok(expected.includes(outcome), `${f}: outcome '${outcome}', expected one of ${expected.join(', ')}`);
        });
      }
    });
  }
});
