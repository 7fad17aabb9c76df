/**
 * The simulated kernel state a loaded object's programs share: memory, maps by handle, the
 * trace pipe, the clock, the random source, the current CPU and task. Helpers are closures over
 * one SimKernel, so two loaded objects never see each other's state.
 */
import { MAP_HANDLE_HI } from '../addresses.js';
import { MemoryAccessError } from '../errors.js';
import { fromU64, splitU64Into, toU64 } from '../int64.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { ShadowStack } from '../runtime.js';
import { EventLog } from '../events.js';
import type { BpfMap } from '../maps/base.js';
import { Fib, type FibConfig } from '../net/fib.js';
import { KernelObjects, resolveTask, type SimTask, type TaskOptions } from './objects.js';

export interface KernelOptions {
  /** Number of possible CPUs (per-CPU maps hold one value each). Default 2. */
  readonly nrCpus?: number;
  /** The CPU programs run on (bpf_get_smp_processor_id). Default 0. */
  readonly cpu?: number;
  /**
   * bpf_ktime_get_ns: 'virtual' (default) starts at `clockStartNs` and advances by
   * `clockStepNs` on every read, so runs are reproducible; 'real' reads the host's monotonic clock.
   */
  readonly clock?: 'virtual' | 'real';
  readonly clockStartNs?: bigint;
  readonly clockStepNs?: bigint;
  /** Seed of bpf_get_prandom_u32. Default 1. */
  readonly seed?: number;
  /** The task programs run in (bpf_get_current_pid_tgid). Defaults: pid = tgid = 1. */
  readonly pid?: number;
  readonly tgid?: number;
  /**
   * The current task (bpf_get_current_task(_btf), _pid_tgid, _comm, _uid_gid): pid and tgid
   * here win over the ones above. Defaults: pid = tgid = 1, uid = gid = 0, comm "bpfrun".
   */
  readonly task?: TaskOptions;
  /**
   * The simulated FIB bpf_fib_lookup consults (devices, routes, neighbours; spec
   * program-types §4.7), as plain data or parsed. Default: lo only, forwarding off. A bad
   * configuration is a FibConfigError.
   */
  readonly fib?: FibConfig | Fib;
  /** CONFIG_HZ, the tick rate of bpf_jiffies64. Default 250 (the kconfig default). */
  readonly hz?: number;
}

/** The netns cookie of init_net (7.2: NET_NS_INIT_ID, include/uapi/linux/nsfs.h). */
export const INIT_NET_COOKIE = 7n;

export class SimKernel {
  readonly memory = new AddressSpace();
  /** The engines running now, outermost first (bpf_prog_find_from_stack walks it). */
  readonly shadow = new ShadowStack();
  readonly nrCpus: number;
  /** The CPU the running program executes on (a host that simulates several CPUs moves it). */
  cpu: number;
  readonly pid: number;
  readonly tgid: number;
  /**
   * The task the running program executes in, when a host simulates tasks (the sched_ext host):
   * `current` for bpf_get_current_task(_btf), _pid_tgid and _comm. Unset: `currentTask`.
   */
  current?: { readonly address: bigint; readonly pid: number; readonly tgid: number; readonly comm: string };
  /** The current task, completed from KernelOptions.task. */
  readonly currentTask: SimTask;
  /** The kernel objects behind pointers: map structs, task_struct, per-CPU data (./objects.ts). */
  readonly objects: KernelObjects;
  /** The FIB of bpf_fib_lookup. */
  readonly fib: Fib;
  /** CONFIG_HZ. */
  readonly hz: number;
  /**
   * The last socket cookie handed out (sock_gen_cookie): each test run's dummy socket takes the
   * next one the first time a program asks, so the first is 1 in a fresh kernel.
   */
  private lastCookie = 0n;
  /** Stream messages and faults, in order (for run records). */
  readonly events = new EventLog();
  /** Lines written by bpf_trace_printk / bpf_trace_vprintk (the trace_pipe), in order. */
  readonly trace: string[] = [];
  /**
   * The kernel object behind the context of the test run in progress (an skb, an xdp_buff, the
   * flow dissector's keys): what converted context accesses and packet helpers work on.
   */
  runContext: unknown;
  private readonly maps: BpfMap[] = [];
  private readonly clockMode: 'virtual' | 'real';
  /**
   * The virtual clock's reading and step as int32 halves: ktime helpers read it on every call,
   * and (lo, hi) arithmetic allocates no BigInt. It counts as a u64 (wraps after 584 years).
   */
  private clockLo: number;
  private clockHi: number;
  private readonly stepLo: number;
  private readonly stepHi: number;
  private rngState: number;

