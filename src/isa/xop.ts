/**
 * Synthetic opcodes ("xops"): one number per meaning, which the lowering (src/lower.ts) gives
 * each instruction and the engines switch on, as cilium/ebpf's asm.OpCode folds the variant
 * fields into the opcode (`SDiv`, `MovSX8`, the atomic op).
 *
 * An xop is 16 bits: the opcode byte, with the variant that another field selects above it.
 *
 *      15               8 7                    0
 *     +------------------+----------------------+
 *     |    variant:8     |      opcode:8        |
 *     +------------------+----------------------+
 *
 * opcode: the instruction's opcode byte, except that
 *   - ALU/JMP clear the source bit (BPF_X, 0x08): the engines read the second operand through
 *     an index that points at the register or at the slot's constant, so K and X share one xop.
 *     Two keep it: END (where the bit is the byte order) and callx (BPF_JMP | BPF_CALL | BPF_X).
 *   - ST becomes STX: its constant is the source operand, as above.
 * variant, by family (a value means something only together with its opcode):
 *
 *     family            field   variant (bits 15..8)
 *     div, mod          off     0 unsigned, 1 signed                       V_SIGNED
 *     mov (X)           off     0 mov, 1/2/3 movsx 8/16/32,                V_MOVSX*
 *                               4/5 addr_space_cast to kernel / to user    V_CAST_*
 *     end               imm     1/2/3 width 16/32/64                       V_W*
 *     call (K)          src     0 helper, 1 local, 2 kfunc                 V_CALL_*
 *     stx | atomic      imm     the atomic operation, 1..12                ATOMIC_*
 *
 * Every xop the lowering produces has a name below (XOP_*); src/isa/xop-names.ts lists them
 * with their names, and test/xop.test.ts checks that the lowering produces exactly these.
 * spec §8.2–§8.6
 */
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE,
  BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV,
  BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL, BPF_PSEUDO_HELPER_CALL, BPF_PSEUDO_KFUNC_CALL,
  BPF_RSH, BPF_STORE_REL, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_TO_LE, BPF_W, BPF_X, BPF_XCHG, BPF_XOR,
  BPF_ABS, BPF_IMM, BPF_IND, CLASS_MASK, CODE_MASK, MODE_MASK,
} from './opcodes.js';

/** Where the variant starts. */
export const VARIANT_SHIFT = 8;

/** The variant of an xop (for an atomic, its ATOMIC_* operation). */
export function xopVariant(xop: number): number {
  return xop >>> VARIANT_SHIFT;
}

// Variants, already shifted into place; see the table above.
export const V_SIGNED = 1 << VARIANT_SHIFT;
export const V_MOVSX8 = 1 << VARIANT_SHIFT;
export const V_MOVSX16 = 2 << VARIANT_SHIFT;
export const V_MOVSX32 = 3 << VARIANT_SHIFT;
export const V_CAST_KERN = 4 << VARIANT_SHIFT;
export const V_CAST_USER = 5 << VARIANT_SHIFT;
export const V_W16 = 1 << VARIANT_SHIFT;
export const V_W32 = 2 << VARIANT_SHIFT;
export const V_W64 = 3 << VARIANT_SHIFT;
export const V_CALL_HELPER = BPF_PSEUDO_HELPER_CALL << VARIANT_SHIFT;
export const V_CALL_LOCAL = BPF_PSEUDO_CALL << VARIANT_SHIFT;
export const V_CALL_KFUNC = BPF_PSEUDO_KFUNC_CALL << VARIANT_SHIFT;
/** A context access the program layer converted (LDX / STX / ST through the context pointer). */
export const V_CTX = 6 << VARIANT_SHIFT;
/** An instruction the verifier refuses where it reaches it (validate's `deferred`). */
export const V_REFUSED = 7 << VARIANT_SHIFT;

// ---- Atomic operations: the variant of BPF_STX | BPF_ATOMIC (the imm of spec §8.5) ----
export const ATOMIC_ADD = 1;
export const ATOMIC_FETCH_ADD = 2;
export const ATOMIC_OR = 3;
export const ATOMIC_FETCH_OR = 4;
export const ATOMIC_AND = 5;
export const ATOMIC_FETCH_AND = 6;
export const ATOMIC_XOR = 7;
export const ATOMIC_FETCH_XOR = 8;
export const ATOMIC_XCHG = 9;
export const ATOMIC_CMPXCHG = 10;
export const ATOMIC_LOAD_ACQ = 11;
export const ATOMIC_STORE_REL = 12;

