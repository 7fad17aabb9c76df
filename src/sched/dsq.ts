/**
 * Dispatch queues (sched-ext.md §4.1): a CPU's local DSQ, the per-node global DSQ, the per-CPU
 * bypass DSQ, and the scheduler's user DSQs, each FIFO or — user DSQs only, decided by the
 * first insert — a priority queue ordered by `dsq_vtime` (wrap-around compare; equal vtimes keep
 * insertion order). Every insert stamps the task with the DSQ's sequence number, so an
 * iterator visits only the tasks queued before it began (§3.2).
 */

export const SCX_DSQ_FLAG_BUILTIN = 1n << 63n;
export const SCX_DSQ_FLAG_LOCAL_ON = 1n << 62n;
export const SCX_DSQ_INVALID = SCX_DSQ_FLAG_BUILTIN;
export const SCX_DSQ_GLOBAL = SCX_DSQ_FLAG_BUILTIN | 1n;
export const SCX_DSQ_LOCAL = SCX_DSQ_FLAG_BUILTIN | 2n;
export const SCX_DSQ_BYPASS = SCX_DSQ_FLAG_BUILTIN | 3n;
export const SCX_DSQ_LOCAL_ON = SCX_DSQ_FLAG_BUILTIN | SCX_DSQ_FLAG_LOCAL_ON;

/** What a DSQ holds: anything with a vtime and a sequence stamp (a simulated task). */
export interface Queued {
  vtime(): bigint;
  dsq?: Dsq;
  dsqSeq: number;
}

export type DsqKind = 'local' | 'global' | 'bypass' | 'user';

export class Dsq<T extends Queued = Queued> {
  readonly tasks: T[] = [];
  /** User DSQs: undefined until the first insert decides FIFO (false) or PRIQ (true). */
  priq?: boolean;
  /** The sequence number of the last insert. */
  seq = 0;
  /** Inserts and removals, for the report. */
  inserts = 0;
  /** Set by scx_bpf_destroy_dsq. */
  destroyed = false;

  constructor(readonly id: bigint, readonly kind: DsqKind, readonly cpu = -1) {
    if (kind !== 'user') this.priq = false;
  }

  get length(): number { return this.tasks.length; }

  insertFifo(t: T, head: boolean): void {
    if (head) this.tasks.unshift(t); else this.tasks.push(t);
    this.stamp(t);
  }

  /** Insert by vtime: after every task whose vtime is not after it (time_before64). */
  insertVtime(t: T): void {
    const v = t.vtime();
    let i = this.tasks.length;
    while (i > 0 && BigInt.asIntN(64, v - this.tasks[i - 1].vtime()) < 0n) i--;
    this.tasks.splice(i, 0, t);
    this.stamp(t);
  }

  private stamp(t: T): void {
    t.dsq = this;
    t.dsqSeq = ++this.seq;
    this.inserts++;
  }

  remove(t: T): void {
    const i = this.tasks.indexOf(t);
    if (i >= 0) this.tasks.splice(i, 1);
    if (t.dsq === this) t.dsq = undefined;
  }

  /** A name for reports: LOCAL(3), GLOBAL, BYPASS(1), or the user id in hex. */
  get label(): string {
    switch (this.kind) {
      case 'local': return `LOCAL(${this.cpu})`;
      case 'bypass': return `BYPASS(${this.cpu})`;
      case 'global': return this.cpu >= 0 ? `GLOBAL(node ${this.cpu})` : 'GLOBAL';
      default: return `0x${this.id.toString(16)}`;
    }
  }
}
