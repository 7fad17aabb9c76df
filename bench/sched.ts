/**
 * Simulated scheduling per wall-clock second (the sched_ext host, sched-ext.md §7): a vtime
 * scheduler on 8 CPUs and 64 tasks (the `mixed` shape, 64 tasks: hogs, interactive and batch
 * tasks), 2 s of simulated time per run, on each engine. The scheduler is progs/scx_fifo.bpf.o in
 * vtime mode, the project's twin of scx_simple (the same ops and the same figures: test/sched);
 * the upstream scx_simple is measured too when BPFRUN_SCX_OBJ names the directory its
 * scripts/sched-ext/build.sh output went to. Figures: op calls (struct_ops program runs) per
 * second, scheduling decisions (CPU picks) per second, and simulated seconds per wall second.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { runScheduler } from '../src/sched/loader.js';
import { parseWorkload } from '../src/sched/workload.js';

const CPUS = 8;
const SIM_NS = 2e9;
const RUNS = 3;

const WORKLOAD = parseWorkload({
  tasks: [
    { name: 'hog', count: 16, script: [{ run: '100ms' }] },
    { name: 'inter', count: 32, script: [{ run: '1ms' }, { sleep: '4ms' }] },
    { name: 'batch', count: 16, script: [{ run: '20ms' }, { sleep: '10ms' }] },
  ],
}, CPUS);

export function schedBench(root: string): void {
  const targets: [string, string, Record<string, boolean>][] = [['scx_fifo (vtime)', join(root, 'progs', 'scx_fifo.bpf.o'), { vtime_mode: true }]];
  const upstream = process.env.BPFRUN_SCX_OBJ && join(process.env.BPFRUN_SCX_OBJ, 'scx_simple.bpf.o');
  if (upstream && existsSync(upstream)) targets.push(['scx_simple', upstream, {}]);
  console.log(`\nsched_ext host: ${CPUS} CPUs, 64 tasks, ${SIM_NS / 1e9} s simulated per run, best of ${RUNS}`);
  console.log('engine  scheduler          op calls   picks    wall ms   op calls/s     picks/s  simulated s/s');
  for (const engine of ENGINES) {
    for (const [name, file, rodata] of targets) {
      let best = Infinity;
      let ops = 0, picks = 0;
      for (let k = 0; k <= RUNS; k++) {
        const t0 = performance.now();
        const { result } = runScheduler(file, { cpus: CPUS, workload: WORKLOAD, durationNs: SIM_NS, engine, rodata });
        const wall = performance.now() - t0;
        ops = Object.values(result.ops).reduce((a, b) => a + b, 0);
        picks = result.cpus.reduce((a, c) => a + c.picks, 0);
        if (k > 0) best = Math.min(best, wall); // the first run warms up
      }
      console.log([engine.padEnd(7), name.padEnd(17), String(ops).padStart(9), String(picks).padStart(7), best.toFixed(0).padStart(10),
        Math.round(ops / (best / 1e3)).toString().padStart(12), Math.round(picks / (best / 1e3)).toString().padStart(11),
        (SIM_NS / 1e9 / (best / 1e3)).toFixed(2).padStart(14)].join(' '));
    }
  }
}
