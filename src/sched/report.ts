/**
 * What `bpfrun sched` prints (sched-ext.md §7.7): the exit line a loader prints, per-task and
 * per-CPU figures, DSQ depths, the event counters, the scheduler's own counters; and a Chrome
 * trace (JSON trace events, which Perfetto and chrome://tracing open): one track per CPU with
 * the running tasks, one track per task (running and runnable intervals), DSQ depth counters
 * and the exit as an instant.
 */
import type { LoadedObject } from '../object.js';
import type { SchedResult } from './host.js';

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
