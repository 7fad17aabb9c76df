/**
 * Which instructions access the program's context, found at load as the verifier finds them
 * (PTR_TO_CTX in kernel/bpf/verifier.c): the context pointer is r1 at the entry, and it moves
 * through register copies, 8-byte spills to the frame's stack and back, and the arguments of
 * local calls. A load or store through it is a context access, which the kernel validates
 * (is_valid_access) and rewrites into an access of the kernel object behind the context
 * (convert_ctx_access); the program layer does the same with each access this finds.
 *
 * Stack slots are reached through r10 and through any register holding r10 plus a constant
 * (PTR_TO_STACK with a known offset: `r6 = r10; r6 += -16; *(u64 *)(r6 - 8) = r1`), as the
 * verifier's check_stack_write_fixed_off / check_stack_read_fixed_off do for both.
 *
 * The analysis joins paths: a register (or stack slot) holds the context at an instruction only
 * if it does on every path there. The kernel refuses an instruction that sees the context on one
 * path and another pointer on another ("same insn cannot be used with different pointers"), so
 * for a program the kernel accepts this finds every context access. What it does not follow —
 * the context stored through a pointer other than a frame stack pointer, or in a map — is not a context access
 * here; the context's address maps no bytes, so such an access ends the run with a
 * MemoryAccessError rather than reading something wrong.
 */
import { forwardFlow, NONE } from './dataflow.js';
import { Instruction } from './instruction.js';
import {
  BPF_ADD, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JMP, BPF_JMP32,
  BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MEMSX, BPF_MOV, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_ST, BPF_STX, BPF_SUB,
  BPF_X, CLASS_MASK, CODE_MASK, MODE_MASK, OP_LDDW, SIZE_MASK, sizeBytes,
} from './opcodes.js';
import type { ProgramLayout } from './validate.js';

/** A load or store whose base register holds the context pointer. */
export interface ContextAccess {
  /** Slot of the instruction. */
  readonly slot: number;
  /** The base register. */
  readonly reg: number;
  /** What was added to the context pointer before the access (the kernel refuses any but 0). */
  readonly ptrOffset: number;
  /** The instruction's offset: the field's offset when ptrOffset is 0. */
  readonly off: number;
  readonly size: number;
  /** load (zero-extending), loadsx (LDX MEMSX), store (STX or ST), atomic (any BPF_ATOMIC). */
  readonly kind: 'load' | 'loadsx' | 'store' | 'atomic';
}

/**
 * r0..r10 (the context offset each holds), then the frame's 64 eight-byte stack slots (fp-8 is
 * slot 0), then r0..r10 again: the offset from r10 of the frame stack pointer each holds.
 */
const STACK_BASE = 11;
const FP_BASE = STACK_BASE + 64;
const STATE_WORDS = FP_BASE + 11;

/** A state where nothing is tracked but r10, the frame pointer (offset 0 from itself). */
function emptyState(): Int32Array {
  const state = new Int32Array(STATE_WORDS).fill(NONE);
  state[FP_BASE + 10] = 0;
  return state;
}

/** Forgets what register `r` held: a context or a stack pointer. */
function forget(state: Int32Array, r: number): void {
  state[r] = NONE;
  state[FP_BASE + r] = NONE;
}

/** The offset from r10 that `base + off` addresses when `base` is a frame stack pointer, or NONE. */
function stackOffset(state: Int32Array, base: number, off: number): number {
  const fp = state[FP_BASE + base];
  return fp === NONE ? NONE : fp + off;
}

/** The context accesses of a validated program, by slot. */
export function findContextAccesses(insns: readonly Instruction[], layout: ProgramLayout): Map<number, ContextAccess> {
  const bySlot: Array<Instruction | undefined> = new Array(layout.slotCount);
  insns.forEach((ins, k) => { bySlot[layout.slots[k]] = ins; });
  const empty = emptyState;
  const entry = empty();
  entry[1] = 0;
  const seeds: Array<[number, Int32Array]> = [[0, entry]];
  // Callbacks (bpf_loop's and the like) get their own arguments, never the program's context.
  insns.forEach((ins, k) => {
    if (ins.opcode === OP_LDDW && ins.src === BPF_PSEUDO_FUNC) seeds.push([layout.slots[k] + 1 + ins.imm, empty()]);
  });
  const before = forwardFlow(layout.slotCount, seeds, (slot, state) => transfer(bySlot[slot]!, slot, state));

  const accesses = new Map<number, ContextAccess>();
  insns.forEach((ins, k) => {
    const slot = layout.slots[k];
    const state = before[slot];
    if (state === undefined) return; // unreachable
    const access = memoryAccess(ins);
    if (access && state[access.reg] !== NONE) {
      accesses.set(slot, { slot, reg: access.reg, ptrOffset: state[access.reg], off: ins.off, size: sizeBytes(ins.opcode), kind: access.kind });
    }
  });
  return accesses;
}

