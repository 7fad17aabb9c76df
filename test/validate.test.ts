// Decoding and validation: each kind of bad program is rejected naming the instruction index.
import assert from 'node:assert/strict';
import { DecodeError, InvalidInstructionError } from '../src/errors.js';
import { decode, encode, insn, Instruction } from '../src/isa/instruction.js';
import { validate } from '../src/isa/validate.js';
import { assemble } from '../src/asm/assembler.js';
import { createEngine, ENGINES } from '../src/engines.js';
import { AddressSpace } from '../src/memory.js';

const EXIT = insn(0x95);
const MOV0 = insn(0xb7, 0, 0, 0, 0); // r0 = 0

function rejects(insns: Instruction[], index: number, reason: RegExp): void {
  assert.throws(() => validate(insns), (e: unknown) => {
    assert.ok(e instanceof InvalidInstructionError, String(e));
    assert.equal(e.index, index, e.message);
    assert.match(e.message, reason);
    return true;
  });
}

describe('validate', () => {
  const cases: Array<[string, Instruction[], number, RegExp]> = [
    ['an empty program', [], 0, /no instructions/],
    ['an unknown opcode', [MOV0, insn(0xff), EXIT], 1, /unknown opcode 0xff/],
    ['an unknown ALU code', [insn(0xe7, 0), EXIT], 0, /unknown opcode 0xe7/],
    ['a non-zero reserved offset', [insn(0x07, 0, 0, 1, 1), EXIT], 0, /reserved field off must be 0/],
    ['a non-zero reserved src', [insn(0x07, 0, 1, 0, 1), EXIT], 0, /reserved field src must be 0/],
    ['a non-zero imm on a register op', [insn(0x0f, 0, 1, 0, 5), EXIT], 0, /reserved field imm/],
    ['a register above r10', [insn(0xbf, 0, 11), EXIT], 0, /invalid source register r11/],
    ['a write to r10', [insn(0xb7, 10, 0, 0, 1), EXIT], 0, /frame pointer r10 is read only/],
    ['a jump past the end', [MOV0, insn(0x05, 0, 0, 5), EXIT], 1, /outside the program/],
    ['a jump before the start', [insn(0x05, 0, 0, -2), EXIT], 0, /outside the program/],
    ['a jump into the middle of ld_imm64', [insn(0x05, 0, 0, 1), insn(0x18, 1, 0, 0, 1, 2), MOV0, EXIT], 0, /second half of ld_imm64/],
    ['a program without exit', [MOV0, insn(0x05, 0, 0, -2)], 1, /no exit/],
    ['falling off the end', [MOV0, EXIT, MOV0], 2, /last instruction of the program is not exit/],
    ['a subprogram falling into the next', [insn(0x85, 0, 1, 0, 1), EXIT, MOV0, insn(0x85, 0, 1, 0, 0), MOV0, EXIT], 3,
      /subprogram at 2 is not exit/],
    ['a jump out of its subprogram', [insn(0x85, 0, 1, 0, 1), EXIT, insn(0x05, 0, 0, -3), EXIT], 2, /leaves its subprogram/],
    ['an unknown call kind', [insn(0x85, 0, 3), EXIT], 0, /call kind/],
    ['an unknown atomic op', [insn(0xdb, 1, 2, 0, 0x20), MOV0, EXIT], 0, /unknown atomic operation 0x20/],
    ['an 8-bit read-modify-write atomic', [insn(0xd3, 10, 1, -8, 0), MOV0, EXIT], 0, /only for 32 and 64 bits/],
    ['a bad byte-swap width', [insn(0xdc, 0, 0, 0, 8), EXIT], 0, /width must be 16, 32 or 64/],
    ['a bad movsx width', [insn(0xbc, 0, 1, 32), EXIT], 0, /movsx must be 8, 16/],
    ['an addr_space_cast between other spaces', [insn(0xbf, 1, 2, 1, 2), MOV0, EXIT], 0, /between address space 1 and 0/],
    ['a constant division by zero', [insn(0x37, 0, 0, 0, 0), EXIT], 0, /div by zero/],
    ['LD_ABS with a destination register', [insn(0x20, 1, 0, 0, 0), EXIT], 0, /BPF_LD_\[ABS\|IND\] uses reserved fields/],
    ['LD_ABS with a source register', [insn(0x20, 0, 1, 0, 0), EXIT], 0, /BPF_LD_\[ABS\|IND\] uses reserved fields/],
    ['a 64-bit LD_IND', [insn(0x58, 0, 1, 0, 0), EXIT], 0, /BPF_LD_\[ABS\|IND\] uses reserved fields/],
    ['a sign-extending 64-bit load', [insn(0x99, 0, 1), EXIT], 0, /unknown opcode 0x99/],
    ['may_goto with a non-zero src', [insn(0xe5, 0, 1, 0), EXIT], 0, /only may_goto/],
  ];
  for (const [what, insns, index, reason] of cases) {
    it(`rejects ${what}`, () => rejects(insns, index, reason));
  }

  it('accepts every form of the ISA the engines run', () => {
    const ok: Instruction[] = [
      insn(0x18, 1, 0, 0, 1, 2), insn(0x18, 1, 4, 0, 22), // ld_imm64 constant and function address
      insn(0xbf, 1, 2, 8), insn(0xbf, 1, 2, 32), insn(0xbc, 1, 2, 16), // movsx
      insn(0x3f, 1, 2, 1), insn(0x9c, 1, 2, 1), // sdiv, smod
      insn(0xd7, 1, 0, 0, 64), insn(0xdc, 1, 0, 0, 16), // bswap, be
      insn(0xbf, 1, 2, 1, 1), insn(0xbf, 1, 2, 1, 0x10000), // addr_space_cast
      insn(0xdb, 10, 1, -8, 0xf1), insn(0xc3, 10, 1, -8, 0x01), // cmpxchg, fetch add32
      insn(0xd3, 1, 10, -8, 0x100), insn(0xcb, 10, 1, -8, 0x110), // load-acquire u8, store-release u16
      insn(0x91, 1, 10, -1), // ldsx
      insn(0xe5, 0, 0, 0), // may_goto +0
      insn(0x06, 0, 0, 0, 1), insn(0x05, 0, 0, 0), // gotol +1 (over ja), ja +0
      insn(0x85, 0, 2, 1, 99), insn(0x8d, 3), // kfunc call with module index, callx
      MOV0, EXIT,
      insn(0x95), // the function at slot 25 (target of the ld_imm64 function address)
    ];
    const layout = validate(ok);
    assert.deepEqual(layout.subprogStarts, [0, 25]);
  });

  it('decode rejects a truncated ld_imm64 and a length that is not whole slots', () => {
    const bytes = encode([insn(0x18, 0, 0, 0, 1, 2)]).subarray(0, 8);
    assert.throws(() => decode(bytes), (e: unknown) => e instanceof InvalidInstructionError && e.index === 0 && /second half/.test(e.message));
    assert.throws(() => decode(new Uint8Array(12)), (e: unknown) => e instanceof DecodeError && /not a multiple of 8/.test(e.message));
    const badSecond = encode([insn(0x18, 0, 0, 0, 1, 2), EXIT]);
    badSecond[8] = 0x07;
    assert.throws(() => decode(badSecond), (e: unknown) => e instanceof InvalidInstructionError && /second half of ld_imm64 must have zero/.test(e.message));
  });

  it('decode(encode(x)) is x', () => {
    const prog = [insn(0x18, 3, 2, 0, -5, 0x7fffffff), insn(0x7b, 10, 3, -16), insn(0x85, 0, 1, 0, -3), EXIT];
    assert.deepEqual(decode(encode(prog)), prog);
  });
});

