/**
 * What an engine needs from its host to run a program: memory, helpers and kfuncs, and the
 * values of `ld_imm64` pseudo forms. Shared by the interpreter and the JIT so that both see
 * exactly the same world.
 */
import { CODE_WINDOW, hiOf } from './addresses.js';
import { BpfError, describeType, describeValue, NativeError, safeInstanceOf } from './errors.js';
import { AddressSpace, MemoryRegion } from './memory.js';
import { splitU64Into, toU64 } from './int64.js';

/** The view of the machine a helper or kfunc gets while it runs. */
export interface CallContext {
  /** Slot index of the call instruction. */
  readonly index: number;
  readonly memory: AddressSpace;
  /** Argument n (1..5) as an unsigned 64-bit value. */
  arg(n: number): bigint;
  /** Low / high 32 bits of argument n (int32 form), without allocating. */
  argLo(n: number): number;
  argHi(n: number): number;
  /** Ends the program after this call with r0 = the helper's return value (an "unwind"). */
  stop(): void;
  /**
   * Calls a function of the running program by the address `ld_imm64 src=4` gave it (a
   * callback, as bpf_loop does), with r1..r5 = args; returns its r0.
   */
  callFunction(address: bigint, args: readonly bigint[]): bigint;
  /**
   * Chains to another program after this call returns (bpf_tail_call); false when the chain
   * limit is reached, in which case the program goes on, as in the kernel.
   */
  tailCall(target: unknown): boolean;
  /** The program's call stack at this call, innermost first (this native on top). */
  frames(): EngineFrame[];
}

/**
 * A helper or kfunc. It returns r0, synchronously: a number (a safe integer, taken as signed
 * 64-bit), a bigint in [-2^63, 2^64) (a negative one as two's complement) or nothing (r0 = 0).
 * It may throw a BpfError to end the run. Anything else it returns or throws ends the run with
 * a NativeError naming it (the boundary's rules: `setReturn`, `callNative`).
 */
export type NativeFn = (ctx: CallContext) => number | bigint | void;

/**
 * A native's allocation-free form, for hot helpers (map helpers, clocks): it reads r1..r5 as int32
 * halves from `regs` (r_n at regs[2n], regs[2n + 1]) and writes r0's halves to regs[0..1]
 * itself; `index` is the call instruction's slot. It must do exactly what the def's `fn` does
 * (same r0, side effects and errors): the boundary (`callDirect`) treats what it throws as
 * `callNative` does, and only skips the BigInt conversions of `CallContext.arg` and `setReturn`.
 */
export type DirectFn = (regs: Int32Array, index: number) => void;

export interface HelperDef {
  readonly name: string;
  readonly fn: NativeFn;
  /** The same native without BigInt or allocation; the engines call it instead of `fn` when present. */
  readonly direct?: DirectFn;
  /** Arguments (1..5) that are callbacks (ARG_PTR_TO_FUNC): checked at load as the verifier does. */
  readonly callbackArgs?: readonly number[];
  /**
   * The native writes no memory a program can reach, maps or unmaps none and calls no BPF
   * code; it reads program memory only in the regions its arguments point into (a map lookup, a
   * clock). An engine that keeps copies of program memory (wasm/) may keep them across it.
   */
  readonly neutral?: boolean;
}

/** Helpers by id and kfuncs by BTF id (the loader maps kfunc names to ids). */
export interface Natives {
  readonly helpers: ReadonlyMap<number, HelperDef>;
  readonly kfuncs: ReadonlyMap<number, HelperDef>;
}

export type LdImm64Resolver = (kind: number, imm: number, imm2: number, index: number) => bigint;

/** One frame of a running program's call stack, innermost first (the shadow call stack). */
export type EngineFrame =
  | { readonly kind: 'bpf'; readonly pc: number }
  | { readonly kind: 'native'; readonly name: string };

/** Something that can describe its live frames: an engine running a program. */
export interface FrameSource {
  frames(): EngineFrame[];
}

/**
 * The simulated kernel stack: which engines are running, outermost first. A kfunc's page
 * fault walks it to find the program it was called from (bpf_prog_find_from_stack, spec §5).
 */
export class ShadowStack {
  private readonly sources: FrameSource[] = [];
  push(source: FrameSource): void { this.sources.push(source); }
  pop(source: FrameSource): void {
    if (this.sources[this.sources.length - 1] === source) this.sources.pop();
  }
  /** The innermost running engine, if any. */
  innermost(): FrameSource | undefined { return this.sources[this.sources.length - 1]; }
}