/** The base register and kind of a load, store or atomic; undefined for other instructions. */
function memoryAccess(ins: Instruction): { reg: number; kind: ContextAccess['kind'] } | undefined {
  const cls = ins.opcode & CLASS_MASK;
  if (cls === BPF_LDX) return { reg: ins.src, kind: (ins.opcode & MODE_MASK) === BPF_MEMSX ? 'loadsx' : 'load' };
  if (cls === BPF_ST) return { reg: ins.dst, kind: 'store' };
  if (cls === BPF_STX) {
    if ((ins.opcode & MODE_MASK) !== BPF_ATOMIC) return { reg: ins.dst, kind: 'store' };
    return { reg: ins.imm === BPF_LOAD_ACQ ? ins.src : ins.dst, kind: 'atomic' };
  }
  return undefined;
}

/** The stack slot of an 8-byte access at r10 + off, or -1 when it is not one. */
function stackSlot(off: number, size: number): number {
  return size === 8 && off < 0 && off >= -512 && off % 8 === 0 ? STACK_BASE + (-off / 8 - 1) : -1;
}

/** Forgets the stack slots [r10 + off, r10 + off + size) overlaps. */
function clobberStack(state: Int32Array, off: number, size: number): void {
  for (let o = Math.floor(off / 8) * 8; o < off + size; o += 8) {
    if (o < 0 && o >= -512) state[STACK_BASE + (-o / 8 - 1)] = NONE;
  }
}

/** Applies `ins` to `state`; returns where control goes next, each with its state. */
function transfer(ins: Instruction, slot: number, state: Int32Array): Array<[number, Int32Array]> {
  const cls = ins.opcode & CLASS_MASK;
  const code = ins.opcode & CODE_MASK;
  if (ins.opcode === OP_LDDW) {
    forget(state, ins.dst);
    return [[slot + 2, state]];
  }
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (code === BPF_EXIT && cls === BPF_JMP) return [];
    if (code === BPF_CALL) {
      const next: Array<[number, Int32Array]> = [];
      if (!(ins.opcode & BPF_X) && ins.src === BPF_PSEUDO_CALL) {
        // r1..r5 are the callee's arguments; its stack is its own (a pointer into the caller's
        // frame is not one into the callee's).
        const callee = emptyState();
        callee.set(state.subarray(1, 6), 1);
        next.push([slot + 1 + ins.imm, callee]);
      }
      for (let r = 0; r <= 5; r++) forget(state, r); // r0 is the result, r1..r5 are clobbered
      next.push([slot + 1, state]);
      return next;
    }
    const to = slot + 1 + (cls === BPF_JMP32 && code === BPF_JA ? ins.imm : ins.off);
    return code === BPF_JA ? [[to, state]] : [[slot + 1, state], [to, state.slice()]];
  }
  if (cls === BPF_LD) { // LD_ABS / LD_IND: a hidden helper call
    for (let r = 0; r <= 5; r++) forget(state, r);
    return [[slot + 1, state]];
  }
  const size = sizeBytes(ins.opcode);
  if (cls === BPF_ALU64 && code === BPF_MOV && (ins.opcode & BPF_X) && ins.off === 0) {
    state[ins.dst] = state[ins.src];
    state[FP_BASE + ins.dst] = state[FP_BASE + ins.src];
  } else if (cls === BPF_ALU64 && (code === BPF_ADD || code === BPF_SUB) && !(ins.opcode & BPF_X)) {
    const delta = code === BPF_ADD ? ins.imm : -ins.imm;
    if (state[ins.dst] !== NONE) state[ins.dst] = (state[ins.dst] + delta) | 0;
    if (state[FP_BASE + ins.dst] !== NONE) state[FP_BASE + ins.dst] = (state[FP_BASE + ins.dst] + delta) | 0;
  } else if (cls === BPF_LDX) {
    const at = (ins.opcode & MODE_MASK) !== BPF_MEMSX ? stackOffset(state, ins.src, ins.off) : NONE;
    const k = at !== NONE ? stackSlot(at, size) : -1;
    const value = k >= 0 ? state[k] : NONE; // a fill of a spilled context pointer
    forget(state, ins.dst);
    state[ins.dst] = value;
  } else if (cls === BPF_ST || cls === BPF_STX) {
    const atomic = cls === BPF_STX && (ins.opcode & MODE_MASK) === BPF_ATOMIC;
    const at = stackOffset(state, ins.dst, ins.off);
    if (at !== NONE) {
      const k = stackSlot(at, size);
      clobberStack(state, at, size);
      if (k >= 0 && cls === BPF_STX && !atomic && (ins.opcode & SIZE_MASK) === BPF_DW) state[k] = state[ins.src]; // a spill
    }
    if (atomic) {
      if (ins.imm === BPF_LOAD_ACQ) forget(state, ins.dst);
      else if (ins.imm === BPF_CMPXCHG) forget(state, 0);
      else if (ins.imm & BPF_FETCH) forget(state, ins.src);
    }
  } else {
    forget(state, ins.dst); // any other ALU result
  }
  return [[slot + 1, state]];
}
