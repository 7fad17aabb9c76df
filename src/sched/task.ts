/**
 * A simulated task (sched-ext.md §7.3): its `struct task_struct` in kernel memory, laid out as
 * the simulated kernel BTF says (the programs read it through CO-RE relocations against that
 * BTF), its scheduling state in the host, its script, and what the report counts.
 */
import { kernelBtf } from '../kernel/kernel-btf.js';
import type { MemoryRegion } from '../memory.js';
import type { Dsq, Queued } from './dsq.js';
import type { Step, TaskSpec } from './workload.js';

/** The task_struct members the host writes or reads, by byte offset (the simulated kernel BTF). */
export class TaskLayout {
  readonly size: number;
  readonly pid: number;
  readonly tgid: number;
  readonly comm: number;
  readonly flags: number;
  readonly nrCpusAllowed: number;
  readonly cpusPtr: number;
  readonly cpusMask: number;
  readonly migrationDisabled: number;
  readonly sumExecRuntime: number;
  readonly staticPrio: number;
  readonly scxFlags: number;
  readonly scxWeight: number;
  readonly scxSlice: number;
  readonly scxDsqVtime: number;
  readonly scxDisallow: number;
  readonly scxTid: number;

  constructor() {
    const k = kernelBtf();
    const at = (path: string) => k.offsetOf('task_struct', path);
    this.size = Math.ceil(k.structSize('task_struct') / 64) * 64;
    this.pid = at('pid');
    this.tgid = at('tgid');
    this.comm = at('comm');
    this.flags = at('flags');
    this.nrCpusAllowed = at('nr_cpus_allowed');
    this.cpusPtr = at('cpus_ptr');
    this.cpusMask = at('cpus_mask');
    this.migrationDisabled = at('migration_disabled');
    this.sumExecRuntime = at('se.sum_exec_runtime');
    this.staticPrio = at('static_prio');
    this.scxFlags = at('scx.flags');
    this.scxWeight = at('scx.weight');
    this.scxSlice = at('scx.slice');
    this.scxDsqVtime = at('scx.dsq_vtime');
    this.scxDisallow = at('scx.disallow');
    this.scxTid = at('scx.tid');
  }
}

export type TaskState = 'new' | 'sleeping' | 'runnable' | 'running' | 'dead';

export class Task implements Queued {
  state: TaskState = 'new';
  /** task_cpu(p): the CPU whose runqueue the task is on, or last ran on. */
  cpu: number;
  /** Allowed CPUs (cpus_ptr), as a membership array. */
  allowed: boolean[];
  nice: number;
  /** sched_ext lifecycle: init_task done, enable done. */
  inited = false;
  enabled = false;
  /** ops_state QUEUED (BPF holds the task after ops.enqueue) and its sequence number (§2.6). */
  queued = false;
  qseq = 0;
  /** In BPF custody (§4.1): ops.dequeue fires once when it leaves. */
  custody = false;
  /** A direct dispatch recorded by scx_bpf_dsq_insert in select_cpu / enqueue. */
  ddsp?: { dsqId: bigint; flags: bigint; vtime?: bigint };
  dsq?: Dsq;
  dsqSeq = 0;
  /** When the task became runnable and has not run since (the watchdog's runnable_at), or -1. */
  runnableAt = -1;
  /** Script position and the CPU time left in the current run step. */
  step = 0;
  burstLeft = 0;
  /** Report figures. */
  runtime = 0;
  waitTotal = 0;
  waitMax = 0;
  waits = 0;
  runs = 0;
  migrations = 0;
  preemptions = 0;
  sleeps = 0;

  /** The task as the kernel's `current` (SimKernel.current) while it runs an op's CPU. */
  readonly current: { readonly address: bigint; readonly pid: number; readonly tgid: number; readonly comm: string };

  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly spec: TaskSpec | undefined,
    readonly region: MemoryRegion,
    readonly offset: number,
    readonly address: bigint,
    private readonly layout: TaskLayout,
    nrCpus: number,
  ) {
    this.current = { address, pid, tgid: pid, comm };
    this.nice = spec?.nice ?? 0;
    this.allowed = Array.from({ length: nrCpus }, (_, c) => spec?.cpus === undefined || spec.cpus.includes(c));
    this.cpu = this.allowed.indexOf(true);
  }

  get idle(): boolean { return this.spec === undefined; }
  get kthread(): boolean { return this.spec?.kthread ?? true; }
  get nrAllowed(): number { return this.allowed.filter(Boolean).length; }

  private get view(): DataView { return this.region.view; }
  slice(): bigint { return this.view.getBigUint64(this.offset + this.layout.scxSlice, true); }
  setSlice(v: bigint): void { this.view.setBigUint64(this.offset + this.layout.scxSlice, BigInt.asUintN(64, v), true); }
  vtime(): bigint { return this.view.getBigUint64(this.offset + this.layout.scxDsqVtime, true); }
  setVtime(v: bigint): void { this.view.setBigUint64(this.offset + this.layout.scxDsqVtime, BigInt.asUintN(64, v), true); }
  weight(): number { return this.view.getUint32(this.offset + this.layout.scxWeight, true); }
  setWeight(w: number): void { this.view.setUint32(this.offset + this.layout.scxWeight, w, true); }
  disallowed(): boolean { return this.view.getUint8(this.offset + this.layout.scxDisallow) !== 0; }
  scxFlags(): number { return this.view.getUint32(this.offset + this.layout.scxFlags, true); }
  setScxFlags(f: number): void { this.view.setUint32(this.offset + this.layout.scxFlags, f >>> 0, true); }
  flags(): number { return this.view.getUint32(this.offset + this.layout.flags, true); }
  setFlags(f: number): void { this.view.setUint32(this.offset + this.layout.flags, f >>> 0, true); }
  addExecRuntime(ns: number): void {
    const at = this.offset + this.layout.sumExecRuntime;
    this.view.setBigUint64(at, this.view.getBigUint64(at, true) + BigInt(ns), true);
  }

  /** Writes the allowed CPUs into cpus_mask and nr_cpus_allowed. */
  writeAffinity(): void {
    const base = this.offset + this.layout.cpusMask;
    for (let w = 0; w * 64 < this.allowed.length; w++) {
      let word = 0n;
      for (let b = 0; b < 64 && w * 64 + b < this.allowed.length; b++) if (this.allowed[w * 64 + b]) word |= 1n << BigInt(b);
      this.view.setBigUint64(base + w * 8, word, true);
    }
    this.view.setInt32(this.offset + this.layout.nrCpusAllowed, this.nrAllowed, true);
  }

  currentStep(): Step | undefined { return this.spec?.script[this.step]; }

  /** Moves to the next step; false when the script is over and does not loop. */
  advance(): boolean {
    const script = this.spec!.script;
    this.step++;
    if (this.step < script.length) return true;
    if (!this.spec!.loop) return false;
    this.step = 0;
    return true;
  }

  get label(): string { return `${this.comm}[${this.pid}]`; }
}
