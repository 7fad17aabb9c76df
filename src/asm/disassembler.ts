/**
 * Disassembler to LLVM's BPF syntax, as `llvm-objdump -d --mcpu=v4` prints it (golden output of
 * llvm-objdump 22 in test/fixtures/objdump/; 19 prints the same except that it predates
 * load-acquire/store-release and gotox).
 *
 * Like LLVM's decoder, an instruction is recognised by its opcode and by the fields that select
 * a form (ALU `off`: signed div/mod, movsx, addr_space_cast; END `imm`: width; atomic `imm`:
 * operation); fields the printed form does not show are not checked (validation is
 * `validate`'s job). Anything else prints as `<unknown>`, as objdump does; nothing throws.
 */
import { imm64, toHexLines, width, type Instruction } from '../isa/instruction.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL,
  BPF_CMPXCHG, BPF_DIV, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IND, BPF_JA, BPF_JCOND,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE,
  BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEM, BPF_MEMSX,
  BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SIGNED_OFF, BPF_ST, BPF_STORE_REL,
  BPF_SUB, BPF_X, BPF_XCHG, BPF_XOR, BPF_ADDR_SPACE_CAST, CLASS_MASK, CODE_MASK,
  MODE_MASK, OP_LDDW, sizeBytes, SOURCE_MASK,
} from '../isa/opcodes.js';
import { hex } from '../text.js';

export interface DisasmOptions {
  /**
   * Print immediates and offsets in hex, as llvm-objdump does by default since LLVM 15.
   * The default is decimal (objdump's `--no-print-imm-hex`, and LLVM ≤ 14's default).
   */
  readonly hex?: boolean;
  /** Section name: when given, jumps get objdump's target comment `<section+0xBYTES>`. */
  readonly section?: string;
}

const UNKNOWN = '<unknown>';

/** The LLVM text of one instruction at `slot` (objdump's third column). */
export function disassembleOne(i: Instruction, slot: number, options: DisasmOptions = {}): string {
  const f = new Formatter(slot, options);
  switch (i.opcode & CLASS_MASK) {
    case BPF_ALU:
    case BPF_ALU64: return alu(i, f);
    case BPF_JMP:
    case BPF_JMP32: return jump(i, f);
    case BPF_LD: return ld(i, f);
    case BPF_LDX: return ldx(i, f);
    case BPF_ST: return st(i, f);
    default: return stx(i, f); // BPF_STX, the last class
  }
}

/**
 * objdump's body lines: slot right-aligned in 8 columns, `:`, tab, the instruction's bytes
 * (both slots of an ld_imm64 on one line, as objdump prints them), tab, the text.
 */
export function disassemble(insns: readonly Instruction[], options: DisasmOptions = {}): string[] {
  let slot = 0;
  return insns.map((i) => {
    const line = `${String(slot).padStart(8)}:\t${toHexLines([i]).join(' ')}\t${disassembleOne(i, slot, options)}`;
    slot += width(i);
    return line;
  });
}

/** Number and operand formatting for one instruction. */
class Formatter {
  constructor(private readonly slot: number, private readonly options: DisasmOptions) {}

  num(v: number | bigint): string {
    if (!this.options.hex) return String(v);
    return v < 0 ? `-${hex(-BigInt(v))}` : hex(v);
  }

  /** `r10 - 8`: base register and signed offset. */
  addr(reg: number, off: number): string {
    return `r${reg} ${off < 0 ? '-' : '+'} ${this.num(Math.abs(off))}`;
  }

  /** `+3 <.text+0x20>`: a jump's slot offset and, with a section, its byte target. */
  target(delta: number): string {
    const text = `${delta < 0 ? '-' : '+'}${this.num(Math.abs(delta))}`;
    if (this.options.section === undefined) return text;
    const bytes = BigInt.asUintN(64, BigInt(this.slot + 1 + delta) * 8n);
    return `${text} <${this.options.section}+${hex(bytes)}>`;
  }
}

// ---------------------------------------------------------------------------------------------
// ALU / ALU64. spec §8.2