  constructor(options: KernelOptions = {}) {
    this.nrCpus = options.nrCpus ?? 2;
    this.cpu = options.cpu ?? 0;
    if (!Number.isInteger(this.nrCpus) || this.nrCpus < 1) throw new RangeError('nrCpus must be a positive integer');
    if (!Number.isInteger(this.cpu) || this.cpu < 0 || this.cpu >= this.nrCpus) throw new RangeError(`cpu must be in 0..${this.nrCpus - 1}`);
    this.currentTask = resolveTask(options.task, options.pid, options.tgid);
    this.pid = this.currentTask.pid;
    this.tgid = this.currentTask.tgid;
    this.objects = new KernelObjects(this.memory, this.nrCpus, this.currentTask, this.cpu);
    this.clockMode = options.clock ?? 'virtual';
    [this.clockLo, this.clockHi] = fromU64(u64Option('clockStartNs', options.clockStartNs ?? 1_000_000_000n));
    [this.stepLo, this.stepHi] = fromU64(u64Option('clockStepNs', options.clockStepNs ?? 1_000n));
    this.rngState = (options.seed ?? 1) >>> 0 || 1;
    this.hz = options.hz ?? 250;
    if (!Number.isInteger(this.hz) || this.hz < 1) throw new RangeError('hz must be a positive integer');
    this.fib = options.fib === undefined ? Fib.DEFAULT : options.fib instanceof Fib ? options.fib : Fib.parse(options.fib);
  }

  /**
   * Registers a map and returns the handle value `ld_imm64` of the map yields: a kernel-looking
   * address (MAP_HANDLE_WINDOW) where the map's kernel struct is mapped read-only
   * (`struct bpf_map` first, then the type's container fields: ./objects.ts, spec §3.4).
   */
  addMap(map: BpfMap): bigint {
    this.maps.push(map);
    this.objects.addMap(map, this.maps.length - 1);
    return this.handleOf(this.maps.length - 1);
  }

  private handleOf(index: number): bigint {
    return toU64((index + 1) << 12, MAP_HANDLE_HI);
  }

  /** The handle of a registered map (what `ld_imm64` of it yields); 0n if not registered. */
  handleOfMap(map: BpfMap): bigint {
    const i = this.maps.indexOf(map);
    return i < 0 ? 0n : this.handleOf(i);
  }

  allMaps(): readonly BpfMap[] {
    return this.maps;
  }

  /** The map a handle names, or undefined. */
  mapOfHandle(handle: bigint): BpfMap | undefined {
    const [lo, hi] = fromU64(handle);
    return this.mapAt(lo, hi);
  }

  /** mapOfHandle for a handle held as (lo, hi) int32 halves, as helpers find it in registers. */
  mapAt(lo: number, hi: number): BpfMap | undefined {
    if (hi !== MAP_HANDLE_HI || (lo & 0xfff) !== 0) return undefined;
    return this.maps[(lo >>> 12) - 1];
  }

  /** The task programs run in, as stack dumps and reports name it. */
  task(): { readonly cpu: number; readonly uid: number; readonly gid: number; readonly pid: number; readonly tgid: number; readonly comm: string } {
    const t = this.current ?? this.currentTask;
    return { cpu: this.cpu, uid: this.currentTask.uid, gid: this.currentTask.gid, pid: t.pid, tgid: t.tgid, comm: t.comm };
  }

  /** The address of the current task's `struct task_struct`. */
  currentTaskAddress(): bigint {
    return this.current?.address ?? this.objects.currentTask();
  }

  ktimeNs(): bigint {
    if (this.clockMode === 'real') return process.hrtime.bigint();
    const now = toU64(this.clockLo, this.clockHi);
    this.tick();
    return now;
  }

