/**
 * The locks the simulated CPU holds during a run (spec maps-and-kernel-objects §6.1, §6.2): the
 * bpf_spin_lock (at most one) and the rqspinlock held table of the res locks. The helpers and
 * kfuncs that take them: ../helpers/locks.ts. A run (or a timer callback) begins with nothing
 * held; one that returns holding a lock is what the verifier refuses.
 */
import { LockRuleError } from '../errors.js';
import type { SimKernel } from './kernel.js';

export interface HeldResLock {
  readonly address: bigint;
  /** The flags slot of _irqsave, else undefined. */
  readonly flags?: bigint;
  /** The call that took it. */
  readonly index: number;
}

/** The locks this CPU holds during a run. */
export class LockState {
  /** The bpf_spin_lock held (at most one, §6.1) and the call that took it. */
  spin?: { readonly address: bigint; readonly index: number };
  /** The res locks held, in acquisition order (the rqspinlock held table, §6.2). */
  readonly res: HeldResLock[] = [];

  constructor(private readonly kernel: SimKernel) {}

  /** A run starts: nothing is held. */
  begin(): void {
    this.releaseAll();
  }

  /**
   * A run (or a timer callback) returned: a lock still held is the verifier's "BPF_EXIT
   * instruction in main prog cannot be used inside bpf_spin_lock-ed region" (§6.1). Every lock
   * word is cleared either way.
   */
  end(completed: boolean): void {
    if (this.spin === undefined && this.res.length === 0) return; // the usual run: nothing held
    const spin = this.spin, res = this.res.length > 0 ? this.res[this.res.length - 1] : undefined;
    this.releaseAll();
    if (!completed) return;
    if (spin) throw new LockRuleError(spin.index, 'BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region');
    if (res) throw new LockRuleError(res.index, 'BPF_EXIT instruction in main prog cannot be used inside bpf_res_spin_lock-ed region');
  }

  private releaseAll(): void {
    if (this.spin === undefined && this.res.length === 0) return; // the usual run: nothing held
    if (this.spin) this.setWord(this.spin.address, 0);
    for (const r of this.res) this.setWord(r.address, 0);
    this.spin = undefined;
    this.res.length = 0;
  }

  setWord(address: bigint, value: number): void {
    const at = this.kernel.memory.locate(address, 4);
    at?.region.view.setUint32(at.offset, value, true);
  }
}

const STATES = new WeakMap<SimKernel, LockState>();

/** The lock state of a kernel (made on first use). */
export function lockState(kernel: SimKernel): LockState {
  let s = STATES.get(kernel);
  if (s === undefined) STATES.set(kernel, s = new LockState(kernel));
  return s;
}
