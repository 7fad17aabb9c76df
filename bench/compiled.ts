/**
 * The compiled benchmark (issue 14, step 1): clang-19 -O2 BPF objects (progs/bench_NAME.bpf.o)
 * against the same C compiled with gcc -O2 (bench/native/cNAME.c). Each algorithm is one C
 * function in bench/compiled/NAME.h, included by both, so both compute the same checksum; the
 * native twin's result is the reference every engine's result must equal (a mismatch fails the
 * bench).
 *
 * How each kind runs:
 *  - raw (fib, crc32, sort, sieve, hash64, parse): the object's subprogram bench_NAME
 *    (progs/include/bench_compiled.h) is cut out of the linked program and run as raw bytecode
 *    through prepareConformanceProgram, r1 = input memory, r2 = its length, behind a three-
 *    instruction stub `r3 = param; call bench_NAME; exit`. No maps, no helpers. Each run resets
 *    the input (a copy of the buffer, timed with the run);
 *  - loader (hashmap, arena_list): loadObject + program.run with the SEC("syscall") program's
 *    context struct bench_args { u64 len; u64 param; u8 data[len] } (at most 65535 bytes);
 *    the program leaves its map / arena empty, so every run starts from the same state.
 *
 * Figures: the whole table (native, then every engine on every program) is measured ROUNDS = 3
 * times; each figure of a round is the best of RUNS runs after one warm-up run (the checked
 * one) for the engines, the best of NATIVE_RUNS for native. Printed: the min / median / max over
 * the three rounds of each engine's ns per run and × native (each round's ratio against that
 * round's native time), and of each engine's geometric mean of × native; with the load
 * average before and after.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareConformanceProgram } from '../src/conformance.js';
import { EngineName, ENGINES } from '../src/engines.js';
import { insn, Instruction, width } from '../src/isa/instruction.js';
import { loadObject, openObject } from '../src/object.js';

const ROUNDS = 3;
const RUNS = 3;
const NATIVE_RUNS = 10;
const BUDGET = { instructionBudget: Infinity };

interface CompiledProgram {
  readonly name: string;
  readonly what: string;
  readonly mode: 'raw' | 'loader';
  /** The input: the raw program's memory, or the data of the syscall program's context. */
  readonly mem: () => Uint8Array;
  readonly param: number;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function noise(len: number, seed: number): Uint8Array {
  const mem = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    mem[i] = x & 0xff;
  }
  return mem;
}

/**
 * parse's input: FRAMES frames, each a u16 LE length then the frame: UDP, TCP with options,
 * 802.1Q-tagged UDP, ARP, ICMP, IPv4 with options, non-first fragments, and truncated ones.
 */
function frames(count: number): Uint8Array {
  const rnd = noise(count * 16, 0x5eed);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const r = (i: number) => rnd[k * 16 + i];
    const kind = r(0) % 8;
    const f: number[] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if (kind === 2) f.push(0x81, 0x00, 0x00, r(1) & 0x0f);
    if (kind === 3) { // ARP
      f.push(0x08, 0x06, ...Array.from({ length: 28 }, (_, i) => (i * 7 + k) & 0xff));
      out.push(f.length & 0xff, f.length >> 8, ...f);
      continue;
    }
    f.push(0x08, 0x00);
    const optWords = kind === 5 ? 1 + (r(2) % 3) : 0;
    const ihl = 5 + optWords;
    const proto = kind === 1 ? 6 : kind === 7 ? 1 : 17;
    const payload = Array.from({ length: r(3) % 64 }, (_, i) => (i * 13 + r(4)) & 0xff);
    const tcpOpt = kind === 1 ? 4 * (r(5) % 4) : 0;
    const l4 = proto === 6 ? [r(6), r(7), r(8), r(9), 0, 0, 0, 1, 0, 0, 0, 0, (5 + tcpOpt / 4) << 4, r(10) & 0x3f, 0xff, 0xff, 0, 0, 0, 0,
      ...new Array(tcpOpt).fill(1)]
      : proto === 17 ? [r(6), r(7), r(8), r(9), (8 + payload.length) >> 8, (8 + payload.length) & 0xff, 0, 0]
        : [8, 0, 0, 0, 0, 1, 0, 1];
    const total = ihl * 4 + l4.length + payload.length;
    const frag = kind === 6 ? 0x20 | (r(11) & 0x1f) : 0x40;
    f.push(0x40 | ihl, 0, total >> 8, total & 0xff, 0x12, 0x34, frag, kind === 6 ? r(12) | 1 : 0, 64, proto, 0, 0,
      10, r(13), r(14), 1, 192, 168, r(15), 2, ...new Array(optWords * 4).fill(1), ...l4, ...payload);
    const len = kind === 4 ? Math.max(1, f.length - 1 - (r(1) % 40)) : f.length; // truncated
    out.push(len & 0xff, len >> 8, ...f.slice(0, len));
  }
  return Uint8Array.from(out);
}

