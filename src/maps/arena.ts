/**
 * BPF_MAP_TYPE_ARENA as the kernel implements it after the 2026 "bpf/arena: direct kernel-side
 * access" series (kernel-arena-streams.md §1–§3, kernel/bpf/arena.c). Creation is validated in
 * map.ts (§1.1); this class holds the address model (src/arena/geometry.ts), the sparse kernel
 * page table with its scratch page (src/arena/page-table.ts), the free-slot range tree
 * (src/arena/range-tree.ts), the kfunc semantics, kernel-fault scratch installation and the
 * user (mmap) view. It is engine independent: engines translate PROBE_MEM32 accesses through
 * pageAtOffset(), kfunc wrappers call allocPages/freePages/reservePages.
 *
 * Simulation choices:
 * - user_vm_start is fixed at creation: map_extra, or when 0 what the first mmap(NULL,
 *   max_entries × PAGE_SIZE) would pick (defaultUserVmStart, §1.4). libbpf mmaps
 *   page_size × max_entries, so page_cnt_max = max_entries.
 * - kern_vm_start is a fake vmalloc address, 8 GiB apart per arena of an address space
 *   (kernVmStartFor).
 * - Non-sleepable frees queue a span; the span's pages stay mapped and its slots stay
 *   allocated until runDeferredFrees() — the kernel's irq_work + workqueue — which the
 *   runtime calls when a program run ends.
 */
import { ArenaGeometry, clearLo32, defaultUserVmStart, HALF_GUARD, kernVmStartFor, lo32, SZ_4G } from '../arena/geometry.js';
import { PageTable } from '../arena/page-table.js';
import { RangeTree } from '../arena/range-tree.js';
import { ArenaSegvError, type ArenaSegvReason } from '../errors.js';
import type { AddressSpace } from '../memory.js';
import { BpfMap } from './base.js';
import type { MapSpec } from './types.js';
import { BPF_F_NO_USER_CONV, BPF_F_SEGV_ON_FAULT, E2BIG, EBUSY, EINVAL, EOPNOTSUPP, PAGE_SHIFT, PAGE_SIZE } from '../uapi.js';

/** NUMA_NO_NODE (bpf_arena_common.h). */
export const NUMA_NO_NODE = -1;
/** bpfrun simulates one NUMA node (node 0). */
const NR_NODE_IDS = 1;
const PAGE_MASK_LO = BigInt(PAGE_SIZE - 1);
/** Recovery covers the body plus the upper half guard (spec §3.3 step 3). */
const SCRATCH_LIMIT = SZ_4G + HALF_GUARD;

/** Arenas created per address space: picks each one's kernel and default user slot. */
const arenasIn = new WeakMap<AddressSpace, number>();

/** A queued non-sleepable free (struct arena_free_span): the page-aligned lo32 and the clipped count. */
interface FreeSpan {
  readonly uaddr: number;
  readonly pageCnt: number;
}

/** Result of installScratch (spec §3.3 steps 3–4). */
export interface ScratchInstall {
  /** The scratch page went into an empty slot (false: the slot was populated — race lost, fine). */
  readonly installed: boolean;
  /** The page is in [kern_vm_start, +4 GiB + 32 KiB); false means "not ours": the kernel oopses. */
  readonly inRange: boolean;
  /** The address to report (page aligned, user form: clear_lo32(user_vm_start) + page offset), when in range. */
  readonly userPageAddr: bigint;
}

