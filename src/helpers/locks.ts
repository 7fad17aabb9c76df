/**
 * bpf_spin_lock / bpf_spin_unlock (helpers #93/#94, spec maps-and-kernel-objects §6.1) and the
 * bpf_res_spin_lock kfuncs (§6.2), for one simulated CPU.
 *
 * The simulation is single-threaded: a lock word is 1 while this CPU holds it and 0 otherwise
 * (programs cannot read it; user space reads zeros, §1.2). What the kernel's verifier refuses —
 * a lock argument that is not a map value's lock, two bpf_spin_locks at once, unlocking a lock
 * not held, res locks released out of order, exiting with a lock held — ends the run with a
 * LockRuleError naming the verifier's message. A res lock taken twice is the one failure a
 * single CPU can meet at run time (AA): -EDEADLK and the kernel's report on stderr (§6.2).
 */
import { LockRuleError, RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import { lockState } from '../kernel/locks.js';
import { SPECIAL_FIELD_TYPES, type SpecialFieldKind } from '../maps/special-fields.js';
import type { BpfMap } from '../maps/base.js';
import { roundUp8 } from '../maps/types.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import type { HelperName } from '../uapi.js';

/** -EDEADLK (x86-64), what bpf_res_spin_lock returns on a deadlock. spec §0.3 */
export const EDEADLK = 35;
/** RES_NR_HELD: the held-locks table's entries (the count goes on past it). spec §6.2 */
export const RES_NR_HELD = 31;
/** What _irqsave stores in the flags slot: X86_EFLAGS_IF | the fixed bit (programs cannot read it). */
const SAVED_IRQ_FLAGS = 0x246n;

/** Where a lock argument points: the map value holding it and the lock's address. */
interface LockSite {
  readonly map: BpfMap;
  readonly address: bigint;
}

/**
 * The map value a special-field argument points into, checked as the verifier checks it
 * (process_spin_lock, process_timer_func): the pointer must be into a map value, the map must
 * have the field, and the pointer must be exactly at it. `what` names the helper in messages.
 */
export function specialFieldSite(kernel: SimKernel, ctx: CallContext, n: number, kind: SpecialFieldKind): LockSite {
  const type = SPECIAL_FIELD_TYPES[kind].name;
  const address = ctx.arg(n);
  const at = kernel.memory.locate(address, 1);
  const map = at && kernel.allMaps().find((m) => m.regions.includes(at.region));
  if (!at || !map) throw new LockRuleError(ctx.index, `R${n} is not a pointer to map_value (${hex(address)}): ${type} must be in a map value`);
  const off = map.specialFields?.[kind];
  if (off === undefined) throw new LockRuleError(ctx.index, `map '${map.name}' has no valid ${type}`);
  const inValue = at.offset % roundUp8(map.valueSize);
  if (inValue !== off) throw new LockRuleError(ctx.index, `off ${inValue} doesn't point to 'struct ${type}' that is at ${off}`);
  return { map, address };
}

/** bpf_spin_lock / bpf_spin_unlock (spec §6.1), by helper name. */
export function createLockHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const state = lockState(kernel);
  return {
    spin_lock: (ctx) => {
      const { address } = specialFieldSite(kernel, ctx, 1, 'spinLock');
      if (state.spin || state.res.length > 0) throw new LockRuleError(ctx.index, 'Locking two bpf_spin_locks are not allowed');
      state.spin = { address, index: ctx.index };
      state.setWord(address, 1);
    },
    spin_unlock: (ctx) => {
      const { address } = specialFieldSite(kernel, ctx, 1, 'spinLock');
      if (!state.spin) throw new LockRuleError(ctx.index, 'bpf_spin_unlock without taking a lock');
      if (state.spin.address !== address) throw new LockRuleError(ctx.index, 'bpf_spin_unlock of different lock');
      state.setWord(address, 0);
      state.spin = undefined;
    },
  };
}