  /** ktimeNs as a helper's direct form: the reading's halves to a[0], a[1] (no BigInt on the virtual clock). */
  ktimeInto(a: Int32Array): void {
    if (this.clockMode === 'real') {
      splitU64Into(process.hrtime.bigint(), a, 0);
      return;
    }
    a[0] = this.clockLo;
    a[1] = this.clockHi;
    this.tick();
  }

  /** The virtual clock advances by its step. */
  private tick(): void {
    const lo = this.clockLo;
    this.clockLo = (lo + this.stepLo) | 0;
    this.clockHi = (this.clockHi + this.stepHi + ((lo >>> 0) + (this.stepLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
  }

  /**
   * The clock's reading without advancing it (bpf_timer expiries are set and compared
   * against it, spec §6.3): the virtual clock's current value, or the host's monotonic clock.
   */
  clockNow(): bigint {
    return this.clockMode === 'real' ? process.hrtime.bigint() : toU64(this.clockLo, this.clockHi);
  }

  /** Moves the virtual clock to `ns` if that is later (timers firing); no-op on a real clock. */
  advanceClockTo(ns: bigint): void {
    if (this.clockMode !== 'virtual' || ns <= toU64(this.clockLo, this.clockHi)) return;
    [this.clockLo, this.clockHi] = fromU64(ns > U64_MAX ? U64_MAX : ns); // a u64: it stops at its maximum rather than wrap back
  }

  get virtualClock(): boolean { return this.clockMode === 'virtual'; }

  /**
   * get_jiffies_64() at the clock's current reading: INITIAL_JIFFIES ((u32)(-300 * HZ), so the
   * 32-bit jiffies wrap five minutes after boot) plus the ticks since boot.
   */
  jiffies64(): bigint {
    const hz = BigInt(this.hz);
    return ((1n << 32n) - 300n * hz) + (this.ktimeNs() * hz) / 1_000_000_000n;
  }

  /** gen_cookie_next(&sock_cookie): a new socket cookie, never 0. */
  nextSocketCookie(): bigint {
    return ++this.lastCookie;
  }

  /** A deterministic 32-bit random value (xorshift32). */
  prandomU32(): number {
    let x = this.rngState;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.rngState = x;
    return x;
  }

  /**
   * Bytes a helper must read (a key, a value): the verifier guarantees them in the kernel, so
   * here an unmapped range is the program's bug and ends the run naming the call.
   */
  readOrFail(index: number, address: bigint, len: number): Uint8Array {
    const bytes = this.memory.read(address, len);
    if (!bytes) throw this.accessError(index, 'read', address, len);
    return bytes;
  }

  /**
   * A view (not a copy) of `len` bytes at the address (lo, hi), for a helper that reads them
   * at once and keeps nothing; a MemoryAccessError at `index` otherwise.
   */
  viewOrFail(index: number, lo: number, hi: number, len: number): Uint8Array {
    const region = this.regionOrFail(index, lo, hi, len);
    const off = (lo >>> 0) - region.start;
    return region.bytes.subarray(off, off + len);
  }

  /** readOrFail for an address held as (lo, hi) int32 halves: a copy of the bytes. */
  copyOrFail(index: number, lo: number, hi: number, len: number): Uint8Array {
    const region = this.regionOrFail(index, lo, hi, len);
    const off = (lo >>> 0) - region.start;
    return region.bytes.slice(off, off + len);
  }

  /** The region holding `len` bytes at (lo, hi), which a helper must read; a MemoryAccessError at `index` otherwise. */
  regionOrFail(index: number, lo: number, hi: number, len: number): MemoryRegion {
    const region = this.memory.find(lo, hi, len);
    if (!region) throw this.memory.outOfBounds(index, 'read', lo, hi, Math.max(len, 1));
    return region;
  }

  writeOrFail(index: number, address: bigint, bytes: Uint8Array): void {
    if (!this.memory.write(address, bytes)) throw this.accessError(index, 'write', address, bytes.length);
  }

  private accessError(index: number, access: 'read' | 'write', address: bigint, len: number): MemoryAccessError {
    const [lo, hi] = fromU64(address);
    return this.memory.outOfBounds(index, access, lo, hi, Math.max(len, 1));
  }
}

const U64_MAX = (1n << 64n) - 1n;

/** A clock option, which must be a u64. */
function u64Option(name: string, v: bigint): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new RangeError(`${name} must be a bigint in 0..2^64 - 1`);
  return v;
}
