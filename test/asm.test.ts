import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { assemble } from '../src/asm/assembler.js';
import { disassemble } from '../src/asm/disassembler.js';
import { AsmError } from '../src/errors.js';
import { decode, encode, parseHexBytecode, toHexLines } from '../src/isa/instruction.js';
import { SUITE_DIR } from './suite.js';

/** `.data` files of the suite's `tests` or `negative` directory, by name. */
function dataFiles(kind: 'tests' | 'negative'): Array<[string, Map<string, string>]> {
  const dir = join(SUITE_DIR, kind);
  return readdirSync(dir).filter((n) => n.endsWith('.data')).sort()
    .map((name) => [name, sections(readFileSync(join(dir, name), 'utf8'))]);
}

/** A `.data` file's sections (`asm`, `raw`, `result`, ...), each the text after its `--` line. */
function sections(text: string): Map<string, string> {
  const lines = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^--\s*(.*?)\s*$/.exec(line);
    if (header) lines.set(header[1], (current = []));
    else current?.push(line);
  }
  return new Map([...lines].map(([name, body]) => [name, body.join('\n')]));
}

/** Hex bytes of the assembled program, one slot a line. */
function hex(text: string): string[] {
  return toHexLines(assemble(text));
}

/** Asserts that assembling `text` fails on `line` with a reason matching `reason`. */
function rejects(text: string, line: number, reason: RegExp): void {
  assert.throws(() => assemble(text), (e: unknown) => {
    assert.ok(e instanceof AsmError, `expected an AsmError, got ${String(e)}`);
    assert.equal(e.line, line, e.message);
    assert.match(e.reason, reason);
    return true;
  });
}

