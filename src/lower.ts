/**
 * Lowering shared by the engines: a validated program as arrays indexed by slot, with a
 * synthetic opcode that folds the variant fields (signed div/mod, movsx width, byte-swap width,
 * atomic op, call kind) into one switch key, as cilium/ebpf does for its OpCode (the xops and
 * their bit layout: src/isa/xop.ts), and every instruction's constant as a (lo, hi) pair, so
 * that K and X forms share one code path.
 */
import { CoreRelocationError, InvalidInstructionError } from './errors.js';
import { fromU64 } from './int64.js';
import { Instruction } from './isa/instruction.js';
import {
  BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_LDX, BPF_DIV, BPF_END, BPF_EXIT, BPF_JA,
  BPF_JMP, BPF_JMP32, BPF_MOD, BPF_MOV, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_SIGNED_OFF, BPF_ST,
  BPF_STX, BPF_X, CLASS_MASK, CODE_MASK, MODE_MASK, OP_LDDW,
} from './isa/opcodes.js';
import { ContextAccess, findContextAccesses } from './isa/ctx-ptr.js';
import { checkFunctionPointers } from './isa/func-ptr.js';
import { findArenaPointers } from './isa/arena-ptr.js';
import { validate } from './isa/validate.js';
import {
  ATOMIC_VARIANT, V_CAST_KERN, V_CAST_USER, V_MOVSX16, V_MOVSX32, V_MOVSX8, V_SIGNED, V_W16, V_W32,
  V_W64, VARIANT_SHIFT, XOP_CTX_LD, XOP_CTX_ST, XOP_REFUSED,
} from './isa/xop.js';
import { codeAddressLo, CODE_HI, ExecEnv } from './runtime.js';

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
  /** XOP_REFUSED slots: why the verifier refuses the instruction when it reaches it. */
  readonly refused: ReadonlyMap<number, string>;
  /** CO-RE-poisoned slots (also XOP_REFUSED): the failed relocation, as libbpf spells it. */
  readonly corePoisons?: ReadonlyMap<number, string>;
}

/**
 * How a program type's context is reached (its is_valid_access and convert_ctx_access); a type
 * whose context is plain memory (syscall, raw_tp) has none.
 */
export interface ContextLowering {
  /**
   * The context site (ExecEnv.context) that performs `access`, or -1 to leave it a memory
   * access (a plain-memory context); throws InvalidInstructionError for an access the verifier
   * refuses.
   */
  site(access: ContextAccess): number;
  /** Whether the type may use LD_ABS / LD_IND (may_access_skb: socket filter and tc). */
  readonly packetLoads: boolean;
}

/**
 * What an engine throws when a run reaches an XOP_REFUSED slot: the verifier's refusal, which
 * the kernel gives at load when it reaches the instruction (kernel/bpf/verifier.c do_check).
 */
export function refusedError(code: Decoded, pc: number): InvalidInstructionError | CoreRelocationError {
  const poison = code.corePoisons?.get(pc);
  if (poison !== undefined) return new CoreRelocationError(pc, poison);
  return new InvalidInstructionError(pc, `${code.refused.get(pc) ?? 'refused instruction'} (the kernel's verifier refuses `
    + 'the program at load where it reaches this instruction; bpfrun found it when a run reached it)');
}

/**
 * Validates (structure, function pointers, context accesses) and lowers a program;
 * `globalFunctions` are the first slots of its global subprograms (BTF linkage), verified on
 * their own; `corePoisons` are the slots CO-RE poisoned, with their relocations.
 */
