/**
 * `npm run fuzz [-- SEED [ITERATIONS] [--arena]]`: the long differential fuzzing run. Each
 * iteration generates a program from seed, seed + 1, ... (the arena variant on odd seeds, or
 * on all with --arena) and runs it on every engine of ENGINES (twice on one engine when
 * there is only one). A disagreement prints the seed, the difference and a shrunk program
 * listing; the exit status is the number of disagreements (capped at 100).
 */
import { ENGINES } from '../src/engines.js';
import { checkProgram, describeProgram, shrinkProgram } from '../src/fuzz/diff.js';
import { generateProgram } from '../src/fuzz/generate.js';

function main(argv: string[]): number {
  const arenaOnly = argv.includes('--arena');
  const [seedArg, itersArg] = argv.filter((a) => !a.startsWith('--'));
  const seed = seedArg === undefined ? Date.now() % 1_000_000_000 : Number(seedArg);
  const iterations = itersArg === undefined ? 20_000 : Number(itersArg);
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(iterations) || iterations <= 0) {
    console.error('usage: npm run fuzz -- [SEED [ITERATIONS]] [--arena]');
    return 2;
  }
  console.log(`fuzzing ${ENGINES.join(' vs ')}${ENGINES.length === 1 ? ' (determinism: each program twice)' : ''}: seeds ${seed}..${seed + iterations - 1}`);
  const t0 = Date.now();
  let failures = 0;
  for (let k = 0; k < iterations; k++) {
    const s = seed + k;
    const arena = arenaOnly || s % 2 === 1;
    const prog = generateProgram(s, { arena });
    const d = checkProgram(prog, ENGINES);
    if (d) {
      failures++;
      const small = shrinkProgram(prog, (p) => checkProgram(p, ENGINES) !== undefined);
      const again = checkProgram(small, ENGINES);
      console.log(`\nDISAGREEMENT seed ${s}${arena ? ' --arena' : ''}: ${d.engines.join(' vs ')}: ${d.what}`);
      if (again) console.log(`shrunk (${small.insns.length} of ${prog.insns.length} instructions): ${again.what}`);
      console.log(describeProgram(small));
    }
    if ((k + 1) % 5000 === 0) console.log(`${k + 1} programs, ${failures} disagreements, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`done: ${iterations} programs, ${failures} disagreements, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return Math.min(failures, 100);
}

process.exitCode = main(process.argv.slice(2));
