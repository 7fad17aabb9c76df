/**
 * Lowering shared by the engines: a validated program as arrays indexed by slot, with a
 * synthetic opcode that folds the variant fields (signed div/mod, movsx width, byte-swap width,
 * atomic op, call kind) into one switch key, as cilium/ebpf does for its OpCode, and every
 * instruction's constant as a (lo, hi) pair, so that K and X forms share one code path.
 */
import { InvalidInstructionError } from './errors.js';
import { fromU64 } from './int64.js';
import { Instruction } from './isa/instruction.js';
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_END, BPF_FETCH,
  BPF_JA, BPF_JMP, BPF_JMP32, BPF_LOAD_ACQ, BPF_MOV, BPF_OR, BPF_PSEUDO_FUNC, BPF_ST, BPF_STORE_REL,
  BPF_STX, BPF_X, BPF_XCHG, BPF_XOR, CLASS_MASK, CODE_MASK, OP_LDDW,
} from './isa/opcodes.js';
import { checkFunctionPointers } from './isa/func-ptr.js';
import { validate } from './isa/validate.js';
import { codeAddressLo, CODE_HI, ExecEnv } from './runtime.js';

/** Synthetic opcodes: the opcode byte (source bit cleared where K and X share code) + variant << 8. */
export const V_SIGNED = 0x100;
export const V_MOVSX8 = 0x100, V_MOVSX16 = 0x200, V_MOVSX32 = 0x300, V_CAST_KERN = 0x400, V_CAST_USER = 0x500;
export const V_W16 = 0x100, V_W32 = 0x200, V_W64 = 0x300;
export const V_CALL_LOCAL = 0x100, V_CALL_KFUNC = 0x200;
export const ATOMIC_VARIANT = new Map<number, number>([
  [BPF_ADD, 1], [BPF_ADD | BPF_FETCH, 2], [BPF_OR, 3], [BPF_OR | BPF_FETCH, 4], [BPF_AND, 5],
  [BPF_AND | BPF_FETCH, 6], [BPF_XOR, 7], [BPF_XOR | BPF_FETCH, 8], [BPF_XCHG, 9], [BPF_CMPXCHG, 10],
  [BPF_LOAD_ACQ, 11], [BPF_STORE_REL, 12],
]);

export const REG_PAIRS = 11;
export const CONST_BASE = REG_PAIRS * 2;
/** A validated program, lowered for the engines. */
export interface Decoded {
  readonly xop: Uint16Array;
  readonly dst: Uint8Array; // 2 * register
  readonly src: Int32Array; // index into V of the second operand
  readonly off: Int32Array;
  readonly target: Int32Array; // jump / local call target slot
  readonly imm: Int32Array; // raw imm (helper id, kfunc id, byte-swap width)
  readonly consts: Int32Array; // (lo, hi) per slot
  readonly slotCount: number;
  /** Slots where functions start (the entry and every subprogram), sorted. */
  readonly functionStarts: readonly number[];
  /** 1 at each function's first slot: the only slots a call, callx or callback may enter. */
  readonly isFunctionStart: Uint8Array;
}

/** Validates (structure, function pointers) and lowers a program. */
export function predecode(insns: readonly Instruction[], env: ExecEnv): Decoded {
  const layout = validate(insns);
  checkFunctionPointers(insns, layout, (id) => env.natives.helpers.get(id)?.callbackArgs);
  const n = layout.slotCount;
  const code: Decoded = {
    xop: new Uint16Array(n), dst: new Uint8Array(n), src: new Int32Array(n), off: new Int32Array(n),
    target: new Int32Array(n), imm: new Int32Array(n), consts: new Int32Array(2 * n), slotCount: n,
    functionStarts: layout.subprogStarts, isFunctionStart: new Uint8Array(n),
  };
  for (const start of layout.subprogStarts) code.isFunctionStart[start] = 1;
  insns.forEach((ins, k) => {
    const at = layout.slots[k];
    const cls = ins.opcode & CLASS_MASK;
    const op = ins.opcode & CODE_MASK;
    const isX = (ins.opcode & BPF_X) !== 0;
    const constIdx = CONST_BASE + 2 * at;
    let lo = ins.imm, hi = ins.imm >> 31; // K operands are sign-extended to 64 bits
    let xop = ins.opcode;
    code.dst[at] = 2 * ins.dst;
    // The second operand: the source register, or this slot's constant for K-form ALU/JMP
    // and for ST (whose value is imm). The 0x08 bit is the source only in ALU/JMP classes.
    const usesConst = cls === BPF_ST || ((cls === BPF_ALU || cls === BPF_ALU64 || cls === BPF_JMP || cls === BPF_JMP32) && !isX);
    code.src[at] = usesConst ? constIdx : 2 * ins.src;
    code.off[at] = ins.off;
    code.imm[at] = ins.imm;
    switch (cls) {
      case BPF_ALU: case BPF_ALU64:
        if (op === BPF_END) {
          xop = ins.opcode | (ins.imm === 16 ? 0x100 : ins.imm === 32 ? 0x200 : 0x300);
          break;
        }
        xop = ins.opcode & ~BPF_X;
        if (ins.off === 1 && (op === 0x30 || op === 0x90)) xop |= V_SIGNED;
        if (op === BPF_MOV && isX && ins.off !== 0) {
          if (ins.off === 1) {
            if (!env.arena) {
              throw new InvalidInstructionError(at, 'addr_space_cast insn can only be used in a program that has an associated arena');
            }
            xop |= ins.imm === 1 || env.arena.noUserConv ? V_CAST_KERN : V_CAST_USER;
          } else {
            xop |= ins.off === 8 ? V_MOVSX8 : ins.off === 16 ? V_MOVSX16 : V_MOVSX32;
          }
        }
        break;
      case BPF_JMP: case BPF_JMP32:
        if (op === BPF_CALL) {
          if (!isX) xop = ins.opcode | (ins.src << 8);
          if (ins.src === 1) code.target[at] = at + 1 + ins.imm;
        } else if (op !== 0x90) {
          xop = ins.opcode & ~BPF_X;
          code.target[at] = at + 1 + (cls === BPF_JMP32 && op === BPF_JA ? ins.imm : ins.off);
        }
        break;
      case BPF_ST:
        xop = (ins.opcode & ~CLASS_MASK) | BPF_STX;
        break;
      case BPF_STX:
        if ((ins.opcode & 0xe0) === BPF_ATOMIC) xop = ins.opcode | (ATOMIC_VARIANT.get(ins.imm)! << 8);
        break;
      default:
        if (ins.opcode === OP_LDDW) {
          // ld_imm64 loads the slot's constant. spec §8.6
          code.src[at] = constIdx;
          if (ins.src === 0) {
            lo = ins.imm; hi = ins.imm2;
          } else if (ins.src === BPF_PSEUDO_FUNC) {
            lo = codeAddressLo(at + 1 + ins.imm); hi = CODE_HI;
          } else {
            if (!env.resolveLdImm64) {
              throw new InvalidInstructionError(at, `ld_imm64 pseudo source ${ins.src} needs a loader to resolve it`);
            }
            [lo, hi] = fromU64(env.resolveLdImm64(ins.src, ins.imm, ins.imm2, at));
          }
        }
    }
    code.xop[at] = xop;
    code.consts[2 * at] = lo;
    code.consts[2 * at + 1] = hi;
  });
  return code;
}