/** An atomic read-modify-write operation: its imm, its variant, its name in the assembler. */
export interface AtomicRmwOp {
  readonly imm: number;
  readonly variant: number;
  readonly name: string;
}

/** The read-modify-write atomics, in variant order; they exist for W and DW only. spec §8.5 */
export const ATOMIC_RMW_OPS: readonly AtomicRmwOp[] = [
  { imm: BPF_ADD, variant: ATOMIC_ADD, name: 'add' },
  { imm: BPF_ADD | BPF_FETCH, variant: ATOMIC_FETCH_ADD, name: 'fetch add' },
  { imm: BPF_OR, variant: ATOMIC_OR, name: 'or' },
  { imm: BPF_OR | BPF_FETCH, variant: ATOMIC_FETCH_OR, name: 'fetch or' },
  { imm: BPF_AND, variant: ATOMIC_AND, name: 'and' },
  { imm: BPF_AND | BPF_FETCH, variant: ATOMIC_FETCH_AND, name: 'fetch and' },
  { imm: BPF_XOR, variant: ATOMIC_XOR, name: 'xor' },
  { imm: BPF_XOR | BPF_FETCH, variant: ATOMIC_FETCH_XOR, name: 'fetch xor' },
  { imm: BPF_XCHG, variant: ATOMIC_XCHG, name: 'xchg' },
  { imm: BPF_CMPXCHG, variant: ATOMIC_CMPXCHG, name: 'cmpxchg' },
];

/** The variant of each atomic imm: the read-modify-write ones, load-acquire and store-release. */
export const ATOMIC_VARIANT: ReadonlyMap<number, number> = new Map([
  ...ATOMIC_RMW_OPS.map((op): [number, number] => [op.imm, op.variant]),
  [BPF_LOAD_ACQ, ATOMIC_LOAD_ACQ], [BPF_STORE_REL, ATOMIC_STORE_REL],
]);

/** Whether an atomic writes the old value back to its source register (the fetch forms, xchg). */
export function atomicFetches(variant: number): boolean {
  return variant === ATOMIC_FETCH_ADD || variant === ATOMIC_FETCH_OR || variant === ATOMIC_FETCH_AND
    || variant === ATOMIC_FETCH_XOR || variant === ATOMIC_XCHG;
}

/** Whether an xop is an atomic (BPF_STX | BPF_ATOMIC of any size and operation). */
export function xopIsAtomic(xop: number): boolean {
  return (xop & (MODE_MASK | CLASS_MASK)) === (BPF_ATOMIC | BPF_STX);
}

/** Whether an xop is a jump with a target: ja, gotol, the conditional jumps and may_goto. */
export function xopIsBranch(xop: number): boolean {
  const cls = xop & CLASS_MASK, code = xop & CODE_MASK;
  return (cls === BPF_JMP || cls === BPF_JMP32) && code !== BPF_CALL && code !== BPF_EXIT;
}

const atomic = (size: number, variant: number) => BPF_STX | BPF_ATOMIC | size | (variant << VARIANT_SHIFT);