const ALU_SYMBOL: ReadonlyMap<number, string> = new Map([
  [BPF_ADD, '+='], [BPF_SUB, '-='], [BPF_MUL, '*='], [BPF_OR, '|='], [BPF_AND, '&='],
  [BPF_LSH, '<<='], [BPF_RSH, '>>='], [BPF_XOR, '^='], [BPF_ARSH, 's>>='],
]);
/** DIV and MOD by `off`: 0 unsigned, 1 (BPF_SIGNED_OFF) signed. */
const DIVMOD_SYMBOL: ReadonlyMap<number, readonly [string, string]> = new Map([
  [BPF_DIV, ['/=', 's/=']], [BPF_MOD, ['%=', 's%=']],
]);
/** Sign-extending MOV: `off` is the source width. */
const MOVSX_WIDTHS: readonly number[] = [8, 16, 32];

function alu(i: Instruction, f: Formatter): string {
  const is64 = (i.opcode & CLASS_MASK) === BPF_ALU64;
  const isX = (i.opcode & SOURCE_MASK) === BPF_X;
  const code = i.opcode & CODE_MASK;
  const r = is64 ? 'r' : 'w';
  const dst = `${r}${i.dst}`;
  const src = isX ? `${r}${i.src}` : f.num(i.imm);

  const divmod = DIVMOD_SYMBOL.get(code);
  const symbol = divmod ? divmod[i.off === BPF_SIGNED_OFF ? 1 : 0] : ALU_SYMBOL.get(code);
  if (symbol !== undefined) {
    return i.off === 0 || (divmod && i.off === BPF_SIGNED_OFF) ? `${dst} ${symbol} ${src}` : UNKNOWN;
  }
  switch (code) {
    case BPF_NEG:
      return isX ? UNKNOWN : `${dst} = -${dst}`;
    case BPF_MOV:
      if (i.off === 0) return `${dst} = ${src}`;
      if (!isX) return UNKNOWN;
      if (is64 && i.off === BPF_ADDR_SPACE_CAST) {
        // spec §1.6: imm = dst_as << 16 | src_as.
        return `${dst} = addr_space_cast(${src}, ${f.num(i.imm >>> 16)}, ${f.num(i.imm & 0xffff)})`;
      }
      return MOVSX_WIDTHS.includes(i.off) && (is64 || i.off !== 32) ? `${dst} = (s${i.off})${src}` : UNKNOWN;
    case BPF_END: {
      // ALU: to-le (K) / to-be (X); ALU64: unconditional bswap (K only).
      const name = is64 ? (isX ? undefined : 'bswap') : isX ? 'be' : 'le';
      return name && [16, 32, 64].includes(i.imm) ? `r${i.dst} = ${name}${i.imm} r${i.dst}` : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

// ---------------------------------------------------------------------------------------------
// JMP / JMP32. spec §8.3

const JUMP_SYMBOL: ReadonlyMap<number, string> = new Map([
  [BPF_JEQ, '=='], [BPF_JGT, '>'], [BPF_JGE, '>='], [BPF_JSET, '&'], [BPF_JNE, '!='],
  [BPF_JSGT, 's>'], [BPF_JSGE, 's>='], [BPF_JLT, '<'], [BPF_JLE, '<='], [BPF_JSLT, 's<'],
  [BPF_JSLE, 's<='],
]);

function jump(i: Instruction, f: Formatter): string {
  const is32 = (i.opcode & CLASS_MASK) === BPF_JMP32;
  const isX = (i.opcode & SOURCE_MASK) === BPF_X;
  const code = i.opcode & CODE_MASK;
  const symbol = JUMP_SYMBOL.get(code);
  if (symbol !== undefined) {
    const r = is32 ? 'w' : 'r';
    const src = isX ? `${r}${i.src}` : f.num(i.imm);
    return `if ${r}${i.dst} ${symbol} ${src} goto ${f.target(i.off)}`;
  }
  if (code === BPF_JA) {
    if (isX) return is32 ? UNKNOWN : `gotox r${i.dst}`;
    return is32 ? `gotol ${f.target(i.imm)}` : `goto ${f.target(i.off)}`;
  }
  if (is32) return UNKNOWN;
  switch (code) {
    case BPF_CALL: return isX ? `callx r${i.dst}` : `call ${f.num(i.imm)}`;
    case BPF_EXIT: return !isX && i.imm === 0 ? 'exit' : UNKNOWN;
    case BPF_JCOND: return isX ? UNKNOWN : `may_goto ${f.target(i.off)}`;
    default: return UNKNOWN;
  }
}

// ---------------------------------------------------------------------------------------------
// Loads and stores. spec §8.4–§8.6

/** Bits a load or store moves (its size field). */
function sizeBits(i: Instruction): number {
  return 8 * sizeBytes(i.opcode);
}

/** Register name for a value of `bits`: sub-64-bit values are shown as w registers (alu32). */
function reg(bits: number, n: number): string {
  return `${bits === 64 ? 'r' : 'w'}${n}`;
}

function ld(i: Instruction, f: Formatter): string {
  if (i.opcode === OP_LDDW) {
    if (i.off !== 0) return UNKNOWN;
    if (i.src === 0) {
      return `r${i.dst} = ${f.num(BigInt.asIntN(64, imm64(i)))} ll`;
    }
    // objdump shows pseudo forms (map fd, map value, btf id, func, ...) raw, without imm2.
    return `ld_pseudo\tr${i.dst}, ${f.num(i.src)}, ${f.num(i.imm >>> 0)}`;
  }
  // Legacy packet loads (BPF_ABS / BPF_IND); no 64-bit form.
  const bits = sizeBits(i);
  if (bits === 64) return UNKNOWN;
  switch (i.opcode & MODE_MASK) {
    case BPF_ABS: return `r0 = *(u${bits} *)skb[${f.num(i.imm)}]`;
    case BPF_IND: return `r0 = *(u${bits} *)skb[r${i.src}]`;
    default: return UNKNOWN;
  }
}

function ldx(i: Instruction, f: Formatter): string {
  const bits = sizeBits(i);
  const addr = f.addr(i.src, i.off);
  switch (i.opcode & MODE_MASK) {
    case BPF_MEM: return `${reg(bits, i.dst)} = *(u${bits} *)(${addr})`;
    case BPF_MEMSX: return bits === 64 ? UNKNOWN : `r${i.dst} = *(s${bits} *)(${addr})`;
    default: return UNKNOWN;
  }
}

function st(i: Instruction, f: Formatter): string {
  if ((i.opcode & MODE_MASK) !== BPF_MEM) return UNKNOWN;
  return `*(u${sizeBits(i)} *)(${f.addr(i.dst, i.off)}) = ${f.num(i.imm)}`;
}

/** Atomic read-modify-write operations by imm (without BPF_FETCH). spec §8.5 */
const ATOMIC_OPS: ReadonlyMap<number, readonly [symbol: string, name: string]> = new Map([
  [BPF_ADD, ['+=', 'add']], [BPF_OR, ['|=', 'or']], [BPF_AND, ['&=', 'and']], [BPF_XOR, ['^=', 'xor']],
]);

function stx(i: Instruction, f: Formatter): string {
  const bits = sizeBits(i);
  const mode = i.opcode & MODE_MASK;
  const src = reg(bits, i.src);
  const dstAddr = f.addr(i.dst, i.off);
  if (mode === BPF_MEM) return `*(u${bits} *)(${dstAddr}) = ${src}`;
  if (mode !== BPF_ATOMIC) return UNKNOWN;

  // Load-acquire / store-release exist in every size; the rest only as W and DW.
  if (i.imm === BPF_LOAD_ACQ) return `${reg(bits, i.dst)} = load_acquire((u${bits} *)(${f.addr(i.src, i.off)}))`;
  if (i.imm === BPF_STORE_REL) return `store_release((u${bits} *)(${dstAddr}), ${src})`;
  if (bits !== 32 && bits !== 64) return UNKNOWN;
  if (i.imm === BPF_XCHG) return `${src} = ${bits === 64 ? 'xchg_64' : 'xchg32_32'}(${dstAddr}, ${src})`;
  if (i.imm === BPF_CMPXCHG) {
    const r0 = reg(bits, 0);
    return `${r0} = ${bits === 64 ? 'cmpxchg_64' : 'cmpxchg32_32'}(${dstAddr}, ${r0}, ${src})`;
  }
  const op = ATOMIC_OPS.get(i.imm & ~BPF_FETCH);
  if (!op) return UNKNOWN;
  return i.imm & BPF_FETCH
    ? `${src} = atomic_fetch_${op[1]}((u${bits} *)(${dstAddr}), ${src})`
    : `lock *(u${bits} *)(${dstAddr}) ${op[0]} ${src}`;
}
