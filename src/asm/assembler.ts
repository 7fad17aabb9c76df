/**
 * Assembler for the BPF conformance suite's text dialect (bpf_conformance's `bpf_assembler`),
 * extended to the rest of our ISA. One instruction per line:
 *
 *     # comment              blank lines are ignored; `#` also ends a line
 *     label:                 names the next instruction's slot (may share a line with it)
 *     mov32 %r0, 0           mnemonic, then comma-separated operands
 *
 * Operands: a register `%r0`..`%r10`; an immediate, decimal (maybe negative) or hex `0x..`;
 * a memory reference `[%rN]`, `[%rN+off]`, `[%rN-off]`; a jump target, a label or `+N`/`-N`
 * slots relative to the next slot.
 *
 * Ranges: a decimal imm32 must fit s32; a hex imm32 may be up to 0xffffffff and is taken as
 * the u32 bit pattern. Offsets likewise: decimal s16, hex up to 0xffff. `lddw` takes any
 * 64-bit value (decimal signed or unsigned, or hex). Jump offsets must fit s16 (`ja32` has s32).
 *
 * The suite's mnemonics (spec §8.2–§8.6):
 *   add sub mul div sdiv or and lsh rsh mod smod xor mov arsh   `op %rD, %rS|imm`; the plain name
 *                                         and `op64` are ALU64, `op32` is ALU (32-bit)
 *   neg neg32 neg64                       `neg %rD`
 *   movsx832 movsx1632                    ALU sign-extending mov (off 8/16), `%rD, %rS`
 *   movsx864 movsx1664 movsx3264          ALU64 sign-extending mov (off 8/16/32)
 *   le16 le32 le64 be16 be32 be64         ALU|END, TO_LE / TO_BE, `%rD`
 *   swap16 swap32 swap64 (= bswap16..64)  ALU64|END (unconditional byte swap)
 *   ldxb ldxh ldxw ldxdw, ldxsb ldxsh ldxsw    `%rD, [%rS+off]` (MEM / MEMSX)
 *   stb sth stw stdw                      `[%rD+off], imm`
 *   stxb stxh stxw stxdw                  `[%rD+off], %rS`
 *   lddw                                  `%rD, imm64` (two slots)
 *   ja                                    `target` (off); ja32 `target` (JMP32|JA, imm = gotol)
 *   jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle, and their `32` forms:
 *                                         `%rD, %rS|imm, target`
 *   exit; call N (helper); call local target (src 1); call %rN (callx, dst = N)
 *   lock [fetch] add|or|and|xor[32] [%rD+off], %rS;  lock xchg[32] / lock cmpxchg[32] (same shape)
 * The first `exit` instruction is also the label `exit`, unless a label of that name exists.
 *
 * Extensions (not in the suite's assembler):
 *   may_goto target                       JMP|JCOND, src 0, off = target
 *   call helper N                         src 0 (the same as `call N`)
 *   call kfunc N, call runtime N          src 2 (BPF_PSEUDO_KFUNC_CALL); `runtime` is upstream's name
 *   addr_space_cast %rD, %rS, DST_AS, SRC_AS    ALU64|MOV|X, off 1, imm = DST_AS << 16 | SRC_AS
 *   ldacqb ldacqh ldacqw ldacqdw %rD, [%rS+off]  load-acquire (STX|ATOMIC|size, imm 0x100)
 *   strelb strelh strelw streldw [%rD+off], %rS  store-release (STX|ATOMIC|size, imm 0x110)
 *   lddw %rD, KIND IMM[, IMM2]            ld_imm64 pseudo forms, KIND one of map_fd (src 1),
 *                                         map_value (2, IMM2 = offset into the value), btf_id (3),
 *                                         func (4, IMM = target), map_idx (5), map_idx_value (6)
 *
 * Parsing splits a line into labels, a mnemonic and operand texts; encoding is table-driven
 * (`SPECS`, built from cross products) and runs once all labels are known.
 */
