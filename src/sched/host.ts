/**
 * The sched_ext host (sched-ext.md §2, §4, §7): a deterministic, event-driven simulated machine
 * that runs a loaded sched_ext scheduler's struct_ops programs as Linux 7.2 calls them — the
 * enable sequence (§2.2), wakeups, the pick and the dispatch loop, put_prev / set_next, ticks,
 * sleeps and exits (§2.3), DSQs (§4.1), the dispatch buffer (§4.2), slices (§4.4), built-in idle
 * tracking and the default CPU picker (§4.5), the watchdog (§4.6), exits and the exit info
 * (§4.8), cids and the cid form's arena rules and `set_cmask` scratch (§5).
 *
 * One op runs at a time (the kernel runs them concurrently on different CPUs: races the
 * schedulers tolerate collapse to one interleaving, §7.5). Time moves only between events; BPF
 * execution and context switches take no simulated time.
 *
 * Where this host is simpler than the kernel (each is documented at the code):
 * - the workload tasks that start at 0 exist when the scheduler is enabled (init_task with
 *   fork = false, enable, set_weight, set_cpumask at switch-in) and wake at 0; the others are
 *   forked at their start time. Nothing is runnable while bypass is on, so the bypass cycle of
 *   §2.2 steps 11–15 moves no task (SCX_EV_BYPASS_ACTIVATE still counts one activation);
 * - no higher scheduling classes, no hotplug, no cgroups beyond the root, no core scheduling.
 */
import { LoadError } from '../errors.js';
import { latin1Text } from '../text.js';
import { timerQueue } from '../kernel/timers.js';
import { essentialName } from '../loader/core.js';
import { kernelBtf } from '../kernel/kernel-btf.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { ArenaMap } from '../maps/arena.js';
import type { LoadedObject, StructOps } from '../object.js';
import type { Program } from '../program.js';
import type { EngineName } from '../engines.js';
import {
  DEQ_MOVE, DEQ_NOCLOCK, DEQ_SAVE, DEQ_SLEEP, ENQ_INITIAL, ENQ_MIGRATED, ENQ_NOCLOCK, SCX_WAKE_FORK, ENQ_RESTORE, ENQ_WAKEUP, EVENT_NAMES, EXIT_REASONS,
  PF_EXITING, PF_IDLE, PF_KTHREAD, SCX_DEQ_SCHED_CHANGE, SCX_DSP_DFL_MAX_BATCH, SCX_DSP_MAX_LOOPS, SCX_EFLAG_INITIALIZED,
  SCX_ENQ_CPU_SELECTED, SCX_ENQ_DSQ_PRIQ, SCX_ENQ_HEAD, SCX_ENQ_IMMED, SCX_ENQ_INTERNAL_MASK, SCX_ENQ_LAST, SCX_ENQ_PREEMPT, SCX_ENQ_REENQ,
  SCX_TASK_REENQ_KFUNC, SCX_OPS_ALWAYS_ENQ_IMMED, SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART, SCX_ECODE_RSN_HOTPLUG,
  SCX_EXIT_DUMP_DFL_LEN, SCX_EXIT_ERROR, SCX_EXIT_ERROR_STALL, SCX_EXIT_MSG_LEN, SCX_EXIT_REASON_LEN, SCX_EXIT_UNREG,
  SCX_KICK_IDLE, SCX_KICK_PREEMPT, SCX_KICK_WAIT, SCX_OPS_ALL_FLAGS, SCX_OPS_BUILTIN_IDLE_PER_NODE, SCX_OPS_ENQ_EXITING,
  SCX_OPS_ENQ_LAST, SCX_OPS_KEEP_BUILTIN_IDLE, SCX_OPS_TID_TO_TASK, SCX_SLICE_BYPASS, SCX_SLICE_DFL,
  SCX_SLICE_INF, SCX_WAKE_TTWU, SCX_WATCHDOG_MAX_TIMEOUT_MS, niceToScxWeight, type EventName,
} from './constants.js';
import {
  Dsq, SCX_DSQ_BYPASS, SCX_DSQ_FLAG_BUILTIN, SCX_DSQ_FLAG_LOCAL_ON, SCX_DSQ_GLOBAL, SCX_DSQ_LOCAL, SCX_DSQ_LOCAL_ON,
} from './dsq.js';
import { EventQueue, type SimEvent } from './events.js';
import type { Machine } from './machine.js';
import { Task, TaskLayout } from './task.js';
import { CgroupTree, type SimCgroup } from './cgroups.js';
import { IdleCpus } from './idle.js';
import type { WorkloadSpec } from './workload.js';
import { KFUNC_GROUPS, opAllows, SLEEPABLE_MEMBERS, CPU_ONLY_KFUNCS } from './kfunc-groups.js';

/** Why a scheduler could not be attached (the link creation failed): errno and the kernel's words. */
export class SchedAttachError extends LoadError {
  constructor(readonly errno: number, message: string) {
    super('sched_ext attach', message);
    this.name = 'SchedAttachError';
  }
}

/** The host broke one of its own invariants (a bug in bpfrun, never in the scheduler). */
export class SchedInvariantError extends LoadError {
  constructor(what: string) {
    super('sched_ext host invariant', what);
    this.name = 'SchedInvariantError';
  }
}

/** A sched_ext feature the host does not simulate: the run stops rather than guess. */
export class SchedUnsupportedError extends LoadError {
  constructor(what: string) {
    super('sched_ext host', `${what} is not simulated by bpfrun's sched_ext host`);
    this.name = 'SchedUnsupportedError';
  }
}

export interface SchedOptions {
  readonly engine?: EngineName;
  /** Simulated time to run after the enable (ns). */
  readonly durationNs: number;
  /** CONFIG_HZ (default 1000). */
  readonly hz?: number;
  /** Record every op call in the trace (time, CPU, op, task, result). Default false: only the hash. */
  readonly opTrace?: boolean;
  /** Called every `progressEveryNs` of simulated time with the time reached. */
  readonly onProgress?: (nowNs: number) => void;
  readonly progressEveryNs?: number;
  /** Instructions an op may execute (default 10^7). */
  readonly opInstructionBudget?: number;
  /** Check the host's invariants after every event (slower; tests turn it on). */
  readonly selfCheck?: boolean;
  /** Host behaviours a task's `{"call": NAME}` step runs (a loader's user-space part). */
  readonly calls?: Readonly<Record<string, () => void>>;
}

/** The exit info a user sees (struct scx_exit_info, the loader's UEI report: §1.8, §4.8). */
export interface ExitInfo {
  readonly kind: number;
  readonly exitCode: bigint;
  readonly reason: string;
  readonly msg: string;
  readonly exitCpu: number;
  /** Simulated time of the exit, ns since enable. */
  readonly atNs: number;
  readonly dump: string;
  /** The loader's line: `EXIT: <reason> (<msg>) on CPU <n>`. */
  readonly line: string;
  /** The exit code asks the loader to restart the scheduler (SCX_ECODE_ACT_RESTART). */
  readonly restart: boolean;
  /** The BPF call chain that raised it (symbol+offset and source line, innermost first); empty when the host raised it. */
  readonly backtrace: readonly string[];
}

/** A running slice on a CPU, for traces. */
export interface RunSlice {
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  readonly start: number;
  readonly end: number;
  /** How a running slice ended: R still runnable (preempted, or the run's end), S asleep, X exited. */
  readonly out?: 'R' | 'S' | 'X';
}

/** A task woken (or forked) onto a CPU, for traces. */
export interface Wakeup { readonly t: number; readonly pid: number; readonly comm: string; readonly cpu: number }

/** DSQ depth samples, for traces: [time, depth] pairs per DSQ label. */
export type DsqSeries = Map<string, [number, number][]>;

export interface OpRecord { readonly t: number; readonly cpu: number; readonly op: string; readonly args: string; readonly ret: string }

const CPU_OPS_OF_CID: Readonly<Record<string, string>> = {
  select_cpu: 'select_cid', set_cpumask: 'set_cmask', dump_cpu: 'dump_cid', cpu_online: 'cid_online', cpu_offline: 'cid_offline',
};

interface CpuState {
  readonly id: number;
  curr: Task | undefined;
  readonly idleTask: Task;
  readonly local: Dsq<Task>;
  readonly bypass: Dsq<Task>;
  /** When the current task's runtime was last charged. */
  lastCharge: number;
  /** Bumped at every switch, so stale burst-end events are ignored. */
  gen: number;
  busyNs: number;
  picks: number;
  dispatchCalls: number;
  idleEntries: number;
  kicksReceived: number;
  cpuperfTarget: number;
  /** The dispatch buffer (§4.2). */
  readonly dsp: { task: Task; qseq: number; dsqId: bigint; flags: bigint; vtime?: bigint }[];
  /** Kicks this CPU raised, run after the op chain (the irq_work). */
  readonly kicks: { target: number; flags: bigint }[];
}

/** The op a kfunc runs inside (scx_kf_allow / the subject task checks). */
interface OpFrame { readonly op: string; readonly cpu: number; readonly subject?: Task }

