/**
 * A loaded program: validated and lowered once at load, built for an engine on first use, run
 * with its program type's test-run semantics. It owns what the kernel keeps per program — its
 * streams, its prog tag, the references a run holds, its view of the object's arena — and turns
 * engine frames and slots into what the kernel prints: symbols, offsets and source lines.
 */
import { KernelProfile, kernelProfile } from './kernel/profile.js';
import { nonSleepableCallSites } from './isa/sleepable-sites.js';
import { validate } from './isa/validate.js';
import { InvalidInstructionError, LoadError, SourceLocation, VmError } from './errors.js';
import { EngineName, ENGINE_KINDS } from './engines.js';
import { encode, Instruction, width } from './isa/instruction.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, OP_LDDW } from './isa/opcodes.js';
import type { SimKernel } from './kernel/kernel.js';
import type { ObjectSpec, ProgramSpec } from './loader/spec.js';
import { ContextLowering, Decoded, predecode } from './lower.js';
import { AddressSpace, type MemoryRegion } from './memory.js';
import type { ArenaMap } from './maps/arena.js';
import { ContextSites, programTypeDef, type ProgramTypeDef, type TestRunInput, type TestRunOutput } from './progtypes/index.js';
import { returnRange, returnRangeMessage, type ReturnRange } from './progtypes/return-range.js';
import { ArenaInfo, EngineFrame, ExecEnv, FrameSource, LdImm64Resolver, Natives, RunResult } from './runtime.js';
import { Engine, STACK_BYTES } from './shell.js';
import {
  bpfProgSymbol, ProgramStreams, progTag, reportArenaViolation, reportMayGotoTimeout, StackFrame,
} from './streams/index.js';
import { latin1Text } from './text.js';
import { inlinableLoopCalls, References } from './verifier.js';
import { withInlinedLoop } from './helpers/helpers.js';
import { BPF_FUNC } from './uapi.js';
import { lockState } from './kernel/locks.js';

export interface RunOptions extends TestRunInput {
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
  /** The packet after the run (data_out), for packet program types. */
  readonly data?: Uint8Array;
}

/** What BPF_PROG_TEST_RUN gives back (spec program-types §1.1), plus the run's figures. */
export interface TestRunResult extends TestRunOutput {
  /** retval: the low 32 bits of the last run's r0, unsigned. */
  readonly retval: number;
  /** The last run's r0, unsigned 64-bit. */
  readonly r0: bigint;
  /** duration: mean wall-clock nanoseconds per run, saturated at U32_MAX (not reproducible). */
  readonly duration: number;
  /** Instructions executed, over every repetition. */
  readonly instructions: number;
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
  /** The kernel profile (src/kernel/profile.ts); default Linux 7.2. */
  readonly profile?: KernelProfile;
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
  private readonly type: ProgramTypeDef;
  /** Where r1 points for a type whose context is converted: an address that maps no bytes. */
  private readonly contextRegion?: MemoryRegion;
  /** One past the highest context byte the program touches (the verifier's max_ctx_offset). */
  private maxCtxOffset = 0;
  /** The program validated and lowered once, at load; every engine builds from it. */
  private readonly code: Decoded;
  private readonly engines = new Map<EngineName, Engine>();
  private readonly tags: readonly string[];
  /** bpf_loop call sites the verifier would inline (no helper frame in stack dumps). */
  private readonly inlinedLoops: ReadonlySet<number>;
  /** Call sites verified in a non-sleepable context (7.2's per-call-site rule, spec §2). */
  private readonly nonSleepableSites?: ReadonlySet<number>;
  /** The return values the verifier allows at exit; undefined: any. spec program-types §5.1 */
  readonly returnRange?: ReturnRange;

