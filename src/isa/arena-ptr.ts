/**
 * Which registers may hold an arena pointer (the verifier's PTR_TO_ARENA), found at load for
 * the two rules that depend on it (spec kernel-arena-streams §1.7, §6.2):
 *
 * - ALU on an arena pointer is narrowed to 32 bits: the verifier marks an ALU64 instruction that
 *   sees a PTR_TO_ARENA operand `needs_zext` (verifier.c:adjust_reg_min_max_vals) and the
 *   fixups rewrite it to the 32-bit ALU op (fixups.c:bpf_do_misc_fixups), so the result is
 *   `(u32)(a op b)`. The mark is sticky: one path with an arena operand narrows the instruction
 *   for every path, so this analysis is a "may" one. Linux 7.2 narrows when either operand is
 *   an arena pointer (the result takes the arena type); the 6.18 profile only when the
 *   destination is.
 * - x86-64 refuses arena and/or/xor-with-fetch atomics at load (bpf_jit_supports_insn,
 *   verifier.c:check_atomic_rmw): "BPF_ATOMIC stores into R<n> arena is not allowed", -EACCES.
 *
 * An arena pointer comes from `addr_space_cast(r, 0, 1)` (cast_kern), moves through 64-bit
 * register copies, ALU results with an arena operand, 8-byte spills to the frame's stack and
 * back, the arguments of local calls and their return value. Loads from the arena, helper and
 * kfunc results (bpf_arena_alloc_pages returns a scalar, §1.10) are scalars.
 */
import { forwardFlow, NONE } from './dataflow.js';
import { Instruction } from './instruction.js';
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH,
  BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MEMSX, BPF_MOV, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC, BPF_ST, BPF_STX, BPF_SUB, BPF_W, BPF_X, BPF_XOR, CLASS_MASK, CODE_MASK, MODE_MASK, OP_LDDW,
  SIZE_MASK, sizeBytes, BPF_ADDR_SPACE_CAST,
} from './opcodes.js';
import type { ProgramLayout } from './validate.js';

/** Arena-pointer words: 0 not an arena pointer, 1 one on every path, NONE one on some path. */
const NOT = 0;
const ARENA = 1;
const mayBeArena = (v: number) => v !== NOT;

/** r0..r10, then the frame's 64 eight-byte stack slots (fp-8 is slot 0), then r0..r10's offsets from r10. */
const STACK_BASE = 11;
const FP_BASE = STACK_BASE + 64;
const STATE_WORDS = FP_BASE + 11;

export interface ArenaPointerRules {
  /** 'any-operand' (7.2) or 'dst' (6.18): which ALU64 instructions are narrowed. */
  readonly narrowing: 'any-operand' | 'dst';
  /**
   * First slots of global subprograms: verified on their own, their arguments start as scalars
   * (an `arg:arena` argument too, spec §1.10) and their result is a scalar to the caller.
   */
  readonly globalFunctions?: ReadonlySet<number>;
}

export interface ArenaPointerFacts {
  /** ALU64 slots the verifier rewrites to 32-bit ALU. */
  readonly narrowed: ReadonlySet<number>;
  /** Atomic slots refused at load, with the verifier's message. */
  readonly refused: ReadonlyMap<number, string>;
}

function emptyState(): Int32Array {
  const state = new Int32Array(STATE_WORDS).fill(NOT);
  for (let r = 0; r <= 10; r++) state[FP_BASE + r] = NONE;
  state[FP_BASE + 10] = 0;
  return state;
}

function set(state: Int32Array, r: number, v: number): void {
  state[r] = v;
  state[FP_BASE + r] = NONE;
}

function stackSlot(off: number, size: number): number {
  return size === 8 && off < 0 && off >= -512 && off % 8 === 0 ? STACK_BASE + (-off / 8 - 1) : -1;
}

