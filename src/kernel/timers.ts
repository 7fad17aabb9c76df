/**
 * bpf_timer state and the timer queue of one simulated kernel (spec maps-and-kernel-objects
 * §6.3). A timer lives in a map value (its `struct bpf_timer`, offset from BTF); bpf_timer_init
 * writes the timer's id into the first word of it, as the kernel stores its `bpf_hrtimer`
 * pointer there. A value replaced by an update (whose copy never carries the special fields,
 * §1.2) or an element deleted no longer holds the id: the timer is then freed, as the kernel
 * cancels and frees it.
 *
 * Callbacks never run inside the program that armed them: they run when the host advances the
 * clock (`advance`, `runUntil`), between program runs, in expiry order (ties: arming order), each
 * as the kernel runs it — `cb(map, key, value)` on the program that installed the callback, with
 * the clock set to the expiry. All clock ids (REALTIME, MONOTONIC, BOOTTIME) read the one
 * simulated clock.
 */
import { BpfError, LoadError, VmError, type SourceLocation } from '../errors.js';
import { lockState } from './locks.js';
import type { BpfMap } from '../maps/base.js';
import { roundUp8 } from '../maps/types.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { BPF_MAP_TYPE_ARRAY } from '../uapi.js';
import type { SimKernel } from './kernel.js';

/**
 * What runs a callback: the engine instance of the program that installed it (an Engine of
 * src/shell.ts, whose runFunction enters a function of the program as an entry point).
 */
export interface CallbackEngine {
  runFunction(address: bigint, args: readonly bigint[], options: { instructionBudget?: number }): { r0: bigint; instructions: number };
}

/** The program a callback belongs to: what errors and reports name. */
export interface TimerProgram {
  readonly name: string;
  sourceOf(slot: number): SourceLocation | undefined;
}

/** One bpf_timer (the kernel's struct bpf_hrtimer). */
export interface TimerState {
  readonly id: number;
  /** A bpf_timer, or a bpf_wq (spec §6.4: queued work, run on the next clock advance). */
  readonly kind: 'timer' | 'wq';
  readonly map: BpfMap;
  /** Address of the struct bpf_timer in the map value. */
  readonly address: bigint;
  /** CLOCK_REALTIME 0, CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7. */
  readonly clockId: number;
  /** The callback and the engine (program) that installed it; undefined: none (init, cancel). */
  callback?: { readonly fn: bigint; readonly engine: CallbackEngine; readonly program?: TimerProgram };
  /** Expiry on the simulated clock when armed. */
  expires?: bigint;
  /** Arming order, for timers expiring at the same time. */
  seq: number;
  /** BPF_F_TIMER_CPU_PIN at the last start (recorded: the callback runs on `cpu` either way). */
  pinned: boolean;
  /** The CPU that armed the timer, where its callback runs (sched-ext.md §7.4, §8.3). */
  cpu: number;
}

/** A timer armed and not yet fired, as the run report lists it. */
export interface PendingTimer {
  /** 'wq': a bpf_wq's queued work (spec §6.4). */
  readonly kind: 'timer' | 'wq';
  readonly program?: string;
  readonly map: string;
  readonly key: Uint8Array;
  /** Expiry on the simulated clock, in ns. */
  readonly expiresNs: bigint;
}

/** One callback run: what it returned or the error that ended it (located in its program). */
export interface TimerCallbackRun {
  readonly kind: 'timer' | 'wq';
  readonly program?: string;
  readonly map: string;
  readonly key: Uint8Array;
  /** The simulated time it ran at (its expiry), in ns. */
  readonly atNs: bigint;
  readonly retval?: bigint;
  readonly instructions?: number;
  readonly error?: BpfError;
}

/** Callbacks one `runUntil` runs at most: a callback that re-arms itself with 0 ns never lets time pass. */
export const MAX_TIMER_CALLBACKS = 100_000;

/** Instructions a callback may run (as a program run's default budget). */
const CALLBACK_INSTRUCTION_BUDGET = 100_000_000;

export class TimerQueue {
  private readonly timers = new Map<number, TimerState>();
  private nextId = 1;
  private nextSeq = 0;
  private readonly keyRegions = new Map<BpfMap, MemoryRegion>();
  /** The timer whose callback is running now (this_cpu hrtimer_running), for cancel's EDEADLK. */
  running?: TimerState;
  /** Finds the program an engine runs (set by the instantiation). */
  programOf: (engine: CallbackEngine) => TimerProgram | undefined = () => undefined;

  constructor(private readonly kernel: SimKernel) {}

  /** The timer at `address`, if one is initialised there (its id in memory, its element alive). */
  at(address: bigint): TimerState | undefined {
    const bytes = this.kernel.memory.read(address, 4);
    if (!bytes) return undefined;
    const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const t = this.timers.get(id);
    if (t === undefined || t.address !== address) return undefined;
    if (!this.element(t)) { this.timers.delete(id); return undefined; }
    return t;
  }

  /** bpf_timer_init's allocation: a disarmed timer without callback, its id written at `address`. */
  create(map: BpfMap, address: bigint, clockId: number, kind: 'timer' | 'wq' = 'timer'): TimerState {
    const t: TimerState = { id: this.nextId++, kind, map, address, clockId, seq: 0, pinned: false, cpu: this.kernel.cpu };
    this.timers.set(t.id, t);
    const word = new Uint8Array(4);
    new DataView(word.buffer).setUint32(0, t.id, true);
    this.kernel.memory.write(address, word);
    return t;
  }

  arm(t: TimerState, expires: bigint, pinned: boolean): void {
    t.expires = expires;
    t.pinned = pinned;
    t.cpu = this.kernel.cpu;
    t.seq = this.nextSeq++;
  }

