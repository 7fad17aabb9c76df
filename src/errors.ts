/**
 * Typed errors. Every failure the runtime reports is a BpfError subclass that names what went
 * wrong and where (instruction index, line, address), so callers can branch on `kind` and users
 * read one complete sentence. Anything else escaping the runtime is a bug in bpfrun.
 *
 * Every constructor takes a trailing optional `ErrorOptions`: a layer that rewraps an error
 * passes the original as `cause` (ES2022), and `causeLines` shows the chain to users.
 */
import { hex } from './text.js';
import { errnoName, GUARD_SZ } from './uapi.js';

export type BpfErrorKind =
  | 'decode'
  | 'invalid-instruction'
  | 'asm'
  | 'load'
  | 'map'
  | 'arena-segv'
  | 'kernel-oops'
  | 'memory-access'
  | 'budget-exceeded'
  | 'timeout'
  | 'call-depth'
  | 'unknown-helper'
  | 'unknown-kfunc'
  | 'core-relocation'
  | 'kfunc-contract'
  | 'runtime'
  | 'test-run'
  | 'fib-config';

export abstract class BpfError extends Error {
  abstract readonly kind: BpfErrorKind;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Bytes that cannot be split into instructions (wrong length, truncated ld_imm64). */
export class DecodeError extends BpfError {
  readonly kind = 'decode';
  constructor(readonly byteOffset: number, readonly reason: string, options?: ErrorOptions) {
    super(`decode error at byte ${byteOffset}: ${reason}`, options);
    this.name = 'DecodeError';
  }
}

/**
 * An error about one instruction. `index` is the instruction's slot: its position counted in
 * 8-byte slots (an ld_imm64 counts two), as the disassembler numbers instructions and line info
 * maps them. The field predates the rule that a slot is called `slot`; it keeps its name because
 * it is public on these errors. Test for one with `isLocated`.
 */
export interface Located {
  readonly index: number;
}

/** A decoded instruction that the ISA (or the kernel's verifier rules we enforce) rejects. */
export class InvalidInstructionError extends BpfError implements Located {
  readonly kind = 'invalid-instruction';
  constructor(readonly index: number, readonly reason: string, options?: ErrorOptions) {
    super(`invalid instruction ${index}: ${reason}`, options);
    this.name = 'InvalidInstructionError';
  }
}

/** Assembler input that cannot be encoded; `line` is 1-based. */
export class AsmError extends BpfError {
  readonly kind = 'asm';
  constructor(readonly line: number, readonly reason: string, options?: ErrorOptions) {
    super(`line ${line}: ${reason}`, options);
    this.name = 'AsmError';
  }
}

/**
 * An object file that cannot be loaded: malformed ELF/BTF, a relocation to nowhere, something
 * libbpf would reject. `where` names the place ("section .relsyscall, relocation 3",
 * "BTF type 12", "ELF header").
 */
export class LoadError extends BpfError {
  readonly kind = 'load';
  constructor(readonly where: string, readonly reason: string, options?: ErrorOptions) {
    super(`${where}: ${reason}`, options);
    this.name = 'LoadError';
  }
}

/**
 * BPF_PROG_TEST_RUN refuses its input before running the program, with the kernel's errno for
 * the same input (spec program-types §1.13): `errno` is positive (EINVAL is 22).
 */
export class TestRunError extends BpfError {
  readonly kind = 'test-run';
  constructor(readonly program: string, readonly errno: number, readonly reason: string, options?: ErrorOptions) {
    super(`BPF_PROG_TEST_RUN of ${program}: ${reason} (${errnoName(errno)})`, options);
    this.name = 'TestRunError';
  }
}

/**
 * A simulated FIB configuration (devices, routes, neighbours; spec program-types §4.7) that
 * cannot be used: `where` names the entry and field (`routes[2].dst`).
 */
export class FibConfigError extends BpfError {
  readonly kind = 'fib-config';
  constructor(readonly where: string, readonly reason: string, options?: ErrorOptions) {
    super(`FIB config: ${where}: ${reason}`, options);
    this.name = 'FibConfigError';
  }
}

/** A map that cannot be created or a host-side map operation that fails; `errno` is the kernel's. */
export class MapError extends BpfError {
  readonly kind = 'map';
  constructor(readonly map: string, readonly errno: string, readonly reason: string, options?: ErrorOptions) {
    super(`map '${map}': ${reason} (${errno})`, options);
    this.name = 'MapError';
  }
}

/** Why a user-space access to an arena mapping gets SIGSEGV (kernel-arena-streams.md §2.5). */
export type ArenaSegvReason = 'outside-mapping' | 'scratch-page' | 'segv-on-fault';

const ARENA_SEGV_REASONS: Record<ArenaSegvReason, string> = {
  'outside-mapping': 'the address is outside the arena mapping',
  'scratch-page': 'the page holds the scratch page a kernel-side fault installed',
  'segv-on-fault': 'the page is not allocated and the arena has BPF_F_SEGV_ON_FAULT',
};

/** A user-space (mmap) access to an arena that the kernel would answer with SIGSEGV. */
export class ArenaSegvError extends BpfError {
  readonly kind = 'arena-segv';
  constructor(
    readonly map: string,
    readonly access: 'read' | 'write',
    readonly address: bigint,
    readonly reason: ArenaSegvReason,
    options?: ErrorOptions,
  ) {
    super(`arena '${map}': SIGSEGV on user ${access} at 0x${address.toString(16)}: ${ARENA_SEGV_REASONS[reason]}`, options);
    this.name = 'ArenaSegvError';
  }
}

/** Where in the C source an instruction came from (from .BTF.ext line_info). */
export interface SourceLocation {
  readonly program: string;
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The source line's text. */
  readonly text: string;
}

/** Base of errors raised while a program runs; `index` is the faulting instruction slot. */
export abstract class VmError extends BpfError implements Located {
  /** Set by the loaded-object layer when line info maps `index` to source. */
  location?: SourceLocation;

