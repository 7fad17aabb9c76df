/**
 * The kfunc author's API: what a kfunc written in TypeScript declares (argument and return
 * kinds, flags; `defineKfunc`), what its implementation gets (the decoded arguments, and the
 * kernel it runs in as a KernelApi), and the plain form (`KfuncImpl`) that takes the raw call.
 * Types, and the checks a definition must pass (`checkKfuncSpec`, the user's kfuncs as
 * `LoadOptions.kfuncs` gives them); ./bind.ts makes natives of them (spec §1.10, §3).
 */
import type { ArenaMap } from '../maps/arena.js';
import type { BpfMap } from '../maps/base.js';
import { describeType, describeValue, LoadError } from '../errors.js';
import type { CallContext } from '../runtime.js';

/**
 * How an argument is passed (the kernel's kfunc parameter conventions, elf-loading.md §2.2):
 * - `scalar`: an integer, as a 64-bit value;
 * - `arena` / `arena_nullable`: an `x__arena` / `x__arena__nullable` pointer, rebased to
 *   kern_vm_start + lo32 (the nullable form passes NULL when lo32 is 0);
 * - `mem` then `size`: a pointer and its `__sz` length;
 * - `map`: a `void *map` (`p__map`) argument, resolved to the map;
 * - `ctx`: the program context pointer.
 */
export type KfuncArgKind = 'scalar' | 'arena' | 'arena_nullable' | 'mem' | 'size' | 'map' | 'ctx';
export type KfuncReturnKind = 'void' | 'scalar' | 'pointer';

/** A decoded argument. Addresses are kernel addresses (arena pointers rebased). */
export type KfuncArg =
  | { readonly kind: 'scalar'; readonly value: bigint }
  | { readonly kind: 'arena' | 'arena_nullable'; readonly address: bigint | null; readonly user: bigint }
  | { readonly kind: 'mem'; readonly address: bigint; readonly size: number }
  | { readonly kind: 'size'; readonly value: number }
  | { readonly kind: 'map'; readonly map: BpfMap | undefined; readonly handle: bigint }
  | { readonly kind: 'ctx'; readonly address: bigint };

export interface KfuncCall {
  readonly args: readonly KfuncArg[];
  /** Kernel memory through the simulated page tables (faults take the kernel path, spec §3.3). */
  readonly kernel: KernelApi;
  /** The raw call: registers, the call instruction. */
  readonly ctx: CallContext;
}

export interface KfuncFlags {
  readonly sleepable?: boolean;
  readonly acquire?: boolean;
  readonly release?: boolean;
}

/** A kfunc as its author defines it. */
export interface KfuncSpec {
  readonly name: string;
  readonly args: readonly KfuncArgKind[];
  readonly ret?: KfuncReturnKind;
  readonly flags?: KfuncFlags;
  readonly impl: (call: KfuncCall) => number | bigint | void;
}

const ARG_KINDS: readonly string[] = ['scalar', 'arena', 'arena_nullable', 'mem', 'size', 'map', 'ctx'] satisfies KfuncArgKind[];
const RETURN_KINDS: readonly string[] = ['void', 'scalar', 'pointer'] satisfies KfuncReturnKind[];
const FLAGS = ['sleepable', 'acquire', 'release'] as const;
/** The kernel's KSYM_NAME_LEN, terminating NUL included. */
const KSYM_NAME_LEN = 512;

/**
 * Checks a kfunc definition, reading each field once (a getter that throws, a Proxy, a field of
 * the wrong type are all refused), and returns a frozen copy of what it read: `name` a C
 * identifier, `args` an array of at most 5 known kinds (`size` right after a `mem`), `ret` a
 * known kind or absent, `flags` absent or an object of booleans, `impl` a function. A refusal is
 * a LoadError where "kfunc KEY" (`key`: the name it is registered under), else "kfunc NAME" once
 * the name is read, else `label`.
 */
