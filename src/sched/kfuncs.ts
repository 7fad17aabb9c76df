/**
 * The sched_ext kfuncs of Linux 7.2 (sched-ext.md §3.1–§3.2) and the generic kfuncs the upstream
 * schedulers call (bpf_task_from_pid, bpf_cpumask_test_cpu, RCU), as natives over a SchedHost.
 * They are made before the object loads (the externs resolve against them) and find the host
 * through `ref` once it exists. Each first applies the kfunc filter (§2.8).
 */
import type { KfuncEntry } from '../kernel/natives.js';
import { bpfFormat, memoryFormat } from '../helpers/printf.js';
import { latin1Text } from '../text.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { EVENT_NAMES, SCX_EXIT_ERROR_BPF, SCX_EXIT_UNREG_BPF } from './constants.js';
import { SCX_DSQ_FLAG_BUILTIN, SCX_DSQ_LOCAL } from './dsq.js';
import type { SchedHost } from './host.js';
import type { Task } from './task.js';

/** The kfuncs' view of the host, filled in once the scheduler is attached. */
export interface HostRef { host?: SchedHost }

const SCX_DSQ_ITER_REV = 1n << 16n;
const MAX_BSTR_ARGS = 12;

/** Per-DSQ-iterator state, by the iterator's address (struct bpf_iter_scx_dsq on the BPF stack). */
interface DsqIter { tasks: Task[]; pos: number; slice?: bigint; vtime?: bigint; dsqId: bigint }

