/**
 * scx_userland's user-space half (sched-ext.md §6.8): its scheduler loop, run as a simulated
 * task of the machine. scx_userland.bpf.c queues the tasks it does not keep in the kernel on the
 * `enqueued` QUEUE map and dispatches what its user-space process pushes on `dispatched`; the
 * process is itself a SCHED_EXT task (`usersched_pid`). Each time that task reaches its script's
 * `{"call": "userland"}` step, this does one round of the loader's loop: drain `enqueued` into a
 * vruntime-ordered list (vruntime += Δsum_exec_runtime × 100 / weight, floored at the list's
 * minimum), push up to `batch` pids on `dispatched`, and set `.bss` `nr_queued` / `nr_scheduled`
 * — then the task yields, as the loop's sched_yield() does.
 */
import type { LoadedObject } from '../object.js';
import type { TaskSpec } from './workload.js';

/** struct scx_userland_enqueued_task {s32 pid; u64 sum_exec_runtime; u64 weight;} */
const ENQUEUED_PID = 0, ENQUEUED_RUNTIME = 8, ENQUEUED_WEIGHT = 16;

interface Entry { pid: number; vruntime: number; sumExecRuntime: bigint }

/** The loop's state and counters (the loader's stats thread prints them). */
export class UserlandScheduler {
  private readonly tasks = new Map<number, Entry>();
  private list: Entry[] = [];
  private minVruntime = 0;
  enqueues = 0;
  dispatches = 0;
  failed = 0;

  constructor(private readonly loaded: LoadedObject, private readonly batch = 8) {}

  /** The user scheduler's task: a little CPU, a round of the loop, a yield; forever. */
  static task(): TaskSpec {
    return Object.freeze({
      name: 'scx_userland', count: 1, nice: 0, kthread: false, start: 0, loop: true, cgroup: '/',
      script: Object.freeze([{ run: 10_000 }, { call: 'userland' }, { yield: true as const }]),
    });
  }

  /** One round: drain_enqueued_map(), dispatch_batch(). */
  round(): void {
    const enqueued = this.loaded.map('enqueued'), dispatched = this.loaded.map('dispatched');
    for (;;) {
      const v = enqueued.lookupAndDelete(new Uint8Array(0));
      if (!v) break;
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      this.enqueue(dv.getInt32(ENQUEUED_PID, true), dv.getBigUint64(ENQUEUED_RUNTIME, true), dv.getBigUint64(ENQUEUED_WEIGHT, true));
    }
    this.loaded.setGlobal('nr_queued', 0);
    for (let i = 0; i < this.batch && this.list.length > 0; i++) {
      const e = this.list[0];
      this.minVruntime = e.vruntime;
      const pid = new Uint8Array(4);
      new DataView(pid.buffer).setInt32(0, e.pid, true);
      try {
        dispatched.update(new Uint8Array(0), pid);
      } catch {
        this.failed++;
        break; // back at the head; the batch stops
      }
      this.list.shift();
      this.dispatches++;
    }
    this.loaded.setGlobal('nr_scheduled', this.list.length);
  }

  private enqueue(pid: number, sumExecRuntime: bigint, weight: bigint): void {
    let e = this.tasks.get(pid);
    if (!e) this.tasks.set(pid, e = { pid, vruntime: 0, sumExecRuntime: 0n });
    e.vruntime += Number(sumExecRuntime - e.sumExecRuntime) / (Number(weight) / 100);
    if (this.minVruntime > e.vruntime) e.vruntime = this.minVruntime;
    e.sumExecRuntime = sumExecRuntime;
    this.enqueues++;
    // Before the first entry it is not after (<=), as the loader's list insert.
    const at = this.list.findIndex((x) => e!.vruntime <= x.vruntime);
    if (at < 0) this.list.push(e); else this.list.splice(at, 0, e);
  }
}