export const COMPILED: readonly CompiledProgram[] = [
  { name: 'fib', what: 'loop of 64-bit arithmetic', mode: 'raw', mem: () => new Uint8Array(8), param: 4_000_000 },
  { name: 'crc32', what: 'bytewise table CRC-32, 8 x 256 KiB', mode: 'raw', mem: () => noise(1024 + (256 << 10), 7), param: 8 },
  { name: 'sort', what: 'insertion sort of 4096 u32s', mode: 'raw', mem: () => noise(4096 * 4, 3), param: 0 },
  { name: 'sieve', what: 'sieve of Eratosthenes, 1 MiB of bytes, 2 passes', mode: 'raw', mem: () => new Uint8Array(1 << 20), param: 2 },
  { name: 'hash64', what: 'multiply-xorshift hash, 128 KiB, 80 passes', mode: 'raw', mem: () => noise(128 << 10, 11), param: 80 },
  { name: 'parse', what: 'Eth/VLAN/IPv4/UDP/TCP parser, 4096 frames, 144 passes', mode: 'raw', mem: () => frames(4096), param: 144 },
  { name: 'hashmap', what: 'HASH map lookup/update per item, 8192 keys x 192', mode: 'loader', mem: () => noise(8192 * 4, 13), param: 192 },
  { name: 'arena_list', what: 'arena linked list, 2^16 nodes, 8 walks', mode: 'loader', mem: () => new Uint8Array(0), param: 1 << 16 },
];

/** progs/bench_NAME.bpf.o's subprogram bench_NAME, behind `r3 = param; call bench_NAME; exit`. */
export function rawProgram(root: string, name: string, param: number): Instruction[] {
  const spec = openObject(join(root, 'progs', `bench_${name}.bpf.o`)).spec.programs.find((p) => p.name === name);
  const fn = spec?.functions.find((f) => f.name === `bench_${name}`);
  if (!spec || !fn) throw new Error(`progs/bench_${name}.bpf.o: no program ${name} calling bench_${name}`);
  const body: Instruction[] = [];
  let slot = 0;
  for (const i of spec.insns) {
    if (slot >= fn.start && slot < fn.start + fn.length) body.push(i);
    slot += width(i);
  }
  // Self-contained: no calls (helpers, kfuncs, subprograms) and no map or global references.
  for (const i of body) {
    if (i.opcode === 0x85 || (i.opcode === 0x18 && i.src !== 0)) throw new Error(`bench_${name}: not raw-runnable (opcode 0x${i.opcode.toString(16)}, src ${i.src})`);
  }
  return [insn(0xb7, 3, 0, 0, param), insn(0x85, 0, 1, 0, 1), insn(0x95), ...body];
}

/** struct bench_args { u64 len; u64 param; u8 data[len]; } */
function benchArgs(data: Uint8Array, param: number): Uint8Array {
  const ctx = new Uint8Array(16 + data.length);
  const v = new DataView(ctx.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setBigUint64(8, BigInt(param), true);
  ctx.set(data, 16);
  return ctx;
}

function timeNs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0);
}

/** A prepared program on one engine: one run, giving r0. */
function prepare(root: string, engine: EngineName, p: CompiledProgram): () => bigint {
  if (p.mode === 'raw') {
    const vm = prepareConformanceProgram(rawProgram(root, p.name, p.param), p.mem(), engine);
    return () => vm.run(BUDGET).r0;
  }
  const prog = loadObject(join(root, 'progs', `bench_${p.name}.bpf.o`), { engine }).program(p.name);
  const ctx = benchArgs(p.mem(), p.param);
  return () => prog.run({ ...BUDGET, ctx }).retval;
}

/** The checked warm-up run, then the best of RUNS. */
function benchEngine(root: string, engine: EngineName, p: CompiledProgram, expect: bigint): number {
  const run = prepare(root, engine, p);
  const got = run();
  if (got !== expect) {
    throw new Error(`compiled bench ${p.name} on ${engine}: result 0x${got.toString(16)}, but the gcc twin gives 0x${expect.toString(16)}`);
  }
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) best = Math.min(best, timeNs(run));
  return best;
}