import { AsmError } from '../errors.js';
import { insn, type Instruction } from '../isa/instruction.js';
import {
  BPF_ADD, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B,
  BPF_DIV, BPF_DW, BPF_END, BPF_H, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE,
  BPF_JSLT, BPF_K, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MAY_GOTO, BPF_MEM, BPF_MEMSX,
  BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_HELPER_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, BPF_RSH, BPF_SIGNED_OFF, BPF_ST,
  BPF_STORE_REL, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_TO_LE, BPF_W, BPF_X, BPF_XOR,
  OP_CALL, OP_CALLX, OP_EXIT, OP_GOTOL, OP_JA, OP_LDDW, OP_MAY_GOTO,
} from '../isa/opcodes.js';
import { ATOMIC_RMW_OPS } from '../isa/xop.js';
import { hex } from '../text.js';

/** Assembles `text` into instructions (ld_imm64 is one Instruction of width 2). */
export function assemble(text: string): Instruction[] {
  const statements: Statement[] = [];
  const labels = new Map<string, Label>();
  let slot = 0;
  let firstExit: number | undefined;
  text.split('\n').forEach((raw, index) => {
    const parsed = parseLine(raw, index + 1);
    for (const name of parsed.labels) {
      const previous = labels.get(name);
      if (previous) {
        throw new AsmError(parsed.line, `Duplicate label: ${name} (first defined on line ${previous.line})`);
      }
      labels.set(name, { slot, line: parsed.line });
    }
    if (!parsed.statement) return;
    const statement = parsed.statement;
    statements.push({ ...statement, slot });
    if (statement.mnemonic === 'exit') firstExit ??= slot;
    slot += statement.spec.width;
  });
  // The suite jumps to `exit` without defining it: it means the first exit instruction.
  if (firstExit !== undefined && !labels.has('exit')) labels.set('exit', { slot: firstExit, line: 0 });
  return statements.map((s) => {
    const ops = new Operands(s, labels);
    ops.checkCount(s.spec);
    return s.spec.encode(ops);
  });
}

// ---------------------------------------------------------------------------------------------
// Parsing: a line into labels, a mnemonic and operand texts.

interface Label {
  readonly slot: number;
  readonly line: number;
}

interface ParsedStatement {
  readonly line: number;
  readonly mnemonic: string;
  readonly spec: Spec;
  readonly operands: readonly string[];
}

interface Statement extends ParsedStatement {
  /** Slot index of this instruction. */
  readonly slot: number;
}

const LABEL_NAME = /^[A-Za-z_.$][\w.$]*$/;
/** `name:` at the start of a line (validated against LABEL_NAME separately, for a clear error). */
const LABEL_DEFINITION = /^([^\s:]+)\s*:\s*/;

function parseLine(raw: string, line: number): { line: number; labels: string[]; statement?: ParsedStatement } {
  let rest = raw.replace(/#.*/, '').trim();
  const labels: string[] = [];
  for (let m = LABEL_DEFINITION.exec(rest); m; m = LABEL_DEFINITION.exec(rest)) {
    if (!LABEL_NAME.test(m[1])) throw new AsmError(line, `Invalid label: ${m[1]}`);
    labels.push(m[1]);
    rest = rest.slice(m[0].length);
  }
  if (rest === '') return { line, labels };

  // Mnemonics of several words (`lock fetch add`, `call local`) take words while they still
  // spell (the start of) a known mnemonic.
  const words = rest.split(/\s+/);
  let mnemonic = words[0];
  let used = 1;
  while (used < words.length && MNEMONIC_PREFIXES.has(`${mnemonic} ${words[used]}`)) {
    mnemonic = `${mnemonic} ${words[used++]}`;
  }
  const operandText = words.slice(used).join(' ');
  const operands = operandText === '' ? [] : operandText.split(',').map((o) => o.trim());
  if (operands.some((o) => o === '')) throw new AsmError(line, `Invalid operand: empty operand in '${rest}'`);

  const spec = SPECS.get(mnemonic);
  if (!spec) {
    // `lock` alone (or `lock fetch`) names no operation: upstream reports an operand count.
    if (MNEMONIC_PREFIXES.has(mnemonic) && operands.length === 0) {
      throw new AsmError(line, `Invalid number of operands for ${mnemonic}: expected an operation, as in ${usageOf(mnemonic)}`);
    }
    // Name the word that broke a multi-word mnemonic too (`lock nand`).
    const shown = MNEMONIC_PREFIXES.has(mnemonic) && used < words.length ? `${mnemonic} ${words[used]}` : mnemonic;
    throw new AsmError(line, `Invalid mnemonic: ${shown.replace(/,$/, '')}`);
  }
  return { line, labels, statement: { line, mnemonic, spec, operands } };
}

// ---------------------------------------------------------------------------------------------
// Operands: typed, range-checked access to one statement's operand texts.

type RegOrImm = { readonly reg: number } | { readonly imm: number };

const REGISTER = /^%r(\d+)$/;
const NUMBER = /^([+-]?)(0x[0-9a-f]+|\d+)$/i;
const MEMORY = /^\[\s*([^\s+\-\]]+)\s*(?:([+-])\s*([^\s\]]+)\s*)?\]$/;

