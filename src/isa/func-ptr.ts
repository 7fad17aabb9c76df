/**
 * The verifier's rule for function pointers (PTR_TO_FUNC), at load: a code address may be
 * called only as `ld_imm64 src=4` made it. The kernel lets a program add a constant to a
 * function pointer (adjust_ptr_min_max_vals lists PTR_TO_FUNC with the pointers arithmetic is
 * allowed on), but refuses the modified pointer where it is used as a callback:
 * check_func_arg_reg_off → __check_ptr_off_reg, "dereference of modified func ptr R2 off=8
 * disallowed". bpfrun applies the same rule at callx (which the kernel rejects outright, and
 * the conformance suite uses) and at a native's callback arguments.
 *
 * What is tracked: function pointers in registers, through moves and constant additions, per
 * function, along every path (a register is a function pointer at an instruction only if it is
 * one on every path there). What is not: pointers spilled to the stack and reloaded, or offsets
 * that differ between paths. Those reach the engines, whose shared shell refuses a call to
 * anything but a function's first instruction at run time (src/shell.ts functionSlot).
 */
import { InvalidInstructionError } from '../errors.js';
import { forwardFlow, NONE } from './dataflow.js';
import { Instruction } from './instruction.js';
import {
  BPF_ADD, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JMP, BPF_JMP32, BPF_LOAD_ACQ,
  BPF_MOV, BPF_PSEUDO_FUNC, BPF_ST, BPF_STX, BPF_SUB, BPF_X, CLASS_MASK, CODE_MASK, MODE_MASK, OP_LDDW,
} from './opcodes.js';
import type { ProgramLayout } from './validate.js';


/** The registers' state before an instruction: the function pointer's byte offset, or NONE. */
type RegState = Int32Array;

/**
 * Checks every callx target register and every callback argument of a helper call
 * (`callbackArgs(helperId)` lists the helper's ARG_PTR_TO_FUNC argument numbers); throws
 * InvalidInstructionError at the call for a function pointer with a non-zero offset.
 */
export function checkFunctionPointers(insns: readonly Instruction[], layout: ProgramLayout,
  callbackArgs: (helperId: number) => readonly number[] | undefined): void {
  // Only ld_imm64 src=4 makes a function pointer: without one there is nothing to track.
  if (!insns.some((ins) => ins.opcode === OP_LDDW && ins.src === BPF_PSEUDO_FUNC)) return;
  const bySlot: Array<Instruction | undefined> = new Array(layout.slotCount);
  insns.forEach((ins, k) => { bySlot[layout.slots[k]] = ins; });
  // Every function is entered with no function pointers (a callee's arguments are not tracked).
  const seeds = layout.subprogStarts.map((start): [number, RegState] => [start, new Int32Array(11).fill(NONE)]);
  forwardFlow(layout.slotCount, seeds, (slot, state) =>
    transfer(bySlot[slot]!, slot, state, callbackArgs).map((to): [number, RegState] => [to, state]));
}

/** Applies `ins` to `state`; returns the slots control goes to next. */
function transfer(ins: Instruction, slot: number, state: RegState,
  callbackArgs: (helperId: number) => readonly number[] | undefined): number[] {
  const cls = ins.opcode & CLASS_MASK;
  const code = ins.opcode & CODE_MASK;
  const refuse = (reg: number) => {
    if (state[reg] !== NONE && state[reg] !== 0) {
      throw new InvalidInstructionError(slot, `dereference of modified func ptr R${reg} off=${state[reg]} disallowed`);
    }
  };
  if (ins.opcode === OP_LDDW) {
    state[ins.dst] = ins.src === BPF_PSEUDO_FUNC ? 0 : NONE;
    return [slot + 2];
  }
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (code === BPF_EXIT && cls === BPF_JMP) return [];
    if (code === BPF_CALL) {
      if (ins.opcode & BPF_X) refuse(ins.dst);
      else if (ins.src === 0) for (const n of callbackArgs(ins.imm) ?? []) refuse(n);
      state.fill(NONE, 0, 6); // r0 is the result, r1..r5 are clobbered
      return [slot + 1];
    }
    const to = slot + 1 + (cls === BPF_JMP32 && code === BPF_JA ? ins.imm : ins.off);
    return code === BPF_JA ? [to] : [slot + 1, to];
  }
  if (cls === BPF_ALU64 && code === BPF_MOV && (ins.opcode & BPF_X) && ins.off === 0) {
    state[ins.dst] = state[ins.src];
  } else if (cls === BPF_ALU64 && (code === BPF_ADD || code === BPF_SUB) && !(ins.opcode & BPF_X) && state[ins.dst] !== NONE) {
    state[ins.dst] = (state[ins.dst] + (code === BPF_ADD ? ins.imm : -ins.imm)) | 0; // constant pointer arithmetic
  } else {
    for (const reg of writtenRegisters(ins)) state[reg] = NONE;
  }
  return [slot + 1];
}

/** The registers an ALU, load, store or atomic instruction writes. */
function writtenRegisters(ins: Instruction): number[] {
  const cls = ins.opcode & CLASS_MASK;
  if (cls === BPF_ST) return [];
  if (cls !== BPF_STX) return [ins.dst]; // ALU, ALU32, loads
  if ((ins.opcode & MODE_MASK) !== BPF_ATOMIC) return [];
  if (ins.imm === BPF_LOAD_ACQ) return [ins.dst];
  if (ins.imm === BPF_CMPXCHG) return [0];
  return ins.imm & BPF_FETCH ? [ins.src] : []; // fetching ops and xchg return the old value
}