/** Builds bench/native/cNAME.c with the driver (once), runs it: its result and best ns. */
function nativeTwin(root: string, p: CompiledProgram, built: Set<string>): { result: bigint; ns: number } {
  const src = join(root, 'bench', 'native');
  const outDir = join(root, 'dist', 'bench', 'native');
  const exe = join(outDir, `c${p.name}`);
  if (!built.has(p.name)) {
    mkdirSync(outDir, { recursive: true });
    const cc = spawnSync('gcc', ['-O2', '-std=c11', '-o', exe, join(src, 'driver.c'), join(src, `c${p.name}.c`)], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed on c${p.name}.c:\n${cc.stderr}`);
    built.add(p.name);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'bpfrun-bench-'));
  try {
    const memFile = join(tmp, `${p.name}.mem`);
    writeFileSync(memFile, p.mem());
    const run = spawnSync(exe, [memFile, String(p.param), String(NATIVE_RUNS)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`native c${p.name} failed:\n${run.stderr}`);
    const [hex, ns] = run.stdout.trim().split(/\s+/);
    return { result: BigInt('0x' + hex), ns: Number(ns) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

/** min / median / max of three (or any number of) figures. */
function spread(xs: readonly number[], digits: number): string {
  const s = [...xs].sort((a, b) => a - b);
  return [s[0], s[Math.floor(s.length / 2)], s[s.length - 1]].map((x) => x.toFixed(digits)).join(' / ');
}

function load(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

/** The compiled benchmark's section of `npm run bench`; `engines` narrows it (profiling one engine). */
export function compiledBench(root: string, programs: readonly CompiledProgram[] = COMPILED,
  engines: readonly EngineName[] = ENGINES): void {
  console.log(`\ncompiled benchmark: clang-19 -O2 objects progs/bench_*.bpf.o vs. gcc -O2 twins (bench/native/c*.c);`);
  console.log(`${ROUNDS} rounds; per round: engines best of ${RUNS} runs after a checked warm-up, native best of ${NATIVE_RUNS}`);
  console.log(`figures: min / median / max over the ${ROUNDS} rounds`);
  const gcc = spawnSync('gcc', ['--version']);
  if (gcc.error || gcc.status !== 0) {
    console.log('note: gcc not found; the compiled benchmark needs its native twins (the reference results): skipped');
    return;
  }
  const loadBefore = load();
  const built = new Set<string>();
  const nativeNs = new Map<string, number[]>(programs.map((p) => [p.name, []]));
  const engineNs = new Map<string, number[]>();
  const ratios = new Map<string, number[]>();
  const geo = new Map<EngineName, number[]>(engines.map((e) => [e, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const native = new Map<string, { result: bigint; ns: number }>();
    for (const p of programs) {
      const n = nativeTwin(root, p, built);
      native.set(p.name, n);
      nativeNs.get(p.name)!.push(n.ns);
    }
    for (const engine of engines) {
      const multiples: number[] = [];
      for (const p of programs) {
        const nat = native.get(p.name)!;
        const ns = benchEngine(root, engine, p, nat.result);
        const key = `${engine}/${p.name}`;
        (engineNs.get(key) ?? engineNs.set(key, []).get(key)!).push(ns);
        (ratios.get(key) ?? ratios.set(key, []).get(key)!).push(ns / nat.ns);
        multiples.push(ns / nat.ns);
      }
      geo.get(engine)!.push(geomean(multiples));
    }
  }
  console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after\n`);
  console.log('engine  program     run ms (min / med / max)         x native (min / med / max)   what');
  for (const engine of engines) {
    for (const p of programs) {
      const key = `${engine}/${p.name}`;
      console.log([engine.padEnd(7), p.name.padEnd(11), spread(engineNs.get(key)!.map((ns) => ns / 1e6), 2).padStart(30),
        spread(ratios.get(key)!, 1).padStart(28), ` ${p.what} (${p.mode})`].join(' '));
    }
    console.log(`${engine.padEnd(7)} geometric mean of x native: ${spread(geo.get(engine)!, 1)}\n`);
  }
  for (const p of programs) {
    console.log(`native  ${p.name.padEnd(11)} ${spread(nativeNs.get(p.name)!.map((ns) => ns / 1e6), 3).padStart(30)} ms`);
  }
}