/**
 * Bounds of an integer field: hex values may use the whole unsigned range (a bit pattern),
 * decimal values the signed one (or also the unsigned one, for lddw).
 */
interface Range {
  readonly what: string;
  readonly bits: 16 | 32 | 64;
  readonly unsignedDecimal?: boolean;
}
const IMM32: Range = { what: 'immediate', bits: 32 };
const OFF16: Range = { what: 'offset', bits: 16 };
const IMM64: Range = { what: '64-bit immediate', bits: 64, unsignedDecimal: true };

function parseNumber(text: string): { negative: boolean; magnitude: bigint; hex: boolean } | undefined {
  const m = NUMBER.exec(text);
  return m ? { negative: m[1] === '-', magnitude: BigInt(m[2]), hex: /^0x/i.test(m[2]) } : undefined;
}

class Operands {
  constructor(private readonly s: Statement, private readonly labels: ReadonlyMap<string, Label>) {}

  get count(): number {
    return this.s.operands.length;
  }

  checkCount(spec: Spec): void {
    if (!spec.arity.includes(this.count)) {
      const expected = spec.arity.join(' or ');
      this.fail(`Invalid number of operands for ${this.s.mnemonic}: expected ${expected}, got ${this.count} (usage: ${spec.usage})`);
    }
  }

  fail(reason: string): never {
    throw new AsmError(this.s.line, reason);
  }

  text(i: number): string {
    return this.s.operands[i];
  }

  reg(i: number): number {
    const reg = this.tryReg(this.text(i));
    if (reg === undefined) this.wrongShape(i, 'a register such as %r1');
    return reg;
  }

  mem(i: number): { reg: number; off: number } {
    const m = MEMORY.exec(this.text(i));
    if (!m) this.wrongShape(i, 'a memory operand such as [%r1+8]');
    const reg = this.tryReg(m[1]);
    if (reg === undefined) this.wrongShape(i, 'a memory operand such as [%r1+8]');
    if (m[3] === undefined) return { reg, off: 0 };
    return { reg, off: Number(this.integer(m[2] === '-' ? `-${m[3]}` : m[3], OFF16)) };
  }

  imm32(i: number): number {
    return Number(this.integer(this.text(i), IMM32));
  }

  regOrImm(i: number): RegOrImm {
    const reg = this.tryReg(this.text(i));
    return reg !== undefined ? { reg } : { imm: this.imm32(i) };
  }

  /** ld_imm64's constant as its two 32-bit halves. */
  imm64(i: number): { lo: number; hi: number } {
    const v = BigInt.asUintN(64, this.integer(this.text(i), IMM64));
    return { lo: Number(BigInt.asIntN(32, v)), hi: Number(BigInt.asIntN(32, v >> 32n)) };
  }

  /** A jump target (label or ±N) as a slot offset from the next slot, checked to fit `bits`. */
  target(i: number, bits: 16 | 32, hint = ''): number {
    const text = this.text(i);
    const n = parseNumber(text);
    let delta: number;
    if (n) {
      delta = Number(n.negative ? -n.magnitude : n.magnitude);
    } else if (LABEL_NAME.test(text)) {
      const label = this.labels.get(text);
      if (!label) this.fail(`Invalid label: ${text} (no such label)`);
      delta = label.slot - (this.s.slot + 1);
    } else {
      return this.wrongShape(i, 'a label or a slot offset such as +2');
    }
    const limit = 2 ** (bits - 1);
    if (delta < -limit || delta >= limit) {
      this.fail(`Invalid jump: ${text} is ${delta} slots away, beyond the ${bits}-bit offset range${hint}`);
    }
    return delta;
  }