// The kernel refuses a write to r10 and a division by the constant 0 only on the paths its
// verifier explores (do_check: check_reg_arg DST_OP, check_alu_op): dead code may hold them.
describe('refusals the verifier makes where it reaches the instruction', () => {
  const env = () => ({ memory: new AddressSpace(), natives: { helpers: new Map(), kfuncs: new Map() } });
  // r1 (the argument) is 0 in these runs: the guarded instruction runs only for a non-zero r1.
  const guarded = (insnText: string) => `
    mov %r0, 7
    jeq %r1, 0, +1
    ${insnText}
    exit`;

  it('validate records them when asked to defer, and still refuses them otherwise', () => {
    const deferred = new Map<number, string>();
    validate(assemble(guarded('div %r0, 0')), deferred);
    assert.deepEqual([...deferred], [[2, 'div by zero']]);
    rejects(assemble(guarded('mov %r10, 1')), 2, /frame pointer r10 is read only/);
  });

  for (const engine of ENGINES) {
    for (const text of ['div %r0, 0', 'mod32 %r0, 0', 'mov %r10, 1']) {
      it(`[${engine}] \`${text}\` loads; a run that skips it returns, one that reaches it fails with the verifier's reason`, () => {
        const vm = createEngine(engine, assemble(guarded(text)), env());
        assert.equal(vm.run([0n]).r0, 7n);
        assert.throws(() => vm.run([1n]), (e: unknown) => e instanceof InvalidInstructionError && e.index === 2
          && /^(div by zero|frame pointer r10 is read only) \(the kernel's verifier refuses the program at load/.test(e.reason));
      });
    }
  }
});