export function checkKfuncSpec(x: unknown, key?: string, label = 'kfunc definition'): KfuncSpec {
  let where = key === undefined ? label : `kfunc ${key}`;
  const fail = (reason: string, cause?: unknown): never => {
    throw new LoadError(where, reason, cause === undefined ? undefined : { cause });
  };
  const read = (from: object, field: string | number, what: string): unknown => {
    try {
      return (from as Record<string | number, unknown>)[field];
    } catch (e) {
      return fail(`reading ${what} threw: ${describeValue(e)}`, e);
    }
  };
  if (typeof x !== 'object' || x === null) fail(`a definition is an object with name, args and impl, not ${describeType(x)}`);
  const spec = x as object;
  const name = read(spec, 'name', "its 'name'");
  if (typeof name !== 'string') return fail(`'name' must be a string, not ${describeType(name)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`kfunc name '${describeValue(name, 40)}' is not a C identifier`);
  if (name.length >= KSYM_NAME_LEN) fail(`kfunc name of ${name.length} characters is longer than the kernel's ${KSYM_NAME_LEN - 1}`);
  if (key === undefined) where = `kfunc ${name}`;
  const argsValue = read(spec, 'args', "its 'args'");
  let isArray = false;
  try { isArray = Array.isArray(argsValue); } catch { /* a revoked Proxy */ }
  if (!isArray) fail(`'args' must be an array of argument kinds (${ARG_KINDS.join(', ')}), not ${describeType(argsValue)}`);
  const list = argsValue as unknown[];
  const length = read(list, 'length', "the length of 'args'");
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) fail(`'args' has no valid length`);
  if ((length as number) > 5) fail('at most 5 arguments (r1..r5)');
  const args: KfuncArgKind[] = [];
  for (let i = 0; i < (length as number); i++) {
    const kind = read(list, i, `argument ${i}`);
    if (typeof kind !== 'string' || !ARG_KINDS.includes(kind)) {
      fail(`argument ${i} is ${typeof kind === 'string' ? `'${describeValue(kind, 40)}'` : describeType(kind)}, not one of ${ARG_KINDS.join(', ')}`);
    }
    if (kind === 'size' && args[i - 1] !== 'mem') fail(`argument ${i} 'size' must follow a 'mem'`);
    args.push(kind as KfuncArgKind);
  }
  const ret = read(spec, 'ret', "its 'ret'");
  if (ret !== undefined && (typeof ret !== 'string' || !RETURN_KINDS.includes(ret))) {
    fail(`'ret' must be one of ${RETURN_KINDS.join(', ')} or absent, not ${typeof ret === 'string' ? `'${describeValue(ret, 40)}'` : describeType(ret)}`);
  }
  const flagsValue = read(spec, 'flags', "its 'flags'");
  let flags: KfuncFlags | undefined;
  if (flagsValue !== undefined) {
    if (typeof flagsValue !== 'object' || flagsValue === null) fail(`'flags' must be an object or absent, not ${describeType(flagsValue)}`);
    const copy: { -readonly [F in keyof KfuncFlags]: boolean } = {};
    for (const flag of FLAGS) {
      const v = read(flagsValue as object, flag, `its flag '${flag}'`);
      if (v !== undefined && typeof v !== 'boolean') fail(`flag '${flag}' must be a boolean, not ${describeType(v)}`);
      if (v !== undefined) copy[flag] = v as boolean;
    }
    flags = Object.freeze(copy);
  }
  const impl = read(spec, 'impl', "its 'impl'");
  if (typeof impl !== 'function') fail(`'impl' must be a function, not ${describeType(impl)}`);
  return Object.freeze({
    name, args: Object.freeze(args), impl: impl as KfuncSpec['impl'],
    ...(ret !== undefined ? { ret: ret as KfuncReturnKind } : {}),
    ...(flags !== undefined ? { flags } : {}),
  });
}

/**
 * Declares a kfunc: checks the definition (checkKfuncSpec; a LoadError naming the kfunc and the
 * problem) and returns the frozen copy checked, typed for editors and the load-time checks.
 */
export function defineKfunc(spec: KfuncSpec): KfuncSpec {
  return checkKfuncSpec(spec);
}