function clobberStack(state: Int32Array, off: number, size: number): void {
  for (let o = Math.floor(off / 8) * 8; o < off + size; o += 8) {
    if (o < 0 && o >= -512) state[STACK_BASE + (-o / 8 - 1)] = NOT;
  }
}

/** The ALU ops that go through adjust_reg_min_max_vals (all but mov, neg, end). */
function isArithmetic(code: number): boolean {
  return code !== BPF_MOV && code !== BPF_NEG && code !== BPF_END;
}

/** The function (start slot) each slot belongs to. */
function functionOf(layout: ProgramLayout): Int32Array {
  const of = new Int32Array(layout.slotCount);
  const starts = layout.subprogStarts;
  let k = 0;
  for (let s = 0; s < layout.slotCount; s++) {
    while (k + 1 < starts.length && starts[k + 1] <= s) k++;
    of[s] = starts[k];
  }
  return of;
}

/** The arena-pointer facts of a validated program of a program with an arena. */
export function findArenaPointers(insns: readonly Instruction[], layout: ProgramLayout, rules: ArenaPointerRules): ArenaPointerFacts {
  const bySlot: Array<Instruction | undefined> = new Array(layout.slotCount);
  insns.forEach((ins, k) => { bySlot[layout.slots[k]] = ins; });
  const fnOf = functionOf(layout);
  // Whether a function may return an arena pointer; grows until the analysis is stable.
  const returnsArena = new Set<number>();
  const seeds: Array<[number, Int32Array]> = [[0, emptyState()]];
  insns.forEach((ins, k) => {
    if (ins.opcode === OP_LDDW && ins.src === BPF_PSEUDO_FUNC) seeds.push([layout.slots[k] + 1 + ins.imm, emptyState()]);
  });
  for (;;) {
    const before = forwardFlow(layout.slotCount, seeds, (slot, state) => transfer(bySlot[slot]!, slot, state, rules, returnsArena));
    let grew = false;
    bySlot.forEach((ins, slot) => {
      const state = before[slot];
      if (ins && state && ins.opcode === (BPF_JMP | BPF_EXIT) && mayBeArena(state[0]) && !returnsArena.has(fnOf[slot])) {
        returnsArena.add(fnOf[slot]);
        grew = true;
      }
    });
    if (grew) continue;
    const narrowed = new Set<number>();
    const refused = new Map<number, string>();
    bySlot.forEach((ins, slot) => {
      const state = before[slot];
      if (!ins || !state) return;
      const cls = ins.opcode & CLASS_MASK;
      const code = ins.opcode & CODE_MASK;
      if (cls === BPF_ALU64 && isArithmetic(code)) {
        const x = (ins.opcode & BPF_X) !== 0;
        const arena = mayBeArena(state[ins.dst]) || (rules.narrowing === 'any-operand' && x && mayBeArena(state[ins.src]));
        if (arena) narrowed.add(slot);
      }
      if (cls === BPF_STX && (ins.opcode & MODE_MASK) === BPF_ATOMIC && mayBeArena(state[ins.dst])) {
        const size = ins.opcode & SIZE_MASK;
        const logicFetch = ins.imm === (BPF_AND | BPF_FETCH) || ins.imm === (BPF_OR | BPF_FETCH) || ins.imm === (BPF_XOR | BPF_FETCH);
        if ((size === BPF_W || size === BPF_DW) && logicFetch) {
          refused.set(slot, `BPF_ATOMIC stores into R${ins.dst} arena is not allowed (EACCES: the x86-64 JIT has no arena and/or/xor with fetch)`);
        }
      }
    });
    return { narrowed, refused };
  }
}