  /** Parses an integer; decimal must fit the signed range, hex may use the unsigned one. */
  integer(text: string, range: Range): bigint {
    const n = parseNumber(text);
    if (!n) {
      if (this.tryReg(text) !== undefined) this.fail(`Invalid ${range.what}: expected a number, got register ${text}`);
      this.fail(`Invalid ${range.what}: ${text} is not a number`);
    }
    const half = 1n << BigInt(range.bits - 1);
    const decimalMax = range.unsignedDecimal ? 2n * half - 1n : half - 1n;
    const max = n.negative ? half : n.hex ? 2n * half - 1n : decimalMax;
    if (n.magnitude > max) {
      this.fail(`Invalid ${range.what}: ${text} does not fit in ${range.bits} bits ` +
        `(decimal ${-half}..${decimalMax}, or hex up to ${hex(2n * half - 1n)})`);
    }
    return BigInt.asIntN(range.bits, n.negative ? -n.magnitude : n.magnitude);
  }

  /** A view of one nested operand text (the value in `lddw %rD, KIND value`), same statement. */
  nested(text: string): Operands {
    return new Operands({ ...this.s, operands: [text] }, this.labels);
  }

  private tryReg(text: string): number | undefined {
    if (!text.startsWith('%')) return undefined;
    const m = REGISTER.exec(text);
    const reg = m ? Number(m[1]) : NaN;
    if (!(reg <= 10)) this.fail(`Invalid register: ${text} (registers are %r0 to %r10)`);
    return reg;
  }

