/**
 * BPF opcode fields and constants, with the kernel's names (RFC 9669 + Linux extensions).
 *
 * An opcode byte is laid out as
 *
 *     ALU/JMP:   +--------+----+-------+      LD/ST:  +------+------+-------+
 *                | code:4 |s:1 |class:3|              |mode:3|size:2|class:3|
 *                +--------+----+-------+              +------+------+-------+
 *
 * spec §8.1–§8.6.
 */

// Instruction classes (low 3 bits). spec §8.1
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const CLASS_MASK = 0x07;
export const SOURCE_MASK = 0x08;
export const CODE_MASK = 0xf0;
export const SIZE_MASK = 0x18;
export const MODE_MASK = 0xe0;

// Operand source (ALU/JMP). spec §8.2
export const BPF_K = 0x00;
export const BPF_X = 0x08;
// Byte-order direction for BPF_END.
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// ALU operation codes. spec §8.2
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Jump operation codes. spec §8.3
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_JCOND = 0xe0;

// Load/store sizes. spec §8.4
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Load/store modes. spec §8.4
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Atomic operations, carried in imm. spec §8.5
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

// Special offsets. spec §1.6, §8.2
export const BPF_ADDR_SPACE_CAST = 1;
/** `off` of DIV/MOD that selects the signed form. */
export const BPF_SIGNED_OFF = 1;

// src_reg of BPF_JCOND. spec §8.3
export const BPF_MAY_GOTO = 0;

// src_reg of BPF_CALL. spec §8.3
export const BPF_PSEUDO_HELPER_CALL = 0;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

// src_reg of ld_imm64 (BPF_LD | BPF_IMM | BPF_DW). spec §8.6
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

/** The kernel's per-frame `may_goto` budget (BPF_MAX_LOOPS). spec §8.3 */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** Bytes of stack per frame (MAX_BPF_STACK). */
export const MAX_BPF_STACK = 512;
/** Deepest bpf-to-bpf call chain, counting the entry frame (MAX_CALL_FRAMES). */
export const MAX_CALL_FRAMES = 8;

// Full opcodes used by name in more than one module.
export const OP_LDDW = BPF_LD | BPF_IMM | BPF_DW; // 0x18
export const OP_CALL = BPF_JMP | BPF_CALL; // 0x85
export const OP_CALLX = BPF_JMP | BPF_CALL | BPF_X; // 0x8d
export const OP_EXIT = BPF_JMP | BPF_EXIT; // 0x95
export const OP_JA = BPF_JMP | BPF_JA; // 0x05
export const OP_GOTOL = BPF_JMP32 | BPF_JA; // 0x06
export const OP_MAY_GOTO = BPF_JMP | BPF_JCOND; // 0xe5

/**
 * Bytes a load or store moves: the size field of `opcode` (an opcode byte, a size field, or a
 * synthetic opcode, src/isa/xop.ts). spec §8.4
 */
export function sizeBytes(opcode: number): 1 | 2 | 4 | 8 {
  switch (opcode & SIZE_MASK) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
  }
}
