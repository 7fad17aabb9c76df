/**
 * The engine interface, and the shell every engine shares around its execution core: running
 * (r1..r5, the tail-call chain, the instruction count), the native-call context a helper or
 * kfunc gets, callbacks into the program, tail calls, and the frames the kernel's stack walker
 * sees. An engine supplies only how it executes a function and where it keeps its counters; so
 * the engines cannot drift apart on anything else (they did: design-review §1.4).
 */
import { BudgetExceededError, CallDepthError, RunTimeoutError, RuntimeError, UnknownHelperError } from './errors.js';
import { HELPER_NAMES } from './helper-names.js';
import { fromU64, toU64 } from './int64.js';
import { BPF_MAX_LOOPS, MAX_BPF_STACK, MAX_CALL_FRAMES } from './isa/opcodes.js';
import type { Decoded } from './lower.js';
import { MemoryRegion } from './memory.js';
import { MemoryUnit, NativeCalls } from './engine.js';
import {
  ArenaInfo, argU64, CallContext, callDirect, callNative, CODE_HI, codeSlot, EngineFrame, ExecEnv, FrameSource, HelperDef, RunOptions,
  RunResult,
} from './runtime.js';

/** A program prepared for one engine (decoded, compiled): runs as often as needed. */
export interface Engine extends FrameSource {
  /** The registry entry that made it (src/engines.ts). */
  readonly kind: EngineKind;
  /** Runs from slot 0 with r1..r5 = args (missing ones 0), following tail calls. */
  run(args?: readonly bigint[], options?: RunOptions): RunResult;
  /**
   * Runs the program's function at a code address (`ld_imm64 src=4`) as an entry point, with
   * r1..r5 = args: an asynchronous callback the kernel invokes (a bpf_timer's), not a call
   * from a running program.
   */
  runFunction(address: bigint, args?: readonly bigint[], options?: RunOptions): RunResult;
  /** The code the engine generated, under a `title` line, for engines that generate code. */
  listing?(title: string): string;
}

/** A registry entry: an engine by name, and how to build it for a decoded program. */
export interface EngineKind {
  readonly name: string;
  create(code: Decoded, env: ExecEnv): Engine;
}

/** The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALL_CNT = 33;

/** Every call frame's stack, contiguous: frame d owns the 512 bytes under top - 512 * d. */
export const STACK_BYTES = MAX_BPF_STACK * MAX_CALL_FRAMES;

/** r0..r10 as (lo, hi) int32 pairs: the register exchange layout of every engine. */
export const REGISTER_WORDS = 22;

/** BPF_MAX_TIMED_LOOPS: a timed may_goto frame's count between two checks of its clock. */
export const BPF_MAX_TIMED_LOOPS = 0xffff;
/** The virtual time a may_goto execution takes, for the 250 ms limit of timed may_goto. */
export const MAY_GOTO_VIRTUAL_NS = 100;
/**
 * The refill (counted from 1) at which a frame has run 250 ms (NSEC_PER_SEC / 4) since its first
 * refill: the refills in between are BPF_MAX_TIMED_LOOPS executions apart.
 */
export const MAY_GOTO_TIMEOUT_REFILLS = 1 + Math.ceil(250_000_000 / (BPF_MAX_TIMED_LOOPS * MAY_GOTO_VIRTUAL_NS));

/** With a timeout, the clock is read each time this many more instructions have run. */
export const CHECKPOINT_INSTRUCTIONS = 1 << 20;

/**
 * State of one run, shared by the programs a tail call chains and by nested callbacks. The
 * engines count instructions against `limit`, where they call `checkpoint`: the budget itself,
 * or with a timeout the next point where the clock is read.
 */
export interface RunState {
  readonly budget: number;
  /** The instruction count at which the engines next call `checkpoint` (at most `budget`). */
  limit: number;
  /** Instructions left before `limit`; an engine may keep its own count and sync it here. */
  left: number;
  readonly mayGotoBudget: number;
  tailCalls: number;
  /** performance.now() at which the run times out (Infinity: no timeout), and the timeout. */
  readonly deadline: number;
  readonly timeoutMs: number;
}

/** The upper half cast_user gives a non-NULL arena pointer (0 with BPF_F_NO_USER_CONV). spec §1.6 */
export function userHiOf(arena: ArenaInfo | undefined): number {
  return arena && !arena.noUserConv ? Number(arena.userVmStart >> 32n) | 0 : 0;
}