export function predecode(insns: readonly Instruction[], env: ExecEnv, context?: ContextLowering,
  globalFunctions?: ReadonlySet<number>, corePoisons?: ReadonlyMap<number, string>): Decoded {
  const refused = new Map<number, string>();
  const layout = validate(insns, refused);
  checkFunctionPointers(insns, layout, (id) => env.natives.helpers.get(id)?.callbackArgs);
  const contextAccesses = context ? findContextAccesses(insns, layout) : new Map<number, ContextAccess>();
  // Arena pointers (spec §1.7, §6.2): ALU on one is narrowed to 32 bits as the kernel profile
  // says; x86-64 refuses arena and/or/xor with fetch.
  const narrowing = env.arena && (env.arena.aluNarrowing ?? 'any-operand');
  const arenaFacts = narrowing && narrowing !== 'none' ? findArenaPointers(insns, layout, { narrowing, globalFunctions }) : undefined;
  if (arenaFacts) {
    const first = [...arenaFacts.refused].sort((a, b) => a[0] - b[0])[0];
    if (first) throw new InvalidInstructionError(first[0], first[1]);
  }
  const n = layout.slotCount;
  const code: Decoded = {
    xop: new Uint16Array(n), dst: new Uint8Array(n), src: new Int32Array(n), off: new Int32Array(n),
    target: new Int32Array(n), imm: new Int32Array(n), consts: new Int32Array(2 * n), slotCount: n,
    functionStarts: layout.subprogStarts, isFunctionStart: new Uint8Array(n), refused,
    corePoisons: corePoisons && new Map([...corePoisons].filter(([slot]) => refused.has(slot))),
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
    // and for ST (whose value is imm). The BPF_X bit is the source only in ALU/JMP classes.
    const usesConst = cls === BPF_ST || ((cls === BPF_ALU || cls === BPF_ALU64 || cls === BPF_JMP || cls === BPF_JMP32) && !isX);
    code.src[at] = usesConst ? constIdx : 2 * ins.src;
    code.off[at] = ins.off;
    code.imm[at] = ins.imm;
    switch (cls) {
      case BPF_ALU: case BPF_ALU64:
        if (op === BPF_END) {
          xop = ins.opcode | (ins.imm === 16 ? V_W16 : ins.imm === 32 ? V_W32 : V_W64);
          break;
        }
        xop = ins.opcode & ~BPF_X;
        // needs_zext: the verifier's fixup turns an ALU64 op on an arena pointer into the 32-bit
        // op (fixups.c:bpf_do_misc_fixups). spec §1.7
        if (arenaFacts?.narrowed.has(at)) xop = (xop & ~CLASS_MASK) | BPF_ALU;
        if (ins.off === BPF_SIGNED_OFF && (op === BPF_DIV || op === BPF_MOD)) xop |= V_SIGNED;
        if (op === BPF_MOV && isX && ins.off !== 0) {
          if (ins.off === BPF_ADDR_SPACE_CAST) {
            if (!env.arena) {
              throw new InvalidInstructionError(at, 'addr_space_cast insn can only be used in a program that has an associated arena');
            }
            // imm 1 is as1 -> as0 (to the kernel's view); as0 -> as1 is to user space. spec §1.6
            xop |= ins.imm === 1 || env.arena.noUserConv ? V_CAST_KERN : V_CAST_USER;
          } else {
            xop |= ins.off === 8 ? V_MOVSX8 : ins.off === 16 ? V_MOVSX16 : V_MOVSX32;
          }
        }
        break;
      case BPF_JMP: case BPF_JMP32:
        if (op === BPF_CALL) {
          if (!isX) xop = ins.opcode | (ins.src << VARIANT_SHIFT); // V_CALL_HELPER / _LOCAL / _KFUNC
          if (ins.src === BPF_PSEUDO_CALL) code.target[at] = at + 1 + ins.imm;
        } else if (op !== BPF_EXIT) {
          xop = ins.opcode & ~BPF_X;
          code.target[at] = at + 1 + (cls === BPF_JMP32 && op === BPF_JA ? ins.imm : ins.off);
        }
        break;
      case BPF_ST:
        xop = (ins.opcode & ~CLASS_MASK) | BPF_STX;
        break;
      case BPF_STX:
        if ((ins.opcode & MODE_MASK) === BPF_ATOMIC) xop = ins.opcode | (ATOMIC_VARIANT.get(ins.imm)! << VARIANT_SHIFT);
        break;
      case BPF_LDX:
        break;
      default:
        if (ins.opcode !== OP_LDDW && !context?.packetLoads) {
          // check_ld_abs (kernel/bpf/verifier.c). spec program-types §3.2
          throw new InvalidInstructionError(at, 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
        }
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
    const access = contextAccesses.get(at);
    const site = access === undefined ? -1 : context!.site(access);
    if (site >= 0) {
      // The verifier's convert_ctx_access: the access becomes one of the context's field
      // accessors (imm names it). spec program-types §2.1
      code.imm[at] = site;
      xop = access!.kind === 'store' ? XOP_CTX_ST : XOP_CTX_LD;
    }
    // validate's deferred rules: the verifier refuses the instruction only where it reaches it.
    if (refused.has(at)) {
      xop = XOP_REFUSED;
      // A refused ld_imm64 is no longer an LDDW: its second slot must not read as an instruction.
      if (ins.opcode === OP_LDDW) code.xop[at + 1] = XOP_REFUSED;
    }
    code.xop[at] = xop;
    code.consts[2 * at] = lo;
    code.consts[2 * at + 1] = hi;
  });
  return code;
}
