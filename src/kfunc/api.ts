/**
 * The kfunc author's API: what a kfunc written in TypeScript declares (argument and return
 * kinds, flags; `defineKfunc`), what its implementation gets (the decoded arguments, and the
 * kernel it runs in as a KernelApi), and the plain form (`KfuncImpl`) that takes the raw call.
 * Types and the identity only: ./bind.ts makes natives of them (spec §1.10, §3).
 */
import type { ArenaMap } from '../maps/arena.js';
import type { BpfMap } from '../maps/base.js';
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

/** Declares a kfunc (a typed identity, for editors and for load-time checks). */
export function defineKfunc(spec: KfuncSpec): KfuncSpec {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.name)) throw new TypeError(`kfunc name '${spec.name}' is not a C identifier`);
  if (spec.args.length > 5) throw new TypeError(`kfunc ${spec.name}: at most 5 arguments (r1..r5)`);
  spec.args.forEach((a, i) => {
    if (a === 'size' && spec.args[i - 1] !== 'mem') throw new TypeError(`kfunc ${spec.name}: argument ${i} 'size' must follow a 'mem'`);
  });
  return spec;
}

export function isKfuncSpec(x: unknown): x is KfuncSpec {
  return typeof x === 'object' && x !== null && 'name' in x && 'args' in x && 'impl' in x;
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

