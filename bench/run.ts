/**
 * `npm run bench`: instructions per second of each engine on compute-heavy programs. Each
 * program is checked against its reference result first; figures are the best of several runs
 * after a warm-up, so they measure the engine, not V8's tiering.
 */
import { assemble } from '../src/asm/assembler.js';
import { EngineName, runConformanceProgram } from '../src/conformance.js';
import { PROGRAMS } from './programs.js';

const RUNS = 5;
const ENGINES: EngineName[] = ['interp'];

function main(): void {
  console.log(`node ${process.version}, best of ${RUNS} runs after one warm-up\n`);
  console.log('engine  program  instructions   ms      M insn/s  what');
  for (const engine of ENGINES) {
    for (const p of PROGRAMS) {
      const insns = assemble(p.asm);
      const budget = { instructionBudget: 1e10 };
      const check = runConformanceProgram(insns, p.mem(), engine, budget);
      if (check.r0 !== p.expect) throw new Error(`${p.name} on ${engine}: r0 = ${check.r0}, expected ${p.expect}`);
      let best = Infinity;
      for (let i = 0; i < RUNS; i++) {
        const mem = p.mem();
        const t0 = process.hrtime.bigint();
        runConformanceProgram(insns, mem, engine, budget);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const rate = check.instructions / best / 1e3;
      console.log(`${engine.padEnd(7)} ${p.name.padEnd(8)} ${String(check.instructions).padStart(12)} ${best.toFixed(1).padStart(7)} ${rate.toFixed(1).padStart(10)}  ${p.what}`);
    }
  }
}

main();