// ---- ALU64 (spec §8.2) ----
export const XOP_ADD64 = BPF_ALU64 | BPF_ADD;
export const XOP_SUB64 = BPF_ALU64 | BPF_SUB;
export const XOP_MUL64 = BPF_ALU64 | BPF_MUL;
export const XOP_DIV64 = BPF_ALU64 | BPF_DIV;
export const XOP_SDIV64 = BPF_ALU64 | BPF_DIV | V_SIGNED;
export const XOP_OR64 = BPF_ALU64 | BPF_OR;
export const XOP_AND64 = BPF_ALU64 | BPF_AND;
export const XOP_LSH64 = BPF_ALU64 | BPF_LSH;
export const XOP_RSH64 = BPF_ALU64 | BPF_RSH;
export const XOP_NEG64 = BPF_ALU64 | BPF_NEG;
export const XOP_MOD64 = BPF_ALU64 | BPF_MOD;
export const XOP_SMOD64 = BPF_ALU64 | BPF_MOD | V_SIGNED;
export const XOP_XOR64 = BPF_ALU64 | BPF_XOR;
export const XOP_MOV64 = BPF_ALU64 | BPF_MOV;
export const XOP_MOVSX8_64 = BPF_ALU64 | BPF_MOV | V_MOVSX8;
export const XOP_MOVSX16_64 = BPF_ALU64 | BPF_MOV | V_MOVSX16;
export const XOP_MOVSX32_64 = BPF_ALU64 | BPF_MOV | V_MOVSX32;
/** addr_space_cast to the kernel's address space (as1 → as0): wX = wY. spec §1.6 */
export const XOP_CAST_KERN = BPF_ALU64 | BPF_MOV | V_CAST_KERN;
/** addr_space_cast to user space (as0 → as1): the upper half of user_vm_start. spec §1.6 */
export const XOP_CAST_USER = BPF_ALU64 | BPF_MOV | V_CAST_USER;
export const XOP_ARSH64 = BPF_ALU64 | BPF_ARSH;
/** ALU64 | END: an unconditional byte swap. */
export const XOP_BSWAP16 = BPF_ALU64 | BPF_END | BPF_TO_LE | V_W16;
export const XOP_BSWAP32 = BPF_ALU64 | BPF_END | BPF_TO_LE | V_W32;
export const XOP_BSWAP64 = BPF_ALU64 | BPF_END | BPF_TO_LE | V_W64;

// ---- ALU (32-bit; the result zero-extends) ----
export const XOP_ADD32 = BPF_ALU | BPF_ADD;
export const XOP_SUB32 = BPF_ALU | BPF_SUB;
export const XOP_MUL32 = BPF_ALU | BPF_MUL;
export const XOP_DIV32 = BPF_ALU | BPF_DIV;
export const XOP_SDIV32 = BPF_ALU | BPF_DIV | V_SIGNED;
export const XOP_OR32 = BPF_ALU | BPF_OR;
export const XOP_AND32 = BPF_ALU | BPF_AND;
export const XOP_LSH32 = BPF_ALU | BPF_LSH;
export const XOP_RSH32 = BPF_ALU | BPF_RSH;
export const XOP_NEG32 = BPF_ALU | BPF_NEG;
export const XOP_MOD32 = BPF_ALU | BPF_MOD;
export const XOP_SMOD32 = BPF_ALU | BPF_MOD | V_SIGNED;
export const XOP_XOR32 = BPF_ALU | BPF_XOR;
export const XOP_MOV32 = BPF_ALU | BPF_MOV;
export const XOP_MOVSX8_32 = BPF_ALU | BPF_MOV | V_MOVSX8;
export const XOP_MOVSX16_32 = BPF_ALU | BPF_MOV | V_MOVSX16;
export const XOP_ARSH32 = BPF_ALU | BPF_ARSH;
/** ALU | END: to little endian (on a little-endian machine, a truncation) or to big endian. */
export const XOP_LE16 = BPF_ALU | BPF_END | BPF_TO_LE | V_W16;
export const XOP_LE32 = BPF_ALU | BPF_END | BPF_TO_LE | V_W32;
export const XOP_LE64 = BPF_ALU | BPF_END | BPF_TO_LE | V_W64;
export const XOP_BE16 = BPF_ALU | BPF_END | BPF_TO_BE | V_W16;
export const XOP_BE32 = BPF_ALU | BPF_END | BPF_TO_BE | V_W32;
export const XOP_BE64 = BPF_ALU | BPF_END | BPF_TO_BE | V_W64;

// ---- JMP: 64-bit compares (spec §8.3) ----
export const XOP_JA = BPF_JMP | BPF_JA;
export const XOP_JEQ = BPF_JMP | BPF_JEQ;
export const XOP_JGT = BPF_JMP | BPF_JGT;
export const XOP_JGE = BPF_JMP | BPF_JGE;
export const XOP_JSET = BPF_JMP | BPF_JSET;
export const XOP_JNE = BPF_JMP | BPF_JNE;
export const XOP_JSGT = BPF_JMP | BPF_JSGT;
export const XOP_JSGE = BPF_JMP | BPF_JSGE;
export const XOP_JLT = BPF_JMP | BPF_JLT;
export const XOP_JLE = BPF_JMP | BPF_JLE;
export const XOP_JSLT = BPF_JMP | BPF_JSLT;
export const XOP_JSLE = BPF_JMP | BPF_JSLE;
/** may_goto (BPF_JMP | BPF_JCOND, src 0): jumps once the frame's loop budget is spent. */
export const XOP_MAY_GOTO = BPF_JMP | BPF_JCOND;