export function createScxKfuncs(ref: HostRef): KfuncEntry[] {
  const h = (): SchedHost => {
    if (!ref.host) throw new Error('a sched_ext kfunc was called before the scheduler was attached');
    return ref.host;
  };
  const k = (): SimKernel => h().loaded.kernel;
  const task = (ctx: CallContext, n: number): Task | undefined => h().taskAt(ctx.arg(n));
  const s32 = (ctx: CallContext, n: number) => ctx.argLo(n) | 0;
  const u32 = (ctx: CallContext, n: number) => ctx.argLo(n) >>> 0;
  const cpuOk = (cpu: number) => cpu >= 0 && cpu < h().machine.nrCpus;
  const validCpu = (cpu: number): boolean => {
    if (cpuOk(cpu)) return true;
    h().error(`invalid CPU ${cpu}`);
    return false;
  };
  const cidToCpu = (cid: number): number => {
    if (cid >= 0 && cid < h().machine.nrCpus) return h().machine.cidToCpu[cid];
    h().error(`invalid cid ${cid}`);
    return -1;
  };
  const idleOff = (): boolean => {
    if (h().builtinIdle) return false;
    h().error('built-in idle tracking is disabled');
    return true;
  };

  // Kernel cpumasks handed out by the mask kfuncs (read-only views, rewritten on each call).
  let masks: MemoryRegion | undefined;
  const maskAt = (slot: number, bits: (cpu: number) => boolean): bigint => {
    masks ??= k().memory.map('sched_ext cpumasks (idle, idle SMT, online, possible)', new Uint8Array(4 * 1024), false);
    const base = slot * 1024;
    masks.bytes.fill(0, base, base + 1024);
    for (let c = 0; c < h().machine.nrCpus; c++) if (bits(c)) masks.bytes[base + (c >> 3)] |= 1 << (c & 7);
    return AddressSpace.address(masks, base);
  };
  const maskBit = (ctx: CallContext, address: bigint, cpu: number): boolean => {
    const byte = k().memory.read(address + BigInt(cpu >> 3), 1);
    if (!byte) throw k().memory.outOfBounds(ctx.index, 'read', Number(address & 0xffffffffn) | 0, Number(address >> 32n) | 0, 1);
    return (byte[0] & (1 << (cpu & 7))) !== 0;
  };

  /** The text of a *_bstr call (bpf_bprintf rules, at most 12 u64 arguments). */
  const bstr = (ctx: CallContext, fmtArg: number): string | undefined => {
    const fmt = k().memory.readString(ctx.arg(fmtArg), 1024);
    const data = ctx.arg(fmtArg + 1), size = u32(ctx, fmtArg + 2);
    if (!fmt || size % 8 !== 0 || size > MAX_BSTR_ARGS * 8 || (size > 0 && data === 0n)) {
      h().error(`invalid data=0x${data.toString(16)} and data__sz=${size}`);
      return undefined;
    }
    const raw = size > 0 ? k().memory.read(data, size) : new Uint8Array(0);
    if (!raw) { h().error('failed to read data fields (-14)'); return undefined; }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const args = Array.from({ length: size / 8 }, (_, i) => dv.getBigUint64(i * 8, true));
    const text = bpfFormat(latin1Text(fmt.bytes), args, memoryFormat(k().memory));
    if (typeof text === 'number') { h().error(`format preparation failed (${text})`); return undefined; }
    return text;
  };

  const insertArgs = (ctx: CallContext, base: bigint) => {
    const raw = k().readOrFail(ctx.index, base, 32);
    const dv = new DataView(raw.buffer, raw.byteOffset, 32);
    return { dsqId: dv.getBigUint64(0, true), slice: dv.getBigUint64(8, true), vtime: dv.getBigUint64(16, true), flags: dv.getBigUint64(24, true) };
  };

  const iters = new Map<bigint, DsqIter>();
  /** scx_bpf_dsq_move[_vtime]: take `p` from the iterated DSQ to another (§3.2). */
  const dsqMove = (ctx: CallContext, vtime: boolean): boolean => {
    const it = iters.get(ctx.arg(1)), p = task(ctx, 2), host = h();
    if (!it || !p || host.aborting) return false;
    const src = p.dsq;
    if (!src || src.kind !== 'user' || src.id !== it.dsqId || p.dsqSeq > (it.tasks[it.tasks.length - 1]?.dsqSeq ?? -1)) return false;
    src.remove(p);
    if (it.slice !== undefined) p.setSlice(it.slice);
    if (it.vtime !== undefined) p.setVtime(it.vtime);
    const flags = ctx.arg(4);
    host.dispatchProgress++;
    host.dispatchEnqueue(p, ctx.arg(3), flags, host.thisCpu, host.thisCpu, vtime ? p.vtime() : undefined);
    it.slice = undefined; it.vtime = undefined;
    return true;
  };

  const cpuSelect = (ctx: CallContext, p: Task | undefined, prev: number, mask: bigint, flags: bigint): number => {
    const host = h();
    if (!p || idleOff() || !validCpu(prev)) return -16;
    const op = host.currentOp();
    if ((op?.op === 'select_cpu' || op?.op === 'select_cid') && op.subject !== p) { host.error('called on a task not being operated on'); return -16; }
    const allowed = mask === 0n ? undefined : (cpu: number) => maskBit(ctx, mask, cpu);
    return host.selectCpuDfl(p, prev, allowed, flags, host.thisCpu);
  };

  const fns: [string, NativeFn, boolean?][] = [
    // ENQUEUE / DISPATCH (§3.2)
    ['scx_bpf_dsq_insert', (ctx) => { h().insert(task(ctx, 1), ctx.arg(2), ctx.arg(3), ctx.arg(4)); }],
    ['scx_bpf_dsq_insert___v2', (ctx) => (h().insert(task(ctx, 1), ctx.arg(2), ctx.arg(3), ctx.arg(4)) ? 1 : 0)],
    ['__scx_bpf_dsq_insert_vtime', (ctx) => {
      const a = insertArgs(ctx, ctx.arg(2));
      return h().insert(task(ctx, 1), a.dsqId, a.slice, a.flags, a.vtime) ? 1 : 0;
    }],
    ['scx_bpf_dsq_insert_vtime', (ctx) => { h().insert(task(ctx, 1), ctx.arg(2), ctx.arg(3), ctx.arg(5), ctx.arg(4)); }],
    ['scx_bpf_dispatch_nr_slots', () => h().dispatchMaxBatch - h().cpus[h().thisCpu].dsp.length],
    ['scx_bpf_dispatch_cancel', () => {
      const dsp = h().cpus[h().thisCpu].dsp;
      if (dsp.length === 0) h().error('dispatch buffer underflow'); else dsp.pop();
    }],
    ['scx_bpf_dsq_move_to_local', (ctx) => (h().moveToLocal(ctx.arg(1)) ? 1 : 0)],
    ['scx_bpf_dsq_move_to_local___v2', (ctx) => (h().moveToLocal(ctx.arg(1)) ? 1 : 0)],
    ['scx_bpf_sub_dispatch', () => 0],
    ['bpf_iter_scx_dsq_new', (ctx) => {
      const it = ctx.arg(1), id = ctx.arg(2), flags = ctx.arg(3);
      iters.delete(it);
      if (flags & ~SCX_DSQ_ITER_REV) return -22;
      const dsq = (id & SCX_DSQ_FLAG_BUILTIN) ? undefined : h().userDsqs.get(id);
      if (!dsq) return -2;
      const tasks = [...dsq.tasks];
      if (flags & SCX_DSQ_ITER_REV) tasks.reverse();
      iters.set(it, { tasks, pos: 0, dsqId: id });
      return 0;
    }],
    ['bpf_iter_scx_dsq_next', (ctx) => {
      const it = iters.get(ctx.arg(1));
      if (!it) return 0;
      while (it.pos < it.tasks.length) {
        const t = it.tasks[it.pos++];
        if (t.dsq?.id === it.dsqId) return t.address;
      }
      return 0;
    }],
    ['bpf_iter_scx_dsq_destroy', (ctx) => { iters.delete(ctx.arg(1)); }],
    ['scx_bpf_dsq_move_set_slice', (ctx) => { const it = iters.get(ctx.arg(1)); if (it) it.slice = ctx.arg(2); }],
    ['scx_bpf_dsq_move_set_vtime', (ctx) => { const it = iters.get(ctx.arg(1)); if (it) it.vtime = ctx.arg(2); }],
    ['scx_bpf_dsq_move', (ctx) => (dsqMove(ctx, false) ? 1 : 0)],
    ['scx_bpf_dsq_move_vtime', (ctx) => (dsqMove(ctx, true) ? 1 : 0)],
    // UNLOCKED
    ['scx_bpf_create_dsq', (ctx) => h().createDsq(ctx.arg(1), s32(ctx, 2)), true],
    ['scx_bpf_destroy_dsq', (ctx) => { h().destroyDsq(ctx.arg(1)); }],
    ['scx_bpf_dsq_nr_queued', (ctx) => h().nrQueued(ctx.arg(1))],
    ['scx_bpf_dsq_peek', (ctx) => {
      const id = ctx.arg(1);
      if (id & SCX_DSQ_FLAG_BUILTIN) { h().error(`peek disallowed on builtin DSQ 0x${id.toString(16)}`); return 0; }
      const dsq = h().userDsqs.get(id);
      if (!dsq) { h().error(`peek on non-existent DSQ 0x${id.toString(16)}`); return 0; }
      return dsq.tasks[0]?.address ?? 0;
    }],
    // SELECT_CPU and IDLE (§4.5)
    ['scx_bpf_select_cpu_dfl', (ctx) => {
      const p = task(ctx, 1), prev = s32(ctx, 2);
      const cpu = cpuSelect(ctx, p, prev, 0n, 0n);
      const isIdle = ctx.arg(4);
      if (isIdle !== 0n) k().writeOrFail(ctx.index, isIdle, new Uint8Array([cpu >= 0 ? 1 : 0]));
      return cpu >= 0 ? cpu : prev;
    }],
    ['__scx_bpf_select_cpu_and', (ctx) => {
      const raw = k().readOrFail(ctx.index, ctx.arg(3), 24);
      const dv = new DataView(raw.buffer, raw.byteOffset, 24);
      const cpu = cpuSelect(ctx, task(ctx, 1), dv.getInt32(0, true), ctx.arg(2), dv.getBigUint64(16, true));
      return cpu >= 0 ? cpu : -16;
    }],
    ['scx_bpf_select_cpu_and', (ctx) => {
      const cpu = cpuSelect(ctx, task(ctx, 1), s32(ctx, 2), ctx.arg(4), ctx.arg(5));
      return cpu >= 0 ? cpu : -16;
    }],
    ['scx_bpf_test_and_clear_cpu_idle', (ctx) => (idleOff() || !validCpu(s32(ctx, 1)) ? 0 : h().testAndClearIdle(s32(ctx, 1)) ? 1 : 0)],
    ['scx_bpf_pick_idle_cpu', (ctx) => {
      if (idleOff()) return -16;
      const mask = ctx.arg(1);
      const cpu = h().pickIdleCpu((c) => maskBit(ctx, mask, c), ctx.arg(2), h().thisCpu);
      return cpu >= 0 ? cpu : -16;
    }],
    ['scx_bpf_pick_any_cpu', (ctx) => {
      const mask = ctx.arg(1), host = h();
      if (host.builtinIdle) {
        const cpu = host.pickIdleCpu((c) => maskBit(ctx, mask, c), ctx.arg(2), host.thisCpu);
        if (cpu >= 0) return cpu;
      }
      for (let c = 0; c < host.machine.nrCpus; c++) if (maskBit(ctx, mask, c)) return c;
      return -16;
    }],
    ['scx_bpf_get_idle_cpumask', () => (idleOff() ? maskAt(0, () => false) : maskAt(0, (c) => h().idle[c]))],
    ['scx_bpf_get_idle_smtmask', () => (idleOff() ? maskAt(1, () => false)
      : maskAt(1, (c) => h().machine.siblings(c).every((s) => h().idle[s])))],
    ['scx_bpf_put_idle_cpumask', () => undefined],
    ['scx_bpf_get_online_cpumask', () => maskAt(2, () => true)],
    ['scx_bpf_get_possible_cpumask', () => maskAt(3, () => true)],
    ['scx_bpf_put_cpumask', () => undefined],
    ['scx_bpf_cpu_node', (ctx) => (validCpu(s32(ctx, 1)) ? h().machine.nodeOf[s32(ctx, 1)] : 0)],
    // ANY
    ['scx_bpf_task_set_slice', (ctx) => { const p = task(ctx, 1); if (!p) return 0; p.setSlice(ctx.arg(2)); return 1; }],
    ['scx_bpf_task_set_dsq_vtime', (ctx) => { const p = task(ctx, 1); if (!p) return 0; p.setVtime(ctx.arg(2)); return 1; }],
    ['scx_bpf_kick_cpu', (ctx) => { const cpu = s32(ctx, 1); if (validCpu(cpu)) h().kick(cpu, ctx.arg(2)); }],
    ['scx_bpf_kick_cid', (ctx) => { const cpu = cidToCpu(s32(ctx, 1)); if (cpu >= 0) h().kick(cpu, ctx.arg(2)); }],
    ['scx_bpf_task_running', (ctx) => { const p = task(ctx, 1); return p && h().cpus[p.cpu].curr === p ? 1 : 0; }],
    ['scx_bpf_task_cpu', (ctx) => task(ctx, 1)?.cpu ?? 0],
    ['scx_bpf_task_cid', (ctx) => { const p = task(ctx, 1); return p ? h().machine.cpuToCid[p.cpu] : -22; }],
    ['scx_bpf_cpu_curr', (ctx) => (validCpu(s32(ctx, 1)) ? (h().cpus[s32(ctx, 1)].curr ?? h().cpus[s32(ctx, 1)].idleTask).address : 0)],
    ['scx_bpf_cid_curr', (ctx) => { const cpu = cidToCpu(s32(ctx, 1)); return cpu < 0 ? 0 : (h().cpus[cpu].curr ?? h().cpus[cpu].idleTask).address; }],
    ['scx_bpf_tid_to_task', (ctx) => h().tidToTask(ctx.arg(1))?.address ?? 0],
    ['scx_bpf_now', () => k().clockNow()],
    ['scx_bpf_nr_cpu_ids', () => h().machine.nrCpus],
    ['scx_bpf_nr_node_ids', () => h().machine.nrNodes],
    ['scx_bpf_nr_cids', () => h().machine.nrCpus],
    ['scx_bpf_nr_online_cids', () => h().machine.nrCpus],
    ['scx_bpf_this_cid', () => h().machine.cpuToCid[k().cpu]],
    ['scx_bpf_cid_to_cpu', (ctx) => cidToCpu(s32(ctx, 1))],
    ['scx_bpf_cpu_to_cid', (ctx) => (validCpu(s32(ctx, 1)) ? h().machine.cpuToCid[s32(ctx, 1)] : -22)],
    ['scx_bpf_cid_topo', (ctx) => {
      const cid = s32(ctx, 1), size = u32(ctx, 3);
      const out = new Uint8Array(size).fill(0xff);
      const t = cid >= 0 && cid < h().machine.nrCpus ? h().machine.cidTopo[cid] : undefined;
      if (t) {
        const dv = new DataView(out.buffer);
        [t.coreCid, t.coreIdx, t.llcCid, t.llcIdx, t.nodeCid, t.nodeIdx].forEach((v, i) => { if (i * 4 + 4 <= size) dv.setInt32(i * 4, v, true); });
      } else h().error(`invalid cid ${cid}`);
      k().writeOrFail(ctx.index, ctx.arg(2), out);
    }],
    // Every CPU has capacity and current performance 1024 (§7.2); a bad CPU is still an error.
    ['scx_bpf_cpuperf_cap', (ctx) => { validCpu(s32(ctx, 1)); return 1024; }],
    ['scx_bpf_cpuperf_cur', (ctx) => { validCpu(s32(ctx, 1)); return 1024; }],
    ['scx_bpf_cpuperf_set', (ctx) => { const cpu = s32(ctx, 1); if (validCpu(cpu)) h().cpuperfSet(cpu, u32(ctx, 2)); }],
    ['scx_bpf_cidperf_cap', (ctx) => { cidToCpu(s32(ctx, 1)); return 1024; }],
    ['scx_bpf_cidperf_cur', (ctx) => { cidToCpu(s32(ctx, 1)); return 1024; }],
    ['scx_bpf_cidperf_set', (ctx) => { const cpu = cidToCpu(s32(ctx, 1)); if (cpu >= 0) h().cpuperfSet(cpu, u32(ctx, 2)); }],
    ['scx_bpf_events', (ctx) => {
      const size = u32(ctx, 2), out = new Uint8Array(Math.min(size, EVENT_NAMES.length * 8));
      const dv = new DataView(out.buffer);
      EVENT_NAMES.forEach((n, i) => { if (i * 8 + 8 <= out.length) dv.setBigInt64(i * 8, BigInt(h().events.get(n) ?? 0), true); });
      k().writeOrFail(ctx.index, ctx.arg(1), out);
    }],
    ['scx_bpf_error_bstr', (ctx) => { const text = bstr(ctx, 1); if (text !== undefined) h().exitFromBpf(SCX_EXIT_ERROR_BPF, 0n, text); }],
    ['scx_bpf_exit_bstr', (ctx) => { const text = bstr(ctx, 2); if (text !== undefined) h().exitFromBpf(SCX_EXIT_UNREG_BPF, ctx.arg(1), text); }],
    ['scx_bpf_dump_bstr', (ctx) => { const text = bstr(ctx, 1); if (text !== undefined) h().dump(text); }],
    ['scx_bpf_dsq_reenq', (ctx) => { h().reenq(ctx.arg(1), ctx.arg(2)); }],
    ['scx_bpf_reenqueue_local___v2', () => { h().reenq(SCX_DSQ_LOCAL, 0n); }],
    ['scx_bpf_locked_rq', () => 0],
    ['scx_bpf_cpu_rq', () => 0],
    // Generic kfuncs the schedulers call (§3.2).
    ['bpf_task_from_pid', (ctx) => { const p = h().taskByPidOf(s32(ctx, 1)); return p && p.state !== 'dead' ? p.address : 0; }],
    ['bpf_task_acquire', (ctx) => ctx.arg(1)],
    ['bpf_task_release', () => undefined],
    ['bpf_cpumask_test_cpu', (ctx) => { const cpu = u32(ctx, 1); return cpu < h().machine.nrCpus && maskBit(ctx, ctx.arg(2), cpu) ? 1 : 0; }],
    // The workload's cgroups (./cgroups.ts); references are not counted.
    ['bpf_cgroup_from_id', (ctx) => h().cgroups.byId(ctx.arg(1))?.address ?? 0],
    ['bpf_cgroup_ancestor', (ctx) => {
      const cg = h().cgroups.at(ctx.arg(1));
      return (cg && h().cgroups.ancestor(cg, s32(ctx, 2))?.address) ?? 0;
    }],
    ['bpf_cgroup_acquire', (ctx) => ctx.arg(1)],
    ['bpf_cgroup_release', () => undefined],
    ['scx_bpf_task_cgroup', (ctx) => {
      const p = task(ctx, 1), op = h().currentOp();
      if (!p || (op?.subject && op.subject !== p)) {
        h().error('called on a task not being operated on');
        return h().cgroups.root.address;
      }
      return h().taskCgroup(p).address;
    }],
    ['bpf_rcu_read_lock', () => undefined],
    ['bpf_rcu_read_unlock', () => undefined],
  ];
  return fns.map(([name, fn, sleepable]) => ({
    name,
    sleepable,
    fn: (ctx: CallContext) => {
      h().checkKfunc(name, ctx.index);
      return fn(ctx);
    },
  }));
}