  constructor(readonly spec: ProgramSpec, deps: ProgramDeps) {
    this.deps = deps;
    this.defaultEngine = deps.defaultEngine;
    this.arena = deps.arena;
    const events = deps.kernel.events;
    this.streams = new ProgramStreams((stream, elements, origin) =>
      events.add({ kind: 'stream', program: spec.name, stream, elements: elements.map(latin1Text), origin }));
    this.type = programTypeDef(spec.type.name);
    this.returnRange = returnRange(spec.type.name, spec.section);
    const kernel = deps.kernel;
    const model = this.type.context;
    const sites = model && new ContextSites(model, () => kernel.runContext);
    if (model) this.contextRegion = kernel.memory.map(`${model.struct} context of ${spec.name}`, new Uint8Array(0), false);
    this.inlinedLoops = inlinableLoopCalls(spec.insns);
    this.env = {
      memory: kernel.memory,
      natives: withInlinedLoops(deps.natives, this.inlinedLoops),
      resolveLdImm64: deps.resolveLdImm64,
      shadow: kernel.shadow,
      tailCallTarget: deps.tailCallTarget,
      arena: deps.arena && this.arenaInfo(deps.arena),
      stack: kernel.memory.mapStack(new Uint8Array(STACK_BYTES)),
      context: sites,
      // x86-64's JIT times may_goto loops (spec maps §6.6): the report goes to this program's stderr.
      timedMayGoto: {
        report: (frames) => { reportMayGotoTimeout(this.streams, { task: kernel.task(), frames: this.stackFrames(frames) }); },
      },
    };
    // Every context access is found (for max_ctx_offset); a converted context's are rewritten.
    const lowering: ContextLowering = {
      packetLoads: sites?.packetLoads ?? false,
      site: (access) => {
        this.maxCtxOffset = Math.max(this.maxCtxOffset, access.off + access.size);
        return sites ? sites.site(access) : -1;
      },
    };
    try {
      const btf = deps.objectSpec.btf;
      const globalFunctions = new Set(spec.functions.filter((f) => f.start !== 0 && btf?.findByName(f.name, 'FUNC')?.linkage === 'global')
        .map((f) => f.start));
      this.code = predecode(spec.insns, this.env, lowering, globalFunctions,
        spec.corePoisons && new Map([...spec.corePoisons].map(([slot, p]) => [slot, p.relocation])));
    } catch (e) {
      // The verifier's refusal, at the instruction's source line.
      if (!(e instanceof InvalidInstructionError)) throw e;
      const src = this.sourceOf(e.index);
      throw new LoadError(`program ${spec.name}`, `insn ${e.index}: ${e.reason}${src ? ` (${src.file}:${src.line}: ${src.text.trim()})` : ''}`, { cause: e });
    }
    // Linux 7.2 chooses the deferred arena free per call site (spec §2): the sites of a
    // sleepable program that run in a lock / RCU / preempt-off / IRQ-off region or a timer
    // callback. 6.18 decides per program type.
    if (spec.type.sleepable && (deps.profile ?? kernelProfile()).deferredFree === 'call-site') {
      this.nonSleepableSites = nonSleepableCallSites(spec.insns, validate(spec.insns, new Map()), (imm) => deps.natives.kfuncs.get(imm)?.name);
    }
    this.tags = spec.functions.map((f) => progTag(encode(kernelView(spec.insns, f.start, f.length))));
  }

