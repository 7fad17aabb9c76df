/**
 * What `bpfrun sched` prints (sched-ext.md §7.7): the exit line a loader prints, per-task and
 * per-CPU figures, DSQ depths, the event counters, the scheduler's own counters; and a Chrome
 * trace (JSON trace events, which Perfetto and chrome://tracing open): one track per CPU with
 * the running tasks, one track per task (running and runnable intervals), DSQ depth counters
 * and the exit as an instant.
 */
import type { LoadedObject } from '../object.js';
import type { RunSlice, SchedResult } from './host.js';

const ms = (ns: number) => (ns / 1e6).toFixed(3);

export function formatSchedReport(r: SchedResult, header: string, stats: readonly string[]): string {
  const out: string[] = [header, ''];
  if (r.exit.dump) out.push('DEBUG DUMP', '='.repeat(80), '', r.exit.dump, '='.repeat(80), '');
  out.push(r.exit.line);
  if (r.exit.exitCode !== 0n) out.push(`exit code 0x${BigInt.asUintN(64, r.exit.exitCode).toString(16)}${r.exit.restart ? ' (ACT_RESTART: the loader would start the scheduler again)' : ''}`);
  out.push('');
  const total = r.tasks.reduce((s, t) => s + t.runtimeNs, 0) || 1;
  out.push('tasks:', `  ${'pid'.padStart(5)} ${'comm'.padEnd(15)} ${'nice'.padStart(4)} ${'weight'.padStart(6)} ${'runtime ms'.padStart(11)} ${'share'.padStart(6)} `
    + `${'runs'.padStart(6)} ${'migr'.padStart(5)} ${'preempt'.padStart(7)} ${'wait avg ms'.padStart(11)} ${'wait max ms'.padStart(11)}  state`);
  for (const t of r.tasks) {
    out.push(`  ${String(t.pid).padStart(5)} ${t.comm.padEnd(15)} ${String(t.nice).padStart(4)} ${String(t.weight).padStart(6)} ${ms(t.runtimeNs).padStart(11)} `
      + `${((100 * t.runtimeNs) / total).toFixed(1).padStart(5)}% ${String(t.runs).padStart(6)} ${String(t.migrations).padStart(5)} ${String(t.preemptions).padStart(7)} `
      + `${ms(t.waitAvgNs).padStart(11)} ${ms(t.waitMaxNs).padStart(11)}  ${t.state}`);
  }
  out.push('', 'cpus:');
  for (const c of r.cpus) {
    out.push(`  cpu ${String(c.cpu).padStart(3)} (cid ${String(c.cid).padStart(3)}): ${(100 * c.utilisation).toFixed(1).padStart(5)}% busy, ${c.picks} picks, `
      + `${c.dispatchCalls} dispatch calls, ${c.idleEntries} idle entries, ${c.kicksReceived} kicks`);
  }
  out.push('', 'dsqs (max depth):');
  for (const d of r.dsqs) if (d.maxDepth > 0 || !d.label.startsWith('LOCAL')) out.push(`  ${d.label.padEnd(18)} ${d.maxDepth}`);
  out.push('', `ops: ${Object.entries(r.ops).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const events = Object.entries(r.events).filter(([, v]) => v !== 0);
  out.push(`events: ${events.length ? events.map(([k, v]) => `${k}=${v}`).join(' ') : 'none'}`);
  if (stats.length) out.push('', 'scheduler counters:', ...stats.map((s) => `  ${s}`));
  out.push('', `op trace hash: ${r.opHash}`);
  return out.join('\n');
}

/**
 * The scheduler's own counters, as its loader would print them: every scalar global of `.bss`
 * and `.data`, and every per-CPU array map's values summed
 * over the CPUs, as u64s.
 */
export function schedulerCounters(loaded: LoadedObject): string[] {
  const out: string[] = [];
  for (const g of loaded.globals()) {
    if (!/^\.(bss|data)$/.test(g.section) || g.name.startsWith('uei')) continue;
    if (g.value !== undefined) out.push(`${g.name}=${g.value}`);
  }
  for (const m of loaded.maps.values()) {
    if (m.type !== 6 /* PERCPU_ARRAY */ || m.valueSize % 8 !== 0) continue;
    for (let i = 0; i < m.maxEntries && i < 16; i++) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, i, true);
      const all = m.lookup(key); // every CPU's value, back to back (bpf_percpu_array_copy)
      if (!all) continue;
      const words = m.valueSize / 8, cpus = all.length / m.valueSize;
      const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
      const sums = Array.from({ length: words }, (_, w) => {
        let sum = 0n;
        for (let c = 0; c < cpus; c++) sum += dv.getBigUint64(c * m.valueSize + w * 8, true);
        return BigInt.asUintN(64, sum);
      });
      out.push(`${m.name}[${i}]=${words === 1 ? sums[0] : `[${sums.join(', ')}]`} (summed over CPUs)`);
    }
  }
  return out;
}

/** Chrome trace JSON (trace event format): CPU tracks of running tasks, a track per task (running, runnable), DSQ depth counters, the exit. */
export function chromeTrace(r: SchedResult): string {
  const us = (ns: number) => ns / 1000;
  const events: object[] = [{ name: 'process_name', ph: 'M', pid: 0, args: { name: `sched_ext ${r.name}: CPUs` } }];
  for (const c of r.cpus) events.push({ name: 'thread_name', ph: 'M', pid: 0, tid: c.cpu, args: { name: `CPU ${c.cpu}` } });
  for (const s of r.slices) {
    events.push({ name: `${s.comm}[${s.pid}]`, cat: 'sched', ph: 'X', pid: 0, tid: s.cpu, ts: us(s.start), dur: us(s.end - s.start), args: { pid: s.pid } });
  }
  // One track per task: when it ran (and where) and when it waited, runnable.
  events.push({ name: 'process_name', ph: 'M', pid: 2, args: { name: 'tasks' } });
  for (const t of r.tasks) events.push({ name: 'thread_name', ph: 'M', pid: 2, tid: t.pid, args: { name: `${t.comm}[${t.pid}]` } });
  for (const s of r.slices) events.push({ name: `running on CPU ${s.cpu}`, cat: 'task', ph: 'X', pid: 2, tid: s.pid, ts: us(s.start), dur: us(s.end - s.start) });
  for (const w of r.waits) events.push({ name: 'runnable', cat: 'task', ph: 'X', pid: 2, tid: w.pid, ts: us(w.start), dur: us(w.end - w.start), args: { ranOn: w.cpu } });
  events.push({ name: 'process_name', ph: 'M', pid: 1, args: { name: 'DSQs' } });
  for (const d of r.dsqs) {
    if (d.maxDepth === 0) continue;
    for (const [t, n] of d.samples) events.push({ name: `DSQ ${d.label}`, ph: 'C', pid: 1, ts: us(t), args: { depth: n } });
  }
  events.push({ name: r.exit.line, ph: 'i', s: 'g', pid: 0, tid: 0, ts: us(r.exit.atNs) });
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}

/**
 * The run as ftrace text (`sched_switch` and `sched_wakeup` lines under a `# tracer: nop`
 * header, formats of include/trace/events/sched.h), which Perfetto imports with its own CPU
 * lanes and thread states (sched-ext.md §7.7). Timestamps are seconds since the enable; every
 * task has prio 120; prev_state is R for a task switched out runnable, S for one that slept,
 * X for one that exited.
 */
export function systrace(r: SchedResult): string {
  type Ev = { t: number; cpu: number; line: string; order: number };
  const evs: Ev[] = [];
  const ts = (ns: number) => (ns / 1e9).toFixed(6);
  const cpuField = (cpu: number) => `[${String(cpu).padStart(3, '0')}]`;
  const task = (comm: string, pid: number) => `${comm}-${pid}`.padStart(16);
  const switchLine = (cpu: number, t: number, p: { comm: string; pid: number }, state: string, n: { comm: string; pid: number }) =>
    `${task(p.comm, p.pid)} ${cpuField(cpu)} ..... ${ts(t)}: sched_switch: prev_comm=${p.comm} prev_pid=${p.pid} prev_prio=120 `
    + `prev_state=${state} ==> next_comm=${n.comm} next_pid=${n.pid} next_prio=120`;
  const byCpu = new Map<number, RunSlice[]>();
  for (const s of r.slices) {
    let list = byCpu.get(s.cpu);
    if (!list) byCpu.set(s.cpu, list = []);
    list.push(s);
  }
  for (const [cpu, list] of byCpu) {
    list.sort((a, b) => a.start - b.start);
    const idle = { comm: `swapper/${cpu}`, pid: 0 };
    let prev: RunSlice | undefined;
    for (const s of list) {
      if (prev && prev.end < s.start) {
        evs.push({ t: prev.end, cpu, order: 1, line: switchLine(cpu, prev.end, prev, prev.out ?? 'S', idle) });
        prev = undefined;
      }
      evs.push({ t: s.start, cpu, order: 1, line: switchLine(cpu, s.start, prev ?? idle, prev ? prev.out ?? 'R' : 'R', s) });
      prev = s;
    }
    if (prev && prev.out !== 'R') evs.push({ t: prev.end, cpu, order: 1, line: switchLine(cpu, prev.end, prev, prev.out ?? 'S', idle) });
  }
  for (const w of r.wakeups) {
    evs.push({ t: w.t, cpu: w.cpu, order: 0, line: `${task(w.comm, w.pid)} ${cpuField(w.cpu)} ..... ${ts(w.t)}: sched_wakeup: comm=${w.comm} pid=${w.pid} prio=120 target_cpu=${String(w.cpu).padStart(3, '0')}` });
  }
  evs.sort((a, b) => a.t - b.t || a.order - b.order || a.cpu - b.cpu);
  return ['# tracer: nop', '#', '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION', ...evs.map((e) => e.line)].join('\n') + '\n';
}