/** A failed bpf_res_spin_lock as the kernel reports it (streams/reports.ts). spec §6.2 */
export interface ResLockFailure {
  readonly timeout: boolean;
  readonly irqsave: boolean;
  /** The lock word's address. */
  readonly attempted: bigint;
  /** The locks held, in acquisition order (at most RES_NR_HELD listed). */
  readonly held: readonly bigint[];
  readonly heldCount: number;
}

/** What the res-lock kfuncs need: the kernel, and the report to the running program's stderr. */
export interface ResLockDeps {
  readonly kernel: SimKernel;
  /** bpf_prog_report_rqspinlock_violation: to the program found from the stack (none: no report). */
  readonly report: (ctx: CallContext, failure: ResLockFailure) => void;
}

/** The bpf_res_spin_lock kfuncs (spec §6.2), by name. */
export function createResLockKfuncs(deps: ResLockDeps): Map<string, NativeFn> {
  const { kernel } = deps;
  const state = lockState(kernel);
  const flagsSlot = (ctx: CallContext): bigint => {
    const address = ctx.arg(2);
    const at = kernel.memory.locate(address, 8);
    if (!at || !at.region.writable) throw new RuntimeError(ctx.index, `flags at ${hex(address)} is not writable memory (an unsigned long on the stack)`);
    return address;
  };
  const lock = (ctx: CallContext, irqsave: boolean): number => {
    const { address } = specialFieldSite(kernel, ctx, 1, 'resSpinLock');
    if (state.spin) throw new LockRuleError(ctx.index, 'Locking two bpf_spin_locks are not allowed');
    const flags = irqsave ? flagsSlot(ctx) : undefined;
    // rqspinlock.c: AA — the lock is among this CPU's held locks → -EDEADLK, reported with the
    // locks actually held (the failed attempt removed from the table first).
    if (state.res.some((r) => r.address === address)) {
      const held = state.res.map((r) => r.address);
      deps.report(ctx, { timeout: false, irqsave, attempted: address, held: held.slice(0, RES_NR_HELD), heldCount: held.length });
      return -EDEADLK;
    }
    if (flags !== undefined) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, SAVED_IRQ_FLAGS, true);
      kernel.writeOrFail(ctx.index, flags, b);
    }
    state.res.push({ address, flags, index: ctx.index });
    state.setWord(address, 1);
    return 0;
  };
  const unlock = (ctx: CallContext, irqrestore: boolean): void => {
    const suffix = irqrestore ? '_irqrestore' : '';
    const { address } = specialFieldSite(kernel, ctx, 1, 'resSpinLock');
    const top = state.res[state.res.length - 1];
    if (!top) throw new LockRuleError(ctx.index, `bpf_res_spin_unlock${suffix} without taking a lock`);
    if (!state.res.some((r) => r.address === address)) throw new LockRuleError(ctx.index, `bpf_res_spin_unlock${suffix} of different lock`);
    if (top.address !== address) throw new LockRuleError(ctx.index, `bpf_res_spin_unlock${suffix} cannot be out of order`);
    if (irqrestore) {
      const flags = flagsSlot(ctx);
      if (top.flags === undefined) throw new LockRuleError(ctx.index, 'expected an initialized irq flag as arg#1 (the lock was not taken with bpf_res_spin_lock_irqsave)');
      if (top.flags !== flags) throw new LockRuleError(ctx.index, 'arg#1 is not the irq flag slot bpf_res_spin_lock_irqsave saved into');
    } else if (top.flags !== undefined) {
      throw new LockRuleError(ctx.index, 'bpf_res_spin_unlock of a lock taken with bpf_res_spin_lock_irqsave: use bpf_res_spin_unlock_irqrestore');
    }
    state.setWord(address, 0);
    state.res.pop();
  };
  return new Map<string, NativeFn>([
    ['bpf_res_spin_lock', (ctx) => lock(ctx, false)],
    ['bpf_res_spin_unlock', (ctx) => unlock(ctx, false)],
    ['bpf_res_spin_lock_irqsave', (ctx) => lock(ctx, true)],
    ['bpf_res_spin_unlock_irqrestore', (ctx) => unlock(ctx, true)],
  ]);
}

