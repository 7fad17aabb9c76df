/**
 * `npm run bench`: each engine of ENGINES on compute-heavy programs, against the same
 * algorithm in C compiled with gcc -O2 (bench/native/). Each program is checked against its
 * reference result first (the C twin too); figures are the best of several runs after a
 * warm-up, so they measure the engine, not V8's tiering. Building the engine (the
 * interpreter's predecode, the JIT's compile) is timed apart from running. After the
 * hand-written programs, the packet and scheduler sections: the compiled benchmark
 * (bench/compiled.ts: clang-built objects against gcc twins).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/assembler.js';
import { prepareConformanceProgram, PreparedConformanceProgram } from '../src/conformance.js';
import { insn, Instruction } from '../src/isa/instruction.js';
import { EngineName, ENGINES } from '../src/engines.js';
import { compiledBench } from './compiled.js';
import { packetBench } from './packets.js';
import { schedBench } from './sched.js';
import { BenchProgram, PROGRAMS } from './programs.js';

const RUNS = 5;
const NATIVE_RUNS = 20;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NATIVE_SRC = join(ROOT, 'bench', 'native');
const NATIVE_OUT = join(ROOT, 'dist', 'bench', 'native');

interface NativeResult {
  readonly ns: number;
}

/** Whether gcc is here to build the C twins (a note otherwise: the native column is skipped). */
function haveGcc(): boolean {
  const probe = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log('note: gcc not found; the native column is skipped\n');
    return false;
  }
  return true;
}

/**
 * Compiles bench/native/NAME.c with the driver and runs it on `mem` with `param`: its best time
 * in ns, after checking its result is `expect`.
 */
function runNativeTwin(name: string, mem: Uint8Array, param: number, expect: bigint): number {
  const tmp = mkdtempSync(join(tmpdir(), 'bpfrun-bench-'));
  try {
    const exe = join(NATIVE_OUT, name);
    spawnSync('mkdir', ['-p', NATIVE_OUT]);
    const cc = spawnSync('gcc', ['-O2', '-std=c11', '-o', exe, join(NATIVE_SRC, 'driver.c'), join(NATIVE_SRC, `${name}.c`)],
      { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed on ${name}.c:\n${cc.stderr}`);
    const memFile = join(tmp, `${name}.mem`);
    writeFileSync(memFile, mem);
    const run = spawnSync(exe, [memFile, String(param), String(NATIVE_RUNS)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`native ${name} failed:\n${run.stderr}`);
    const [hex, ns] = run.stdout.trim().split(/\s+/);
    if (BigInt('0x' + hex) !== expect) throw new Error(`native ${name}: result 0x${hex}, expected 0x${expect.toString(16)}`);
    return Number(ns);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The C twins of the compute programs; undefined without gcc. */
function runNative(programs: readonly BenchProgram[], gcc: boolean): Map<string, NativeResult> | undefined {
  if (!gcc) return undefined;
  return new Map(programs.map((p) => [p.name, { ns: runNativeTwin(p.name, p.mem(), p.param, p.expect) }]));
}

function ms(ns: number): string {
  return (ns / 1e6).toFixed(ns < 1e7 ? 3 : 1);
}

function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

function timeNs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0);
}

function benchEngine(engine: EngineName, p: BenchProgram): { insns: number; setupNs: number; runNs: number } {
  const insns = assemble(p.asm);
  const mem = p.mem();
  const budget = { instructionBudget: 1e10 };
  // Setup (predecode / compile): the best of RUNS fresh builds.
  let vm!: PreparedConformanceProgram;
  let setupNs = Infinity;
  for (let i = 0; i < RUNS; i++) setupNs = Math.min(setupNs, timeNs(() => { vm = prepareConformanceProgram(insns, mem, engine); }));
  const check = vm.run(budget);
  if (check.r0 !== p.expect) throw new Error(`${p.name} on ${engine}: r0 = ${check.r0}, expected ${p.expect}`);
  let runNs = Infinity;
  for (let i = 0; i < RUNS; i++) runNs = Math.min(runNs, timeNs(() => vm.run(budget)));
  return { insns: check.instructions, setupNs, runNs };
}

function main(): void {
  console.log(`node ${process.version}; engines: ${ENGINES.join(', ')}; best of ${RUNS} runs after one warm-up`);
  const gcc = haveGcc();
  const native = runNative(PROGRAMS, gcc);
  if (native) console.log(`native: gcc -O2, best of ${NATIVE_RUNS} runs\n`);
  console.log('engine  program   instructions  setup ms     run ms  ns/insn   x native  what');
  for (const engine of ENGINES) {
    const multiples: number[] = [];
    for (const p of PROGRAMS) {
      const { insns, setupNs, runNs } = benchEngine(engine, p);
      const nat = native?.get(p.name);
      const multiple = nat ? runNs / nat.ns : undefined;
      if (multiple !== undefined) multiples.push(multiple);
      console.log([
        engine.padEnd(7), p.name.padEnd(8), String(insns).padStart(13), ms(setupNs).padStart(9), ms(runNs).padStart(10),
        (runNs / insns).toFixed(2).padStart(8), (multiple === undefined ? '-' : multiple.toFixed(1)).padStart(10), ` ${p.what}`,
      ].join(' '));
    }
    if (multiples.length > 0) console.log(`${engine.padEnd(7)} geometric mean of x native: ${geomean(multiples).toFixed(1)}\n`);
  }
  if (native) {
    console.log('native  program   run ms');
    for (const p of PROGRAMS) console.log(`native  ${p.name.padEnd(8)} ${ms(native.get(p.name)!.ns).padStart(7)}`);
  }
  packetBench((name, mem, param, expect) => (gcc ? runNativeTwin(name, mem, param, expect) : undefined));
  schedBench(ROOT);
  compiledBench(ROOT);
}

/**
 * Compile cost: a generated straight-line program of 100 000 instructions (ALU, stack stores
 * and loads, multiplies, forward branches), prepared by each engine.
 */
function compileCost(): void {
  const insns: Instruction[] = [];
  for (let i = 0; i < 99_999; i++) {
    switch (i % 5) {
      case 0: insns.push(insn(0x07, i % 9, 0, 0, i)); break; // r += imm
      case 1: insns.push(insn(0x7b, 10, i % 9, -8 * (1 + (i % 8)))); break; // stack store
      case 2: insns.push(insn(0x79, (i + 1) % 9, 10, -8 * (1 + (i % 8)))); break; // stack load
      case 3: insns.push(insn(0x2f, i % 9, (i + 3) % 9)); break; // r *= r
      default: insns.push(insn(0x25, i % 9, 0, 1, 1000)); // if r > 1000 goto +1
    }
  }
  insns.push(insn(0x95));
  // One basic block of 100 000 instructions (unrolled code): block-local work must stay linear.
  const straight = Array.from({ length: 99_999 }, (_, i) => (i % 2 ? insn(0x07, i % 9, 0, 0, i) : insn(0x2f, i % 9, (i + 3) % 9)));
  straight.push(insn(0x95));
  for (const [what, program] of [['with a branch every 5 instructions', insns], ['one straight-line block', straight]] as const) {
    console.log(`\ncompile cost of a 100 000-instruction program, ${what}:`);
    for (const engine of ENGINES) {
      const t0 = performance.now();
      prepareConformanceProgram(program, new Uint8Array(0), engine);
      console.log(`  ${engine.padEnd(7)} ${(performance.now() - t0).toFixed(0)} ms`);
    }
  }
}

main();
compileCost();