export class SchedHost {
  readonly cidForm: boolean;
  readonly name: string;
  readonly flags: bigint;
  readonly timeoutMs: number;
  readonly dispatchMaxBatch: number;
  readonly exitDumpLen: number;
  readonly tasks: Task[] = [];
  readonly cpus: CpuState[] = [];
  readonly userDsqs = new Map<bigint, Dsq<Task>>();
  readonly globals: Dsq<Task>[] = [];
  readonly events = new Map<EventName, number>(EVENT_NAMES.map((n) => [n, 0]));
  readonly opCounts = new Map<string, number>();
  readonly slices: RunSlice[] = [];
  readonly waitSlices: RunSlice[] = [];
  readonly wakeups: Wakeup[] = [];
  readonly dsqSeries: DsqSeries = new Map();
  readonly opTrace: OpRecord[] = [];
  /** FNV-1a over every op call: equal on both engines and every run with the same inputs. */
  opHash = 0x811c9dc5;
  /** scx_bpf_dump output of the dump ops, line by line. */
  private dumpLines: string[] = [];
  private dumping = false;
  now = 0;
  /** The kernel clock at enable: simulated time 0. */
  private readonly base: number;
  exit?: ExitInfo;
  private pendingExit?: { kind: number; code: bigint; msg: string; cpu: number; backtrace: string[] };
  bypassing = false;
  readonly builtinIdle: boolean;
  /** The built-in idle masks and picker (./idle.ts); `idle[cpu]` is the idle bit. */
  readonly idleCpus: IdleCpus;
  get idle(): boolean[] { return this.idleCpus.idle; }
  readonly members = new Map<string, Program>();
  private readonly memberOf = new Map<Program, string>();
  private readonly queue = new EventQueue();
  private readonly taskByAddress = new Map<bigint, Task>();
  private readonly taskByPid = new Map<number, Task>();
  private readonly opStack: OpFrame[] = [];
  private readonly argsRegion: MemoryRegion;
  /** The address of each nesting depth's args block. */
  private readonly argsAddresses: bigint[];
  private readonly invokeOptions: { engine?: EngineName; instructionBudget: number };
  /** A number per op name, for the op hash. */
  private readonly opIds = new Map<string, number>();
  private readonly structRegion: MemoryRegion;
  private readonly exitRegion: MemoryRegion;
  private readonly layout = new TaskLayout();
  private readonly tasksRegion: MemoryRegion;
  /** CPUs to reschedule at this instant (resched_curr), by CPU. */
  private readonly needResched: boolean[] = [];
  private readonly tickNs: number;
  private initialized = false;
  private readonly options: SchedOptions;
  /** cid form: the arena and the per-CPU set_cmask scratch (offsets in the arena, §5.3–5.4). */
  private readonly arena?: ArenaMap;
  private scratch: number[] = [];
  private nextTid = 1;
  /** The workload's cgroups (the root and those it declares) and the cgroup of each task. */
  readonly cgroups: CgroupTree;
  private readonly cgroupOf = new Map<Task, SimCgroup>();
  /** The cgroups ops.cgroup_init accepted, in pre-order (cgroup_exit runs in reverse). */
  private readonly cgroupsInited: SimCgroup[] = [];

  constructor(readonly loaded: LoadedObject, readonly ops: StructOps, readonly machine: Machine, readonly workload: WorkloadSpec,
    options: SchedOptions) {
    this.options = options;
    const k = loaded.kernel;
    this.base = Number(k.clockNow());
    this.tickNs = Math.round(1e9 / (options.hz ?? 1000));
    // libbpf finds the kernel type by the struct's name without its ___flavour (§1.4).
    const typeName = essentialName(ops.typeName);
    if (typeName !== 'sched_ext_ops' && typeName !== 'sched_ext_ops_cid') {
      throw new SchedAttachError(22, `struct_ops map ${ops.name} is a ${ops.typeName}, not a sched_ext_ops or sched_ext_ops_cid`);
    }
    this.cidForm = typeName === 'sched_ext_ops_cid';
    checkMembers(ops, typeName);
    for (const [member, program] of ops.programs) {
      this.members.set(member, program);
      this.memberOf.set(program, member);
      // bpf_scx_check_member: only some members may be sleepable programs (§1.2 "S").
      if (program.spec.type.sleepable && !SLEEPABLE_MEMBERS.has(member)) {
        throw new SchedAttachError(22, `${program.name}: member ${member} cannot be a sleepable program (struct_ops.s) (EINVAL)`);
      }
    }
    // bpf_scx_init_member (§1.3).
    const data = (m: string) => ops.data(m).value as bigint;
    const maxBatch = Number(data('dispatch_max_batch'));
    if (maxBatch > 0x7fffffff) throw new SchedAttachError(7, `dispatch_max_batch ${maxBatch} is too large (E2BIG)`);
    this.dispatchMaxBatch = maxBatch || SCX_DSP_DFL_MAX_BATCH;
    this.flags = data('flags');
    if (this.flags & ~SCX_OPS_ALL_FLAGS) throw new SchedAttachError(22, `flags 0x${this.flags.toString(16)} has bits outside SCX_OPS_ALL_FLAGS (EINVAL)`);
    const timeout = Number(data('timeout_ms'));
    if (timeout > SCX_WATCHDOG_MAX_TIMEOUT_MS) throw new SchedAttachError(7, `timeout_ms ${timeout} is more than 30 s (E2BIG)`);
    this.timeoutMs = timeout || SCX_WATCHDOG_MAX_TIMEOUT_MS;
    this.exitDumpLen = Number(data('exit_dump_len')) || SCX_EXIT_DUMP_DFL_LEN;
    const nameBytes = ops.data('name').bytes;
    const end = nameBytes.indexOf(0);
    this.name = latin1Text(nameBytes.subarray(0, end < 0 ? nameBytes.length : end));
    if (this.name === '' || !/^[A-Za-z0-9_.]+$/.test(this.name)) throw new SchedAttachError(22, `ops name '${this.name}' is empty or not [A-Za-z0-9_.] (EINVAL)`);
    // §5.2: a cid-form scheduler uses exactly one arena, found through its member programs.
    if (this.cidForm) {
      const arenas = new Set([...ops.programs.values()].map((p) => p.arena).filter((a): a is ArenaMap => a !== undefined));
      if (arenas.size > 1) throw new SchedAttachError(22, 'sched_ext: cid-form scheduler uses multiple arena maps');
      if (arenas.size === 0) throw new SchedAttachError(22, 'sched_ext: cid-form scheduler must use a BPF arena map');
      this.arena = [...arenas][0];
    }
    if (this.flags & SCX_OPS_ALWAYS_ENQ_IMMED) throw new SchedUnsupportedError('SCX_OPS_ALWAYS_ENQ_IMMED');
    this.builtinIdle = !this.members.has('update_idle') || (this.flags & SCX_OPS_KEEP_BUILTIN_IDLE) !== 0n;
    this.idleCpus = new IdleCpus(machine);
    const mem = k.memory;
    this.argsRegion = mem.map('sched_ext op arguments (u64 args[])', new Uint8Array(8 * 8 * 16), false);
    this.argsAddresses = Array.from({ length: 16 }, (_, d) => AddressSpace.address(this.argsRegion, d * 64));
    this.invokeOptions = { engine: options.engine, instructionBudget: options.opInstructionBudget ?? 10_000_000 };
    [...this.members.keys()].sort().forEach((m, i) => this.opIds.set(m, i + 1));
    this.structRegion = mem.map('sched_ext op argument structs', new Uint8Array(4096), true);
    this.cgroups = new CgroupTree(k, workload.cgroups);
    this.exitRegion = mem.map('struct scx_exit_info and its strings', new Uint8Array(256 + SCX_EXIT_REASON_LEN + SCX_EXIT_MSG_LEN + this.exitDumpLen), false);
    // Tasks: the workload's, then one idle task per CPU (pid 0, PF_IDLE | PF_KTHREAD).
    const specs = workload.tasks.flatMap((s) => Array.from({ length: s.count }, (_, i) => ({ s, comm: s.count > 1 ? `${s.name}-${i}`.slice(0, 15) : s.name })));
    this.tasksRegion = mem.map('task_structs', new Uint8Array(this.layout.size * (specs.length + machine.nrCpus)), true);
    const base = AddressSpace.address(this.tasksRegion);
    const makeTask = (slot: number, pid: number, comm: string, spec: WorkloadSpec['tasks'][number] | undefined) => {
      const off = slot * this.layout.size;
      const t = new Task(pid, comm, spec, this.tasksRegion, off, base + BigInt(off), this.layout, machine.nrCpus);
      this.writeTaskStruct(t);
      return t;
    };
    specs.forEach(({ s, comm }, i) => {
      const t = makeTask(i, 100 + i, comm, s);
      // Spread unpinned tasks over their allowed CPUs for their first runqueue.
      const allowed = t.allowed.flatMap((a, c) => (a ? [c] : []));
      t.cpu = allowed[i % allowed.length];
      this.cgroupOf.set(t, this.cgroups.path(s.cgroup)!);
      this.tasks.push(t);
      this.taskByAddress.set(t.address, t);
      this.taskByPid.set(t.pid, t);
    });
    for (let c = 0; c < machine.nrCpus; c++) {
      const idleTask = makeTask(specs.length + c, 0, `swapper/${c}`, undefined);
      idleTask.cpu = c;
      idleTask.allowed = idleTask.allowed.map((_, i) => i === c);
      idleTask.writeAffinity();
      this.taskByAddress.set(idleTask.address, idleTask);
      this.cpus.push({
        id: c, curr: undefined, idleTask, local: new Dsq<Task>(SCX_DSQ_LOCAL, 'local', c), bypass: new Dsq<Task>(SCX_DSQ_BYPASS, 'bypass', c),
        lastCharge: 0, gen: 0, busyNs: 0, picks: 0, dispatchCalls: 0, idleEntries: 0, kicksReceived: 0, cpuperfTarget: 1024,
        dsp: [], kicks: [],
      });
    }
    for (let n = 0; n < machine.nrNodes; n++) this.globals.push(new Dsq<Task>(SCX_DSQ_GLOBAL, 'global', machine.nrNodes > 1 ? n : -1));
  }

  private writeTaskStruct(t: Task): void {
    const v = t.region.view, o = t.offset, L = this.layout;
    v.setInt32(o + L.pid, t.pid, true);
    v.setInt32(o + L.tgid, t.pid, true);
    for (let i = 0; i < 16; i++) v.setUint8(o + L.comm + i, i < t.comm.length ? t.comm.charCodeAt(i) : 0);
    t.setFlags(t.idle ? PF_IDLE | PF_KTHREAD : t.kthread ? PF_KTHREAD : 0);
    v.setInt32(o + L.staticPrio, 120 + t.nice, true);
    v.setBigUint64(o + L.cpusPtr, t.address + BigInt(L.cpusMask), true);
    t.writeAffinity();
    t.setSlice(SCX_SLICE_DFL);
    t.setWeight(niceToScxWeight(t.nice));
    if (!t.idle) v.setBigUint64(o + L.scxTid, BigInt(this.nextTid++), true);
  }

  // ---- Running ops ----

  /** The op a CPU-form member name has in this form. */
  private member(op: string): string { return this.cidForm ? CPU_OPS_OF_CID[op] ?? op : op; }
  has(op: string): boolean { return this.members.has(this.member(op)); }

  /** A CPU argument as the scheduler sees it: the cid in the cid form (§5.1). */
  cpuArg(cpu: number): bigint { return BigInt(this.cidForm ? this.machine.cpuToCid[cpu] : cpu); }