// ---- JMP32: compares of the low halves ----
/** gotol: BPF_JMP32 | BPF_JA, with a 32-bit offset in imm. */
export const XOP_GOTOL = BPF_JMP32 | BPF_JA;
export const XOP_JEQ32 = BPF_JMP32 | BPF_JEQ;
export const XOP_JGT32 = BPF_JMP32 | BPF_JGT;
export const XOP_JGE32 = BPF_JMP32 | BPF_JGE;
export const XOP_JSET32 = BPF_JMP32 | BPF_JSET;
export const XOP_JNE32 = BPF_JMP32 | BPF_JNE;
export const XOP_JSGT32 = BPF_JMP32 | BPF_JSGT;
export const XOP_JSGE32 = BPF_JMP32 | BPF_JSGE;
export const XOP_JLT32 = BPF_JMP32 | BPF_JLT;
export const XOP_JLE32 = BPF_JMP32 | BPF_JLE;
export const XOP_JSLT32 = BPF_JMP32 | BPF_JSLT;
export const XOP_JSLE32 = BPF_JMP32 | BPF_JSLE;

// ---- calls and exit ----
export const XOP_CALL_HELPER = BPF_JMP | BPF_CALL | V_CALL_HELPER;
export const XOP_CALL_LOCAL = BPF_JMP | BPF_CALL | V_CALL_LOCAL;
export const XOP_CALL_KFUNC = BPF_JMP | BPF_CALL | V_CALL_KFUNC;
/** callx: the target (a code address or a helper id) is in dst. */
export const XOP_CALLX = BPF_JMP | BPF_CALL | BPF_X;
export const XOP_EXIT = BPF_JMP | BPF_EXIT;

// ---- loads and stores (spec §8.4, §8.6) ----
/** ld_imm64 (two slots), every pseudo form: the lowering resolves the value into the constant. */
export const XOP_LDDW = BPF_LD | BPF_IMM | BPF_DW;
export const XOP_LDX_W = BPF_LDX | BPF_MEM | BPF_W;
export const XOP_LDX_H = BPF_LDX | BPF_MEM | BPF_H;
export const XOP_LDX_B = BPF_LDX | BPF_MEM | BPF_B;
export const XOP_LDX_DW = BPF_LDX | BPF_MEM | BPF_DW;
/** Sign-extending loads (BPF_MEMSX). */
export const XOP_LDXS_W = BPF_LDX | BPF_MEMSX | BPF_W;
export const XOP_LDXS_H = BPF_LDX | BPF_MEMSX | BPF_H;
export const XOP_LDXS_B = BPF_LDX | BPF_MEMSX | BPF_B;
/** Stores, of a register (STX) or of the instruction's constant (ST). */
export const XOP_STX_W = BPF_STX | BPF_MEM | BPF_W;
export const XOP_STX_H = BPF_STX | BPF_MEM | BPF_H;
export const XOP_STX_B = BPF_STX | BPF_MEM | BPF_B;
export const XOP_STX_DW = BPF_STX | BPF_MEM | BPF_DW;

