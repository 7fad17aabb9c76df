/**
 * Which call sites of a sleepable program run in a non-sleepable context, as the Linux 7.2
 * verifier decides per call site (spec kernel-arena-streams §2, verifier.c:in_sleepable_context,
 * check_kfunc_call marks insn_aux->non_sleepable): a call inside a bpf_spin_lock /
 * bpf_res_spin_lock region, a bpf_rcu_read_lock region, a bpf_preempt_disable region or a
 * bpf_local_irq_save region, or in a bpf_timer callback (verified as non-sleepable). The mark
 * is sticky — one path in such a region marks the call — so a region depth that differs between
 * paths counts as inside. specialize_kfunc then gives such a call the non-sleepable arena
 * kfuncs (the deferred free).
 *
 * Callees inherit the region of their call sites; a timer callback is a function whose address
 * (`ld_imm64 src=4`) is in r2 at a bpf_timer_set_callback call of the same function.
 */
import { forwardFlow, NONE } from './dataflow.js';
import { Instruction } from './instruction.js';
import {
  BPF_CALL, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32, BPF_LD, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_X,
  CLASS_MASK, CODE_MASK, OP_LDDW,
} from './opcodes.js';
import type { ProgramLayout } from './validate.js';

const BPF_FUNC_spin_lock = 93;
const BPF_FUNC_spin_unlock = 94;
const BPF_FUNC_timer_set_callback = 170;

/** kfuncs that open (+1) or close (-1) a non-sleepable region. */
const REGION_KFUNCS: ReadonlyMap<string, number> = new Map([
  ['bpf_rcu_read_lock', 1], ['bpf_rcu_read_unlock', -1],
  ['bpf_preempt_disable', 1], ['bpf_preempt_enable', -1],
  ['bpf_local_irq_save', 1], ['bpf_local_irq_restore', -1],
  ['bpf_res_spin_lock', 1], ['bpf_res_spin_unlock', -1],
  ['bpf_res_spin_lock_irqsave', 1], ['bpf_res_spin_unlock_irqrestore', -1],
]);

/** The slots of call instructions that run in a non-sleepable context. */
export function nonSleepableCallSites(insns: readonly Instruction[], layout: ProgramLayout,
  kfuncName: (imm: number) => string | undefined): Set<number> {
  const bySlot: Array<Instruction | undefined> = new Array(layout.slotCount);
  insns.forEach((ins, k) => { bySlot[layout.slots[k]] = ins; });
  const delta = (ins: Instruction): number => {
    if (ins.src === 0) return ins.imm === BPF_FUNC_spin_lock ? 1 : ins.imm === BPF_FUNC_spin_unlock ? -1 : 0;
    if (ins.src === BPF_PSEUDO_KFUNC_CALL) return REGION_KFUNCS.get(kfuncName(ins.imm) ?? '') ?? 0;
    return 0;
  };
  const isCall = (ins: Instruction | undefined) => ins !== undefined && ins.opcode === (BPF_JMP | BPF_CALL);

  // Timer callbacks: r2 = a function's address (kept until r2 is written) at bpf_timer_set_callback.
  const timerCallbacks = new Set<number>();
  let r2Func = -1;
  for (let s = 0; s < layout.slotCount; s++) {
    const ins = bySlot[s];
    if (!ins) continue;
    if (layout.subprogStarts.includes(s)) r2Func = -1;
    if (ins.opcode === OP_LDDW && ins.dst === 2) r2Func = ins.src === BPF_PSEUDO_FUNC ? s + 1 + ins.imm : -1;
    else if (isCall(ins) && ins.src === 0 && ins.imm === BPF_FUNC_timer_set_callback && r2Func >= 0) timerCallbacks.add(r2Func);
    else if (isCall(ins) || ((ins.opcode & CLASS_MASK) !== BPF_JMP && (ins.opcode & CLASS_MASK) !== BPF_JMP32 && ins.dst === 2)) r2Func = -1;
  }

  // The region depth before each slot (one word); callbacks start outside any region.
  const seeds: Array<[number, Int32Array]> = [[0, Int32Array.of(0)]];
  insns.forEach((ins, k) => {
    if (ins.opcode === OP_LDDW && ins.src === BPF_PSEUDO_FUNC) {
      const target = layout.slots[k] + 1 + ins.imm;
      seeds.push([target, Int32Array.of(timerCallbacks.has(target) ? 1 : 0)]);
    }
  });
  const before = forwardFlow(layout.slotCount, seeds, (slot, state) => {
    const ins = bySlot[slot]!;
    const cls = ins.opcode & CLASS_MASK;
    const code = ins.opcode & CODE_MASK;
    if (ins.opcode === OP_LDDW) return [[slot + 2, state]];
    if (cls === BPF_LD) return [[slot + 1, state]];
    if (cls !== BPF_JMP && cls !== BPF_JMP32) return [[slot + 1, state]];
    if (code === BPF_EXIT && cls === BPF_JMP) return [];
    if (code === BPF_CALL) {
      const next: Array<[number, Int32Array]> = [];
      if (!(ins.opcode & BPF_X) && ins.src === BPF_PSEUDO_CALL) next.push([slot + 1 + ins.imm, state.slice()]);
      if (state[0] !== NONE) state[0] = Math.max(0, state[0] + delta(ins));
      next.push([slot + 1, state]);
      return next;
    }
    const to = slot + 1 + (cls === BPF_JMP32 && code === BPF_JA ? ins.imm : ins.off);
    return code === BPF_JA ? [[to, state]] : [[slot + 1, state], [to, state.slice()]];
  });
  const sites = new Set<number>();
  bySlot.forEach((ins, slot) => {
    const state = before[slot];
    // The lock/irq-save call itself is outside; what it opens starts after it.
    if (isCall(ins) && state !== undefined && state[0] !== 0) sites.add(slot);
  });
  return sites;
}