  /**
   * Calls op `op` (its cpu-form name) on `cpu` with the u64 arguments; undefined if the scheduler
   * does not implement it. `subject` is the task the op is about (direct dispatch, select_cpu_dfl
   * checks).
   */
  callOp(op: string, cpu: number, args: readonly bigint[], subject?: Task): bigint | undefined {
    const name = this.member(op);
    const program = this.members.get(name);
    if (!program) return undefined;
    const depth = this.opStack.length;
    if (depth >= 16) throw new LoadError(`op ${name}`, 'sched_ext ops nested 16 deep (a host bug)');
    const view = this.argsRegion.view;
    for (let i = 0; i < args.length; i++) view.setBigUint64(depth * 64 + i * 8, BigInt.asUintN(64, args[i]), true);
    const k = this.loaded.kernel;
    const outerCpu = k.cpu, outerCurrent = k.current;
    k.cpu = cpu;
    k.current = (this.cpus[cpu].curr ?? this.cpus[cpu].idleTask).current;
    this.opStack.push({ op: name, cpu, subject });
    let r0: bigint;
    try {
      r0 = program.invoke([this.argsAddresses[depth]], this.invokeOptions).r0;
    } finally {
      this.opStack.pop();
      k.cpu = outerCpu;
      k.current = outerCurrent;
    }
    this.opCounts.set(name, (this.opCounts.get(name) ?? 0) + 1);
    this.record(cpu, name, depth, args.length, r0);
    return r0;
  }

  /**
   * Folds an op call into the op hash (FNV-1a over the time, CPU, op, arguments and result as
   * 32-bit words: the arguments are read back from the args block); with opTrace, also a line.
   */
  private record(cpu: number, op: string, depth: number, nargs: number, r0: bigint): void {
    let h = this.opHash;
    const mix = (w: number) => { h = Math.imul(h ^ (w & 0xffff), 0x01000193); h = Math.imul(h ^ (w >>> 16), 0x01000193); };
    mix(this.now % 0x100000000); mix(Math.floor(this.now / 0x100000000)); mix(cpu); mix(this.opIds.get(op)!);
    const view = this.argsRegion.view;
    for (let i = 0; i < nargs * 2; i++) mix(view.getUint32(depth * 64 + i * 4, true));
    mix(Number(r0 & 0xffffffffn)); mix(Number((r0 >> 32n) & 0xffffffffn));
    this.opHash = h >>> 0;
    if (this.options.opTrace) {
      const args = Array.from({ length: nargs }, (_, i) => view.getBigUint64(depth * 64 + i * 8, true));
      const argText = args.map((a) => this.taskByAddress.get(a)?.label ?? `0x${a.toString(16)}`).join(',');
      this.opTrace.push({ t: this.now, cpu, op, args: argText, ret: BigInt.asIntN(64, r0).toString() });
    }
  }

  /** The op a kfunc is called from (innermost), or undefined from a timer callback or outside ops. */
  currentOp(): OpFrame | undefined { return this.opStack[this.opStack.length - 1]; }

  /** The CPU executing the running BPF code. */
  get thisCpu(): number { return this.loaded.kernel.cpu; }

  /**
   * The kfunc filter (§2.8), checked when a call runs (the verifier checks reachable calls, so
   * the result is the same): a kfunc outside the groups its program's member allows is the
   * verifier's refusal of that program.
   */
  checkKfunc(name: string, index: number): void {
    const program = this.loaded.runningProgram();
    const member = program && this.memberOf.get(program);
    if (!program || member === undefined) return;
    if (this.cidForm && CPU_ONLY_KFUNCS.has(name)) {
      throw new LoadError(`program ${program.name}`, `insn ${index}: calling kernel function ${name} is not allowed (a cpu-only kfunc in a cid-form scheduler)`);
    }
    const groups = KFUNC_GROUPS.get(name);
    if (groups === undefined || opAllows(member, groups)) return;
    const src = program.sourceOf(index);
    throw new LoadError(`program ${program.name}`, `insn ${index}: calling kernel function ${name} is not allowed`
      + ` (${groups.join('/')} kfunc in ops.${member}; the kernel's verifier refuses this program at load)${src ? ` (${src.file}:${src.line}: ${src.text.trim()})` : ''}`);
  }

  taskAt(address: bigint): Task | undefined { return this.taskByAddress.get(address); }
  /** The task's cgroup (idle tasks are in the root). */
  taskCgroup(t: Task): SimCgroup { return this.cgroupOf.get(t) ?? this.cgroups.root; }
  taskByPidOf(pid: number): Task | undefined { return this.taskByPid.get(pid); }

  // ---- Exits (§2.4, §4.8) ----

  /** scx_exit / scx_error: the first claim wins; the disable runs after the current event. */
  claimExit(kind: number, code: bigint, msg: string, cpu = this.thisCpu): void {
    if (this.pendingExit || this.exit) return;
    this.pendingExit = { kind, code, msg: msg.slice(0, SCX_EXIT_MSG_LEN - 1), cpu, backtrace: this.bpfBacktrace() };
  }

  /**
   * Where the exit was raised: the BPF call chain running now (innermost first), each frame
   * with its source line — what the dump's `Backtrace:` shows in place of the kernel's.
   */
  private bpfBacktrace(): string[] {
    const program = this.loaded.runningProgram();
    const source = this.loaded.kernel.shadow.innermost();
    if (!program || !source) return [];
    return program.stackFrames(source.frames()).map((f) => `  ${f.symbol}+0x${f.offset.toString(16)}/0x${f.size.toString(16)}`
      + (f.source ? `  ${f.source.file}:${f.source.line}: ${f.source.text.trim()}` : ''));
  }

  error(msg: string, cpu?: number): void { this.claimExit(SCX_EXIT_ERROR, 0n, msg, cpu); }

  get aborting(): boolean { return this.pendingExit !== undefined || this.exit !== undefined; }

  // ---- Enable (§2.2) ----

  private enable(): void {
    // Step 6: built-in idle on unless update_idle replaces it; every online CPU starts idle.
    this.idle.fill(true);
    for (const c of this.cpus) c.lastCharge = this.now;
    // Step 7: ops.init().
    const r = this.callOp('init', 0, []);
    if (r !== undefined && BigInt.asIntN(64, r) !== 0n) {
      this.error(`ops.init() failed (${BigInt.asIntN(32, r)})`, 0);
      return;
    }
    this.initialized = true;
    if (this.pendingExit) return;
    // Step 8: cid form: the sub-allocator, then each possible CPU's set_cmask scratch (§5.3).
    if (this.arena) this.allocCmaskScratch(this.arena);
    // Step 9: the loader's hotplug_seq (if set) against the kernel's count of hotplug events.
    const expected = this.ops.data('hotplug_seq').value as bigint;
    if (expected !== 0n && expected !== this.hotplugSeq) {
      this.claimExit(SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG,
        `expected hotplug seq ${expected} did not match actual ${this.hotplugSeq}`, 0);
      return;
    }
    // Step 10: validate_ops.
    if ((this.flags & SCX_OPS_ENQ_LAST) && !this.has('enqueue')) { this.error('SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented', 0); return; }
    if ((this.flags & SCX_OPS_BUILTIN_IDLE_PER_NODE) && !this.builtinIdle) {
      this.error('SCX_OPS_BUILTIN_IDLE_PER_NODE requires CPU idle selection enabled', 0);
      return;
    }
    // Step 11: bypass on (nothing is runnable yet, see the header), counted.
    this.bump('SCX_EV_BYPASS_ACTIVATE');
    // Step 12: ops.cgroup_init for every cgroup, pre-order from the root, with its weight and
    // the bandwidth defaults (period 100 ms, no quota, no burst).
    for (const c of this.cgroups.all) {
      const cgArgs = this.structArgs(3, 32);
      cgArgs.view.setUint32(cgArgs.offset, c.weight, true);
      cgArgs.view.setBigUint64(cgArgs.offset + 8, 100_000n, true);
      cgArgs.view.setBigUint64(cgArgs.offset + 16, (1n << 64n) - 1n, true);
      const cg = this.callOp('cgroup_init', 0, [c.address, cgArgs.address]);
      if (cg !== undefined && BigInt.asIntN(64, cg) !== 0n) { this.error(`ops.cgroup_init() failed (${BigInt.asIntN(32, cg)})`, 0); return; }
      this.cgroupsInited.push(c);
    }
    // Step 13: init_task for every task present (start 0); step 14: switch-in of each. Tasks
    // with a later start are forked then (§2.3 A).
    const present = this.tasks.filter((t) => t.spec!.start === 0);
    for (const t of present) {
      const err = this.initTask(t, false);
      if (err !== 0) {
        this.error(err > 0 ? `ops.init_task() returned an invalid errno ${err}` : `ops.init_task() failed (${err}) for ${t.label}`, 0);
        return;
      }
    }
    for (const t of present) {
      this.callOp('enable', 0, [t.address], t);
      t.enabled = true;
      this.callOp('set_weight', 0, [t.address, BigInt(t.weight())], t);
      this.callSetCpumask(t, 0);
      if (this.pendingExit) return;
    }
    for (const t of this.tasks) this.queue.push(this.now + t.spec!.start, { kind: t.spec!.start === 0 ? 'wake' : 'fork', pid: t.pid });
    for (const h of this.workload.hotplug) this.queue.push(this.now + h.at, { kind: 'hotplug', cpu: h.cpu, online: h.online });
    this.queue.push(this.now + this.tickNs, { kind: 'tick' });
    this.queue.push(this.now + Math.max(1, Math.floor((this.timeoutMs * 1e6) / 2)), { kind: 'watchdog' });
  }

  /** ops.init_task(p, {fork, cgroup}) on the task's CPU: 0, or the op's errno (§2.5). */
  private initTask(t: Task, fork: boolean): number {
    const args = this.structArgs(0, 16);
    args.view.setUint8(args.offset, fork ? 1 : 0);
    args.view.setBigUint64(args.offset + 8, this.taskCgroup(t).address, true);
    const ret = this.callOp('init_task', fork ? t.cpu : 0, [t.address, args.address], t);
    const err = ret === undefined ? 0 : Number(BigInt.asIntN(32, ret));
    if (err === 0) t.inited = true;
    return err;
  }