  constructor(readonly index: number, readonly reason: string, options?: ErrorOptions) {
    super(`instruction ${index}: ${reason}`, options);
  }

  /** Names the program and, when known, the source line in the message. */
  locate(program: string, location: SourceLocation | undefined): this {
    this.location = location;
    const where = location
      ? ` (${location.function} at ${location.file}:${location.line}:${location.column}: ${location.text.trim()})`
      : '';
    this.message = `program ${program}: ${this.message}${where}`;
    return this;
  }
}

/** Whether an error names its instruction (`Located`): every VmError and InvalidInstructionError. */
export function isLocated(e: unknown): e is BpfError & Located {
  return e instanceof VmError || e instanceof InvalidInstructionError;
}

export class MemoryAccessError extends VmError {
  readonly kind = 'memory-access';
  constructor(
    index: number,
    readonly access: 'read' | 'write',
    readonly address: bigint,
    readonly size: number,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(index, `${access} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)} ${detail}`, options);
    this.name = 'MemoryAccessError';
  }
}

export class BudgetExceededError extends VmError {
  readonly kind = 'budget-exceeded';
  constructor(index: number, readonly budget: number, options?: ErrorOptions) {
    super(index, `instruction budget of ${budget} exhausted (runaway loop?)`, options);
    this.name = 'BudgetExceededError';
  }
}

/** A run that took longer than its wall-clock timeout (RunOptions.timeoutMs). */
export class RunTimeoutError extends VmError {
  readonly kind = 'timeout';
  constructor(index: number, readonly timeoutMs: number, readonly instructions: number, options?: ErrorOptions) {
    super(index, `run timed out after ${timeoutMs} ms (${instructions} instructions)`, options);
    this.name = 'RunTimeoutError';
  }
}

export class CallDepthError extends VmError {
  readonly kind = 'call-depth';
  constructor(index: number, readonly maxFrames: number, options?: ErrorOptions) {
    super(index, `call stack exceeds ${maxFrames} frames`, options);
    this.name = 'CallDepthError';
  }
}

export class UnknownHelperError extends VmError {
  readonly kind = 'unknown-helper';
  /** `helperName` is the kernel's name for the id (`bpf_fib_lookup`), when the id has one. */
  constructor(index: number, readonly helperId: number, readonly helperName?: string, options?: ErrorOptions) {
    super(index, `call to unknown helper ${helperName === undefined ? `#${helperId}` : `${helperName} (#${helperId})`}`, options);
    this.name = 'UnknownHelperError';
  }
}

export class UnknownKfuncError extends VmError {
  readonly kind = 'unknown-kfunc';
  constructor(index: number, readonly kfunc: string, options?: ErrorOptions) {
    super(index, `call to unknown kfunc ${kfunc}`, options);
    this.name = 'UnknownKfuncError';
  }
}

/**
 * A run reached an instruction a failed CO-RE relocation poisoned (libbpf's `call 0xbad2310`,
 * spec maps-and-kernel-objects §4.10). The kernel's verifier refuses the load where it reaches
 * it and libbpf rewrites its log to `N: <invalid CO-RE relocation>` / `failed to resolve CO-RE
 * relocation <spec>`; bpfrun has no path-exploring verifier and reports it when a run gets there.
 */
export class CoreRelocationError extends VmError {
  readonly kind = 'core-relocation';
  /** libbpf's bpf_core_format_spec of the relocation: `<byte_off> [7] struct foo.x (0:1 @ offset 4)`. */
  constructor(index: number, readonly relocation: string, options?: ErrorOptions) {
    super(index, `<invalid CO-RE relocation>: failed to resolve CO-RE relocation ${relocation} (the kernel's verifier refuses `
      + 'the program at load where it reaches this instruction; bpfrun found it when a run reached it)', options);
    this.name = 'CoreRelocationError';
  }
}

/** Any other runtime failure (a helper's own error, an invalid callx target, ...). */
export class RuntimeError extends VmError {
  readonly kind = 'runtime';
  constructor(index: number, reason: string, options?: ErrorOptions) {
    super(index, reason, options);
    this.name = 'RuntimeError';
  }
}

/**
 * A program broke a rule the kernel's verifier enforces for locks and timers (spec
 * maps-and-kernel-objects §6.1–§6.3): unlocking a lock it does not hold, exiting with one held,
 * a lock or timer argument that is not one. The kernel refuses such a program at load; bpfrun
 * finds out when a run takes the path. `rule` is the verifier's message.
 */
export class LockRuleError extends RuntimeError {
  constructor(index: number, readonly rule: string, options?: ErrorOptions) {
    super(index, `${rule} (the kernel's verifier refuses this program at load; bpfrun found it at run time)`, options);
    this.name = 'LockRuleError';
  }
}

/**
 * A helper or kfunc (a "native") that broke the boundary's rules (src/runtime.ts `callNative`):
 * it threw something other than a BpfError, or returned something r0 cannot hold. `native` is
 * its name, `index` the call instruction; `cause` is what it threw or returned.
 */
export class NativeError extends RuntimeError {
  constructor(index: number, readonly native: string, reason: string, options?: ErrorOptions) {
    super(index, `${native} ${reason}`, options);
    this.name = 'NativeError';
  }
}

/** Longest text `describeValue` quotes from a value. */
const DESCRIBE_MAX = 300;

/**
 * Text for any value host code threw or returned, for a message: an Error's message, a string
 * itself, anything else as String() gives it. It never throws (an `Object.create(null)`, a
 * throwing `message` getter or `toString`, a revoked Proxy), and it is cut at `max` characters.
 */
export function describeValue(value: unknown, max = DESCRIBE_MAX): string {
  let text: string;
  try {
    if (value instanceof Error) {
      const message: unknown = value.message;
      text = typeof message === 'string' ? message : String(message);
    } else {
      text = String(value);
    }
  } catch {
    try {
      text = Object.prototype.toString.call(value);
    } catch {
      text = `a ${typeof value} that cannot be printed`;
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A value's type for a message: 'a string', 'null', 'an array', 'a Promise', 'an object', ... (never throws). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const type = typeof value;
  if (type !== 'object') return `a ${type}`;
  if (safeInstanceOf(value, Promise)) return 'a Promise';
  try {
    if (Array.isArray(value)) return 'an array';
  } catch { /* a revoked Proxy */ }
  return 'an object';
}

/** `value instanceof cls`, false where asking throws (a Proxy whose getPrototypeOf trap throws). */
export function safeInstanceOf<T>(value: unknown, cls: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof cls;
  } catch {
    return false;
  }
}

/** Where a kfunc was called from, for contract violations. */
export interface CallSite {
  readonly kfunc: string;
  readonly insn: number;
  readonly source?: SourceLocation;
}

/**
 * A kfunc's kernel-side access outside the GUARD_SZ / 2 contract of the direct-access series
 * (strict mode, kernel-arena-streams.md §1.2, §3): at most 32 KiB past an arena pointer the
 * call was handed. `argument` and `offset` name the nearest such argument, if any.
 */
export class KfuncContractError extends VmError {
  readonly kind = 'kfunc-contract';
  constructor(readonly site: CallSite, readonly argument: number | undefined, readonly offset: bigint | undefined,
    readonly address: bigint, readonly size: number) {
    super(site.insn, argument === undefined
      ? `kfunc ${site.kfunc} touched arena memory at ${hex(address)} (${size} bytes) without an arena pointer argument`
      : `kfunc ${site.kfunc} touched arena memory ${offset! < 0n ? '-' : '+'}${hex(offset! < 0n ? -offset! : offset!)} ` +
        `from its arena argument ${argument} (${size} bytes), beyond the GUARD_SZ / 2 = ${GUARD_SZ / 2} bytes a kfunc may access`);
    this.name = 'KfuncContractError';
  }
}

/**
 * A kernel-mode page fault that nothing recovered (spec §3.3: no BPF program on the stack, an
 * address outside the arena or in its lower guard): the simulated kernel oopses, the run ends
 * with this report, the host process goes on. Shaped like x86's report.
 */
export class KernelOopsError extends BpfError {
  readonly kind = 'kernel-oops';
  constructor(
    readonly address: bigint,
    readonly access: 'read' | 'write',
    /** The kernel function that faulted (the kfunc). */
    readonly faultIp: string,
    /** The call trace, innermost first. */
    readonly trace: readonly string[],
    options?: ErrorOptions,
  ) {
    const code = access === 'write' ? 2 : 0; // x86 error code: W/R bit, not-present, kernel mode
    super([
      `BUG: unable to handle page fault for address: ${address.toString(16).padStart(16, '0')}`,
      `#PF: supervisor ${access} access in kernel mode`,
      `#PF: error_code(0x${code.toString(16).padStart(4, '0')}) - not-present page`,
      `Oops: ${code.toString(16).padStart(4, '0')} [#1] PREEMPT SMP`,
      `RIP: ${faultIp}`,
      'Call Trace:',
      ' <TASK>',
      ...trace.map((t) => ` ${t}`),
      ' </TASK>',
    ].join('\n'), options);
    this.name = 'KernelOopsError';
  }
}

/**
 * What to show of an error's causes, outermost first, one text per cause shown; none when there is
 * nothing to add, so output without a cause stays as it was. The whole chain is walked, but only
 * causes bpfrun did not write are shown:
 *
 * - A BpfError is not shown: a layer that rewraps one quotes in its own message what matters,
 *   adding one phrase of context (as the loader's rewraps do).
 * - An exception from host code that a running program called (a kfunc's or a helper's: a cause
 *   that is not a BpfError, below a VmError) shows as its stack, so whoever wrote that code finds
 *   the line that threw.
 * - Any other cause (a library's error about bad input) shows as `Name: message`, unless the error
 *   above it already quotes that message.
 */
export function causeTexts(error: Error): string[] {
  const texts: string[] = [];
  const seen = new Set<unknown>([error]);
  let above = error.message;
  let underRun = error instanceof VmError;
  let cause = error.cause;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    // A cause may be anything host code threw: read it only through guards (describeValue, field).
    const isError = safeInstanceOf(cause, Error);
    const message = describeValue(cause, Infinity);
    const stack = isError ? field(cause, 'stack') : undefined;
    if (safeInstanceOf(cause, BpfError)) {
      underRun ||= cause instanceof VmError;
    } else if (isError && underRun && typeof stack === 'string' && stack) {
      texts.push(stack);
    } else if (message === '' || !above.includes(message)) {
      const name = isError ? describeValue(field(cause, 'name'), Infinity) : '';
      texts.push(!isError ? message : message ? `${name}: ${message}` : name);
    }
    above = message;
    cause = isError ? field(cause, 'cause') : undefined;
  }
  return texts;
}

/** A property of a value host code threw, undefined where reading it throws. */
function field(value: unknown, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * An error's causes as lines to print under its message (indented by the caller): each cause
 * starts a line `caused by: …`, and a stack's frame lines follow it as V8 indents them.
 */
export function causeLines(error: Error): string[] {
  return causeTexts(error).flatMap((text) => `caused by: ${text}`.split('\n'));
}