/**
 * The deepest frame runs on a stack have used since it was last zeroed, shared by the engines
 * that share the stack (a program's interpreter and JIT): a run zeroes those frames only, not
 * all 4 KiB, and starts on the same bytes whichever engine ran before.
 */
const STACK_USE = new WeakMap<Uint8Array, { deepest: number }>();

export abstract class EngineShell implements Engine {
  /** The stack (every frame's 512 bytes): the program's, shared by its engines (ExecEnv.stack), or the engine's own. */
  protected readonly stack: MemoryRegion;
  /** The natives in progress: what the shadow call stack shows between BPF frames. */
  protected readonly natives = new NativeCalls();
  /**
   * What a helper or kfunc gets: the registers, the running program's callbacks and frames. Its
   * `index` is a data property the shell sets per call (a getter cost natives a call per read).
   */
  protected readonly ctx: CallContext & { index: number };
  protected state: RunState = {
    budget: 0, limit: 0, left: 0, mayGotoBudget: BPF_MAX_LOOPS, tailCalls: 0, deadline: Infinity, timeoutMs: 0,
  };
  /** Call depth and slot of the native call in progress (for callbacks and errors). */
  protected nativeDepth = 0;
  protected get nativeIndex(): number { return this.ctx.index; }
  protected set nativeIndex(pc: number) { this.ctx.index = pc; }
  private tailTarget: EngineShell | undefined;
  private readonly stackUse: { deepest: number };
  private lastArgs: readonly bigint[] = [];
  private lastPairs: ReadonlyArray<readonly [number, number]> = [];
  private readonly callSiteOf = (depth: number) => this.callSite(depth);

  constructor(
    /** The registry entry that made this engine. */
    readonly kind: EngineKind,
    readonly code: Decoded,
    protected readonly env: ExecEnv,
    /** r0..r10 as REGISTER_WORDS int32s, where the engine exchanges registers with natives. */
    protected readonly regs: Int32Array,
  ) {
    this.stack = env.stack ?? env.memory.mapStack(new Uint8Array(STACK_BYTES));
    let use = STACK_USE.get(this.stack.bytes);
    if (use === undefined) STACK_USE.set(this.stack.bytes, use = { deepest: MAX_CALL_FRAMES - 1 });
    this.stackUse = use;
    this.ctx = {
      index: 0,
      memory: env.memory,
      arg: (n) => argU64(regs, n),
      argLo: (n) => regs[2 * n],
      argHi: (n) => regs[2 * n + 1],
      stop: () => this.halt(),
      callFunction: (address, args) => this.callFunction(address, args),
      tailCall: (target) => this.tailCall(target),
      frames: () => this.frames(),
    };
  }

  /** Executes the function starting at `slot` in frame `depth` until it returns (or halts). */
  protected abstract execute(slot: number, depth: number): void;
  /** Resets the engine's own per-run state for `this.state` (counters, stop flag). */
  protected abstract reset(): void;
  /** Ends the program once the native in progress returns (an unwind or a tail call). */
  protected abstract halt(): void;
  /** The instruction the frame at `depth` is calling from (a local call). */
  protected abstract callSite(depth: number): number;

  /**
   * A frame's may_goto count ran out at `pc` for the `refills`-th time (1 on the first): the
   * count it goes on with, 0 to leave the loop at the next may_goto. With timed may_goto
   * (x86-64, bpf_check_timed_may_goto; spec maps §6.6) the first refill takes the frame's
   * timestamp, and later ones refill until 250 ms of virtual time have passed since — each
   * may_goto execution counts MAY_GOTO_VIRTUAL_NS — then report the timeout once and give 0.
   * Without it the budget is spent: 0.
   */
  protected mayGotoRefill(refills: number, pc: number, depth: number): number {
    const timed = this.env.timedMayGoto;
    if (timed === undefined) return 0;
    if (refills < MAY_GOTO_TIMEOUT_REFILLS) return BPF_MAX_TIMED_LOOPS;
    timed.report(this.natives.bpfFrames(pc, depth, this.natives.count, this.callSiteOf));
    return 0;
  }

  /** A frame at `depth` is entered (a local call, a callback): its stack is zeroed before the next run. */
  protected enteredFrame(depth: number): void {
    if (depth > this.stackUse.deepest) this.stackUse.deepest = depth;
  }

  /** r10 of the frame at `depth` (low half; the high half is the stack window's). */
  protected frameTopLo(depth: number): number {
    return (this.stack.start + STACK_BYTES - MAX_BPF_STACK * depth) | 0;
  }

