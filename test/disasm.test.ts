import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { assemble } from '../src/asm/assembler.js';
import { disassemble, disassembleOne } from '../src/asm/disassembler.js';
import { decode, insn, type Instruction } from '../src/isa/instruction.js';
import { PROJECT_ROOT } from './suite.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'objdump');

/** objdump body lines of a golden file: `   slot:\tbytes\ttext`. */
function goldenLines(name: string): string[] {
  return readFileSync(join(FIXTURES, name), 'utf8').split('\n').filter((l) => /^\s*\d+:\t/.test(l));
}

/** The program the golden lines show, rebuilt from their bytes. */
function programOf(lines: readonly string[]): Instruction[] {
  const hex = lines.flatMap((l) => l.split('\t')[1].trim().split(' '));
  return decode(Uint8Array.from(hex, (b) => parseInt(b, 16)));
}

describe('disassembler', () => {
  describe('matches llvm-objdump -d --mcpu=v4 (golden output)', () => {
    for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.txt')).sort()) {
      it(name, () => {
        const expected = goldenLines(name);
        const actual = disassemble(programOf(expected), { section: '.text', hex: name.includes('.hex.') });
        const diffs = expected.flatMap((line, n) => (line === actual[n] ? [] : [`- ${line}\n+ ${actual[n]}`]));
        assert.equal(actual.length, expected.length, 'one line per instruction');
        assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} lines differ`);
      });
    }
  });

  describe('disassembleOne', () => {
    it('prints the examples of LLVM syntax', () => {
      const cases: Array<[Instruction, string]> = [
        [insn(0xb7, 0, 0, 0, 1), 'r0 = 1'],
        [insn(0xbc, 1, 2), 'w1 = w2'],
        [insn(0x3c, 0, 1, 1), 'w0 s/= w1'],
        [insn(0xbf, 1, 2, 8), 'r1 = (s8)r2'],
        [insn(0x79, 0, 10, -8), 'r0 = *(u64 *)(r10 - 8)'],
        [insn(0x62, 10, 0, -4, 5), '*(u32 *)(r10 - 4) = 5'],
        [insn(0x1d, 1, 2, 3), 'if r1 == r2 goto +3'],
        [insn(0x06, 0, 0, 0, 70000), 'gotol +70000'],
        [insn(0xe5, 0, 0, 3), 'may_goto +3'],
        [insn(0x85, 0, 1, 0, -1), 'call -1'],
        [insn(0x8d, 2), 'callx r2'],
        [insn(0x18, 0, 0, 0, 0x55667788, 0x11223344), 'r0 = 1234605616436508552 ll'],
        [insn(0xdb, 10, 1, -8, 0x01), 'r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)'],
        [insn(0xbf, 1, 2, 1, 1), 'r1 = addr_space_cast(r2, 0, 1)'],
      ];
      for (const [i, text] of cases) assert.equal(disassembleOne(i, 0), text);
    });

    it('prints hex immediates and jump-target comments on request', () => {
      assert.equal(disassembleOne(insn(0x18, 0, 0, 0, 0x55667788, 0x11223344), 0, { hex: true }),
        'r0 = 0x1122334455667788 ll');
      assert.equal(disassembleOne(insn(0x05, 0, 0, -2), 4, { hex: true, section: 'xdp' }), 'goto -0x2 <xdp+0x18>');
    });

    it('never throws: every opcode with any fields prints something', () => {
      for (let op = 0; op < 256; op++) {
        for (const i of [insn(op), insn(op, 15, 15, -1, -1, -1), insn(op, 1, 2, 1, 0x100)]) {
          assert.ok(disassembleOne(i, 0).length > 0);
        }
      }
      assert.equal(disassembleOne(insn(0xff), 0), '<unknown>');
    });
  });

  describe('disassemble', () => {
    it('lays lines out like objdump, with both slots of ld_imm64 on one line', () => {
      assert.deepEqual(disassemble(assemble('lddw %r0, 0x1122334455667788\nexit')), [
        '       0:\t18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr0 = 1234605616436508552 ll',
        '       2:\t95 00 00 00 00 00 00 00\texit',
      ]);
    });
  });
});