/** Whether `x` is a valid kfunc definition (checkKfuncSpec accepts it). Never throws. */
export function isKfuncSpec(x: unknown): x is KfuncSpec {
  try {
    checkKfuncSpec(x);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `x` is meant as a kfunc definition: an object with `name`, `args` and `impl` (valid or
 * not; checkKfuncSpec says what is wrong). Never throws and runs no getter.
 */
export function looksLikeKfuncSpec(x: unknown): boolean {
  try {
    return typeof x === 'object' && x !== null && 'name' in x && 'args' in x && 'impl' in x;
  } catch {
    return false;
  }
}

/**
 * The user's kfuncs (LoadOptions.kfuncs: a Map or a record of plain functions or definitions by
 * name, or an array of definitions), each checked once: a plain function is taken as is, anything
 * else must be a valid definition (checkKfuncSpec, a frozen copy). A LoadError names the kfunc.
 */
export function userKfuncs(kfuncs: unknown): Map<string, KfuncImpl | KfuncSpec> {
  const out = new Map<string, KfuncImpl | KfuncSpec>();
  if (kfuncs === undefined) return out;
  if (typeof kfuncs !== 'object' || kfuncs === null) {
    throw new LoadError('LoadOptions.kfuncs', `must be a Map, a record or an array of kfuncs, not ${describeType(kfuncs)}`);
  }
  let entries: Array<readonly [unknown, unknown]>;
  try {
    entries = kfuncs instanceof Map ? [...kfuncs] : Array.isArray(kfuncs) ? kfuncs.map((k) => [undefined, k] as const) : Object.entries(kfuncs);
  } catch (e) {
    throw new LoadError('LoadOptions.kfuncs', `reading it threw: ${describeValue(e)}`, { cause: e });
  }
  entries.forEach(([key, entry], i) => {
    if (key !== undefined && typeof key !== 'string') throw new LoadError('LoadOptions.kfuncs', `key ${i} is ${describeType(key)}, not a kfunc name`);
    if (key !== undefined && typeof entry === 'function') {
      out.set(key, entry as KfuncImpl);
      return;
    }
    const spec = checkKfuncSpec(entry, key, `LoadOptions.kfuncs[${i}]`);
    out.set(key ?? spec.name, spec);
  });
  return out;
}

/** What a kfunc written in TypeScript can do in the simulated kernel. */
export interface KernelApi {
  /** Reads kernel memory (arena kernel addresses, map values, ...). A fault on an empty arena
   *  page recovers through the scratch page (and reports); anything else oopses. spec §3.3 */
  read(addr: bigint, len: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
  readU8(addr: bigint): number;
  writeU8(addr: bigint, value: number): void;
  readU16(addr: bigint): number;
  writeU16(addr: bigint, value: number): void;
  readU32(addr: bigint): number;
  writeU32(addr: bigint, value: number): void;
  readU64(addr: bigint): bigint;
  writeU64(addr: bigint, value: bigint): void;
  /** A NUL-terminated string of at most `max` bytes (Latin-1), read page by page. */
  readString(addr: bigint, max: number): string;
  /** Writes `text` (Latin-1) and its terminating NUL. */
  writeString(addr: bigint, text: string): void;
  /**
   * The kernel address of an `__arena` argument: kern_vm_start + lo32(ptr), the rebase the JIT
   * does for `x__arena` parameters (spec §1.10). Throws if the calling program has no arena.
   */
  arenaKernAddr(ptr: bigint): bigint;
  /** bpf_prog_arena(): the calling program's arena map, if any. spec §3.1 */
  progArena(): ArenaMap | undefined;
  /** bpf_arena_map_kern_vm_start(map). spec §3.1 */
  arenaMapKernVmStart(map: ArenaMap): bigint;
  /** bpf_arena_alloc_pages_sleepable(): the kernel callers' allocation. spec §3.1 */
  arenaAllocPagesSleepable(map: ArenaMap, addr: bigint, pageCnt: number, nodeId: number, flags: bigint): bigint;
}

/** A kfunc written in TypeScript: the call's registers, and the kernel it runs in. */
export type KfuncImpl = (ctx: CallContext, kernel: KernelApi) => number | bigint | void;