describe('assembler', () => {
  describe('the conformance suite', () => {
    for (const [name, data] of dataFiles('tests')) {
      const asm = data.get('asm');
      if (asm === undefined) continue;
      it(`assembles and round-trips ${name}`, () => {
        const insns = assemble(asm);
        assert.ok(insns.length > 0);
        const raw = data.get('raw');
        if (raw !== undefined) assert.deepEqual(encode(insns), parseHexBytecode(raw));
        // encode → decode is the identity, and every instruction disassembles to a known form.
        const decoded = decode(encode(insns));
        assert.deepEqual(decoded, insns);
        const lines = disassemble(decoded);
        assert.equal(lines.length, insns.length);
        assert.deepEqual(lines.filter((l) => l.endsWith('<unknown>')), []);
      });
    }

    // Negative files whose problem is in the asm: line within the asm section, and reason.
    const negative: Record<string, [number, RegExp]> = {
      'invalid_imm32_dec_range.data': [2, /^Invalid immediate: 2147483648 does not fit in 32 bits/],
      'invalid_imm32_hex_range.data': [2, /^Invalid immediate: 0x100000000 does not fit in 32 bits/],
      'invalid_label.data': [1, /^Invalid label: NOT_A_LABEL/],
      'invalid_lock.data': [1, /^Invalid number of operands for lock/],
      'invalid_lock2.data': [1, /^Invalid number of operands for lock/],
      'invalid_mnemonic.data': [2, /^Invalid mnemonic: ldxq/],
      'invalid_offset.data': [1, /^Invalid operand 2 for ldxb: expected a memory operand/],
      'invalid_offset_range.data': [2, /^Invalid offset: 0x10000 does not fit in 16 bits/],
      'invalid_operand_count.data': [1, /^Invalid number of operands for lddw/],
      'invalid_register.data': [1, /^Invalid register: %r50/],
    };
    for (const [name, data] of dataFiles('negative')) {
      const asm = data.get('asm');
      if (asm === undefined) continue;
      const expected = negative[name];
      if (expected) {
        it(`rejects negative/${name}`, () => rejects(asm, ...expected));
      } else {
        // The rest (error.data, ...) are valid asm that is rejected later, not here.
        it(`assembles negative/${name}`, () => assert.doesNotThrow(() => assemble(asm)));
      }
    }
    it('matches upstream wording where the suite names an error', () => {
      for (const [name, data] of dataFiles('negative')) {
        const error = data.get('error')?.trim();
        if (!negative[name] || !error) continue;
        assert.throws(() => assemble(data.get('asm') ?? ''), (e: Error) => e.message.includes(error));
      }
    });
  });

  describe('syntax', () => {
    it('skips comments and blank lines, and counts lines from 1', () => {
      assert.deepEqual(hex('# comment\n\n  mov %r0, 1 # trailing\nexit\n'), [
        'b7 00 00 00 01 00 00 00', '95 00 00 00 00 00 00 00',
      ]);
      rejects('# one\n\nbogus %r0', 3, /^Invalid mnemonic: bogus$/);
    });

    it('resolves labels to slots, counting ld_imm64 as two', () => {
      const insns = assemble('ja end\nlddw %r0, 1\nend: exit');
      assert.equal(insns[0].off, 2);
      assert.equal(assemble('top:\nmov %r0, 0\nja top')[1].off, -2);
      assert.equal(assemble('mov %r0, 0\nja +3\nja -1')[1].off, 3);
      assert.equal(assemble('mov %r0, 0\nja +3\nja -1')[2].off, -1);
    });

    it('takes the first exit instruction as the label exit, unless one is defined', () => {
      assert.equal(assemble('jeq %r1, 0, exit\nmov %r0, 1\nexit\nexit')[0].off, 1);
      assert.equal(assemble('jeq %r1, 0, exit\nexit\nexit:\nexit')[0].off, 1);
    });

    it('takes decimal immediates as s32 and hex as u32 bit patterns', () => {
      assert.equal(assemble('mov32 %r0, -2147483648')[0].imm, -2147483648);
      assert.equal(assemble('mov %r0, 0xffffffff')[0].imm, -1);
      assert.equal(assemble('stw [%r10-4], 0x80000001')[0].imm, -2147483647);
      assert.equal(assemble('ldxh %r0, [%r1+0xffff]')[0].off, -1);
      assert.equal(assemble('ldxh %r0, [%r1-32768]')[0].off, -32768);
      assert.equal(assemble('ldxh %r0, [%r1]')[0].off, 0);
    });

    it('takes lddw constants as 64-bit values, signed or unsigned', () => {
      assert.deepEqual(hex('lddw %r1, -1'), ['18 01 00 00 ff ff ff ff', '00 00 00 00 ff ff ff ff']);
      assert.deepEqual(hex('lddw %r1, 18446744073709551615'), hex('lddw %r1, 0xffffffffffffffff'));
      assert.deepEqual(hex('lddw %r1, 0xFFFFFFFF80000000'), ['18 01 00 00 00 00 00 80', '00 00 00 00 ff ff ff ff']);
    });
  });

  describe('encodings (spec §8)', () => {
    const cases: Array<[string, string]> = [
      ['add %r1, %r2', '0f 21 00 00 00 00 00 00'],
      ['add32 %r1, -1', '04 01 00 00 ff ff ff ff'],
      ['add64 %r1, 3', '07 01 00 00 03 00 00 00'],
      ['sdiv32 %r1, %r2', '3c 21 01 00 00 00 00 00'],
      ['smod %r1, 3', '97 01 01 00 03 00 00 00'],
      ['arsh32 %r1, 5', 'c4 01 00 00 05 00 00 00'],
      ['neg %r2', '87 02 00 00 00 00 00 00'],
      ['neg32 %r2', '84 02 00 00 00 00 00 00'],
      ['movsx832 %r1, %r2', 'bc 21 08 00 00 00 00 00'],
      ['movsx1632 %r1, %r2', 'bc 21 10 00 00 00 00 00'],
      ['movsx864 %r1, %r2', 'bf 21 08 00 00 00 00 00'],
      ['movsx1664 %r1, %r2', 'bf 21 10 00 00 00 00 00'],
      ['movsx3264 %r1, %r2', 'bf 21 20 00 00 00 00 00'],
      ['le16 %r3', 'd4 03 00 00 10 00 00 00'],
      ['be64 %r3', 'dc 03 00 00 40 00 00 00'],
      ['swap32 %r3', 'd7 03 00 00 20 00 00 00'],
      ['bswap64 %r3', 'd7 03 00 00 40 00 00 00'],
      ['ldxb %r0, [%r1+2]', '71 10 02 00 00 00 00 00'],
      ['ldxdw %r0, [%r10-8]', '79 a0 f8 ff 00 00 00 00'],
      ['ldxsh %r0, [%r10-2]', '89 a0 fe ff 00 00 00 00'],
      ['ldxsw %r0, [%r10-4]', '81 a0 fc ff 00 00 00 00'],
      ['sth [%r10-2], 0x1234', '6a 0a fe ff 34 12 00 00'],
      ['stdw [%r10-8], -1', '7a 0a f8 ff ff ff ff ff'],
      ['stxw [%r10-4], %r1', '63 1a fc ff 00 00 00 00'],
      ['jeq %r1, %r2, +1', '1d 21 01 00 00 00 00 00'],
      ['jsle32 %r1, -5, -1', 'd6 01 ff ff fb ff ff ff'],
      ['jset %r1, 0x80000000, +0', '45 01 00 00 00 00 00 80'],
      ['ja32 +70000', '06 00 00 00 70 11 01 00'],
      ['exit', '95 00 00 00 00 00 00 00'],
      ['call 5', '85 00 00 00 05 00 00 00'],
      ['call %r2', '8d 02 00 00 00 00 00 00'],
      ['call local +3', '85 10 00 00 03 00 00 00'],
      ['lock add [%r10-8], %r1', 'db 1a f8 ff 00 00 00 00'],
      ['lock fetch or32 [%r10-4], %r3', 'c3 3a fc ff 41 00 00 00'],
      ['lock fetch xor [%r1], %r2', 'db 21 00 00 a1 00 00 00'],
      ['lock xchg32 [%r10-8], %r1', 'c3 1a f8 ff e1 00 00 00'],
      ['lock cmpxchg [%r10-8], %r1', 'db 1a f8 ff f1 00 00 00'],
    ];
    for (const [text, bytes] of cases) {
      it(text, () => assert.deepEqual(hex(text), [bytes]));
    }
  });

  describe('extensions', () => {
    const cases: Array<[string, string[]]> = [
      ['may_goto +3', ['e5 00 03 00 00 00 00 00']],
      ['call helper 7', ['85 00 00 00 07 00 00 00']],
      ['call kfunc 1234', ['85 20 00 00 d2 04 00 00']],
      ['call runtime 1', ['85 20 00 00 01 00 00 00']],
      ['addr_space_cast %r1, %r2, 0, 1', ['bf 21 01 00 01 00 00 00']],
      ['addr_space_cast %r1, %r2, 1, 0', ['bf 21 01 00 00 00 01 00']],
      ['ldacqb %r0, [%r1+0]', ['d3 10 00 00 00 01 00 00']],
      ['ldacqdw %r0, [%r1-8]', ['db 10 f8 ff 00 01 00 00']],
      ['strelh [%r1+2], %r2', ['cb 21 02 00 10 01 00 00']],
      ['streldw [%r1], %r2', ['db 21 00 00 10 01 00 00']],
      ['lddw %r1, map_fd 3', ['18 11 00 00 03 00 00 00', '00 00 00 00 00 00 00 00']],
      ['lddw %r1, map_value 3, 16', ['18 21 00 00 03 00 00 00', '00 00 00 00 10 00 00 00']],
      ['lddw %r1, btf_id 77', ['18 31 00 00 4d 00 00 00', '00 00 00 00 00 00 00 00']],
      ['lddw %r1, func +4', ['18 41 00 00 04 00 00 00', '00 00 00 00 00 00 00 00']],
      ['lddw %r1, map_idx 0', ['18 51 00 00 00 00 00 00', '00 00 00 00 00 00 00 00']],
      ['lddw %r1, map_idx_value 2, 8', ['18 61 00 00 02 00 00 00', '00 00 00 00 08 00 00 00']],
    ];
    for (const [text, bytes] of cases) {
      it(text, () => assert.deepEqual(hex(text), bytes));
    }

    it('resolves labels in may_goto, call local and lddw func', () => {
      const insns = assemble('may_goto out\ncall local f\nlddw %r1, func f\nout: exit\nf: exit');
      assert.deepEqual(insns.map((i) => [i.off, i.imm]), [[3, 0], [0, 3], [0, 2], [0, 0], [0, 0]]);
    });
  });

  describe('errors', () => {
    it('rejects unknown mnemonics', () => {
      rejects('mov %r0, 0\nldxq %r0, [%r1]', 2, /^Invalid mnemonic: ldxq$/);
      rejects('lock nand [%r1], %r2', 1, /^Invalid mnemonic: lock nand$/);
      rejects('call far 3', 1, /^Invalid immediate: far 3 is not a number/);
    });

    it('rejects wrong operand counts, naming the expected usage', () => {
      rejects('exit %r0', 1, /^Invalid number of operands for exit: expected 0, got 1/);
      rejects('mov %r0', 1, /^Invalid number of operands for mov: expected 2, got 1 \(usage: mov %rD, %rS\|imm\)/);
      rejects('jeq %r0, 1', 1, /^Invalid number of operands for jeq: expected 3, got 2/);
      rejects('lddw %r0, 1, 2', 1, /^Invalid number of operands for lddw: a plain constant takes 2, got 3/);
      rejects('lddw %r0, map_fd 1, 2', 1, /^Invalid number of operands for lddw map_fd/);
      rejects('lock fetch', 1, /^Invalid number of operands for lock fetch/);
      rejects('mov %r0,, 1', 1, /^Invalid operand: empty/);
    });

    it('rejects operands of the wrong shape', () => {
      rejects('ldxb %r0, %r1', 1, /^Invalid operand 2 for ldxb: expected a memory operand such as \[%r1\+8\], got '%r1'/);
      rejects('stxb [%r1], 5', 1, /^Invalid operand 2 for stxb: expected a register/);
      rejects('neg 5', 1, /^Invalid operand 1 for neg: expected a register/);
      rejects('stw [%r1], %r2', 1, /^Invalid immediate: expected a number, got register %r2/);
      rejects('mov %r0, one', 1, /^Invalid immediate: one is not a number/);
      rejects('ja [%r1]', 1, /^Invalid operand 1 for ja: expected a label or a slot offset/);
      rejects('addr_space_cast %r1, %r2, 0x10000, 0', 1, /^Invalid address space: 0x10000/);
    });

    it('rejects invalid registers', () => {
      rejects('mov %r11, 1', 1, /^Invalid register: %r11 \(registers are %r0 to %r10\)/);
      rejects('ldxb %r0, [%rx+1]', 1, /^Invalid register: %rx/);
    });

    it('rejects out-of-range immediates and offsets', () => {
      rejects('mov %r0, -2147483649', 1, /^Invalid immediate: -2147483649 does not fit in 32 bits/);
      rejects('stb [%r1+32768], 0', 1, /^Invalid offset: 32768 does not fit in 16 bits/);
      rejects('stb [%r1-32769], 0', 1, /^Invalid offset: -32769 does not fit in 16 bits/);
      rejects('lddw %r0, 0x10000000000000000', 1, /^Invalid 64-bit immediate: .* does not fit in 64 bits/);
      rejects('lddw %r0, -9223372036854775809', 1, /^Invalid 64-bit immediate/);
    });

    it('rejects unknown and duplicate labels', () => {
      rejects('mov %r0, 0\nja nowhere\nexit', 2, /^Invalid label: nowhere \(no such label\)/);
      rejects('a:\nmov %r0, 0\na:\nexit', 3, /^Duplicate label: a \(first defined on line 1\)/);
      rejects('9a:\nexit', 1, /^Invalid label: 9a/);
    });

    it('rejects jumps beyond the offset range, suggesting ja32 for ja', () => {
      const far = `ja far\n${'mov %r0, 0\n'.repeat(32768)}far: exit`;
      rejects(far, 1, /^Invalid jump: far is 32768 slots away, beyond the 16-bit offset range; use ja32/);
      assert.equal(assemble(far.replace('ja far', 'ja32 far'))[0].imm, 32768);
      rejects('jeq %r1, 0, +32768', 1, /^Invalid jump: \+32768 is 32768 slots away, beyond the 16-bit/);
      rejects('ja32 -2147483649', 1, /beyond the 32-bit offset range/);
    });
  });
});