export class ArenaMap extends BpfMap {
  /** user_vm_start: map_extra, or the simulated first mmap's choice when map_extra is 0. spec §1.3 */
  readonly userVmStart: bigint;
  readonly userVmEnd: bigint;
  /** bpf_arena_get_kern_vm_start: the kernel address of arena offset 0. spec §1.2 */
  readonly kernVmStart: bigint;
  /** kern_vm_start as int32 halves, for engines working on hi/lo pairs. */
  readonly kernVmStartHi: number;
  readonly kernVmStartLo: number;
  readonly geometry: ArenaGeometry;
  readonly pageTable = new PageTable();
  /** Free page slots by pgoff. spec §2.2 */
  readonly rangeTree = new RangeTree();
  private readonly deferred: FreeSpan[] = [];

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    const index = arenasIn.get(memory) ?? 0;
    arenasIn.set(memory, index + 1);
    const mmapSize = spec.maxEntries * PAGE_SIZE;
    const start = spec.mapExtra !== 0n ? spec.mapExtra : defaultUserVmStart(mmapSize, index);
    this.geometry = new ArenaGeometry(start, mmapSize, kernVmStartFor(index));
    this.userVmStart = start;
    this.userVmEnd = this.geometry.userVmEnd;
    this.kernVmStart = this.geometry.kernVmStart;
    this.kernVmStartHi = Number(this.kernVmStart >> 32n) | 0;
    this.kernVmStartLo = lo32(this.kernVmStart) | 0;
    memory.arenaUserRanges.push({ name: spec.name, start: this.userVmStart, end: this.userVmEnd });
    // spec §1.1: every page starts free.
    this.rangeTree.set(0, spec.maxEntries);
  }

  /** max_entries is the arena's size in pages. */
  get pages(): number { return this.spec.maxEntries; }
  get sizeBytes(): number { return this.spec.maxEntries * PAGE_SIZE; }
  /** page_cnt_max: the mapping's size in pages, the allocation bound (spec §1.4). */
  get pageCntMax(): number { return this.geometry.pageCntMax; }
  get segvOnFault(): boolean { return (this.spec.flags & BPF_F_SEGV_ON_FAULT) !== 0; }
  get noUserConv(): boolean { return (this.spec.flags & BPF_F_NO_USER_CONV) !== 0; }
  /** Real pages present in the kernel window (pages of pending deferred frees included). */
  get pagesAllocated(): number { return this.pageTable.pagesPresent; }
  /** Slots holding the shared scratch page. */
  get pagesScratched(): number { return this.pageTable.pagesScratched; }
  /** Non-sleepable frees waiting for runDeferredFrees(). */
  get pendingFrees(): number { return this.deferred.length; }

  // ---- Conversions (spec §1.3) ----
  userToKern(uaddr: bigint): bigint { return this.geometry.userToKern(uaddr); }
  kernToUser(kaddr: bigint): bigint { return this.geometry.kernToUser(kaddr); }
  pgoff(uaddr: bigint): number { return this.geometry.pgoff(uaddr); }
  /** bpf_arena_map_kern_vm_start (spec §3.1). */
  kernVmStartOf(): bigint { return this.kernVmStart; }

  // ---- Engine hot path: kernel-window lookups, no faulting ----

  /**
   * The page (real or scratch) covering kern_vm_start + off, or undefined if the slot is empty.
   * `off` is the JIT's `(u32)reg + (s16)insn.off`: in [−32 KiB, 4 GiB + 32 KiB). One Map
   * access; the byte is at `page[off & 4095]`.
   */
  pageAtOffset(off: number): Uint8Array | undefined {
    return this.pageTable.slots.get(Math.floor(off / PAGE_SIZE));
  }

  /** The page covering a full kernel address, or undefined (empty slot or outside the window). */
  pageAt(kaddr: bigint): Uint8Array | undefined {
    const off = kaddr - this.kernVmStart;
    if (off < -HALF_GUARD || off >= SCRATCH_LIMIT) return undefined;
    return this.pageAtOffset(Number(off));
  }

  /** pageAt for an address held as int32 halves (memory.ts style). */
  pageAtHiLo(lo: number, hi: number): Uint8Array | undefined {
    const off = ((hi - this.kernVmStartHi) | 0) * SZ_4G + (lo >>> 0) - (this.kernVmStartLo >>> 0);
    if (off < -HALF_GUARD || off >= SCRATCH_LIMIT) return undefined;
    return this.pageAtOffset(off);
  }

  isScratch(page: Uint8Array | undefined): boolean { return this.pageTable.isScratch(page); }

  // ---- kfuncs (spec §2) ----

  /**
   * bpf_arena_alloc_pages (sleepable) / bpf_arena_alloc_pages_non_sleepable (spec §2.1): the
   * user address of `pageCnt` fresh zeroed pages, or 0n on every failure. `addr` 0 means
   * anywhere (best fit); otherwise only its lo32 counts and the whole range must be free.
   * Scratched slots in the range are replaced (spec §3.3, f64c7237).
   */
  allocPages(addr: bigint, pageCnt: number, nodeId: number, flags: bigint, sleepable: boolean): bigint {
    const cnt = pageCnt >>> 0;
    if (flags !== 0n || cnt === 0) return 0n;
    return this.arenaAllocPages(BigInt.asUintN(64, addr), cnt, nodeId | 0, sleepable);
  }

  /** bpf_arena_alloc_pages_sleepable (spec §3.1): the kfunc path, for kernel callers. */
  allocPagesSleepable(addr: bigint, pageCnt: number, nodeId: number, flags: bigint): bigint {
    return this.allocPages(addr, pageCnt, nodeId, flags, true);
  }

  /**
   * bpf_arena_free_pages / _non_sleepable (spec §2.3). Silent: no check that the pages were
   * allocated. Sleepable: immediate. Non-sleepable: deferred until runDeferredFrees().
   */
  freePages(ptr: bigint, pageCnt: number, sleepable: boolean): void {
    const cnt = pageCnt >>> 0;
    if (cnt === 0 || BigInt.asUintN(64, ptr) === 0n) return;
    this.arenaFreePages(ptr, cnt, sleepable);
  }

  /** bpf_arena_reserve_pages (spec §2.4): 0, -EINVAL or -EBUSY. */
  reservePages(ptr: bigint, pageCnt: number): number {
    const cnt = pageCnt >>> 0;
    if (cnt === 0) return 0;
    const uaddr = BigInt.asUintN(64, ptr);
    // Quirk: an unaligned pointer reserves nothing and still "succeeds".
    if ((uaddr & PAGE_MASK_LO) !== 0n) return 0;
    // NULL is not special: its pgoff is computed like any address (reserve_invalid_region).
    const pgoff = this.geometry.pgoff(uaddr);
    if (pgoff + cnt > this.geometry.pageCntMax) return -EINVAL;
    // Allocated or already reserved.
    if (!this.rangeTree.isSet(pgoff, cnt)) return -EBUSY;
    this.rangeTree.clear(pgoff, cnt);
    return 0;
  }

  /**
   * The arena's free work item (arena_free_worker, spec §2.3): processes every queued
   * non-sleepable free — clear the PTEs (keeping the scratch page), then mark the range free.
   * The kernel's llist hands spans back newest first, and so does this (it decides the
   * range tree's tie order). Returns the number of spans processed.
   */
  runDeferredFrees(): number {
    const spans = this.deferred.splice(0).reverse();
    for (const s of spans) {
      this.pageTable.clearRange(s.uaddr >>> PAGE_SHIFT, s.pageCnt);
      this.rangeTree.set(this.pgoffOfLo32(s.uaddr), s.pageCnt);
    }
    return spans.length;
  }

  // ---- Kernel-side fault recovery (spec §3.3) ----

  /**
   * Steps 3–4 of bpf_arena_handle_page_fault for a kernel address: range check (body + upper
   * half guard; the lower guard is not ours) and a best-effort scratch install into an empty
   * slot. Finding the program and reporting are the caller's.
   */
  installScratch(kernAddr: bigint): ScratchInstall {
    const off = BigInt.asUintN(64, kernAddr) - this.kernVmStart;
    if (off < 0n || off >= BigInt(SCRATCH_LIMIT)) return { installed: false, inRange: false, userPageAddr: 0n };
    return this.installScratchAtOffset(Number(off));
  }

  /** installScratch for an offset from kern_vm_start (as pageAtOffset takes it). */
  installScratchAtOffset(off: number): ScratchInstall {
    if (!(off >= 0 && off < SCRATCH_LIMIT)) return { installed: false, inRange: false, userPageAddr: 0n };
    const slot = Math.floor(off / PAGE_SIZE);
    const pt = this.pageTable;
    // Only into pte_none; losing the race to a real page is fine (spec §3.3 step 4).
    const installed = pt.pte(slot) === undefined && pt.ptepTrySet(slot, pt.scratch);
    return { installed, inRange: true, userPageAddr: this.geometry.offsetToUser(slot * PAGE_SIZE) };
  }

  // ---- User view: the mmap of the arena (spec §2.5) ----

  /** Reads through the user mapping; faults in pages as arena_vm_fault does. Throws ArenaSegvError. */
  userRead(uaddr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const at = uaddr + BigInt(done);
      const page = this.userPage(at, 'read');
      const inPage = lo32(at) & (PAGE_SIZE - 1);
      const n = Math.min(len - done, PAGE_SIZE - inPage);
      out.set(page.subarray(inPage, inPage + n), done);
      done += n;
    }
    return out;
  }

  /**
   * The page behind a user address when one is present, without faulting one in: what an access
   * with page faults disabled (copy_from_user_nofault) reaches. A scratched slot is not present
   * in the user mapping.
   */
  presentUserPage(uaddr: bigint): Uint8Array | undefined {
    if (!this.geometry.inUserRange(uaddr)) return undefined;
    const page = this.pageTable.pte(lo32(uaddr) >>> PAGE_SHIFT);
    return page === this.pageTable.scratch ? undefined : page;
  }

  /** Writes through the user mapping, page by page; throws ArenaSegvError at the first bad page. */
  userWrite(uaddr: bigint, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const at = uaddr + BigInt(done);
      const page = this.userPage(at, 'write');
      const inPage = lo32(at) & (PAGE_SIZE - 1);
      const n = Math.min(bytes.length - done, PAGE_SIZE - inPage);
      page.set(bytes.subarray(done, done + n), inPage);
      done += n;
    }
  }

  /**
   * libbpf's placement of `__arena` globals (spec §1.9): at offset 0, or at the end
   * (mmap_sz − round_up(data_sz, page)) when the kernel takes full-range ld_imm64 offsets.
   * The bytes go through the user view, so their pages are allocated by the fault path.
   * Returns the offset from user_vm_start.
   */
  placeGlobals(data: Uint8Array, where: 'start' | 'end'): number {
    const mmapSize = this.geometry.mmapSize;
    const rounded = Math.ceil(data.length / PAGE_SIZE) * PAGE_SIZE;
    if (rounded > mmapSize) {
      this.fail(E2BIG, `arena data (${data.length} bytes) exceeds the arena size (${mmapSize} bytes)`);
    }
    const off = where === 'end' ? mmapSize - rounded : 0;
    this.userWrite(this.userVmStart + BigInt(off), data);
    return off;
  }

  /** Teardown (spec §2.6): waits for deferred frees, then drops every page. */
  override close(): void {
    this.runDeferredFrees();
    this.pageTable.clearAll();
    super.close();
  }

  // arena map ops: lookup is ERR_PTR(-EINVAL); update, delete and get_next_key are -EOPNOTSUPP.
  lookupElem(_key: Uint8Array, _cpu: number): bigint { return 0n; }
  updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number { return -EOPNOTSUPP; }
  deleteElem(_key: Uint8Array): number { return -EOPNOTSUPP; }
  protected hostLookup(): never { return this.fail(EINVAL, 'arenas have no elements to look up'); }
  protected hostUpdate(): never { return this.fail(EOPNOTSUPP, 'arenas have no elements to update'); }
  protected hostDelete(): never { return this.fail(EOPNOTSUPP, 'arenas have no elements to delete'); }
  protected hostNextKey(): never { return this.fail(EOPNOTSUPP, 'arenas have no keys'); }

  // ---- Internals ----

  /** arena_alloc_pages (spec §2.1), after the kfunc wrapper's flags/page_cnt checks. */
  private arenaAllocPages(uaddr: bigint, cnt: number, nodeId: number, sleepable: boolean): bigint {
    const g = this.geometry;
    const max = g.pageCntMax;
    if (nodeId !== NUMA_NO_NODE && nodeId >>> 0 >= NR_NODE_IDS) return 0n;
    if (cnt > max) return 0n;
    let pgoff: number;
    if (uaddr !== 0n) {
      if ((uaddr & PAGE_MASK_LO) !== 0n) return 0n;
      pgoff = g.pgoff(uaddr);
      // The range would leave the user mapping.
      if (pgoff > max - cnt) return 0n;
      // Allocated, reserved, or waiting for a deferred free.
      if (!this.rangeTree.isSet(pgoff, cnt)) return 0n;
    } else {
      pgoff = this.rangeTree.find(cnt);
      if (pgoff < 0) return 0n;
    }
    this.rangeTree.clear(pgoff, cnt);
    // The user range never crosses 4 GiB, so the lo32 of its pages are contiguous.
    const uaddr32 = (g.userLo + pgoff * PAGE_SIZE) >>> 0;
    const first = uaddr32 >>> PAGE_SHIFT;
    let mapped = 0;
    while (mapped < cnt && this.installPage(first + mapped, new Uint8Array(PAGE_SIZE))) mapped++;
    if (mapped === cnt) return g.offsetToUser(uaddr32);
    // All or nothing: return the unmapped rest to the tree and free what was mapped.
    this.rangeTree.set(pgoff + mapped, cnt - mapped);
    if (mapped > 0) this.arenaFreePages(BigInt(uaddr32), mapped, sleepable);
    return 0n;
  }

  /**
   * apply_range_set_cb after f64c7237 (spec §3.3): ptep_try_set in a loop; a scratch occupant
   * is cleared (break-before-make) and the install retried; any other occupant is the
   * kernel's WARN + -EBUSY.
   */
  private installPage(slot: number, page: Uint8Array): boolean {
    const pt = this.pageTable;
    while (!pt.ptepTrySet(slot, page)) {
      const old = pt.pte(slot);
      if (old === undefined) continue;
      if (old !== pt.scratch) return false;
      pt.ptepGetAndClear(slot);
    }
    return true;
  }

  /** arena_free_pages (spec §2.3), after the kfunc wrapper's NULL/page_cnt checks. */
  private arenaFreePages(ptr: bigint, cnt: number, sleepable: boolean): void {
    const g = this.geometry;
    // Only the page-aligned lo32 counts: unaligned pointers free their page.
    const uaddr = (lo32(ptr) & ~(PAGE_SIZE - 1)) >>> 0;
    const full = clearLo32(g.userVmStart) + BigInt(uaddr);
    let end = full + BigInt(cnt) * BigInt(PAGE_SIZE);
    if (end > g.userVmEnd) end = g.userVmEnd;
    if (full >= end) return;
    // Below user_vm_start the kernel would insert a wrapped pgoff into the free tree
    // (spec §2.3, "allocator corruption hazard"); bpfrun ignores such frees instead.
    if (full < g.userVmStart) return;
    const pageCnt = Number((end - full) >> BigInt(PAGE_SHIFT));
    if (!sleepable) {
      this.deferred.push({ uaddr, pageCnt });
      return;
    }
    this.rangeTree.set(this.pgoffOfLo32(uaddr), pageCnt);
    this.pageTable.clearRange(uaddr >>> PAGE_SHIFT, pageCnt);
  }

  private pgoffOfLo32(uaddr32: number): number {
    return ((uaddr32 - this.geometry.userLo) >>> 0) >>> PAGE_SHIFT;
  }

  /** arena_vm_fault (spec §2.5): the page a user access reaches, allocating it on first touch. */
  private userPage(uaddr: bigint, access: 'read' | 'write'): Uint8Array {
    const g = this.geometry;
    if (!g.inUserRange(uaddr)) this.segv(access, uaddr, 'outside-mapping');
    const slot = lo32(uaddr) >>> PAGE_SHIFT;
    const pt = this.pageTable;
    const present = pt.pte(slot);
    if (present !== undefined) {
      // A kernel fault scratched this slot: don't lazily allocate over it.
      if (present === pt.scratch) this.segv(access, uaddr, 'scratch-page');
      return present;
    }
    if (this.segvOnFault) this.segv(access, uaddr, 'segv-on-fault');
    // Succeeds on reserved slots too: clearing an already-clear slot is fine (spec §2.4).
    const pgoff = g.pgoff(uaddr);
    this.rangeTree.clear(pgoff, 1);
    const page = new Uint8Array(PAGE_SIZE);
    this.installPage(slot, page);
    return page;
  }

  private segv(access: 'read' | 'write', uaddr: bigint, reason: ArenaSegvReason): never {
    throw new ArenaSegvError(this.spec.name, access, uaddr, reason);
  }
}