  private wrongShape(i: number, expected: string): never {
    this.fail(`Invalid operand ${i + 1} for ${this.s.mnemonic}: expected ${expected}, got '${this.text(i)}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// The mnemonic table. spec §8

interface Spec {
  /** Accepted operand counts. */
  readonly arity: readonly number[];
  readonly usage: string;
  /** Slots taken (2 for ld_imm64). */
  readonly width: 1 | 2;
  encode(ops: Operands): Instruction;
}

const SPECS = new Map<string, Spec>();

function define(mnemonic: string, arity: number | number[], operandUsage: string,
  encode: (ops: Operands) => Instruction, width: 1 | 2 = 1): void {
  const usage = operandUsage === '' ? mnemonic : `${mnemonic} ${operandUsage}`;
  SPECS.set(mnemonic, { arity: typeof arity === 'number' ? [arity] : arity, usage, width, encode });
}

// ALU: operation × class. `sdiv`/`smod` are DIV/MOD with off 1. spec §8.2
const ALU_OPS: ReadonlyArray<[string, number, number]> = [
  ['add', BPF_ADD, 0], ['sub', BPF_SUB, 0], ['mul', BPF_MUL, 0], ['div', BPF_DIV, 0],
  ['sdiv', BPF_DIV, BPF_SIGNED_OFF], ['or', BPF_OR, 0], ['and', BPF_AND, 0], ['lsh', BPF_LSH, 0],
  ['rsh', BPF_RSH, 0], ['mod', BPF_MOD, 0], ['smod', BPF_MOD, BPF_SIGNED_OFF], ['xor', BPF_XOR, 0],
  ['mov', BPF_MOV, 0], ['arsh', BPF_ARSH, 0],
];
const ALU_CLASSES: ReadonlyArray<[string, number]> = [['', BPF_ALU64], ['64', BPF_ALU64], ['32', BPF_ALU]];
for (const [suffix, cls] of ALU_CLASSES) {
  for (const [name, op, off] of ALU_OPS) {
    define(name + suffix, 2, '%rD, %rS|imm', (o) => {
      const dst = o.reg(0);
      const src = o.regOrImm(1);
      return 'reg' in src ? insn(cls | op | BPF_X, dst, src.reg, off) : insn(cls | op | BPF_K, dst, 0, off, src.imm);
    });
  }
  define(`neg${suffix}`, 1, '%rD', (o) => insn(cls | BPF_NEG | BPF_K, o.reg(0)));
}

// Sign-extending moves: MOV|X with off = source width. spec §8.2
const MOVSX: ReadonlyArray<[string, number, number]> = [
  ['movsx832', BPF_ALU, 8], ['movsx1632', BPF_ALU, 16],
  ['movsx864', BPF_ALU64, 8], ['movsx1664', BPF_ALU64, 16], ['movsx3264', BPF_ALU64, 32],
];
for (const [name, cls, off] of MOVSX) {
  define(name, 2, '%rD, %rS', (o) => insn(cls | BPF_MOV | BPF_X, o.reg(0), o.reg(1), off));
}

// spec §1.6: dst = addr_space_cast(src, dst_as, src_as).
define('addr_space_cast', 4, '%rD, %rS, DST_AS, SRC_AS', (o) => {
  const as = (i: number): number => {
    const v = o.imm32(i);
    if (v < 0 || v > 0xffff) o.fail(`Invalid address space: ${o.text(i)} (expected 0..65535)`);
    return v;
  };
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, o.reg(0), o.reg(1), BPF_ADDR_SPACE_CAST, (as(2) << 16) | as(3));
});

// Byte order: le/be convert (ALU|END), swap/bswap swap unconditionally (ALU64|END). spec §8.2
const END_OPS: ReadonlyArray<[string, number]> = [
  ['le', BPF_ALU | BPF_END | BPF_TO_LE], ['be', BPF_ALU | BPF_END | BPF_TO_BE],
  ['swap', BPF_ALU64 | BPF_END | BPF_TO_LE], ['bswap', BPF_ALU64 | BPF_END | BPF_TO_LE],
];
for (const [name, opcode] of END_OPS) {
  for (const bits of [16, 32, 64]) define(`${name}${bits}`, 1, '%rD', (o) => insn(opcode, o.reg(0), 0, 0, bits));
}

// Loads and stores: kind × size. spec §8.4, §8.5
const SIZES: ReadonlyArray<[string, number]> = [['b', BPF_B], ['h', BPF_H], ['w', BPF_W], ['dw', BPF_DW]];
for (const [s, size] of SIZES) {
  define(`ldx${s}`, 2, '%rD, [%rS+off]', (o) => {
    const m = o.mem(1);
    return insn(BPF_LDX | BPF_MEM | size, o.reg(0), m.reg, m.off);
  });
  if (size !== BPF_DW) {
    define(`ldxs${s}`, 2, '%rD, [%rS+off]', (o) => {
      const m = o.mem(1);
      return insn(BPF_LDX | BPF_MEMSX | size, o.reg(0), m.reg, m.off);
    });
  }
  define(`st${s}`, 2, '[%rD+off], imm', (o) => {
    const m = o.mem(0);
    return insn(BPF_ST | BPF_MEM | size, m.reg, 0, m.off, o.imm32(1));
  });
  define(`stx${s}`, 2, '[%rD+off], %rS', (o) => {
    const m = o.mem(0);
    return insn(BPF_STX | BPF_MEM | size, m.reg, o.reg(1), m.off);
  });
  define(`ldacq${s}`, 2, '%rD, [%rS+off]', (o) => {
    const m = o.mem(1);
    return insn(BPF_STX | BPF_ATOMIC | size, o.reg(0), m.reg, m.off, BPF_LOAD_ACQ);
  });
  define(`strel${s}`, 2, '[%rD+off], %rS', (o) => {
    const m = o.mem(0);
    return insn(BPF_STX | BPF_ATOMIC | size, m.reg, o.reg(1), m.off, BPF_STORE_REL);
  });
}

// Atomic read-modify-write: operation ([fetch] add, ..., cmpxchg) × width. spec §8.5
for (const [suffix, size] of [['', BPF_DW], ['32', BPF_W]] as const) {
  for (const { name, imm } of ATOMIC_RMW_OPS) {
    define(`lock ${name}${suffix}`, 2, '[%rD+off], %rS', (o) => {
      const m = o.mem(0);
      return insn(BPF_STX | BPF_ATOMIC | size, m.reg, o.reg(1), m.off, imm);
    });
  }
}

// Jumps: condition × class. spec §8.3
const JUMP_OPS: ReadonlyArray<[string, number]> = [
  ['jeq', BPF_JEQ], ['jgt', BPF_JGT], ['jge', BPF_JGE], ['jset', BPF_JSET], ['jne', BPF_JNE],
  ['jsgt', BPF_JSGT], ['jsge', BPF_JSGE], ['jlt', BPF_JLT], ['jle', BPF_JLE], ['jslt', BPF_JSLT],
  ['jsle', BPF_JSLE],
];
for (const [suffix, cls] of [['', BPF_JMP], ['32', BPF_JMP32]] as const) {
  for (const [name, op] of JUMP_OPS) {
    define(name + suffix, 3, '%rD, %rS|imm, target', (o) => {
      const dst = o.reg(0);
      const src = o.regOrImm(1);
      const off = o.target(2, 16);
      return 'reg' in src ? insn(cls | op | BPF_X, dst, src.reg, off) : insn(cls | op | BPF_K, dst, 0, off, src.imm);
    });
  }
}
define('ja', 1, 'target', (o) => insn(OP_JA, 0, 0, o.target(0, 16, '; use ja32 for long jumps')));
define('ja32', 1, 'target', (o) => insn(OP_GOTOL, 0, 0, 0, o.target(0, 32)));
define('may_goto', 1, 'target', (o) => insn(OP_MAY_GOTO, 0, BPF_MAY_GOTO, o.target(0, 16)));
define('exit', 0, '', () => insn(OP_EXIT));

// Calls. spec §8.3
define('call', 1, 'N|%rN', (o) => {
  const target = o.regOrImm(0);
  return 'reg' in target ? insn(OP_CALLX, target.reg) : insn(OP_CALL, 0, BPF_PSEUDO_HELPER_CALL, 0, target.imm);
});
define('call helper', 1, 'N', (o) => insn(OP_CALL, 0, BPF_PSEUDO_HELPER_CALL, 0, o.imm32(0)));
define('call kfunc', 1, 'N', (o) => insn(OP_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, o.imm32(0)));
define('call runtime', 1, 'N', (o) => insn(OP_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, o.imm32(0)));
define('call local', 1, 'target', (o) => insn(OP_CALL, 0, BPF_PSEUDO_CALL, 0, o.target(0, 32)));

// ld_imm64: a constant, or a pseudo form `KIND IMM[, IMM2]`. spec §8.6
const LDDW_KINDS: ReadonlyMap<string, { src: number; imm2: boolean }> = new Map([
  ['map_fd', { src: BPF_PSEUDO_MAP_FD, imm2: false }],
  ['map_value', { src: BPF_PSEUDO_MAP_VALUE, imm2: true }],
  ['btf_id', { src: BPF_PSEUDO_BTF_ID, imm2: false }],
  ['func', { src: BPF_PSEUDO_FUNC, imm2: false }],
  ['map_idx', { src: BPF_PSEUDO_MAP_IDX, imm2: false }],
  ['map_idx_value', { src: BPF_PSEUDO_MAP_IDX_VALUE, imm2: true }],
]);
define('lddw', [2, 3], '%rD, imm64 | lddw %rD, KIND IMM[, IMM2]', (o) => {
  const dst = o.reg(0);
  const m = /^(\w+)\s+(.*)$/.exec(o.text(1));
  const kind = m ? LDDW_KINDS.get(m[1]) : undefined;
  if (!m || !kind) {
    if (o.count !== 2) o.fail(`Invalid number of operands for lddw: a plain constant takes 2, got ${o.count}`);
    const { lo, hi } = o.imm64(1);
    return insn(OP_LDDW, dst, 0, 0, lo, hi);
  }
  if (o.count === 3 && !kind.imm2) o.fail(`Invalid number of operands for lddw ${m[1]}: it takes no second immediate`);
  // The value after KIND is parsed like any operand: a label only for `func`.
  const value = o.nested(m[2]);
  const imm = kind.src === BPF_PSEUDO_FUNC ? value.target(0, 32) : value.imm32(0);
  return insn(OP_LDDW, dst, kind.src, 0, imm, o.count === 3 ? o.imm32(2) : 0);
}, 2);

/** Every word-prefix of a mnemonic (`lock`, `lock fetch`, `lock fetch add`, `call`, ...). */
const MNEMONIC_PREFIXES: ReadonlySet<string> = new Set(
  [...SPECS.keys()].flatMap((m) => m.split(' ').map((_, i, words) => words.slice(0, i + 1).join(' '))),
);

/** Usage of the first mnemonic that starts with `prefix`, to show what was expected. */
function usageOf(prefix: string): string {
  const spec = [...SPECS].find(([m]) => m.startsWith(`${prefix} `));
  return spec ? spec[1].usage : prefix;
}
