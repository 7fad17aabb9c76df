/**
 * The arena kfuncs (spec §2) and the kernel API that kfuncs written in TypeScript get: kernel
 * memory through the simulated MMU, the `__arena` argument rebase, and the kernel-caller API of
 * the direct-access series (spec §3.1).
 */
import { ArenaMap } from '../maps/arena.js';
import { CallContext, NativeFn } from '../runtime.js';
import { latin1Bytes, latin1Text } from '../text.js';
import { EINVAL } from '../uapi.js';
import { PAGE_SIZE } from '../uapi.js';
import { ArenaKernel } from './arena-access.js';
import { SimKernel } from './kernel.js';

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
    arenaKernAddr: (ptr) => {
      const arena = access.findProgFromStack()?.arena;
      if (!arena) throw new Error(`${name}: arena pointer requires a program with an associated arena`);
      return arena.kernVmStart + (ptr & 0xffffffffn);
    },
    progArena: () => access.findProgFromStack()?.arena,
    arenaMapKernVmStart: (map) => map.kernVmStartOf(),
    arenaAllocPagesSleepable: (map, addr, pageCnt, nodeId, flags) => map.allocPagesSleepable(addr, pageCnt, nodeId, flags),
  };
}

/**
 * bpf_arena_alloc_pages / free_pages / reserve_pages (spec §2.1, §2.3, §2.4). `sleepable`
 * says whether the calling program is sleepable: the verifier swaps in the non-sleepable
 * variants otherwise (deferred frees).
 */
export function createArenaKfuncs(kernel: SimKernel, sleepable: () => boolean): Map<string, NativeFn> {
  const arenaOf = (ctx: CallContext): ArenaMap | undefined => {
    const map = kernel.mapOfHandle(ctx.arg(1));
    return map instanceof ArenaMap ? map : undefined;
  };
  const s32 = (ctx: CallContext, n: number) => ctx.argLo(n);
  const u32 = (ctx: CallContext, n: number) => ctx.argLo(n) >>> 0;
  return new Map<string, NativeFn>([
    ['bpf_arena_alloc_pages', (ctx) => {
      const arena = arenaOf(ctx);
      return arena ? arena.allocPages(ctx.arg(2), u32(ctx, 3), s32(ctx, 4), ctx.arg(5), sleepable()) : 0; // NULL, never an errno
    }],
    ['bpf_arena_free_pages', (ctx) => {
      arenaOf(ctx)?.freePages(ctx.arg(2), u32(ctx, 3), sleepable());
    }],
    ['bpf_arena_reserve_pages', (ctx) => {
      const arena = arenaOf(ctx);
      return arena ? arena.reservePages(ctx.arg(2), u32(ctx, 3)) : -EINVAL;
    }],
  ]);
}

