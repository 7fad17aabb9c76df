/**
 * `npm run fuzz [-- SEED [ITERATIONS]] [--minutes N] [--arena] [--out DIR]`: the long
 * differential fuzzing run. Each iteration generates a program from seed, seed + 1, ... (the
 * arena variant on odd seeds, or on all with --arena) and runs it on every engine of ENGINES
 * (twice on one engine when there is only one): once to the end, and once with an instruction
 * budget that stops it part way; and one mutated object of progs/ (in turn) is loaded and run on
 * every engine with hostile kfuncs (src/fuzz/objects.ts), which must agree and never crash. It stops after ITERATIONS programs (default 20 000) or, with
 * --minutes, after that long. A disagreement prints the seed, the difference and a shrunk
 * program, and writes the shrunk program to DIR (default fuzz-failures/) as a reproducer:
 * `seed-N.txt` (the listing) and `seed-N.hex` + `seed-N.mem` (for `bpfrun exec`). The exit
 * status is the number of disagreements (capped at 100).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINES } from '../src/engines.js';
import { budgetStop, checkProgram, describeProgram, shrinkProgram } from '../src/fuzz/diff.js';
import { FuzzProgram, generateProgram, Rng } from '../src/fuzz/generate.js';
import { checkObject, mutateObject } from '../src/fuzz/objects.js';
import { toHexLines } from '../src/isa/instruction.js';

function usage(): number {
  console.error('usage: npm run fuzz -- [SEED [ITERATIONS]] [--minutes N] [--arena] [--out DIR]');
  return 2;
}

/** Shrinks a failing program, prints it and writes it as a reproducer; returns the file stem. */
function report(prog: FuzzProgram, what: string, out: string): string {
  const small = shrinkProgram(prog, (p) => checkProgram(p, ENGINES) !== undefined);
  const again = checkProgram(small, ENGINES);
  const listing = describeProgram(small);
  console.log(`\nDISAGREEMENT seed ${prog.seed}${prog.arena ? ' (arena)' : ''}${prog.budget === undefined ? '' : ` (budget ${prog.budget})`}: ${what}`);
  if (again) console.log(`shrunk (${small.insns.length} of ${prog.insns.length} instructions): ${again.what}`);
  console.log(listing);
  mkdirSync(out, { recursive: true });
  const stem = join(out, `seed-${prog.seed}${prog.budget === undefined ? '' : '-budget'}`);
  writeFileSync(`${stem}.txt`, `${what}\n${listing}\n`);
  writeFileSync(`${stem}.hex`, `${toHexLines(small.insns).join('\n')}\n`);
  writeFileSync(`${stem}.mem`, small.mem);
  return stem;
}

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: {
      minutes: { type: 'string' }, arena: { type: 'boolean' }, out: { type: 'string' },
    } });
  } catch {
    return usage();
  }
  const { values, positionals } = parsed;
  const seed = positionals[0] === undefined ? Date.now() % 1_000_000_000 : Number(positionals[0]);
  const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
  const iterations = positionals[1] !== undefined ? Number(positionals[1]) : minutes !== undefined ? Infinity : 20_000;
  if (!Number.isSafeInteger(seed) || !(iterations > 0) || (minutes !== undefined && !(minutes > 0))) return usage();
  const out = values.out ?? 'fuzz-failures';
  const deadline = minutes === undefined ? Infinity : Date.now() + minutes * 60_000;
  console.log(`fuzzing ${ENGINES.join(' vs ')}${ENGINES.length === 1 ? ' (determinism: each program twice)' : ''}: ` +
    `from seed ${seed}${minutes === undefined ? `, ${iterations} programs` : `, ${minutes} minutes`}, each to the end and stopped by a budget`);
  const objects = readdirSync('progs').filter((f) => f.endsWith('.o')).sort()
    .map((file) => ({ file, bytes: new Uint8Array(readFileSync(join('progs', file))) }));
  const t0 = Date.now();
  let failures = 0, programs = 0, runs = 0, objectRuns = 0;
  for (let s = seed; programs < iterations && Date.now() < deadline; s++, programs++) {
    const prog = generateProgram(s, { arena: values.arena === true || s % 2 === 1 });
    for (const variant of [prog, budgetStop(prog, ENGINES[0])]) {
      runs += 2 * Math.max(1, ENGINES.length - 1);
      const d = checkProgram(variant, ENGINES);
      if (d) {
        failures++;
        console.log(`reproducer: ${report(variant, `${d.engines.join(' vs ')}: ${d.what}`, out)}.{txt,hex,mem}`);
        break;
      }
    }
    const object = objects[s % objects.length];
    if (object) {
      const { data, what } = mutateObject(object.bytes, new Rng(s));
      objectRuns += 2 * Math.max(1, ENGINES.length - 1);
      const d = checkObject(data, object.file, s, ENGINES);
      if (d) {
        failures++;
        mkdirSync(out, { recursive: true });
        const file = join(out, `seed-${s}-${object.file}`);
        writeFileSync(file, data);
        console.log(`\nDISAGREEMENT seed ${s}: ${object.file} (${what}): ${d.engines.join(' vs ')}: ${d.what}\nreproducer: ${file}`);
      }
    }
    if ((programs + 1) % 5000 === 0) {
      console.log(`${programs + 1} programs (${runs} runs), ${programs + 1} objects (${objectRuns} runs), ${failures} disagreements, ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  console.log(`done: seeds ${seed}..${seed + programs - 1}, ${programs} programs (${runs} runs), ${programs} mutated objects ` +
    `(${objectRuns} runs), ${failures} disagreements, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return Math.min(failures, 100);
}

process.exitCode = main(process.argv.slice(2));
