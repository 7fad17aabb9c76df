/**
 * A loaded program: validated and lowered once at load, built for an engine on first use, run
 * with its program type's test-run semantics. It owns what the kernel keeps per program — its
 * streams, its prog tag, the references a run holds, its view of the object's arena — and turns
 * engine frames and slots into what the kernel prints: symbols, offsets and source lines.
 */
import { SourceLocation, VmError } from './errors.js';
import { EngineName, ENGINE_KINDS } from './engines.js';
import { encode, Instruction, width } from './isa/instruction.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, OP_LDDW } from './isa/opcodes.js';
import type { SimKernel } from './kernel/kernel.js';
import type { ObjectSpec, ProgramSpec } from './loader/spec.js';
import { Decoded, predecode } from './lower.js';
import type { ArenaMap } from './maps/arena.js';
import { programTypeDef } from './progtypes/index.js';
import { ArenaInfo, EngineFrame, ExecEnv, FrameSource, LdImm64Resolver, Natives } from './runtime.js';
import { Engine, STACK_BYTES } from './shell.js';
import {
  bpfProgSymbol, ProgramStreams, progTag, reportArenaViolation, StackFrame,
} from './streams/index.js';
import { latin1Text } from './text.js';
import { inlinableLoopCalls, References } from './verifier.js';

export interface RunOptions {
  /** The context buffer (r1 points at a copy); none means r1 = NULL, as BPF_PROG_TEST_RUN does. */
  readonly ctx?: Uint8Array;
  readonly engine?: EngineName;
  /**
   * Stop with BudgetExceededError after this many instructions (default
   * DEFAULT_INSTRUCTION_BUDGET; `Infinity` lifts the limit).
   */
  readonly instructionBudget?: number;
  /** Stop with RunTimeoutError after this many milliseconds (default: no timeout). */
  readonly timeoutMs?: number;
}

/**
 * The instructions a run may execute unless told otherwise. The kernel's verifier rejects a
 * program that could run forever; bpfrun has no verifier, so a budget stands in for it and ends
 * such a run in BudgetExceededError instead of a hang. 10^8 is 100 times the verifier's limit of
 * 1 M processed instructions (BPF_COMPLEXITY_LIMIT_INSNS), so straight-line and bounded-loop
 * programs stay far below it, and it stops a runaway program in about a second or two. The
 * kernel has no such limit at run time: a program that legitimately runs longer (bpf_loop,
 * can_loop and bpf_for each allow up to 8 M iterations) needs a larger budget, or `Infinity`.
 */
export const DEFAULT_INSTRUCTION_BUDGET = 100_000_000;

export interface ProgramRun {
  /** r0, unsigned 64-bit. */
  readonly retval: bigint;
  readonly instructions: number;
  /** The context after the run (programs may write it), if one was given. */
  readonly ctx?: Uint8Array;
}

/** What the instantiation gives a program: its kernel, natives, arena and how to resolve its pseudo forms. */
export interface ProgramDeps {
  readonly objectSpec: ObjectSpec;
  readonly kernel: SimKernel;
  readonly natives: Natives;
  /** bpf_prog_arena(): the object's arena, when this program uses it. */
  readonly arena?: ArenaMap;
  /** The object's arena: its deferred frees run once any of its programs is done. spec §2.3 */
  readonly objectArena?: ArenaMap;
  readonly resolveLdImm64: LdImm64Resolver;
  readonly tailCallTarget: ExecEnv['tailCallTarget'];
  /** The engine `run` uses unless told otherwise. */
  readonly defaultEngine: EngineName;
  /** Told of each engine instance made, so the kernel can tell which program an engine runs. */
  readonly onEngine: (engine: FrameSource, program: Program) => void;
}

export class Program {
  /** The program's BPF streams (stdout 1, stderr 2). spec §4 */
  readonly streams: ProgramStreams;
  /** bpf_prog_arena(): the arena, when the program uses it. */
  readonly arena?: ArenaMap;
  /** What KF_ACQUIRE kfuncs handed out in the current run and KF_RELEASE kfuncs took back. */
  readonly references = new References();
  readonly defaultEngine: EngineName;
  private readonly deps: ProgramDeps;
  private readonly env: ExecEnv;
  /** The program validated and lowered once, at load; every engine builds from it. */
  private readonly code: Decoded;
  private readonly engines = new Map<EngineName, Engine>();
  private readonly tags: readonly string[];
  /** bpf_loop call sites the verifier would inline (no helper frame in stack dumps). */
  private readonly inlinedLoops: ReadonlySet<number>;

  constructor(readonly spec: ProgramSpec, deps: ProgramDeps) {
    this.deps = deps;
    this.defaultEngine = deps.defaultEngine;
    this.arena = deps.arena;
    const events = deps.kernel.events;
    this.streams = new ProgramStreams((stream, elements, origin) =>
      events.add({ kind: 'stream', program: spec.name, stream, elements: elements.map(latin1Text), origin }));
    this.env = {
      memory: deps.kernel.memory,
      natives: deps.natives,
      resolveLdImm64: deps.resolveLdImm64,
      shadow: deps.kernel.shadow,
      tailCallTarget: deps.tailCallTarget,
      arena: deps.arena && this.arenaInfo(deps.arena),
      stack: deps.kernel.memory.mapStack(new Uint8Array(STACK_BYTES)),
    };
    this.code = predecode(spec.insns, this.env);
    this.tags = spec.functions.map((f) => progTag(encode(kernelView(spec.insns, f.start, f.length))));
    this.inlinedLoops = inlinableLoopCalls(spec.insns);
  }

