/**
 * Binding kfuncs written in TypeScript to the simulated kernel: the KernelApi each one gets, the
 * `__arena` argument rebase, the decoding of a typed kfunc's arguments as the kernel passes
 * them (spec §1.10), the check of a definition against the object's BTF prototype at load, and
 * the strict GUARD_SZ / 2 contract pushed as an access guard around each call (spec §1.2, §3).
 */
import type { Btf } from '../btf/btf.js';
import { LoadError, RuntimeError } from '../errors.js';
import type { ArenaKernel, RunningProgram } from '../kernel/arena-access.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { ArenaMap } from '../maps/arena.js';
import type { NativeFn } from '../runtime.js';
import { latin1Bytes, latin1Text } from '../text.js';
import { PAGE_SIZE } from '../uapi.js';
import type { KernelApi, KfuncArg, KfuncArgKind, KfuncImpl, KfuncReturnKind, KfuncSpec } from './api.js';
import { contractGuard } from './contract.js';

/** The program calling a kfunc, as the binding needs it (src/program.ts's Program). */
export interface KfuncCaller extends RunningProgram {
  /** The references the run holds (src/verifier.ts References). */
  readonly references: {
    /** A KF_ACQUIRE kfunc returned a (non-NULL) reference. */
    acquire(pointer: bigint, insn: number): void;
    /** A KF_RELEASE kfunc takes its first argument back. */
    release(pointer: bigint, kfunc: string, insn: number): void;
  };
}

/** What a kfunc is bound to. */
export interface KfuncBinding {
  /** Maps by handle (`map` arguments). */
  readonly kernel: SimKernel;
  /** Kernel-side memory access, and the guard stack the contract goes on. */
  readonly access: ArenaKernel;
  /** The program calling, found on the kernel stack (bpf_prog_find_from_stack). */
  readonly caller: () => KfuncCaller | undefined;
  /** Enforce the GUARD_SZ / 2 contract on typed kfuncs (LoadOptions.strictKfuncContract). */
  readonly strict: boolean;
}

/**
 * The kernel address of an `__arena` argument: kern_vm_start + lo32(ptr), the rebase the JIT
 * does for `x__arena` parameters (spec §1.10). A RuntimeError at `insn` (the call; -1 when no
 * program runs) if the calling program has no arena.
 */
export function arenaKernAddress(kfunc: string, arena: ArenaMap | undefined, ptr: bigint, insn: number): bigint {
  if (!arena) throw new RuntimeError(insn, `${kfunc}: arena pointer requires a program with an associated arena`);
  return arena.kernVmStart + (ptr & 0xffffffffn);
}

/** The KernelApi a kfunc named `name` sees (its name is the faulting "IP" in reports). */
export function kernelApiFor(name: string, access: ArenaKernel): KernelApi {
  const read = (addr: bigint, len: number) => access.read(addr, len, name);
  const write = (addr: bigint, bytes: Uint8Array) => access.write(addr, bytes, name);
  const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Writes `size` little-endian bytes that `set` fills in. */
  const put = (addr: bigint, size: number, set: (v: DataView) => void) => { const b = new Uint8Array(size); set(view(b)); write(addr, b); };
  return {
    read,
    write,
    readU8: (addr) => read(addr, 1)[0],
    writeU8: (addr, value) => write(addr, Uint8Array.of(value & 0xff)),
    readU16: (addr) => view(read(addr, 2)).getUint16(0, true),
    writeU16: (addr, value) => put(addr, 2, (v) => v.setUint16(0, value & 0xffff, true)),
    readString: (addr, max) => {
      let text = '';
      // Page by page, as strncpy_from_kernel_nofault: never touch the page after the NUL.
      while (text.length < max) {
        const chunk = read(addr, Math.min(max - text.length, PAGE_SIZE - Number(addr & BigInt(PAGE_SIZE - 1))));
        const nul = chunk.indexOf(0);
        text += latin1Text(nul < 0 ? chunk : chunk.subarray(0, nul));
        if (nul >= 0) break;
        addr += BigInt(chunk.length);
      }
      return text;
    },
    writeString: (addr, text) => write(addr, Uint8Array.from([...latin1Bytes(text), 0])),
    readU32: (addr) => view(read(addr, 4)).getUint32(0, true),
    writeU32: (addr, value) => put(addr, 4, (v) => v.setUint32(0, value >>> 0, true)),
    readU64: (addr) => view(read(addr, 8)).getBigUint64(0, true),
    writeU64: (addr, value) => put(addr, 8, (v) => v.setBigUint64(0, BigInt.asUintN(64, value), true)),
    arenaKernAddr: (ptr) => arenaKernAddress(name, access.findProgFromStack()?.arena, ptr, access.callerInsn() ?? -1),
    progArena: () => access.findProgFromStack()?.arena,
    arenaMapKernVmStart: (map) => map.kernVmStartOf(),
    arenaAllocPagesSleepable: (map, addr, pageCnt, nodeId, flags) => map.allocPagesSleepable(addr, pageCnt, nodeId, flags),
  };
}

/**
 * A plain kfunc as a native: it gets the raw call and its KernelApi. No contract applies to
 * its accesses, not even the one of a typed kfunc it was called from (through a callback).
 */
export function bindKfuncImpl(name: string, impl: KfuncImpl, binding: KfuncBinding): NativeFn {
  const { access } = binding;
  const api = kernelApiFor(name, access);
  return (ctx) => {
    const mark = access.pushGuard(undefined);
    try {
      return impl(ctx, api);
    } finally {
      access.popGuard(mark);
    }
  };
}

/** A typed kfunc as a native: arguments decoded as the kernel passes them (spec §1.10). */
export function bindTypedKfunc(def: KfuncSpec, binding: KfuncBinding): NativeFn {
  const { kernel, access, strict } = binding;
  const api = kernelApiFor(def.name, access);
  return (ctx) => {
    const program = binding.caller();
    const arenaArgs = new Map<number, bigint>();
    const args = def.args.map((kind, i): KfuncArg => {
      const raw = ctx.arg(i + 1);
      switch (kind) {
        case 'scalar': return { kind, value: raw };
        case 'size': return { kind, value: Number(raw & 0xffffffffn) };
        case 'map': return { kind, map: kernel.mapOfHandle(raw), handle: raw };
        case 'ctx': return { kind, address: raw };
        case 'mem': return { kind, address: raw, size: Number(ctx.arg(i + 2) & 0xffffffffn) };
        default: { // arena pointers; __nullable passes NULL for lo32 == 0
          const rebased = arenaKernAddress(def.name, program?.arena, raw, ctx.index);
          const address = kind === 'arena_nullable' && (raw & 0xffffffffn) === 0n ? null : rebased;
          if (address !== null) arenaArgs.set(i, address);
          return { kind, address, user: raw };
        }
      }
    });
    if (def.flags?.release) program?.references.release(ctx.arg(1), def.name, ctx.index);
    const site = { kfunc: def.name, insn: ctx.index, source: program?.sourceOf?.(ctx.index) };
    const mark = access.pushGuard(strict ? contractGuard({ site, arenaArgs }) : undefined);
    let ret;
    try {
      ret = def.impl({ args, kernel: api, ctx });
    } finally {
      access.popGuard(mark);
    }
    // Only a valid return acquires; anything else is left to the native boundary to refuse.
    if (def.flags?.acquire && (typeof ret === 'bigint' || Number.isSafeInteger(ret)) && BigInt(ret as number | bigint) !== 0n) {
      program?.references.acquire(BigInt.asUintN(64, BigInt(ret as number | bigint)), ctx.index);
    }
    return ret;
  };
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
