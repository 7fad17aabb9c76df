/**
 * The arena's address model (kernel-arena-streams.md §1.2, §1.3): sizes, the user range, the
 * kernel window and the conversions between them. Pure functions of a few bigints; the page
 * table and the allocator build on these.
 */

import { ARENA_KERNEL_WINDOW, ARENA_SLOT_SIZE, ARENA_USER_WINDOW } from '../addresses.js';
import { GUARD_SZ, PAGE_SHIFT, PAGE_SIZE } from '../uapi.js';

/** spec §1.2: kern_vm_start sits GUARD_SZ / 2 above the vm area; the same again above 4 GiB. */
export const HALF_GUARD = GUARD_SZ / 2;
export const HALF_GUARD_PAGES = HALF_GUARD / PAGE_SIZE;
export const SZ_4G = 2 ** 32;
/** Pages of the 4 GiB body, the most an arena can hold (max_entries ≤ 2^20). */
export const BODY_PAGES = SZ_4G / PAGE_SIZE;

/** A fake vmalloc-space base for arena windows (ARENA_KERNEL_WINDOW in ../addresses.ts). */
const KERN_ARENA_BASE = ARENA_KERNEL_WINDOW.start;
/** Where the simulated mmap() starts handing out arena ranges, top-down (a typical x86-64 mmap_base, rounded). */
const USER_MMAP_TOP = ARENA_USER_WINDOW.end;
/** Each arena gets an 8 GiB slot of its own, in the kernel (4 GiB + GUARD_SZ) and in user space (mmap asks for 2 × len ≤ 8 GiB). */
const ARENA_STRIDE = ARENA_SLOT_SIZE;
const LO32 = 0xffff_ffffn;

export function lo32(v: bigint): number {
  return Number(v & LO32);
}

/** clear_lo32() (spec §1.3): the 4 GiB window a user address lives in. */
export function clearLo32(v: bigint): bigint {
  return v & 0xffff_ffff_0000_0000n;
}

/**
 * user_vm_start when map_extra is 0, as the first mmap(NULL, len) would choose it (spec §1.4,
 * arena_get_unmapped_area): the kernel asks for a 2 × len window — top-down below the mmap
 * base — and rounds its start up to the next 4 GiB boundary if [start, start + len) would cross
 * one. `index` is the arena's creation order in its address space, so each arena gets its own
 * 8 GiB slot: arena 0 of one page starts at 0x7effffffe000, arena 0 of 4 GiB at 0x7efe00000000.
 */
export function defaultUserVmStart(len: number, index: number): bigint {
  const top = USER_MMAP_TOP - BigInt(index) * ARENA_STRIDE;
  const start = top - 2n * BigInt(len);
  if (start >> 32n === (start + BigInt(len) - 1n) >> 32n) return start;
  return (start + LO32) & 0xffff_ffff_0000_0000n;
}

/**
 * kern_vm_start for the index-th arena of an address space: a fake get_vm_area() result
 * 8 GiB apart per arena, plus the 32 KiB lower half guard (spec §1.2). Page aligned; the
 * first arena's window is [0xffffd000_00000000, +4 GiB + 64 KiB) and kern_vm_start is
 * 0xffffd000_00008000.
 */
export function kernVmStartFor(index: number): bigint {
  return KERN_ARENA_BASE + BigInt(index) * ARENA_STRIDE + BigInt(HALF_GUARD);
}

/** The fixed addresses of one arena and the conversions between its address forms. */
export class ArenaGeometry {
  readonly userVmEnd: bigint;
  /** (u32)user_vm_start: the kernel offset of pgoff 0. */
  readonly userLo: number;
  /** page_cnt_max (spec §1.4): the mmap size in pages, the allocation bound. */
  readonly pageCntMax: number;

  constructor(readonly userVmStart: bigint, readonly mmapSize: number, readonly kernVmStart: bigint) {
    this.userVmEnd = userVmStart + BigInt(mmapSize);
    this.userLo = lo32(userVmStart);
    this.pageCntMax = mmapSize / PAGE_SIZE;
  }

  /** spec §1.3: kernel address = kern_vm_start + (u32)user_ptr. */
  userToKern(uaddr: bigint): bigint {
    return this.kernVmStart + (uaddr & LO32);
  }

  /** spec §1.3: clear_lo32(user_vm_start) + offset; guard addresses map past the 4 GiB window. */
  kernToUser(kaddr: bigint): bigint {
    return clearLo32(this.userVmStart) + (kaddr - this.kernVmStart);
  }

  /** The user form of a 32-bit arena offset (what alloc returns and cast_user produces). */
  offsetToUser(off: number): bigint {
    return clearLo32(this.userVmStart) + BigInt(off);
  }

  /** compute_pgoff (spec §1.3): (u32)(uaddr − (u32)user_vm_start) >> PAGE_SHIFT, wrapping. */
  pgoff(uaddr: bigint): number {
    return ((lo32(uaddr) - this.userLo) >>> 0) >>> PAGE_SHIFT;
  }

  /** The kernel page (slot) holding pgoff: (u32)(user_vm_start + pgoff × PAGE_SIZE) >> PAGE_SHIFT. */
  slotOfPgoff(pgoff: number): number {
    return ((this.userLo + pgoff * PAGE_SIZE) >>> 0) >>> PAGE_SHIFT;
  }

  /** Whether a user address lies inside the mapping [user_vm_start, user_vm_end). */
  inUserRange(uaddr: bigint): boolean {
    return uaddr >= this.userVmStart && uaddr < this.userVmEnd;
  }
}
