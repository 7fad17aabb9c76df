/**
 * bpf_timer_init / set_callback / start / cancel (helpers #169–#172) and the kfunc
 * bpf_timer_cancel_async, with kernel/bpf/helpers.c's return codes (spec
 * maps-and-kernel-objects §6.3). The queue and the callbacks' runs: ../kernel/timers.ts.
 *
 * Contexts the simulation never has: interrupts disabled (start deferred to irq_work, cancel's
 * EOPNOTSUPP), a map without user-space references (init's EPERM), a timer being freed while
 * a program holds it (ENOENT), an allocation failure (ENOMEM).
 */
import { LockRuleError, RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import { timerQueue, type CallbackEngine, type TimerState } from '../kernel/timers.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import { EINVAL, type HelperName } from '../uapi.js';
import { EDEADLK, specialFieldSite } from './locks.js';

/** MAX_CLOCKS, and the clock ids bpf_timer_init accepts (no _ALARM variants). spec §6.3 */
const MAX_CLOCKS = 16n;
const TIMER_CLOCKS = new Set([0, 1, 7]); // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME
/** bpf_timer_start flags. spec §0.2 */
export const BPF_F_TIMER_ABS = 1n;
export const BPF_F_TIMER_CPU_PIN = 2n;

/** The helpers' ARG_PTR_TO_FUNC arguments: bpf_timer_set_callback's callback_fn. */
export const TIMER_CALLBACK_ARGS: Readonly<Partial<Record<HelperName, readonly number[]>>> = { timer_set_callback: [2] };

/** bpf_timer_* by helper name (spec §6.3). */
export function createTimerHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const queue = timerQueue(kernel);
  /** The initialised timer an ARG_PTR_TO_TIMER argument points to, or undefined (EINVAL). */
  const timer = (ctx: CallContext): TimerState | undefined => queue.at(specialFieldSite(kernel, ctx, 1, 'timer').address);
  return {
    timer_init: (ctx) => {
      const site = specialFieldSite(kernel, ctx, 1, 'timer');
      const map = kernel.mapAt(ctx.argLo(2), ctx.argHi(2));
      if (map !== site.map) {
        throw new LockRuleError(ctx.index, `timer pointer in R1 (map '${site.map.name}') doesn't match map pointer in R2 (${map ? `map '${map.name}'` : hex(ctx.arg(2))})`);
      }
      const flags = ctx.arg(3);
      const clockId = Number(flags & (MAX_CLOCKS - 1n));
      if (flags >= MAX_CLOCKS || !TIMER_CLOCKS.has(clockId)) return -EINVAL;
      if (queue.at(site.address)) return -16; // -EBUSY: already initialised
      queue.create(site.map, site.address, clockId);
      return 0;
    },
    timer_set_callback: (ctx) => {
      const t = timer(ctx);
      if (!t) return -EINVAL;
      const engine = kernel.shadow.innermost() as Partial<CallbackEngine> | undefined;
      if (!engine || typeof engine.runFunction !== 'function') throw new RuntimeError(ctx.index, 'bpf_timer_set_callback: no running program');
      t.callback = { fn: ctx.arg(2), engine: engine as CallbackEngine, program: queue.programOf(engine as CallbackEngine) };
      return 0;
    },
    timer_start: (ctx) => {
      const nsecs = ctx.arg(2), flags = ctx.arg(3);
      if (flags & ~(BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN)) return -EINVAL;
      const t = timer(ctx);
      if (!t || !t.callback) return -EINVAL;
      // hrtimer_start: ABS expires at nsecs, REL at now + nsecs (ktime_t is signed 64-bit).
      const expires = flags & BPF_F_TIMER_ABS ? BigInt.asIntN(64, nsecs) : kernel.clockNow() + BigInt.asIntN(64, nsecs);
      queue.arm(t, expires, (flags & BPF_F_TIMER_CPU_PIN) !== 0n);
      return 0;
    },
    timer_cancel: (ctx) => {
      const t = timer(ctx);
      if (!t) return -EINVAL;
      if (queue.running === t) return -EDEADLK; // its own callback: hrtimer_cancel would wait forever
      t.callback = undefined; // bpf_async_update_prog_callback(NULL): start needs set_callback again
      const armed = t.expires !== undefined;
      t.expires = undefined;
      return armed ? 1 : 0;
    },
  };
}

/**
 * The bpf_wq kfuncs (spec §6.4): a work item in a map value (its `struct bpf_wq`), whose
 * callback (map, key, value) runs later "in a worker thread": here, on the next clock advance
 * (LoadedObject.advanceTime / runTimers), at the time it was queued. Starting a queued work is a
 * no-op. 7.2 names the callback setter bpf_wq_set_callback (the program passes three
 * arguments); 6.x's bpf_wq_set_callback_impl takes a fourth (aux__prog, ignored).
 */
export function createWqKfuncs(kernel: SimKernel): Map<string, NativeFn> {
  const queue = timerQueue(kernel);
  const wq = (ctx: CallContext) => specialFieldSite(kernel, ctx, 1, 'wq');
  const setCallback: NativeFn = (ctx) => {
    const w = queue.at(wq(ctx).address);
    if (ctx.arg(3) !== 0n || !w) return -EINVAL;
    const engine = kernel.shadow.innermost() as Partial<CallbackEngine> | undefined;
    if (!engine || typeof engine.runFunction !== 'function') throw new RuntimeError(ctx.index, 'bpf_wq_set_callback: no running program');
    w.callback = { fn: ctx.arg(2), engine: engine as CallbackEngine, program: queue.programOf(engine as CallbackEngine) };
    return 0;
  };
  return new Map<string, NativeFn>([
    ['bpf_wq_init', (ctx) => {
      const site = wq(ctx);
      const map = kernel.mapAt(ctx.argLo(2), ctx.argHi(2));
      if (map !== site.map) {
        throw new LockRuleError(ctx.index, `workqueue pointer in R1 (map '${site.map.name}') doesn't match map pointer in R2 (${map ? `map '${map.name}'` : hex(ctx.arg(2))})`);
      }
      if ((ctx.arg(3) & 0xffffffffn) !== 0n) return -EINVAL;
      if (queue.at(site.address)) return -16; // -EBUSY
      queue.create(site.map, site.address, 1, 'wq');
      return 0;
    }],
    ['bpf_wq_set_callback', setCallback],
    ['bpf_wq_set_callback_impl', setCallback],
    ['bpf_wq_start', (ctx) => {
      if ((ctx.arg(2) & 0xffffffffn) !== 0n) return -EINVAL;
      const w = queue.at(wq(ctx).address);
      if (!w || !w.callback) return -EINVAL;
      if (w.expires === undefined) queue.arm(w, kernel.clockNow(), false); // schedule_work: queued once
      return 0;
    }],
  ]);
}

/**
 * The kfunc bpf_timer_cancel_async (spec §6.3): does not wait and keeps the callback; 0 not
 * armed, 1 armed and cancelled, -1 its callback is running now, -EINVAL not initialised.
 */
export function createTimerKfuncs(kernel: SimKernel): Map<string, NativeFn> {
  const queue = timerQueue(kernel);
  return new Map<string, NativeFn>([
    ['bpf_timer_cancel_async', (ctx) => {
      const t = queue.at(specialFieldSite(kernel, ctx, 1, 'timer').address);
      if (!t) return -EINVAL;
      if (queue.running === t) return -1;
      const armed = t.expires !== undefined;
      t.expires = undefined;
      return armed ? 1 : 0;
    }],
  ]);
}