  /** Armed timers, in the order they would fire. */
  pending(): PendingTimer[] {
    return this.armed().map((t) => ({ kind: t.kind, program: t.callback?.program?.name, map: t.map.name, key: this.element(t)!.key, expiresNs: t.expires! }));
  }

  /** Runs the callbacks due within `ns` of the clock's reading, then sets the clock there. */
  advance(ns: bigint): TimerCallbackRun[] {
    if (ns < 0n) throw new RangeError('cannot move the clock back');
    return this.runUntil(this.kernel.clockNow() + ns);
  }

  /**
   * Runs every callback expiring at or before `untilNs`, in expiry order, each at its expiry
   * (callbacks may re-arm: a re-armed timer due before `untilNs` fires again), then moves the
   * virtual clock to `untilNs`. At most MAX_TIMER_CALLBACKS callbacks run per call.
   */
  runUntil(untilNs: bigint): TimerCallbackRun[] {
    const runs: TimerCallbackRun[] = [];
    while (runs.length < MAX_TIMER_CALLBACKS) {
      const next = this.armed()[0];
      if (next === undefined || next.expires! > untilNs) break;
      this.kernel.advanceClockTo(next.expires!);
      runs.push(this.fire(next));
    }
    if (runs.length < MAX_TIMER_CALLBACKS) this.kernel.advanceClockTo(untilNs);
    return runs;
  }

  /** The expiry of the next timer to fire, if any is armed. */
  nextExpiry(): bigint | undefined {
    return this.armed()[0]?.expires;
  }

  private armed(): TimerState[] {
    const live = [...this.timers.values()].filter((t) => t.expires !== undefined && this.at(t.address) === t);
    return live.sort((a, b) => (a.expires! < b.expires! ? -1 : a.expires! > b.expires! ? 1 : a.seq - b.seq));
  }

  /** bpf_timer_cb: the timer is disarmed, then its callback runs as (map, key, value). */
  private fire(t: TimerState): TimerCallbackRun {
    const atNs = t.expires!;
    t.expires = undefined;
    const element = this.element(t)!;
    const cb = t.callback;
    const base = { kind: t.kind, program: cb?.program?.name, map: t.map.name, key: element.key, atNs };
    if (cb === undefined) return base; // cancelled callbacks never arm; kept for safety
    const keyRegion = this.keyRegion(t.map);
    keyRegion.bytes.set(element.key);
    const handle = this.kernel.handleOfMap(t.map);
    const locks = lockState(this.kernel);
    const outerContext = this.kernel.runContext;
    const outerCpu = this.kernel.cpu;
    this.kernel.runContext = undefined;
    this.kernel.cpu = t.cpu;
    this.running = t;
    locks.begin();
    let result: { r0: bigint; instructions: number } | undefined;
    try {
      try {
        result = cb.engine.runFunction(cb.fn, [handle, AddressSpace.address(keyRegion), element.value],
          { instructionBudget: CALLBACK_INSTRUCTION_BUDGET });
      } finally {
        locks.end(result !== undefined);
      }
      // The verifier allows a timer or wq callback to return only 0 (spec §6.3, §6.4).
      if (result.r0 !== 0n) {
        throw new LoadError(`program ${base.program}`, `${t.kind === 'wq' ? 'bpf_wq' : 'timer'} callback returned ${BigInt.asIntN(64, result.r0)}; `
          + 'At callback return the register R0 should have been in [0, 0] (the kernel\'s verifier refuses this program at load)');
      }
      return { ...base, retval: result.r0, instructions: result.instructions };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      if (e instanceof VmError && e.location === undefined && cb.program) e.locate(cb.program.name, cb.program.sourceOf(e.index));
      return { ...base, error: e };
    } finally {
      this.running = undefined;
      this.kernel.runContext = outerContext;
      this.kernel.cpu = outerCpu;
    }
  }

  /** The key and value address of the element holding the timer, or undefined if it is gone. */
  private element(t: TimerState): { key: Uint8Array; value: bigint } | undefined {
    const off = t.map.specialFields?.[t.kind];
    if (off === undefined) return undefined;
    const value = t.address - BigInt(off);
    if (t.map.type === BPF_MAP_TYPE_ARRAY) {
      const at = this.kernel.memory.locate(value, 1);
      if (!at || !t.map.regions.includes(at.region)) return undefined;
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, at.offset / roundUp8(t.map.valueSize), true);
      return { key, value };
    }
    let found: Uint8Array | undefined;
    const each = (t.map as unknown as { forEachElement?(cpu: number, fn: (key: Uint8Array, v: bigint) => boolean): number }).forEachElement;
    each?.call(t.map, this.kernel.cpu, (key, v) => {
      if (v !== value) return false;
      found = key.slice();
      return true;
    });
    return found && { key: found, value };
  }

  /** Where a callback's key argument points (for arrays the kernel computes it on the fly). */
  private keyRegion(map: BpfMap): MemoryRegion {
    let r = this.keyRegions.get(map);
    if (r === undefined) {
      r = this.kernel.memory.map(`timer callback key of ${map.name}`, new Uint8Array(Math.max(map.keySize, 1)), false);
      this.keyRegions.set(map, r);
    }
    return r;
  }
}

const QUEUES = new WeakMap<SimKernel, TimerQueue>();

/** The timer queue of a kernel (made on first use). */
export function timerQueue(kernel: SimKernel): TimerQueue {
  let q = QUEUES.get(kernel);
  if (q === undefined) QUEUES.set(kernel, q = new TimerQueue(kernel));
  return q;
}
