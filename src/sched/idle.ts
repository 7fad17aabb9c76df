/**
 * Built-in idle tracking and the default CPU picker (sched-ext.md §4.5): the idle bit of each
 * CPU (set when the idle task is switched in, cleared when a CPU is claimed or runs a task), the
 * whole-core view of SMT machines, `scx_pick_idle_cpu` and `scx_select_cpu_dfl`. Every "idle"
 * test of a pick is a claim. "Anywhere" picks follow cpumask_any_and_distribute: the first
 * candidate after the calling CPU's previous pick, wrapping (§7.5). The SCX_WAKE_SYNC step (the
 * waker's CPU) is not taken: the host's wakeups never carry SYNC, and a scheduler's wake_flags
 * argument is what the host passed it.
 */
import { SCX_PICK_IDLE_CORE } from './constants.js';
import type { Machine } from './machine.js';

export class IdleCpus {
  readonly idle: boolean[];
  /** cpumask_any_and_distribute's last pick, per calling CPU. */
  private readonly distributePrev: number[];

  constructor(private readonly machine: Machine) {
    this.idle = new Array<boolean>(machine.nrCpus).fill(false);
    this.distributePrev = new Array<number>(machine.nrCpus).fill(0);
  }

  /** scx_idle_test_and_clear_cpu: claims the CPU if it is idle. */
  testAndClear(cpu: number): boolean {
    if (!this.idle[cpu]) return false;
    this.idle[cpu] = false;
    return true;
  }

  private coreIdle(cpu: number): boolean { return this.machine.siblings(cpu).every((s) => this.idle[s]); }

  /** The first claimable candidate after the calling CPU's last pick, claimed; -1 if none. */
  private distribute(cands: (cpu: number) => boolean, execCpu: number): number {
    const n = this.machine.nrCpus;
    for (let k = 1; k <= n; k++) {
      const cpu = (this.distributePrev[execCpu] + k) % n;
      if (cands(cpu) && this.testAndClear(cpu)) { this.distributePrev[execCpu] = cpu; return cpu; }
    }
    return -1;
  }

  /** scx_pick_idle_cpu: whole idle cores first (SMT), then any idle CPU; -1 (EBUSY) if none. */
  pick(allowed: (cpu: number) => boolean, flags: bigint, execCpu: number): number {
    if (this.machine.smt) {
      const core = this.distribute((cpu) => allowed(cpu) && this.coreIdle(cpu), execCpu);
      if (core >= 0 || (flags & SCX_PICK_IDLE_CORE)) return core;
    }
    return this.distribute(allowed, execCpu);
  }

  /**
   * scx_select_cpu_dfl for a task allowed on `taskAllowed` (∩ `mask`), woken with `prev`: the
   * CPU claimed, or -1 when no idle CPU was found. A task allowed on one CPU gets only that one.
   */
  selectCpuDfl(taskAllowed: readonly boolean[], nrAllowed: number, prev: number, mask: ((cpu: number) => boolean) | undefined,
    flags: bigint, execCpu: number): number {
    const m = this.machine;
    const allowed = (cpu: number) => taskAllowed[cpu] && (mask === undefined || mask(cpu));
    if (nrAllowed === 1) {
      const only = taskAllowed.indexOf(true);
      return allowed(only) && this.testAndClear(only) ? only : -1;
    }
    // LLC- and NUMA-aware steps only where they narrow the search (scx_idle_update_selcpu_topology).
    const llcAware = m.llcSpan(0).length < m.nrCpus;
    const numaAware = m.nodeSpan(0).length < m.nrCpus && m.llcCpus.some((l) => l.length !== m.nodeSpan(l[0]).length);
    const inLlc = (cpu: number) => m.llcOf[cpu] === m.llcOf[prev];
    const inNode = (cpu: number) => m.nodeOf[cpu] === m.nodeOf[prev];
    const scopes = [llcAware ? inLlc : undefined, numaAware ? inNode : undefined, () => true];
    if (m.smt) {
      if (allowed(prev) && this.coreIdle(prev) && this.testAndClear(prev)) return prev;
      for (const scope of scopes) {
        if (!scope) continue;
        const cpu = this.distribute((x) => allowed(x) && scope(x) && this.coreIdle(x), execCpu);
        if (cpu >= 0) return cpu;
      }
      if (flags & SCX_PICK_IDLE_CORE) return -1;
    }
    if (allowed(prev) && this.testAndClear(prev)) return prev;
    if (m.smt) for (const s of m.siblings(prev)) if (s !== prev && allowed(s) && this.testAndClear(s)) return s;
    for (const scope of scopes) {
      if (!scope) continue;
      const cpu = this.distribute((x) => allowed(x) && scope(x), execCpu);
      if (cpu >= 0) return cpu;
    }
    return -1;
  }
}