  /**
   * §2.3 A: a task forked at its start time (on its first CPU, standing in for the parent's):
   * init_task (fork = true; an error fails the fork: the task never runs), enable, set_weight
   * (no set_cpumask at fork), then the first wakeup with SCX_WAKE_FORK and ENQ_INITIAL.
   */
  private fork(t: Task): void {
    const err = this.initTask(t, true);
    if (err !== 0) {
      if (err > 0) this.error(`ops.init_task() returned an invalid errno ${err}`, t.cpu);
      t.state = 'dead';
      return;
    }
    this.callOp('enable', t.cpu, [t.address], t);
    t.enabled = true;
    this.callOp('set_weight', t.cpu, [t.address, BigInt(t.weight())], t);
    this.wake(t, t.cpu, true);
  }

  /** A scratch struct for op arguments (init_task args, exit_task args): its address and view. */
  private structArgs(slot: number, size: number): { address: bigint; view: DataView; offset: number } {
    const offset = slot * 256;
    this.structRegion.bytes.fill(0, offset, offset + size);
    return { address: AddressSpace.address(this.structRegion, offset), view: this.structRegion.view, offset };
  }

  /**
   * §5.3: scx_arena_alloc for each possible CPU's cmask scratch, 16 + 8·(ceil(P/64)+1) bytes,
   * from a pool that grows by max(4, ceil(size/4096)) pages of the arena's own allocator. With
   * no frees the pool's first fit is a bump through the newest chunk.
   */
  private allocCmaskScratch(arena: ArenaMap): void {
    const P = this.machine.nrCpus;
    const words = Math.ceil(P / 64) + 1;
    const size = 16 + 8 * words;
    let chunkStart = 0, chunkEnd = 0;
    for (let c = 0; c < P; c++) {
      if (chunkStart + size > chunkEnd) {
        const pages = Math.max(4, Math.ceil(size / 4096));
        const user = arena.allocPagesSleepable(0n, pages, -1, 0n);
        if (user === 0n) { this.error('failed to allocate the set_cmask scratch from the arena', 0); return; }
        chunkStart = Number(user & 0xffffffffn);
        chunkEnd = chunkStart + pages * 4096;
      }
      this.scratch.push(chunkStart);
      const header = new Uint8Array(16);
      const dv = new DataView(header.buffer);
      dv.setUint32(0, 0, true); dv.setUint32(4, P, true); dv.setUint32(8, words, true);
      this.arenaWrite(arena, chunkStart, header);
      chunkStart += Math.ceil(size / 8) * 8;
    }
  }

  /** A kernel write into the arena through the kernel mapping (page-fault recovery applies, §5.4). */
  private arenaWrite(arena: ArenaMap, offset: number, bytes: Uint8Array): void {
    this.loaded.arenaKernel.write(arena.kernVmStart + BigInt(offset), bytes, 'scx_set_cmask_scratch');
  }

  /** ops.set_cpumask(p, p->cpus_ptr), or in the cid form set_cmask with the executing CPU's scratch (§5.4). */
  private callSetCpumask(t: Task, cpu: number): void {
    if (!this.cidForm) { this.callOp('set_cpumask', cpu, [t.address, t.address + BigInt(this.layout.cpusMask)], t); return; }
    if (!this.has('set_cpumask') || !this.arena) return;
    const P = this.machine.nrCpus, words = Math.ceil(P / 64) + 1;
    const bits = new Uint8Array(8 * words);
    const dv = new DataView(bits.buffer);
    t.allowed.forEach((a, c) => {
      if (!a) return;
      const cid = this.machine.cpuToCid[c];
      const w = cid >> 6;
      dv.setBigUint64(w * 8, dv.getBigUint64(w * 8, true) | (1n << BigInt(cid & 63)), true);
    });
    const slot = this.scratch[cpu];
    this.arenaWrite(this.arena, slot + 16, bits);
    this.callOp('set_cpumask', cpu, [t.address, BigInt(slot)], t);
  }

  // ---- The event loop ----

  run(): SchedResult {
    this.enable();
    const end = this.now + this.options.durationNs;
    const every = this.options.progressEveryNs ?? 0;
    let nextProgress = every > 0 ? this.now + every : Infinity;
    const timers = timerQueue(this.loaded.kernel);
    this.settle();
    while (!this.pendingExit) {
      const evTime = this.queue.peekTime();
      const timerAt = timers.nextExpiry();
      const timerTime = timerAt === undefined ? Infinity : Number(timerAt) - this.base;
      const next = Math.min(evTime ?? Infinity, timerTime);
      if (next > end) break;
      if (next >= nextProgress) { this.options.onProgress?.(next); nextProgress += every; }
      this.setNow(Math.max(next, this.now));
      if (timerTime <= (evTime ?? Infinity)) {
        for (const run of this.loaded.runTimers(BigInt(this.base + this.now))) if (run.error) throw run.error;
      } else {
        this.handle(this.queue.pop()!.event);
      }
      this.settle();
    }
    if (!this.pendingExit) {
      this.setNow(Math.max(this.now, end));
      this.chargeAll();
      this.claimExit(SCX_EXIT_UNREG, 0n, '', -1);
    }
    this.disable();
    return this.result();
  }