  /** The engines' view of the arena: its pages, and fault reports to this program's stderr. */
  private arenaInfo(arena: ArenaMap): ArenaInfo {
    return {
      userVmStart: arena.userVmStart,
      noUserConv: arena.noUserConv,
      atomicFaultZeroes: (this.deps.profile ?? kernelProfile()).atomicFaultZeroes,
      aluNarrowing: (this.deps.profile ?? kernelProfile()).arenaAluNarrowing,
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

  /**
   * Whether the call at `slot` runs in a sleepable context, as the verifier decided at load
   * (spec §2): never in a non-sleepable program; on 7.2 not inside a lock, RCU, preempt-off or
   * IRQ-off region or a timer callback either.
   */
  sleepableAt(slot: number): boolean {
    return this.spec.type.sleepable && !(this.nonSleepableSites?.has(slot) ?? false);
  }

  get name(): string { return this.spec.name; }
  get section(): string { return this.spec.section; }

  /** Runs the program once (or `repeat` times) as BPF_PROG_TEST_RUN does, giving r0 in full. */
  run(options: RunOptions = {}): ProgramRun {
    const r = this.testRun(options);
    return { retval: r.r0, instructions: r.instructions, ctx: r.ctx, data: r.data };
  }

  /**
   * BPF_PROG_TEST_RUN with the program type's semantics (spec program-types §1): the input
   * checked as the kernel checks it (TestRunError with its errno otherwise), the context built,
   * the program run `repeat` times on it, the outputs copied out.
   */
  testRun(options: RunOptions = {}): TestRunResult {
    const engine = this.engine(options.engine ?? this.defaultEngine);
    const kernel = this.deps.kernel;
    const setup = this.type.testRun(kernel, options, {
      name: this.name, section: this.section, maxCtxOffset: this.maxCtxOffset, sleepable: this.spec.type.sleepable,
    });
    const args = setup.args ?? (setup.repeat > 0 ? [AddressSpace.address(this.contextRegion!)] : []);
    const outer = kernel.runContext;
    kernel.runContext = setup.context;
    try {
      let r0 = 0n, instructions = 0;
      const limits = { instructionBudget: options.instructionBudget ?? DEFAULT_INSTRUCTION_BUDGET, timeoutMs: options.timeoutMs };
      const locks = lockState(kernel); // spec §6.1: a lock held at exit is the verifier's refusal
      const t0 = performance.now();
      for (let k = 0; k < setup.repeat; k++) {
        setup.beforeEach?.();
        this.references.clear();
        locks.begin();
        let result: RunResult | undefined;
        try { result = engine.run(args, limits); } finally { locks.end(result !== undefined); }
        this.references.checkReleased();
        r0 = result.r0;
        this.checkReturn(r0);
        instructions += result.instructions;
      }
      const duration = Math.min(0xffffffff, Math.round(((performance.now() - t0) * 1e6) / Math.max(1, setup.repeat)));
      const out = setup.finish(r0);
      return {
        data: out.data, dataSize: out.dataSize, ctx: out.ctx, ctxSize: out.ctxSize, errno: out.errno, redirect: out.redirect,
        clones: out.clones, retval: out.retval ?? Number(BigInt.asUintN(32, r0)), r0: out.retval === undefined ? r0 : BigInt(out.retval),
        duration, instructions,
      };
    } catch (e) {
      if (e instanceof VmError && e.location === undefined) e.locate(this.name, this.sourceOf(e.index));
      throw e;
    } finally {
      kernel.runContext = outer;
      setup.release();
      this.deps.objectArena?.runDeferredFrees();
    }
  }

  /**
   * Runs the program as the kernel invokes it outside BPF_PROG_TEST_RUN (a struct_ops member
   * called by its subsystem): r1..r5 = args, the references and locks a run may hold checked
   * as at exit, the arena's deferred frees run after. Errors are located in this program.
   */
  invoke(args: readonly bigint[], options: { engine?: EngineName; instructionBudget?: number } = {}): RunResult {
    const engine = this.engine(options.engine ?? this.defaultEngine);
    const locks = lockState(this.deps.kernel);
    this.references.clear();
    try {
      locks.begin();
      let result: RunResult | undefined;
      try { result = engine.run(args, { instructionBudget: options.instructionBudget ?? DEFAULT_INSTRUCTION_BUDGET }); } finally { locks.end(result !== undefined); }
      this.references.checkReleased();
      return result;
    } catch (e) {
      if (e instanceof VmError && e.location === undefined) e.locate(this.name, this.sourceOf(e.index));
      throw e;
    } finally {
      this.deps.objectArena?.runDeferredFrees();
    }
  }

  /**
   * A return value outside the type's range: the kernel's verifier would have refused the
   * program at load, having followed this path. bpfrun has no verifier's range analysis, so
   * it finds out when a run takes the path.
   */
  private checkReturn(r0: bigint): void {
    const range = this.returnRange;
    if (range === undefined) return;
    const v = BigInt.asIntN(64, r0);
    if (v >= BigInt(range.min) && v <= BigInt(range.max)) return;
    throw new LoadError(`program ${this.name}`, `${returnRangeMessage(v, range)} (the kernel's verifier refuses this program at load; `
      + `bpfrun found it when the run returned ${v})`);
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

/** The program's natives, with bpf_loop inlined at the call sites the verifier inlines. spec maps §6.5 */
function withInlinedLoops(natives: Natives, sites: ReadonlySet<number>): Natives {
  const loop = natives.helpers.get(BPF_FUNC.loop);
  if (sites.size === 0 || loop === undefined) return natives;
  return { ...natives, helpers: new Map(natives.helpers).set(BPF_FUNC.loop, withInlinedLoop(loop, sites)) };
}
