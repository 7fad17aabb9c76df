/**
 * The BPF conformance suite's world (bpf_conformance): its `.data` test files and the machine
 * its plugins provide — r1 = input memory, r2 = its length, helper 5 = "unwind".
 */
import { Instruction } from './isa/instruction.js';
import { AddressSpace } from './memory.js';
import { ArenaInfo, HelperDef, RunOptions, RunResult } from './runtime.js';
import { createEngine, DEFAULT_ENGINE, EngineName } from './engines.js';
import { DEFAULT_INSTRUCTION_BUDGET } from './program.js';

export interface ConformanceTest {
  /** `-- asm` section text, if any. */
  readonly asm?: string;
  /** `-- raw` section text, if any. */
  readonly raw?: string;
  readonly mem: Uint8Array;
  /** Expected r0, if the file states one. */
  readonly result?: bigint;
  /** Expected error text, if the file states one (may be empty). */
  readonly error?: string;
}

/** Parses a `.data` file (format: shared/conformance/FORMAT.md). */
export function parseConformanceData(text: string): ConformanceTest {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^-- (.*)$/.exec(line.trimEnd());
    if (header) {
      current = [];
      sections.set(header[1].trim(), current);
    } else if (current && !line.startsWith('#')) {
      current.push(line);
    }
  }
  const body = (name: string) => sections.get(name)?.join('\n');
  const memText = (body('mem') ?? '').replace(/#.*/g, '').trim();
  const mem = memText === '' ? new Uint8Array(0)
    : Uint8Array.from(memText.split(/\s+/), (b) => parseInt(b, 16));
  const resultText = body('result')?.replace(/#.*/g, '').trim();
  return {
    asm: body('asm'),
    raw: body('raw'),
    mem,
    result: resultText ? BigInt.asUintN(64, BigInt(resultText)) : undefined,
    error: sections.has('error') ? body('error')!.trim() : undefined,
  };
}

/** The suite's helper 5: returns r1 and ends the program when that is 0. */
const UNWIND: HelperDef = {
  name: 'unwind',
  fn: (ctx) => {
    const v = ctx.arg(1);
    if (v === 0n) ctx.stop();
    return v;
  },
};


/** Runs a program as a conformance plugin does: r1 = input memory, r2 = its length. */
export function runConformanceProgram(insns: readonly Instruction[], mem: Uint8Array, engine: EngineName = DEFAULT_ENGINE,
  options: RunOptions = { instructionBudget: DEFAULT_INSTRUCTION_BUDGET }): RunResult {
  return prepareConformanceProgram(insns, mem, engine).run(options);
}

/** A program built once for an engine (decoded, compiled), run as often as needed. */
export interface PreparedConformanceProgram {
  /**
   * The live input region the program sees. Every `run` first resets it to the memory given
   * to `prepareConformanceProgram`, so each run starts from the same state; after a run it
   * holds what the program left there.
   */
  readonly input: Uint8Array;
  /** One run, as `runConformanceProgram` does it (r1 = input, r2 = its length). */
  run(options?: RunOptions): RunResult;
}

/** What a prepared program's world may have beyond the conformance machine. */
export interface ConformanceExtras {
  /** An arena for addr_space_cast / PROBE_MEM32 accesses (see test/interp-arena.test.ts). */
  readonly arena?: ArenaInfo;
}

/**
 * `runConformanceProgram` split in two, so that building the engine (the interpreter's
 * predecode, the JIT's compile) can be timed apart from running: for benchmarks, `run-raw`
 * and the differential fuzzer.
 */
export function prepareConformanceProgram(insns: readonly Instruction[], mem: Uint8Array,
  engine: EngineName = DEFAULT_ENGINE, extras: ConformanceExtras = {}): PreparedConformanceProgram {
  const memory = new AddressSpace();
  const initial = mem.slice();
  const input = memory.map('input', mem.slice());
  const env = { memory, natives: { helpers: new Map([[5, UNWIND]]), kfuncs: new Map() }, arena: extras.arena };
  const vm = createEngine(engine, insns, env);
  const args = [AddressSpace.address(input), BigInt(mem.length)];
  return {
    input: input.bytes,
    run: (options = { instructionBudget: DEFAULT_INSTRUCTION_BUDGET }) => {
      input.bytes.set(initial);
      return vm.run(args, options);
    },
  };
}