  private setNow(t: number): void {
    this.now = t;
    this.loaded.kernel.advanceClockTo(BigInt(this.base + t));
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': this.tick(); this.queue.push(this.now + this.tickNs, ev); break;
      case 'watchdog': this.watchdog(); this.queue.push(this.now + Math.max(1, Math.floor((this.timeoutMs * 1e6) / 2)), ev); break;
      case 'wake': {
        const t = this.taskByPid.get(ev.pid)!;
        if (t.state === 'new' || t.state === 'sleeping') this.wake(t, t.cpu);
        break;
      }
      case 'fork': this.fork(this.taskByPid.get(ev.pid)!); break;
      case 'hotplug': this.hotplug(ev.cpu, ev.online); break;
      case 'burst': {
        const c = this.cpus[ev.cpu];
        if (c.gen === ev.gen && c.curr) this.burstEnd(c);
        break;
      }
    }
  }

  /** Runs what the event left behind at this instant: kicks (irq_work), then reschedules, CPU order. */
  private settle(): void {
    for (let guard = 0; guard < 100_000; guard++) {
      if (this.pendingExit) return;
      let progressed = false;
      if (this.runReenqs()) progressed = true;
      for (const c of this.cpus) {
        if (c.kicks.length === 0) continue;
        progressed = true;
        for (const k of c.kicks.splice(0)) this.runKick(c, k.target, k.flags);
      }
      const cpu = this.needResched.indexOf(true); // the lowest CPU first
      if (cpu >= 0) {
        this.needResched[cpu] = false;
        this.schedule(this.cpus[cpu]);
        progressed = true;
      }
      if (!progressed) {
        if (this.options.selfCheck) this.checkInvariants();
        return;
      }
    }
    this.error('the CPUs kept rescheduling at one instant 100000 times (a scheduling livelock)');
  }

  /**
   * The host's own invariants (sched-ext.md §7.8), checked after every event when
   * SchedOptions.selfCheck is on: a task is in at most one DSQ and knows which; a running task
   * is its CPU's current task, on an allowed CPU and in no DSQ; a runnable task runs nowhere;
   * PRIQ DSQs are in vtime order; a queued (BPF-held) task is in no DSQ. A violation is a host
   * bug: SchedInvariantError.
   */
  private checkInvariants(): void {
    const fail = (what: string) => { throw new SchedInvariantError(`${what} (at ${this.now} ns)`); };
    const seen = new Map<Task, Dsq<Task>>();
    const dsqs = [...this.cpus.flatMap((c) => [c.local, c.bypass]), ...this.globals, ...this.userDsqs.values()];
    for (const d of dsqs) {
      for (const t of d.tasks) {
        if (seen.has(t)) fail(`${t.label} is in ${seen.get(t)!.label} and ${d.label}`);
        seen.set(t, d);
        if (t.dsq !== d) fail(`${t.label} is in ${d.label} but records ${t.dsq?.label ?? 'none'}`);
        if (t.state !== 'runnable') fail(`${t.label} is ${t.state} but queued in ${d.label}`);
        if (t.queued) fail(`${t.label} is held by BPF and queued in ${d.label}`);
      }
      if (d.priq) {
        for (let i = 1; i < d.tasks.length; i++) {
          if (BigInt.asIntN(64, d.tasks[i].vtime() - d.tasks[i - 1].vtime()) < 0n) fail(`PRIQ ${d.label} is out of vtime order at ${i}`);
        }
      }
    }
    for (const c of this.cpus) {
      const t = c.curr;
      if (!t) continue;
      if (t.state !== 'running' && t.state !== 'sleeping') fail(`${t.label} is CPU ${c.id}'s current task but ${t.state}`);
      if (t.cpu !== c.id || !t.allowed[c.id]) fail(`${t.label} runs on CPU ${c.id} (task_cpu ${t.cpu}, allowed: ${t.allowed[c.id]})`);
      if (seen.has(t)) fail(`${t.label} runs on CPU ${c.id} and is queued in ${seen.get(t)!.label}`);
    }
    for (const t of this.tasks) {
      if (t.state === 'running' && this.cpus[t.cpu].curr !== t) fail(`${t.label} is running but not CPU ${t.cpu}'s current task`);
    }
  }

  resched(cpu: number): void { this.needResched[cpu] = true; }

  private bump(ev: EventName, n = 1): void { this.events.set(ev, this.events.get(ev)! + n); }

  // ---- Runtime accounting (§4.4) ----

  private charge(c: CpuState): void {
    const t = c.curr;
    const ran = this.now - c.lastCharge;
    c.lastCharge = this.now;
    if (!t || ran <= 0) return;
    const slice = t.slice();
    if (slice !== SCX_SLICE_INF) t.setSlice(slice > BigInt(ran) ? slice - BigInt(ran) : 0n);
    t.addExecRuntime(ran);
    t.runtime += ran;
    t.burstLeft -= ran;
    c.busyNs += ran;
  }

  private chargeAll(): void { for (const c of this.cpus) this.charge(c); }

  // ---- Wakeup (§2.3 B) ----

  private wake(t: Task, wakerCpu: number, fork = false): void {
    this.prepareBurst(t);
    if (t.state === 'dead') { this.disableTask(t, t.cpu); return; }
    t.state = 'runnable';
    t.runnableAt = this.now;
    // wake_up_new_task: NOCLOCK|INITIAL, and no RQ_SELECTED although select_cpu ran (§8.2).
    let flags = fork ? ENQ_NOCLOCK | ENQ_INITIAL : ENQ_WAKEUP | ENQ_NOCLOCK;
    const wakeFlags = fork ? SCX_WAKE_FORK : SCX_WAKE_TTWU;
    const prev = t.cpu;
    let cpu = prev;
    t.ddsp = undefined;
    if (t.nrAllowed > 1) {
      if (this.has('select_cpu') && !this.bypassing) {
        const r = this.callOp('select_cpu', wakerCpu, [t.address, this.cpuArg(prev), wakeFlags], t);
        if (this.pendingExit) return;
        cpu = this.cpuFromArg(BigInt.asIntN(32, r!), 'ops.select_cpu()');
        if (cpu < 0) return;
        if (!t.allowed[cpu]) { cpu = this.fallbackCpu(t, cpu); this.bump('SCX_EV_SELECT_CPU_FALLBACK'); }
        if (!fork) flags |= SCX_ENQ_CPU_SELECTED;
      } else {
        const picked = this.selectCpuDfl(t, prev, undefined, 0n, wakerCpu);
        if (picked >= 0) {
          cpu = picked;
          t.setSlice(this.sliceDfl());
          this.bump('SCX_EV_REFILL_SLICE_DFL');
          t.ddsp = { dsqId: SCX_DSQ_LOCAL, flags: 0n };
        }
      }
    }
    if (cpu !== prev) { t.cpu = cpu; t.migrations++; if (!fork) flags |= ENQ_MIGRATED; }
    this.wakeups.push({ t: this.now, pid: t.pid, comm: t.comm, cpu });
    this.callOp('runnable', wakerCpu, [t.address, flags], t);
    this.doEnqueue(t, flags, wakerCpu);
    if (!this.cpus[cpu].curr) this.resched(cpu);
  }

  /** The CPU a select_cpu result names (a cid in the cid form); -1 after an invalid one (scheduler error). */
  private cpuFromArg(v: bigint, what: string): number {
    const n = Number(v);
    const cpu = this.cpuOf(n);
    if (cpu < 0) this.error(`invalid ${this.cidForm ? 'cid' : 'CPU'} ${n} from ${what}`);
    return cpu;
  }

  /** The CPU a scheduler's CPU number names (a cid in the cid form, §5.1), or -1 out of range. */
  private cpuOf(n: number): number {
    if (n < 0 || n >= this.machine.nrCpus) return -1;
    return this.cidForm ? this.machine.cidToCpu[n] : n;
  }

  /** select_fallback_rq: an allowed CPU, in the node of `cpu` first. */
  private fallbackCpu(t: Task, cpu: number): number {
    const near = this.machine.nodeSpan(cpu).find((c) => t.allowed[c]);
    return near ?? t.allowed.indexOf(true);
  }

  sliceDfl(): bigint { return this.bypassing ? SCX_SLICE_BYPASS : SCX_SLICE_DFL; }

  /** do_enqueue_task (§2.3 B4): the first rule that matches decides. */
  private doEnqueue(t: Task, flags: bigint, execCpu: number): void {
    const local = this.cpus[t.cpu].local;
    if (this.bypassing) {
      this.bump('SCX_EV_BYPASS_DISPATCH');
      this.toBuiltin(t, this.cpus[t.cpu].bypass, flags, execCpu);
      return;
    }
    if (t.ddsp) { this.directDispatch(t, execCpu); return; }
    if ((t.flags() & PF_EXITING) && !(this.flags & SCX_OPS_ENQ_EXITING)) {
      this.bump('SCX_EV_ENQ_SKIP_EXITING');
      this.refill(t);
      this.toBuiltin(t, local, flags, execCpu);
      return;
    }
    if (!this.has('enqueue')) {
      this.refill(t);
      this.toBuiltin(t, this.globalOf(t.cpu), flags, execCpu);
      return;
    }
    t.qseq++;
    this.callOp('enqueue', execCpu, [t.address, flags], t);
    if (t.ddsp) { this.directDispatch(t, execCpu); return; }
    t.queued = true;
    t.custody = true;
  }

  private refill(t: Task): void {
    t.setSlice(this.sliceDfl());
    this.bump('SCX_EV_REFILL_SLICE_DFL');
  }

  private directDispatch(t: Task, execCpu: number): void {
    const d = t.ddsp!;
    t.ddsp = undefined;
    this.dispatchEnqueue(t, d.dsqId, d.flags, t.cpu, execCpu, d.vtime);
  }

  globalOf(cpu: number): Dsq<Task> { return this.globals[this.machine.nrNodes > 1 ? this.machine.nodeOf[cpu] : 0]; }

  /**
   * find_dsq_for_dispatch + dispatch_enqueue (§4.1): resolve the target (LOCAL = the local DSQ
   * of `localCpu`), insert, and wake an idle target.
   */
  /**
   * The CPU an `SCX_DSQ_LOCAL_ON | n` id names (n is a cid in the cid form, §5.1): `cpu` -1
   * when n is out of range; undefined when the id is not a LOCAL_ON one.
   */
  private localOn(dsqId: bigint): { n: number; cpu: number } | undefined {
    if ((dsqId & SCX_DSQ_LOCAL_ON) !== SCX_DSQ_LOCAL_ON) return undefined;
    const n = Number(dsqId & 0xffffffffn);
    return { n, cpu: this.cpuOf(n) };
  }

  dispatchEnqueue(t: Task, dsqId: bigint, flags: bigint, localCpu: number, execCpu: number, vtime?: bigint): void {
    let target: Dsq<Task> | undefined;
    const on = this.localOn(dsqId);
    if (dsqId === SCX_DSQ_LOCAL) target = this.cpus[localCpu].local;
    else if (on) {
      if (on.cpu < 0) {
        this.error(`invalid ${this.cidForm ? 'cid' : 'CPU'} ${on.n} in SCX_DSQ_LOCAL_ON dispatch verdict`, execCpu);
        target = this.globalOf(t.cpu);
      } else target = this.cpus[on.cpu].local;
    } else if (dsqId === SCX_DSQ_GLOBAL) target = this.globalOf(t.cpu);
    else if (dsqId & SCX_DSQ_FLAG_BUILTIN) {
      this.error(`invalid DSQ ID 0x${dsqId.toString(16).padStart(16, '0')}`, execCpu);
      target = this.globalOf(t.cpu);
    } else {
      target = this.userDsqs.get(dsqId);
      if (!target || target.destroyed) {
        this.error(target ? 'attempting to dispatch to a destroyed dsq' : `non-existent DSQ 0x${dsqId.toString(16)}`, execCpu);
        target = this.globalOf(t.cpu);
      }
    }
    if (target.kind === 'user') {
      const priq = vtime !== undefined || (flags & SCX_ENQ_DSQ_PRIQ) !== 0n;
      if (target.priq === undefined) target.priq = priq;
      else if (target.priq !== priq) {
        this.error(`DSQ ID 0x${dsqId.toString(16).padStart(16, '0')} already had ${target.priq ? 'PRIQ' : 'FIFO'}-enqueued tasks`, execCpu);
        return;
      }
      if (priq) target.insertVtime(t); else target.insertFifo(t, (flags & SCX_ENQ_HEAD) !== 0n);
      t.custody = true;
      t.queued = false;
      return;
    }
    if (vtime !== undefined) this.error('cannot use vtime ordering for built-in DSQs', execCpu);
    if (target.kind === 'local' && target.cpu !== t.cpu) {
      const dst = target.cpu;
      if (!t.allowed[dst]) {
        this.error(`SCX_DSQ_LOCAL[_ON] target CPU ${dst} not allowed for ${t.label}`, execCpu);
        target = this.globalOf(t.cpu);
      } else { t.cpu = dst; t.migrations++; }
    }
    this.toBuiltin(t, target, flags, execCpu);
  }

  /** Into a local, global or bypass DSQ: the task leaves BPF custody (ops.dequeue(p, 0), §4.1). */
  private toBuiltin(t: Task, dsq: Dsq<Task>, flags: bigint, execCpu: number): void {
    t.queued = false;
    if (t.custody) {
      t.custody = false;
      this.callOp('dequeue', execCpu, [t.address, 0n], t);
    }
    const head = (flags & (SCX_ENQ_HEAD | SCX_ENQ_PREEMPT)) !== 0n;
    dsq.insertFifo(t, head);
    if (dsq.kind !== 'local') return;
    const c = this.cpus[dsq.cpu];
    if (!c.curr) this.resched(c.id);
    else if ((flags & SCX_ENQ_PREEMPT) && c.curr !== t) { c.curr.setSlice(0n); this.resched(c.id); }
  }

  // ---- Picking the next task (§2.3 C) ----

  private schedule(c: CpuState): void {
    const prev = c.curr;
    this.charge(c);
    const prevQueued = prev !== undefined && prev.state === 'running';
    if (prevQueued && !this.bypassing && prev.slice() > 0n) { this.armBurst(c); return; }
    c.picks++;
    let next: Task | undefined;
    let keepPrev = false;
    if (c.local.length === 0 && !this.consumeGlobal(c)) {
      if (this.bypassing) this.consume(c, c.bypass);
      else if (this.has('dispatch')) keepPrev = this.dispatchLoop(c, prev, prevQueued);
    }
    if (this.pendingExit) return;
    if (keepPrev) { this.armBurst(c); return; }
    if (c.local.length > 0) {
      next = c.local.tasks[0];
      c.local.remove(next);
      if (next.slice() === 0n) this.refill(next);
    } else if (prevQueued && (!(this.flags & SCX_OPS_ENQ_LAST) || this.bypassing)) {
      if (prev.slice() === 0n) this.refill(prev);
      this.bump('SCX_EV_DISPATCH_KEEP_LAST');
      this.armBurst(c);
      return;
    }
    this.switchTo(c, prev, prevQueued, next);
  }

  /** The ops.dispatch loop (§2.3 C4, §4.2); true when prev is to keep running. */
  private dispatchLoop(c: CpuState, prev: Task | undefined, prevQueued: boolean): boolean {
    for (let loop = 0; loop < SCX_DSP_MAX_LOOPS; loop++) {
      const before = this.dispatchProgress;
      c.dispatchCalls++;
      this.callOp('dispatch', c.id, [this.cpuArg(c.id), prev && !prev.idle ? prev.address : 0n]);
      this.flushDispatch(c);
      if (this.pendingExit) return false;
      if (prevQueued && prev!.slice() > 0n) return true;
      if (c.local.length > 0 || this.consumeGlobal(c)) return false;
      if (this.dispatchProgress === before) return false;
    }
    this.resched(c.id); // kick self and give up this round
    return false;
  }

  /** Bumped by every insert flushed and task moved, so the dispatch loop sees progress. */
  dispatchProgress = 0;

  /** flush_dispatch_buf + finish_dispatch (§4.2): stale entries are dropped silently. */
  flushDispatch(c: CpuState): void {
    const entries = c.dsp.splice(0);
    for (const e of entries) {
      if (!e.task.queued || e.task.qseq !== e.qseq || e.task.state !== 'runnable') continue;
      this.dispatchProgress++;
      this.dispatchEnqueue(e.task, e.dsqId, e.flags, c.id, c.id, e.vtime);
    }
  }

  /** Moves the first task of the node's global DSQ that may run on `c` to its local DSQ. */
  private consumeGlobal(c: CpuState): boolean {
    return this.consume(c, this.globalOf(c.id));
  }

  consume(c: CpuState, dsq: Dsq<Task>): boolean {
    const t = dsq.tasks.find((x) => x.allowed[c.id]);
    if (!t) return false;
    dsq.remove(t);
    if (t.cpu !== c.id) { t.cpu = c.id; t.migrations++; }
    this.dispatchProgress++;
    this.toBuiltin(t, c.local, 0n, c.id);
    return true;
  }

  /** put_prev_task_scx + set_next_task_scx (§2.3 C7). */
  private switchTo(c: CpuState, prev: Task | undefined, prevQueued: boolean, next: Task | undefined): void {
    if (prev) {
      this.endSlice(c, prev);
      if (prevQueued) {
        this.callOp('stopping', c.id, [prev.address, 1n], prev);
        prev.state = 'runnable';
        prev.runnableAt = this.now;
        prev.preemptions++;
        if (prev.slice() > 0n) this.toBuiltin(prev, c.local, SCX_ENQ_HEAD, c.id);
        // rq->curr is still prev here (scx_bpf_task_running(prev) is true in this enqueue).
        else this.doEnqueue(prev, next === undefined && (this.flags & SCX_OPS_ENQ_LAST) ? SCX_ENQ_LAST : 0n, c.id);
      }
    } else if (next && !this.bypassing && this.has('update_idle')) {
      this.callOp('update_idle', c.id, [this.cpuArg(c.id), 0n]);
    }
    if (prev === undefined && next) this.idle[c.id] = false;
    c.curr = next;
    c.lastCharge = this.now;
    c.gen++;
    if (next) {
      next.state = 'running';
      next.runs++;
      if (next.runnableAt >= 0) {
        const waited = this.now - next.runnableAt;
        next.waitTotal += waited; next.waits++; next.waitMax = Math.max(next.waitMax, waited);
        if (waited > 0) this.waitSlices.push({ cpu: c.id, pid: next.pid, comm: next.comm, start: next.runnableAt, end: this.now });
      }
      next.runnableAt = -1;
      this.callOp('running', c.id, [next.address], next);
      this.armBurst(c);
      this.sliceStart.set(c.id, this.now);
    } else if (prev) {
      c.idleEntries++;
      this.idle[c.id] = true;
      if (!this.bypassing && this.has('update_idle')) this.callOp('update_idle', c.id, [this.cpuArg(c.id), 1n]);
      if (c.local.length > 0) this.resched(c.id);
    } else {
      this.idle[c.id] = true; // the idle task picked again: only the mask is refreshed
    }
  }

  private readonly sliceStart = new Map<number, number>();

  private endSlice(c: CpuState, t: Task): void {
    const start = this.sliceStart.get(c.id);
    const out = t.state === 'running' || t.state === 'runnable' ? 'R' : t.flags() & PF_EXITING ? 'X' : 'S';
    if (start !== undefined && this.now > start) this.slices.push({ cpu: c.id, pid: t.pid, comm: t.comm, start, end: this.now, out });
    this.sliceStart.delete(c.id);
  }

  /** Posts the end of the running task's current CPU burst. */
  private armBurst(c: CpuState): void {
    c.gen++;
    const t = c.curr;
    if (t) this.queue.push(this.now + Math.max(0, t.burstLeft), { kind: 'burst', cpu: c.id, gen: c.gen });
  }

  /**
   * At a wakeup: moves the script to its next run step (past the sleep it woke from; a nice step
   * on the way applies at once). The task is dead when its script ends without looping.
   */
  private prepareBurst(t: Task): void {
    if (t.burstLeft > 0) return;
    for (let guard = 0; guard < 10_000; guard++) {
      const s = t.currentStep();
      if (s && 'run' in s) { t.burstLeft = s.run; return; }
      if (s && 'nice' in s) { t.nice = s.nice; t.setWeight(niceToScxWeight(s.nice)); }
      if (s && 'call' in s) this.options.calls?.[s.call]?.();
      if ((s && 'exit' in s) || !t.advance()) { t.state = 'dead'; return; }
    }
    t.state = 'dead';
  }

  /** The running task's burst is over: the next steps of its script (§2.3 E, F, G, H). */
  private burstEnd(c: CpuState): void {
    this.charge(c);
    const t = c.curr!;
    for (let guard = 0; guard < 10_000; guard++) {
      if (!t.advance()) { this.exitTask(c, t); return; }
      const s = t.currentStep()!;
      if ('run' in s) { t.burstLeft = s.run; this.armBurst(c); return; }
      if ('sleep' in s) {
        this.block(c, t);
        this.queue.push(this.now + s.sleep, { kind: 'wake', pid: t.pid });
        return;
      }
      if ('exit' in s) { this.exitTask(c, t); return; }
      if ('nice' in s) this.renice(c, t, s.nice);
      if ('call' in s) {
        const call = this.options.calls?.[s.call];
        if (!call) throw new SchedUnsupportedError(`the task step {"call": ${JSON.stringify(s.call)}} (no such host behaviour)`);
        call();
      }
      if ('yield' in s) {
        // §2.3 H: ops.yield(p, NULL), else the slice ends; the task goes on with its next step.
        if (this.has('yield')) this.callOp('yield', c.id, [t.address, 0n], t);
        else t.setSlice(0n);
        this.resched(c.id);
      }
    }
    this.exitTask(c, t);
  }

  /** §2.3 F for a running task: stopping → quiescent → set_weight → runnable → running. */
  private renice(c: CpuState, t: Task, nice: number): void {
    const flags = DEQ_SAVE | DEQ_NOCLOCK | SCX_DEQ_SCHED_CHANGE;
    this.callOp('stopping', c.id, [t.address, 0n], t);
    this.callOp('quiescent', c.id, [t.address, flags], t);
    t.nice = nice;
    t.setWeight(niceToScxWeight(nice));
    this.callOp('set_weight', c.id, [t.address, BigInt(t.weight())], t);
    this.callOp('runnable', c.id, [t.address, ENQ_RESTORE | ENQ_NOCLOCK], t);
    this.callOp('running', c.id, [t.address], t);
  }

  /** §2.3 E: the running task sleeps. */
  private block(c: CpuState, t: Task): void {
    this.callOp('stopping', c.id, [t.address, 0n], t);
    this.callOp('quiescent', c.id, [t.address, DEQ_SLEEP | DEQ_NOCLOCK], t);
    t.state = 'sleeping';
    t.sleeps++;
    t.burstLeft = 0;
    this.resched(c.id);
  }

  /** §2.3 G: the task's last schedule is a sleep; then ops.disable and ops.exit_task. */
  private exitTask(c: CpuState, t: Task): void {
    t.setFlags(t.flags() | PF_EXITING);
    this.block(c, t);
    this.needResched[c.id] = false;
    this.schedule(c);
    t.state = 'dead';
    this.disableTask(t, 0);
  }

  private disableTask(t: Task, cpu: number): void {
    if (t.enabled) { this.callOp('disable', cpu, [t.address], t); t.enabled = false; t.setVtime(0n); t.setSlice(0n); }
    if (t.inited) {
      const args = this.structArgs(1, 8);
      this.callOp('exit_task', cpu, [t.address, args.address], t);
      t.inited = false;
    }
  }

  // ---- Tick and watchdog (§2.3 D, §4.6) ----

  private tick(): void {
    for (const c of this.cpus) {
      const t = c.curr;
      if (!t) continue;
      this.charge(c);
      if (this.bypassing) t.setSlice(0n);
      else this.callOp('tick', c.id, [t.address], t);
      if (t.slice() === 0n) this.resched(c.id);
    }
    this.sampleDsqs();
  }

  private sampleDsqs(): void {
    const sample = (label: string, n: number) => {
      let s = this.dsqSeries.get(label);
      if (!s) this.dsqSeries.set(label, s = []);
      if (s.length === 0 || s[s.length - 1][1] !== n) s.push([this.now, n]);
    };
    for (const g of this.globals) sample(g.label, g.length);
    for (const d of this.userDsqs.values()) sample(d.label, d.length);
    for (const c of this.cpus) sample(c.local.label, c.local.length);
  }

  private watchdog(): void {
    const timeout = this.timeoutMs * 1e6;
    for (const t of this.tasks) {
      if (t.state !== 'runnable' || t.runnableAt < 0 || this.now - t.runnableAt <= timeout) continue;
      const ms = Math.floor((this.now - t.runnableAt) / 1e6);
      this.claimExit(SCX_EXIT_ERROR_STALL, 0n, `${t.label} failed to run for ${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`, t.cpu);
      return;
    }
  }

  /** The kernel's hotplug counter (/sys/kernel/sched_ext/hotplug_seq): 0 at boot here. */
  private hotplugSeq = 0n;

  /**
   * §2.3 I: a CPU goes offline or online. Without ops.cpu_online/cpu_offline (cid_*) the
   * scheduler exits (UNREG_KERN, ACT_RESTART | RSN_HOTPLUG) and its loader restarts it; with
   * them, the host would have to move the CPU's tasks, which it does not simulate.
   */
  private hotplug(cpu: number, online: boolean): void {
    this.hotplugSeq++;
    if (this.has(online ? 'cpu_online' : 'cpu_offline')) {
      throw new SchedUnsupportedError(`CPU hotplug with ops.${this.member(online ? 'cpu_online' : 'cpu_offline')}`);
    }
    this.claimExit(SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG,
      `cpu ${cpu} going ${online ? 'online' : 'offline'}, exiting scheduler`, cpu);
  }

  // ---- Kicks (§3.2 scx_bpf_kick_cpu) ----

  kick(target: number, flags: bigint): void {
    if ((flags & SCX_KICK_IDLE) && (flags & (SCX_KICK_PREEMPT | SCX_KICK_WAIT))) {
      this.error('PREEMPT/WAIT cannot be used with SCX_KICK_IDLE');
      return;
    }
    if (this.bypassing) return;
    this.cpus[this.thisCpu].kicks.push({ target, flags });
  }

  private runKick(_from: CpuState, target: number, flags: bigint): void {
    const c = this.cpus[target];
    c.kicksReceived++;
    if (flags & SCX_KICK_IDLE) { if (!c.curr) this.resched(target); return; }
    if ((flags & SCX_KICK_PREEMPT) && c.curr) c.curr.setSlice(0n);
    this.resched(target);
  }

  // ---- Built-in idle (§4.5, ./idle.ts) ----

  testAndClearIdle(cpu: number): boolean { return this.idleCpus.testAndClear(cpu); }

  pickIdleCpu(allowed: (cpu: number) => boolean, flags: bigint, execCpu: number): number {
    return this.idleCpus.pick(allowed, flags, execCpu);
  }

  selectCpuDfl(t: Task, prev: number, mask: ((cpu: number) => boolean) | undefined, flags: bigint, execCpu: number): number {
    return this.idleCpus.selectCpuDfl(t.allowed, t.nrAllowed, prev, mask, flags, execCpu);
  }

  // ---- Kfunc semantics the kfunc layer calls (./kfuncs.ts) ----

  /** scx_bpf_dsq_insert[_vtime] (§3.2): a direct dispatch in select_cpu/enqueue, a buffered insert in dispatch. */
  insert(t: Task | undefined, dsqId: bigint, slice: bigint, flags: bigint, vtime?: bigint): boolean {
    if (!t) { this.error('called with NULL task'); return false; }
    if (flags & SCX_ENQ_INTERNAL_MASK) { this.error(`invalid enq_flags 0x${flags.toString(16)}`); return false; }
    if ((flags & SCX_ENQ_IMMED) && !(dsqId === SCX_DSQ_LOCAL || (dsqId & SCX_DSQ_FLAG_LOCAL_ON))) {
      this.error(`SCX_ENQ_IMMED on a non-local DSQ 0x${dsqId.toString(16)}`);
      return false;
    }
    if (flags & SCX_ENQ_IMMED) throw new SchedUnsupportedError('SCX_ENQ_IMMED (run-now-or-reenqueue local inserts, §4.3)');
    if (slice !== 0n) t.setSlice(slice);
    else if (t.slice() === 0n) t.setSlice(1n);
    if (vtime !== undefined) t.setVtime(vtime);
    const frame = this.currentOp();
    const op = frame?.op;
    if (op === 'select_cpu' || op === 'select_cid' || op === 'enqueue') {
      const subject = frame!.subject!;
      if (t !== subject) { this.error(`scheduling for ${subject.label} but trying to direct-dispatch ${t.label}`); return false; }
      if (t.ddsp) { this.error(`${t.label} already direct-dispatched`); return false; }
      t.ddsp = { dsqId, flags, vtime };
      return true;
    }
    const c = this.cpus[this.thisCpu];
    if (c.dsp.length >= this.dispatchMaxBatch) { this.error('dispatch buffer overflow'); return false; }
    c.dsp.push({ task: t, qseq: t.qseq, dsqId, flags, vtime });
    return true;
  }

  /** scx_bpf_dsq_move_to_local (§3.2): flush, then the first task of a user DSQ that may run here. */
  moveToLocal(dsqId: bigint): boolean {
    const c = this.cpus[this.thisCpu];
    this.flushDispatch(c);
    const dsq = this.userDsqs.get(dsqId);
    if ((dsqId & SCX_DSQ_FLAG_BUILTIN) || !dsq) {
      this.error(`invalid DSQ ID 0x${dsqId.toString(16).padStart(16, '0')}`);
      return false;
    }
    return this.consume(c, dsq);
  }

  createDsq(dsqId: bigint, node: number): number {
    if ((dsqId & SCX_DSQ_FLAG_BUILTIN) || node < -1 || node >= this.machine.nrNodes) return -22;
    if (this.userDsqs.has(dsqId)) return -17;
    this.userDsqs.set(dsqId, new Dsq<Task>(dsqId, 'user'));
    return 0;
  }

  destroyDsq(dsqId: bigint): void {
    const dsq = this.userDsqs.get(dsqId);
    if (!dsq) return;
    if (dsq.length > 0) { this.error(`attempting to destroy in-use dsq 0x${dsqId.toString(16).padStart(16, '0')} (nr=${dsq.length})`); return; }
    dsq.destroyed = true;
    this.userDsqs.delete(dsqId);
  }

  /** scx_bpf_dsq_nr_queued: LOCAL, LOCAL_ON|cpu (cid), or a user DSQ; -ENOENT otherwise (GLOBAL included). */
  nrQueued(dsqId: bigint): number {
    if (dsqId === SCX_DSQ_LOCAL) return this.cpus[this.thisCpu].local.length;
    const on = this.localOn(dsqId);
    if (on) return on.cpu < 0 ? -2 : this.cpus[on.cpu].local.length;
    const dsq = (dsqId & SCX_DSQ_FLAG_BUILTIN) ? undefined : this.userDsqs.get(dsqId);
    return dsq ? dsq.length : -2;
  }

  /** Re-enqueues scx_bpf_dsq_reenq asked for, run when the current op chain is over. */
  private readonly pendingReenq: { dsq: Dsq<Task>; cpu: number }[] = [];

  /**
   * scx_bpf_dsq_reenq (§3.2, §4.3): every task now on a local (`LOCAL`, `LOCAL_ON|cpu`) or user
   * DSQ goes back through ops.enqueue(p, SCX_ENQ_REENQ) with the reason SCX_TASK_REENQ_KFUNC in
   * p->scx.flags, asynchronously (after the op that asked); nothing while bypassing.
   */
  reenq(dsqId: bigint, flags: bigint): void {
    if (flags & ~1n) { this.error(`invalid SCX_REENQ flags 0x${flags.toString(16)}`); return; }
    if (this.bypassing) return;
    const cpu = this.thisCpu;
    let dsq: Dsq<Task> | undefined;
    const on = this.localOn(dsqId);
    if (dsqId === SCX_DSQ_LOCAL) dsq = this.cpus[cpu].local;
    else if (on) {
      if (on.cpu < 0) { this.error(`invalid ${this.cidForm ? 'cid' : 'CPU'} ${on.n}`); return; }
      dsq = this.cpus[on.cpu].local;
    } else if (!(dsqId & SCX_DSQ_FLAG_BUILTIN)) {
      dsq = this.userDsqs.get(dsqId);
      if (!dsq) { this.error(`non-existent DSQ 0x${dsqId.toString(16)}`); return; }
    } else { this.error(`DSQ 0x${dsqId.toString(16)} not allowed for reenq`); return; }
    this.pendingReenq.push({ dsq, cpu });
  }

  private runReenqs(): boolean {
    if (this.pendingReenq.length === 0) return false;
    for (const { dsq, cpu } of this.pendingReenq.splice(0)) {
      for (const t of [...dsq.tasks]) {
        if (t.dsq !== dsq) continue;
        dsq.remove(t);
        const flags = t.scxFlags();
        t.setScxFlags(flags | SCX_TASK_REENQ_KFUNC);
        this.doEnqueue(t, SCX_ENQ_REENQ, dsq.kind === 'local' ? dsq.cpu : cpu);
        t.setScxFlags(flags);
      }
    }
    return true;
  }

  /** scx_bpf_exit_bstr / scx_bpf_error_bstr. */
  exitFromBpf(kind: number, code: bigint, msg: string): void { this.claimExit(kind, code, msg); }

  /** scx_bpf_dump_bstr: only inside the dump ops. */
  dump(text: string): void {
    if (!this.dumping) { this.error('scx_bpf_dump() must only be called from ops.dump() and friends'); return; }
    this.dumpLines.push(text);
  }

  cpuperfSet(cpu: number, perf: number): void {
    if (perf > 1024) { this.error(`Invalid cpuperf target ${perf} for CPU ${cpu}`); return; }
    this.cpus[cpu].cpuperfTarget = perf;
  }

  tidToTask(tid: bigint): Task | undefined {
    if (!(this.flags & SCX_OPS_TID_TO_TASK)) { this.error('scx_bpf_tid_to_task() called without SCX_OPS_TID_TO_TASK'); return undefined; }
    return this.tasks.find((t) => t.state !== 'dead' && t.region.view.getBigUint64(t.offset + this.layout.scxTid, true) === tid);
  }

  // ---- Disable (§2.4) ----

  private disable(): void {
    const p = this.pendingExit!;
    const cpuOfExit = p.cpu;
    const dump = p.kind >= SCX_EXIT_ERROR ? this.buildDump(p.kind, p.msg, cpuOfExit, p.backtrace) : '';
    this.bypassing = true;
    if (this.initialized) {
      for (const t of this.tasks) {
        if (t.state === 'dead') continue;
        const change = DEQ_SAVE | DEQ_MOVE | DEQ_NOCLOCK | SCX_DEQ_SCHED_CHANGE;
        if (t.custody) { t.custody = false; this.callOp('dequeue', 0, [t.address, change], t); }
        if (t.state === 'running') this.callOp('stopping', t.cpu, [t.address, 0n], t);
        if (t.state === 'running' || t.state === 'runnable') this.callOp('quiescent', 0, [t.address, change], t);
        this.disableTask(t, 0);
      }
    } else {
      for (const t of this.tasks) if (t.inited) this.disableTask(t, 0);
    }
    for (const c of this.cgroupsInited.splice(0).reverse()) this.callOp('cgroup_exit', 0, [c.address]);
    for (const c of this.cpus) if (c.curr) this.endSlice(c, c.curr);
    const reason = EXIT_REASONS[p.kind] ?? 'unknown';
    const info = this.writeExitInfo(p.kind, p.code, reason, p.msg, cpuOfExit, dump);
    this.callOp('exit', 0, [info]);
    const line = `EXIT: ${reason}${p.msg ? ` (${p.msg})` : ''}${cpuOfExit >= 0 ? ` on CPU ${cpuOfExit}` : ''}`;
    // UEI_ECODE_RESTART: the loader would start the scheduler over (§1.8 step 6).
    this.exit = {
      kind: p.kind, exitCode: p.code, reason, msg: p.msg, exitCpu: cpuOfExit, atNs: this.now, dump, line, backtrace: p.backtrace,
      restart: ((p.code >> 48n) & 0xffffn) === (SCX_ECODE_ACT_RESTART >> 48n),
    };
  }

  /** struct scx_exit_info in kernel memory, its string pointers into the same region (§1.8 step 7). */
  private writeExitInfo(kind: number, code: bigint, reason: string, msg: string, cpu: number, dump: string): bigint {
    const k = kernelBtf();
    const r = this.exitRegion, v = r.view;
    r.bytes.fill(0);
    const base = AddressSpace.address(r);
    const at = (f: string) => k.offsetOf('scx_exit_info', f);
    const strAt = 256, msgAt = strAt + SCX_EXIT_REASON_LEN, dumpAt = msgAt + SCX_EXIT_MSG_LEN;
    const put = (off: number, s: string, max: number) => { for (let i = 0; i < Math.min(s.length, max - 1); i++) r.bytes[off + i] = s.charCodeAt(i) & 0xff; };
    v.setUint32(at('kind'), kind, true);
    v.setBigInt64(at('exit_code'), code, true);
    v.setInt32(at('exit_cpu'), cpu, true);
    v.setBigUint64(at('flags'), this.initialized ? SCX_EFLAG_INITIALIZED : 0n, true);
    put(strAt, reason, SCX_EXIT_REASON_LEN);
    put(msgAt, msg, SCX_EXIT_MSG_LEN);
    put(dumpAt, dump, this.exitDumpLen);
    v.setBigUint64(at('reason'), base + BigInt(strAt), true);
    v.setBigUint64(at('msg'), base + BigInt(msgAt), true);
    v.setBigUint64(at('dump'), base + BigInt(dumpAt), true);
    return base;
  }

  /** The dump's shape (§4.9), with the BPF call chain standing in for the kernel backtrace. */
  private buildDump(kind: number, msg: string, cpu: number, backtrace: readonly string[]): string {
    const lines = [`${this.name}: root`, `host[0] triggered exit kind ${kind}${cpu >= 0 ? ` on CPU ${cpu}` : ''}:`,
      `  ${EXIT_REASONS[kind]} (${msg})`, ''];
    if (backtrace.length) lines.push('Backtrace:', ...backtrace, '');
    // struct scx_dump_ctx {kind, exit_code, reason, at_ns, at_jiffies} for the dump ops.
    const k = kernelBtf(), ctx = this.structArgs(2, k.structSize('scx_dump_ctx'));
    const reasonAt = this.structArgs(4, 128);
    for (let i = 0; i < Math.min(127, EXIT_REASONS[kind].length); i++) this.structRegion.bytes[reasonAt.offset + i] = EXIT_REASONS[kind].charCodeAt(i);
    const at = (f: string) => ctx.offset + k.offsetOf('scx_dump_ctx', f);
    ctx.view.setUint32(at('kind'), kind, true);
    ctx.view.setBigUint64(at('reason'), reasonAt.address, true);
    ctx.view.setBigUint64(at('at_ns'), this.loaded.kernel.clockNow(), true);
    ctx.view.setBigUint64(at('at_jiffies'), this.loaded.kernel.jiffies64(), true);
    /** The text a dump op wrote with scx_bpf_dump, as lines with `indent`. */
    const dumped = (op: string, cpu: number, args: bigint[], subject?: Task): string[] => {
      if (!this.has(op)) return [];
      this.dumping = true;
      this.dumpLines = [];
      try { this.callOp(op, cpu, [ctx.address, ...args], subject); } finally { this.dumping = false; }
      const text = this.dumpLines.join('');
      return text === '' ? [] : text.replace(/\n$/, '').split('\n');
    };
    const own = dumped('dump', 0, []);
    if (own.length) lines.push(...own, '');
    lines.push('CPU states', '----------');
    for (const c of this.cpus) {
      // The rq's runnable list: the current task, then every runnable task of this CPU
      // wherever it is queued (local, global or user DSQ, or held by BPF).
      const queued = this.tasks.filter((t) => t.state === 'runnable' && t.cpu === c.id);
      const idle = !c.curr && queued.length === 0;
      const cpuLines = dumped('dump_cpu', c.id, [this.cpuArg(c.id), idle ? 1n : 0n]);
      if (idle && cpuLines.length === 0) continue; // an idle CPU dump_cpu leaves silent is skipped
      lines.push(`CPU ${String(c.id).padEnd(3)}: nr_run=${queued.length + (c.curr ? 1 : 0)} cpuperf_target=${c.cpuperfTarget}`,
        `          curr=${c.curr ? c.curr.label : `swapper/${c.id}[0]`} class=ext_sched_class`, ...cpuLines.map((l) => `  ${l}`));
      for (const t of [c.curr, ...queued]) {
        if (!t) continue;
        const since = t.runnableAt >= 0 ? ` ${Math.round((t.runnableAt - this.now) / 1e6)}ms` : '';
        const where = t.dsq ? ` dsq=${t.dsq.label}` : t.queued ? ' held by BPF' : '';
        lines.push(` ${t === c.curr ? '*' : ' '}R ${t.label}${since}${where} slice=${t.slice()} dsq_vtime=${t.vtime()} weight=${t.weight()}`,
          ...dumped('dump_task', c.id, [t.address], t).map((l) => `    ${l}`));
      }
    }
    lines.push('', 'Event counters', '--------------');
    for (const [n, v] of this.events) lines.push(`${n.padStart(40)}: ${String(v).padStart(16)}`);
    const text = lines.join('\n') + '\n';
    return text.length > this.exitDumpLen - 1 ? text.slice(0, this.exitDumpLen - 24) + '\n\n~~~~ TRUNCATED ~~~~\n' : text;
  }

  // ---- Results ----

  private result(): SchedResult {
    const duration = this.now;
    return {
      name: this.name, cidForm: this.cidForm, durationNs: duration, exit: this.exit!, opHash: this.opHash.toString(16).padStart(8, '0'),
      ops: Object.fromEntries([...this.opCounts].sort()),
      events: Object.fromEntries(this.events),
      tasks: this.tasks.map((t) => ({
        pid: t.pid, comm: t.comm, nice: t.nice, weight: t.weight(), runtimeNs: t.runtime, runs: t.runs, migrations: t.migrations,
        preemptions: t.preemptions, sleeps: t.sleeps, waitAvgNs: t.waits ? Math.round(t.waitTotal / t.waits) : 0, waitMaxNs: t.waitMax,
        state: t.state,
      })),
      cpus: this.cpus.map((c) => ({
        cpu: c.id, cid: this.machine.cpuToCid[c.id], busyNs: c.busyNs, utilisation: duration > 0 ? c.busyNs / duration : 0, picks: c.picks,
        dispatchCalls: c.dispatchCalls, idleEntries: c.idleEntries, kicksReceived: c.kicksReceived, cpuperfTarget: c.cpuperfTarget,
      })),
      dsqs: [...this.dsqSeries].map(([label, samples]) => ({ label, maxDepth: Math.max(0, ...samples.map((s) => s[1])), samples })),
      slices: this.slices,
      waits: this.waitSlices,
      wakeups: this.wakeups,
      opTrace: this.opTrace,
    };
  }
}