function transfer(ins: Instruction, slot: number, state: Int32Array, rules: ArenaPointerRules,
  returnsArena: ReadonlySet<number>): Array<[number, Int32Array]> {
  const cls = ins.opcode & CLASS_MASK;
  const code = ins.opcode & CODE_MASK;
  if (ins.opcode === OP_LDDW) {
    set(state, ins.dst, NOT); // ld_imm64 of an arena is an unknown scalar (§1.9)
    return [[slot + 2, state]];
  }
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (code === BPF_EXIT && cls === BPF_JMP) return [];
    if (code === BPF_CALL) {
      const next: Array<[number, Int32Array]> = [];
      let result = NOT;
      if (!(ins.opcode & BPF_X) && ins.src === BPF_PSEUDO_CALL) {
        const target = slot + 1 + ins.imm;
        const callee = emptyState();
        const global = rules.globalFunctions?.has(target) ?? false;
        if (!global) callee.set(state.subarray(1, 6), 1);
        next.push([target, callee]);
        if (!global && returnsArena.has(target)) result = ARENA;
      }
      for (let r = 0; r <= 5; r++) set(state, r, NOT);
      state[0] = result;
      next.push([slot + 1, state]);
      return next;
    }
    const to = slot + 1 + (cls === BPF_JMP32 && code === BPF_JA ? ins.imm : ins.off);
    return code === BPF_JA ? [[to, state]] : [[slot + 1, state], [to, state.slice()]];
  }
  if (cls === BPF_LD) {
    for (let r = 0; r <= 5; r++) set(state, r, NOT);
    return [[slot + 1, state]];
  }
  const size = sizeBytes(ins.opcode);
  const x = (ins.opcode & BPF_X) !== 0;
  if (cls === BPF_ALU64 && code === BPF_MOV && x) {
    if (ins.off === BPF_ADDR_SPACE_CAST) set(state, ins.dst, ins.imm === 1 ? ARENA : NOT); // cast_kern / cast_user
    else if (ins.off === 0) { state[ins.dst] = state[ins.src]; state[FP_BASE + ins.dst] = state[FP_BASE + ins.src]; }
    else set(state, ins.dst, NOT); // movsx
  } else if ((cls === BPF_ALU64 || cls === BPF_ALU) && isArithmetic(code)) {
    const dstArena = state[ins.dst], srcArena = x ? state[ins.src] : NOT;
    const fp = state[FP_BASE + ins.dst];
    let result = NOT;
    if (mayBeArena(dstArena)) result = dstArena;
    else if (rules.narrowing === 'any-operand' && mayBeArena(srcArena)) result = srcArena;
    set(state, ins.dst, result);
    // A stack pointer moved by a constant stays one (spills through r6 = r10 - 16).
    if (cls === BPF_ALU64 && !x && fp !== NONE && (code === BPF_ADD || code === BPF_SUB)) {
      state[FP_BASE + ins.dst] = (fp + (code === BPF_ADD ? ins.imm : -ins.imm)) | 0;
    }
  } else if (cls === BPF_LDX) {
    const fp = state[FP_BASE + ins.src];
    const k = fp !== NONE && (ins.opcode & MODE_MASK) !== BPF_MEMSX ? stackSlot(fp + ins.off, size) : -1;
    set(state, ins.dst, k >= 0 ? state[k] : NOT); // a fill of a spilled arena pointer
  } else if (cls === BPF_ST || cls === BPF_STX) {
    const atomic = cls === BPF_STX && (ins.opcode & MODE_MASK) === BPF_ATOMIC;
    const fp = state[FP_BASE + ins.dst];
    if (fp !== NONE) {
      const at = fp + ins.off;
      const k = stackSlot(at, size);
      clobberStack(state, at, size);
      if (k >= 0 && cls === BPF_STX && !atomic && (ins.opcode & SIZE_MASK) === BPF_DW) state[k] = state[ins.src]; // a spill
    }
    if (atomic) {
      if (ins.imm === BPF_LOAD_ACQ) set(state, ins.dst, NOT);
      else if (ins.imm === BPF_CMPXCHG) set(state, 0, NOT);
      else if (ins.imm & BPF_FETCH) set(state, ins.src, NOT);
    }
  } else {
    set(state, ins.dst, NOT); // mov K, mov32, neg, end, ...
  }
  return [[slot + 1, state]];
}