export interface ArenaInfo {
  /** Address of the arena as user space maps it. spec §1.3 */
  readonly userVmStart: bigint;
  /** BPF_F_NO_USER_CONV: cast_user yields only the 32-bit offset. spec §1.6 */
  readonly noUserConv: boolean;
  /**
   * A faulting arena atomic zeroes its load register (src for fetch ops and xchg, r0 for
   * cmpxchg): Linux 7.2, the default; false keeps them (6.18). spec §1.8, §6.2
   */
  readonly atomicFaultZeroes?: boolean;
  /**
   * Which ALU64 ops on an arena pointer the lowering narrows to 32 bits (spec §1.7): 'any-operand'
   * (7.2, the default), 'dst' (6.18), 'none'.
   */
  readonly aluNarrowing?: 'any-operand' | 'dst' | 'none';
  /**
   * The page (real or the shared scratch page) holding arena offset `offset` = (u32)reg + off,
   * which may be negative (lower guard) or past 4 GiB (upper guard); undefined when no page
   * is installed. spec §1.7
   */
  pageAt(offset: number): Uint8Array | undefined;
  /**
   * A BPF instruction's arena access hit an empty page and was fixed up through the
   * exception table; report it to the program's stderr. spec §3.4
   */
  reportFault(isWrite: boolean, userAddress: bigint, frames: readonly EngineFrame[]): void;
}

/**
 * The program's context where its type converts accesses to it (src/progtypes/): each context
 * access site of the lowered program (XOP_CTX_LD / XOP_CTX_ST, imm = the site) and the LD_ABS /
 * LD_IND loads go through here instead of memory.
 */
export interface ContextAccessor {
  /** The value a context load at `site` gives; the low half returned, the high half in out.hi. */
  load(site: number): number;
  /** Stores (lo, hi) (truncated to the field) at context store `site`. */
  store(site: number, lo: number, hi: number): void;
  /**
   * LD_ABS / LD_IND at `pc`: `size` bytes at packet offset `offset` (a signed 32-bit value, the
   * SKF_* bands included) as a big-endian number, or -1 when out of range (the function then
   * returns 0). spec program-types §3.2
   */
  loadPacket(offset: number, size: number, pc: number): number;
}

export interface ExecEnv {
  readonly memory: AddressSpace;
  /** How context accesses are converted, for program types whose context is not memory. */
  readonly context?: ContextAccessor;
  readonly natives: Natives;
  /** Values of ld_imm64 with src 1, 2, 3, 5, 6 (maps, map values, kernel symbols). */
  readonly resolveLdImm64?: LdImm64Resolver;
  /** The program's arena, if it has one (needed by addr_space_cast). */
  readonly arena?: ArenaInfo;
  /**
   * The engine instance that runs a tail-call target (a PROG_ARRAY slot's program) on the
   * calling engine's kind (a name of the engine registry, src/engines.ts).
   */
  readonly tailCallTarget?: (target: unknown, engine: string) => unknown;
  /** Where a running engine registers itself, so kernel code can find it. */
  readonly shadow?: ShadowStack;
  /**
   * The program's stack (every call frame's 512 bytes), shared by its engines so that stack
   * addresses do not depend on the engine; an engine maps its own when none is given.
   */
  readonly stack?: MemoryRegion;
  /**
   * may_goto as x86-64's JIT runs it (spec maps §6.6): a frame's count of 0xffff is refilled
   * while the frame has run for less than 250 ms of virtual time, then the loop exits and this
   * reports the timeout (with the frames at the may_goto). Without it: the interpreter's budget
   * of BPF_MAX_LOOPS per frame (RunOptions.mayGotoBudget), and no report.
   */
  readonly timedMayGoto?: { report(frames: EngineFrame[]): void };
}

export interface RunOptions {
  /** Stop with BudgetExceededError after this many instructions (default, or Infinity: no limit). */
  readonly instructionBudget?: number;
  /** Per-frame may_goto budget (default BPF_MAX_LOOPS = 8M, as the kernel). spec §8.3 */
  readonly mayGotoBudget?: number;
  /**
   * Stop with RunTimeoutError once the run has taken this many milliseconds (default: no
   * limit). The clock is read every CHECKPOINT_INSTRUCTIONS instructions (src/shell.ts), so a
   * run stops within about that many instructions of the deadline; a native that never returns
   * cannot be stopped.
   */
  readonly timeoutMs?: number;
}

export interface RunResult {
  /** r0 at exit, unsigned. */
  readonly r0: bigint;
  /** Instructions executed. */
  readonly instructions: number;
}

/**
 * Code addresses handed out for `ld_imm64 src=4` (BPF_PSEUDO_FUNC): kernel-text-like values
 * that encode the target slot, so an engine can turn a callback pointer back into a slot.
 */
export const CODE_HI = hiOf(CODE_WINDOW);
const CODE_BASE = Number(CODE_WINDOW.start & 0xffffffffn);
export function codeAddressLo(slot: number): number {
  return (CODE_BASE + slot * 8) | 0;
}
/** Slot of a code address's low half (its high half is CODE_HI), or -1 if not one of `slotCount`'s. */
export function codeSlot(lo: number, slotCount: number): number {
  const rel = (lo >>> 0) - CODE_BASE;
  if (rel < 0 || rel % 8 !== 0 || rel / 8 >= slotCount) return -1;
  return rel / 8;
}