/**
 * bpf_map__init_kern_struct_ops (§1.4): members are matched to the kernel's by name; one the
 * kernel lacks is an error unless it is zero (no program, all-zero bytes); kinds must agree and
 * data members have the kernel's size.
 */
function checkMembers(ops: StructOps, typeName: string): void {
  const btf = kernelBtf().btf;
  const kernelType = btf.findByName(typeName, 'STRUCT')!;
  for (const m of ops.members) {
    const km = kernelType.members.find((x) => x.name === m.name);
    const where = `struct_ops init_kern ${ops.name}`;
    if (!km) {
      const zero = m.kind === 'program' ? m.program === undefined : ops.data(m.name).bytes.every((b) => b === 0);
      if (zero) continue;
      throw new SchedAttachError(95, `${where}: Cannot find member ${m.name} in kernel BTF (ENOTSUP)`);
    }
    const kt = btf.resolve(km.type);
    const kernelIsProgram = kt.kind === 'PTR' && btf.resolve(kt.type).kind === 'FUNC_PROTO';
    if (kernelIsProgram !== (m.kind === 'program')) {
      throw new SchedAttachError(22, `${where}: Unmatched member type ${m.name} (EINVAL)`);
    }
    if (m.kind === 'data' && btf.sizeOf(km.type) !== m.size) {
      throw new SchedAttachError(22, `${where}: Error in size of member ${m.name}: ${m.size} != ${btf.sizeOf(km.type)} (EINVAL)`);
    }
  }
}