  run(args: readonly bigint[] = [], options: RunOptions = {}): RunResult {
    if (args.length > 5) throw new RangeError('at most 5 arguments (r1..r5)');
    const budget = Math.min(options.instructionBudget ?? Infinity, Number.MAX_SAFE_INTEGER); // Infinity: no limit
    const timeoutMs = options.timeoutMs ?? Infinity;
    const limit = timeoutMs === Infinity ? budget : Math.min(budget, CHECKPOINT_INSTRUCTIONS);
    const state: RunState = {
      budget, limit, left: limit, mayGotoBudget: this.env.timedMayGoto ? BPF_MAX_TIMED_LOOPS : options.mayGotoBudget ?? BPF_MAX_LOOPS, tailCalls: 0,
      deadline: timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs, timeoutMs,
    };
    // A test run's repetitions pass the same arguments: they are split into halves once.
    if (args !== this.lastArgs) { this.lastArgs = args; this.lastPairs = args.map(fromU64); }
    let vm: EngineShell = this;
    vm.start(state, this.lastPairs);
    for (;;) {
      this.env.shadow?.push(vm);
      try {
        vm.execute(0, 0);
      } finally {
        this.env.shadow?.pop(vm);
      }
      const next = vm.tailTarget;
      if (next === undefined) break;
      vm.tailTarget = undefined;
      // spec: a tail call enters the target with the caller's r1 (the context); the caller is gone.
      next.start(state, [[vm.regs[2], vm.regs[3]]]);
      vm = next;
    }
    return { r0: toU64(vm.regs[0], vm.regs[1]), instructions: state.limit - state.left };
  }

  runFunction(address: bigint, args: readonly bigint[] = [], options: RunOptions = {}): RunResult {
    if (args.length > 5) throw new RangeError('at most 5 arguments (r1..r5)');
    const [lo, hi] = fromU64(address);
    const slot = hi === CODE_HI ? codeSlot(lo, this.code.slotCount) : -1;
    if (slot < 0 || !this.code.isFunctionStart[slot]) throw new RangeError(`0x${address.toString(16)} is not the address of a function of this program`);
    const budget = Math.min(options.instructionBudget ?? Infinity, Number.MAX_SAFE_INTEGER);
    const timeoutMs = options.timeoutMs ?? Infinity;
    const limit = timeoutMs === Infinity ? budget : Math.min(budget, CHECKPOINT_INSTRUCTIONS);
    const state: RunState = {
      budget, limit, left: limit, mayGotoBudget: options.mayGotoBudget ?? BPF_MAX_LOOPS, tailCalls: 0,
      deadline: timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs, timeoutMs,
    };
    this.lastArgs = [];
    this.start(state, args.map(fromU64));
    this.env.shadow?.push(this);
    try {
      this.execute(slot, 0);
    } finally {
      this.env.shadow?.pop(this);
    }
    return { r0: toU64(this.regs[0], this.regs[1]), instructions: state.limit - state.left };
  }

  /**
   * The instruction at `pc` would be past `state.limit`: at the budget, BudgetExceededError;
   * past the deadline, RunTimeoutError; else the limit moves on by CHECKPOINT_INSTRUCTIONS and
   * the run goes on. Returns how many instructions the new limit allows.
   */
  protected checkpoint(pc: number): number {
    const s = this.state;
    if (s.limit >= s.budget) throw new BudgetExceededError(pc, s.budget);
    if (performance.now() > s.deadline) throw new RunTimeoutError(pc, s.timeoutMs, s.limit);
    const step = Math.min(CHECKPOINT_INSTRUCTIONS, s.budget - s.limit);
    s.limit += step;
    return step;
  }

  private start(state: RunState, args: ReadonlyArray<readonly [number, number]>): void {
    const regs = this.regs;
    this.state = state;
    this.tailTarget = undefined;
    this.natives.reset();
    regs.fill(0);
    for (let i = 0; i < args.length; i++) { regs[2 * (i + 1)] = args[i][0]; regs[2 * (i + 1) + 1] = args[i][1]; } // no closure per run
    regs[20] = this.frameTopLo(0);
    regs[21] = this.stack.hi;
    this.stack.bytes.fill(0, STACK_BYTES - MAX_BPF_STACK * (this.stackUse.deepest + 1));
    this.stackUse.deepest = 0;
    this.reset();
  }

  /** The live frames while a native runs, innermost first: the native, then BPF frames. */
  frames(): EngineFrame[] {
    return this.natives.frames(this.callSiteOf);
  }