/** What a native may return: -2^63 to 2^64 - 1. */
const S64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/**
 * The error boundary for natives (helpers and kfuncs): everything one returns or throws is
 * converted here, and nowhere else, into r0 or a typed error. The rules:
 *
 * - `undefined` (no return value): r0 = 0, a void native.
 * - A number must be a safe integer (|n| < 2^53); it is taken as signed 64-bit (-1 is
 *   0xffffffffffffffff). 1.5, NaN, Infinity and 2^53 are refused.
 * - A bigint must be in [-2^63, 2^64): a negative one is taken as two's complement, so both the
 *   signed and the unsigned spelling of a 64-bit value are accepted; anything wider is refused
 *   (2n ** 100n does not silently become 0).
 * - Anything else is refused, naming the type received: a boolean, a string (even '5'), null,
 *   a symbol, an object, an array, a function, and a Promise or other thenable (an `async`
 *   native: the run cannot wait for it; a rejected Promise is marked handled so the process
 *   does not die of an unhandled rejection later).
 * - A thrown BpfError passes through as is (a native may end the run with a typed error).
 *   Anything else thrown (an Error, a string, `Object.create(null)`, an object whose `message`
 *   getter throws, a Proxy) becomes a NativeError "NAME failed: …".
 *
 * A refusal is a NativeError (a RuntimeError, kind 'runtime') naming the native and the call
 * instruction, with what it returned or threw as `cause`; the program layer adds the program
 * and source line. Formatting the original never throws (`describeValue`).
 */
export function setReturn(regs: Int32Array, value: unknown, index: number, name: string): void {
  if (value === undefined) {
    regs[0] = 0; regs[1] = 0;
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new NativeError(index, name, `returned ${value}, which is not a safe integer (use a bigint for 64-bit values)`, { cause: value });
    }
    regs[0] = value | 0;
    regs[1] = Math.floor(value / 4294967296) | 0;
  } else if (typeof value === 'bigint') {
    if (value < S64_MIN || value > U64_MAX) {
      throw new NativeError(index, name, `returned the bigint ${describeValue(value, 40)}, which does not fit in 64 bits ` +
        '(accepted: -2^63 to 2^64 - 1)', { cause: value });
    }
    splitU64Into(value, regs, 0);
  } else {
    throw new NativeError(index, name, `returned ${returnedWhat(value)}; a helper or kfunc returns a number, a bigint or nothing`,
      { cause: value });
  }
}

/** What a refused return value is, for the message ("a string ('5')", "a Promise (an async kfunc?)"). */
function returnedWhat(value: unknown): string {
  if (typeof value === 'string') return `a string (${JSON.stringify(describeValue(value, 40))})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (safeInstanceOf(value, Promise)) {
    // Mark a rejection handled: nothing can wait for it any more.
    try { Promise.prototype.then.call(value, undefined, () => undefined); } catch { /* a hostile subclass */ }
    return 'a Promise (an async function? natives run synchronously)';
  }
  let then: unknown;
  try { then = (value as { then?: unknown } | null)?.then; } catch { /* a throwing getter: not a thenable we can name */ }
  return typeof then === 'function' ? `${describeType(value)} with a then method (natives run synchronously)` : describeType(value);
}

/** Runs a native function through the boundary (see setReturn): r0 gets its result. */
export function callNative(def: HelperDef, ctx: CallContext, regs: Int32Array): void {
  let value: unknown;
  try {
    value = def.fn(ctx);
  } catch (e) {
    throw thrownError(e, ctx.index, def.name);
  }
  setReturn(regs, value, ctx.index, def.name);
}

/** Runs a native's direct form (DirectFn) through the same boundary: it sets r0 itself. */
export function callDirect(def: HelperDef, direct: DirectFn, regs: Int32Array, index: number): void {
  try {
    direct(regs, index);
  } catch (e) {
    throw thrownError(e, index, def.name);
  }
}

/** What a native's throw ends the run with: a BpfError as is, anything else as a NativeError. */
function thrownError(e: unknown, index: number, name: string): BpfError {
  if (safeInstanceOf(e, BpfError)) return e;
  const what = safeInstanceOf(e, Error) ? describeValue(e) : `threw ${describeType(e)}, not an Error: ${describeValue(e)}`;
  return new NativeError(index, name, `failed: ${what}`, { cause: e });
}

/** Argument access shared by the engines' call contexts: r1..r5 live in regs[2..11]. */
export function argU64(regs: Int32Array, n: number): bigint {
  return toU64(regs[2 * n], regs[2 * n + 1]);
}