  /** The engines' view of the arena: its pages, and fault reports to this program's stderr. */
  private arenaInfo(arena: ArenaMap): ArenaInfo {
    return {
      userVmStart: arena.userVmStart,
      noUserConv: arena.noUserConv,
      pageAt: (offset) => arena.pageAtOffset(offset),
      reportFault: (isWrite, address, frames) => {
        const insn = frames[0]?.kind === 'bpf' ? frames[0].pc : undefined;
        this.deps.kernel.events.add({
          kind: 'fault', program: this.name, access: isWrite ? 'write' : 'read', path: 'exception-table',
          userAddress: address, insn, source: insn === undefined ? undefined : this.sourceOf(insn),
        });
        this.reportArenaViolation(isWrite, address, frames);
      },
    };
  }

  /** The program's instance of an engine, made (compiled) on first use. */
  engine(kind: EngineName): Engine {
    let e = this.engines.get(kind);
    if (e === undefined) {
      e = ENGINE_KINDS[kind].create(this.code, this.env);
      this.engines.set(kind, e);
      this.deps.onEngine(e, this);
    }
    return e;
  }

  get name(): string { return this.spec.name; }
  get section(): string { return this.spec.section; }

  run(options: RunOptions = {}): ProgramRun {
    const engine = this.engine(options.engine ?? this.defaultEngine);
    const type = programTypeDef(this.spec.type.name);
    const setup = type.testRun(this.deps.kernel.memory, { ctx: options.ctx }, this.name);
    this.references.clear();
    try {
      const result = engine.run(setup.args, {
        instructionBudget: options.instructionBudget ?? DEFAULT_INSTRUCTION_BUDGET, timeoutMs: options.timeoutMs,
      });
      this.references.checkReleased();
      return { retval: result.r0, instructions: result.instructions, ctx: setup.finish().ctx };
    } catch (e) {
      if (e instanceof VmError && e.location === undefined) e.locate(this.name, this.sourceOf(e.index));
      throw e;
    } finally {
      setup.release();
      this.deps.objectArena?.runDeferredFrees();
    }
  }

  /** The C source line of a slot of this program, from line_info. */
  sourceOf(slot: number): SourceLocation | undefined {
    const spec = this.deps.objectSpec;
    const line = spec.lineOf(this.spec, slot);
    const origin = spec.originOf(this.spec, slot);
    if (!line || !origin) return undefined;
    return { program: this.name, function: origin.function, file: line.fileName, line: line.line, column: line.column, text: line.lineText };
  }

  /** Engine frames as the kernel's stack walker prints them (spec §4.6). */
  stackFrames(frames: readonly EngineFrame[]): StackFrame[] {
    const shown = frames.filter((f, k) => {
      const caller = frames[k + 1];
      return !(f.kind === 'native' && f.name === 'bpf_loop' && caller?.kind === 'bpf' && this.inlinedLoops.has(caller.pc));
    });
    return shown.map((f): StackFrame => {
      if (f.kind === 'native') return { symbol: f.name, offset: 0, size: 0 };
      const k = this.spec.functions.findIndex((fn) => f.pc >= fn.start && f.pc < fn.start + fn.length);
      const fn = this.spec.functions[k];
      const src = this.sourceOf(f.pc);
      return {
        symbol: bpfProgSymbol(this.tags[k], fn.name),
        offset: (f.pc - fn.start) * 8,
        size: fn.length * 8,
        source: src && { text: src.text, file: src.file, line: src.line },
      };
    });
  }

  /** Reports an arena violation to this program's stderr with the current stack. spec §3.4 */
  reportArenaViolation(isWrite: boolean, userAddress: bigint, frames: readonly EngineFrame[]): void {
    reportArenaViolation(this.streams, isWrite, userAddress, { task: this.deps.kernel.task(), frames: this.stackFrames(frames) });
  }

  callTrace(source: FrameSource): string[] {
    return this.stackFrames(source.frames()).map((f) => `${f.symbol}+0x${f.offset.toString(16)}/0x${f.size.toString(16)}`);
  }
}

/** A function's instructions as the kernel hashes them: map references as fd forms (src 1/2). */
function kernelView(insns: readonly Instruction[], start: number, length: number): Instruction[] {
  const out: Instruction[] = [];
  let slot = 0;
  for (const ins of insns) {
    if (slot >= start && slot < start + length) {
      out.push(ins.opcode === OP_LDDW && (ins.src === BPF_PSEUDO_MAP_IDX || ins.src === BPF_PSEUDO_MAP_IDX_VALUE)
        ? { ...ins, src: ins.src === BPF_PSEUDO_MAP_IDX ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE } : ins);
    }
    slot += width(ins);
  }
  return out;
}