  /** The memory unit over this engine's stack, reporting faults with this engine's frames. */
  protected memoryUnit(resolved?: ConstructorParameters<typeof MemoryUnit>[4]): MemoryUnit {
    return new MemoryUnit(this.env.memory, this.stack, this.env.arena,
      (pc, depth) => this.natives.bpfFrames(pc, depth, this.natives.count, this.callSiteOf), resolved);
  }

  /** Runs a helper or kfunc called at `pc` from the frame at `depth`; r0 gets its result. */
  protected invokeNative(def: HelperDef, pc: number, depth: number): void {
    this.nativeDepth = depth;
    this.nativeIndex = pc;
    const mark = this.natives.push(pc, depth, def.name);
    const direct = def.direct;
    if (direct !== undefined) callDirect(def, direct, this.regs, pc);
    else callNative(def, this.ctx, this.regs);
    this.natives.count = mark;
  }

  /**
   * The slot of the function a code address names (callx, a callback), -1 when (lo, hi) is not
   * in the code window at all (callx then takes it as a helper id). A code address that is not
   * a function's first instruction is refused: the verifier only lets unmodified function
   * pointers be called (load-time check in src/verifier.ts; this is the run-time backstop).
   */
  protected functionSlot(lo: number, hi: number, pc: number): number {
    return hi === CODE_HI ? this.functionEntry(lo, hi, pc) : -1;
  }

  /** The slot of the function a code address names; anything else is a RuntimeError at `pc`. */
  private functionEntry(lo: number, hi: number, pc: number): number {
    const slot = hi === CODE_HI ? codeSlot(lo, this.code.slotCount) : -1;
    if (slot < 0 || !this.code.isFunctionStart[slot]) {
      throw new RuntimeError(pc, `0x${toU64(lo, hi).toString(16)} is not the address of a function of this program`);
    }
    return slot;
  }

  /** The helper a callx register names when it is not a code address: a helper id. */
  protected callxHelper(lo: number, hi: number, pc: number): HelperDef {
    if (hi !== 0 || lo < 0) {
      throw new RuntimeError(pc, `callx target 0x${toU64(lo, hi).toString(16)} is neither a function address nor a helper id`);
    }
    const def = this.env.natives.helpers.get(lo);
    if (def === undefined) throw this.unknownHelper(pc, lo);
    return def;
  }

  /** The error for a call to a helper this kernel lacks, naming it when the id has a name. */
  protected unknownHelper(pc: number, id: number): UnknownHelperError {
    const name = HELPER_NAMES[id];
    return new UnknownHelperError(pc, id, name === undefined ? undefined : `bpf_${name}`);
  }

  /**
   * Calls a BPF function of this program from a native (bpf_loop's callback): a new frame on
   * top of the caller's, r1..r5 = args, returns r0. The caller's registers are kept.
   */
  private callFunction(address: bigint, args: readonly bigint[]): bigint {
    const [lo, hi] = fromU64(address);
    const slot = this.functionEntry(lo, hi, this.nativeIndex);
    const depth = this.nativeDepth + 1;
    if (depth >= MAX_CALL_FRAMES) throw new CallDepthError(this.nativeIndex, MAX_CALL_FRAMES);
    this.enteredFrame(depth);
    const regs = this.regs;
    const saved = regs.slice();
    const outerDepth = this.nativeDepth, outerIndex = this.nativeIndex;
    regs.fill(0, 2, 12);
    args.forEach((a, i) => { [regs[2 * (i + 1)], regs[2 * (i + 1) + 1]] = fromU64(a); });
    regs[20] = this.frameTopLo(depth);
    this.natives.callbackBase[depth] = 1;
    try {
      this.execute(slot, depth);
      return toU64(regs[0], regs[1]);
    } finally {
      this.natives.callbackBase[depth] = 0;
      regs.set(saved);
      this.nativeDepth = outerDepth;
      this.nativeIndex = outerIndex;
    }
  }

  private tailCall(target: unknown): boolean {
    const next = this.env.tailCallTarget?.(target, this.kind.name);
    if (!(next instanceof EngineShell) || next.kind !== this.kind) {
      throw new RuntimeError(this.nativeIndex, 'tail call target is not a program of this engine');
    }
    if (this.nativeDepth !== 0) {
      throw new RuntimeError(this.nativeIndex, 'bpf_tail_call from a subprogram or callback is not supported');
    }
    if (this.state.tailCalls >= MAX_TAIL_CALL_CNT) return false; // the kernel falls through
    this.state.tailCalls++;
    this.tailTarget = next;
    this.halt();
    return true;
  }
}