export interface TaskReport {
  readonly pid: number;
  readonly comm: string;
  readonly nice: number;
  readonly weight: number;
  readonly runtimeNs: number;
  readonly runs: number;
  readonly migrations: number;
  readonly preemptions: number;
  readonly sleeps: number;
  readonly waitAvgNs: number;
  readonly waitMaxNs: number;
  readonly state: string;
}

export interface CpuReport {
  readonly cpu: number;
  readonly cid: number;
  readonly busyNs: number;
  readonly utilisation: number;
  readonly picks: number;
  readonly dispatchCalls: number;
  readonly idleEntries: number;
  readonly kicksReceived: number;
  readonly cpuperfTarget: number;
}

export interface SchedResult {
  readonly name: string;
  readonly cidForm: boolean;
  readonly durationNs: number;
  readonly exit: ExitInfo;
  /** FNV-1a of every op call (time, CPU, op, arguments, return): equal runs have equal hashes. */
  readonly opHash: string;
  readonly ops: Readonly<Record<string, number>>;
  readonly events: Readonly<Record<string, number>>;
  readonly tasks: readonly TaskReport[];
  readonly cpus: readonly CpuReport[];
  readonly dsqs: readonly { readonly label: string; readonly maxDepth: number; readonly samples: readonly [number, number][] }[];
  readonly slices: readonly RunSlice[];
  /** Runnable-to-running intervals (`cpu`: where the task then ran), for traces. */
  readonly waits: readonly RunSlice[];
  /** Every wakeup and fork, with the CPU it targeted. */
  readonly wakeups: readonly Wakeup[];
  readonly opTrace: readonly OpRecord[];
}

