/**
 * Typed kfuncs written in TypeScript: what a kfunc author declares (argument and return kinds,
 * flags), how the arguments reach the implementation (arena pointers rebased as the JIT does
 * for `__arena` parameters, pointer + size pairs, maps, the context), the check of each
 * declaration against the object's BTF prototype at load, and the `GUARD_SZ / 2` contract of
 * the direct-access series: a kfunc may touch arena memory at most 32 KiB past an arena
 * pointer it was handed (spec §1.2, §1.10, §3).
 */
import { KernelApi } from '../kernel/arena-kfuncs.js';
import type { Btf } from '../btf/btf.js';
import { CallSite, KfuncContractError, LoadError } from '../errors.js';
import type { BpfMap } from '../maps/base.js';
import { CallContext } from '../runtime.js';
import { GUARD_SZ } from '../uapi.js';

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

/**
 * Checks a definition against the FUNC_PROTO the object declares for it: the return kind (when
 * the definition gives one), the argument count,
 * and for each argument pointer-or-not and the `__arena`, `__arena__nullable`, `__sz` and
 * `__map` name suffixes the kernel gives meaning to. Throws a LoadError naming both sides.
 */
export function checkKfuncProto(spec: KfuncSpec, btf: Btf, protoId: number): void {
  const proto = btf.type(protoId);
  if (proto.kind !== 'FUNC_PROTO') throw new LoadError(`extern ${spec.name}`, `BTF type ${protoId} is not a FUNC_PROTO`);
  const declared = proto.params.map((p) => {
    const t = btf.resolve(p.type);
    const pointer = t.kind === 'PTR';
    const kind: KfuncArgKind = p.name.endsWith('__arena__nullable') ? 'arena_nullable' : p.name.endsWith('__arena') ? 'arena'
      : p.name.endsWith('__sz') || p.name.endsWith('__szk') ? 'size' : p.name.endsWith('__map') ? 'map' : pointer ? 'mem' : 'scalar';
    return { name: p.name, pointer, kind, text: `${btf.typeName(p.type)}${p.name ? ` ${p.name}` : ''}` };
  });
  const mismatch = (why: string): never => {
    throw new LoadError(`extern ${spec.name}`, `${why}: the object declares (${declared.map((d) => d.text).join(', ') || 'void'}), ` +
      `the runtime defines (${spec.args.join(', ') || 'void'})`);
  };
  if (spec.ret !== undefined) {
    const r = proto.returnType === 0 ? undefined : btf.resolve(proto.returnType);
    const returns: KfuncReturnKind = r === undefined ? 'void' : r.kind === 'PTR' ? 'pointer' : 'scalar';
    if (returns !== spec.ret) mismatch(`the return is declared ${returns === 'void' ? 'void' : `${returns} (${btf.typeName(proto.returnType)})`} but defined '${spec.ret}'`);
  }
  if (declared.length !== spec.args.length) mismatch(`${declared.length} arguments declared, ${spec.args.length} defined`);
  spec.args.forEach((kind, i) => {
    const d = declared[i];
    const wantsPointer = kind !== 'scalar' && kind !== 'size';
    // A suffixed parameter must be defined as its suffix says (a `__sz` may be a plain scalar);
    // an unsuffixed pointer may be any pointer kind, an unsuffixed integer any integer kind.
    const named = d.kind !== 'mem' && d.kind !== 'scalar';
    const ok = named ? d.kind === kind || (d.kind === 'size' && kind === 'scalar') : d.pointer === wantsPointer;
    if (!ok) mismatch(`argument ${i} (${d.text || 'unnamed'}) is declared ${d.kind === 'mem' ? 'a pointer' : d.kind} but defined '${kind}'`);
  });
}

/** The arena pointer arguments of the kfunc call in progress, for the strict contract check. */
export interface ContractScope {
  readonly site: CallSite;
  /** Kernel addresses of the arena arguments, by argument index. */
  readonly arenaArgs: ReadonlyMap<number, bigint>;
}

/**
 * Throws KfuncContractError when [addr, addr + size) is not within GUARD_SZ / 2 bytes past
 * one of the call's arena pointer arguments.
 */
export function checkContract(scope: ContractScope, addr: bigint, size: number): void {
  const limit = BigInt(GUARD_SZ / 2);
  let nearest: { index: number; offset: bigint } | undefined;
  for (const [index, base] of scope.arenaArgs) {
    const offset = addr - base;
    if (offset >= 0n && offset + BigInt(size) <= limit) return;
    const distance = offset < 0n ? -offset : offset;
    if (!nearest || distance < (nearest.offset < 0n ? -nearest.offset : nearest.offset)) nearest = { index, offset };
  }
  throw new KfuncContractError(scope.site, nearest?.index, nearest?.offset, addr, size);
}