// ---- atomics (spec §8.5): read-modify-write as W and DW, load-acquire / store-release any size ----
export const XOP_ATOMIC_ADD_W = atomic(BPF_W, ATOMIC_ADD);
export const XOP_ATOMIC_ADD_DW = atomic(BPF_DW, ATOMIC_ADD);
export const XOP_ATOMIC_FETCH_ADD_W = atomic(BPF_W, ATOMIC_FETCH_ADD);
export const XOP_ATOMIC_FETCH_ADD_DW = atomic(BPF_DW, ATOMIC_FETCH_ADD);
export const XOP_ATOMIC_OR_W = atomic(BPF_W, ATOMIC_OR);
export const XOP_ATOMIC_OR_DW = atomic(BPF_DW, ATOMIC_OR);
export const XOP_ATOMIC_FETCH_OR_W = atomic(BPF_W, ATOMIC_FETCH_OR);
export const XOP_ATOMIC_FETCH_OR_DW = atomic(BPF_DW, ATOMIC_FETCH_OR);
export const XOP_ATOMIC_AND_W = atomic(BPF_W, ATOMIC_AND);
export const XOP_ATOMIC_AND_DW = atomic(BPF_DW, ATOMIC_AND);
export const XOP_ATOMIC_FETCH_AND_W = atomic(BPF_W, ATOMIC_FETCH_AND);
export const XOP_ATOMIC_FETCH_AND_DW = atomic(BPF_DW, ATOMIC_FETCH_AND);
export const XOP_ATOMIC_XOR_W = atomic(BPF_W, ATOMIC_XOR);
export const XOP_ATOMIC_XOR_DW = atomic(BPF_DW, ATOMIC_XOR);
export const XOP_ATOMIC_FETCH_XOR_W = atomic(BPF_W, ATOMIC_FETCH_XOR);
export const XOP_ATOMIC_FETCH_XOR_DW = atomic(BPF_DW, ATOMIC_FETCH_XOR);
export const XOP_ATOMIC_XCHG_W = atomic(BPF_W, ATOMIC_XCHG);
export const XOP_ATOMIC_XCHG_DW = atomic(BPF_DW, ATOMIC_XCHG);
export const XOP_ATOMIC_CMPXCHG_W = atomic(BPF_W, ATOMIC_CMPXCHG);
export const XOP_ATOMIC_CMPXCHG_DW = atomic(BPF_DW, ATOMIC_CMPXCHG);
/** Load-acquire: dst = *(src + off), zero-extended. */
export const XOP_LOAD_ACQ_B = atomic(BPF_B, ATOMIC_LOAD_ACQ);
export const XOP_LOAD_ACQ_H = atomic(BPF_H, ATOMIC_LOAD_ACQ);
export const XOP_LOAD_ACQ_W = atomic(BPF_W, ATOMIC_LOAD_ACQ);
export const XOP_LOAD_ACQ_DW = atomic(BPF_DW, ATOMIC_LOAD_ACQ);
/** Store-release: *(dst + off) = src. */
export const XOP_STORE_REL_B = atomic(BPF_B, ATOMIC_STORE_REL);
export const XOP_STORE_REL_H = atomic(BPF_H, ATOMIC_STORE_REL);
export const XOP_STORE_REL_W = atomic(BPF_W, ATOMIC_STORE_REL);
export const XOP_STORE_REL_DW = atomic(BPF_DW, ATOMIC_STORE_REL);

// ---- the context and legacy packet loads, converted at load as the verifier converts them ----
/** dst = a context field: imm is the program's context site (src/isa/ctx-ptr.ts, src/progtypes/). */
export const XOP_CTX_LD = BPF_LDX | V_CTX;
/** A context field = src (or ST's constant): imm is the program's context site. */
export const XOP_CTX_ST = BPF_STX | V_CTX;
/** r0 = big-endian packet bytes at imm (LD_ABS) or src + imm (LD_IND); out of range returns 0 from the function. */
export const XOP_LD_ABS_W = BPF_LD | BPF_ABS | BPF_W;
export const XOP_LD_ABS_H = BPF_LD | BPF_ABS | BPF_H;
export const XOP_LD_ABS_B = BPF_LD | BPF_ABS | BPF_B;
export const XOP_LD_IND_W = BPF_LD | BPF_IND | BPF_W;
export const XOP_LD_IND_H = BPF_LD | BPF_IND | BPF_H;
export const XOP_LD_IND_B = BPF_LD | BPF_IND | BPF_B;

// ---- an instruction the kernel's verifier refuses on the paths it explores ----
/**
 * A write to r10 or a division by the constant 0 (src/isa/validate.ts): the kernel refuses the
 * program if the verifier reaches it, and loads it if the instruction is dead code. bpfrun has
 * no path analysis: a run that reaches it ends in the error the load would have given.
 */
export const XOP_REFUSED = BPF_JMP | BPF_EXIT | V_REFUSED;
