// The arena map against kernel/bpf/arena.c and range_tree.c after the 2026 direct-access
// series (kernel-arena-streams.md §1–§3): creation, geometry, the range tree (also against a
// brute-force model of the kernel's two rbtrees), the kfuncs with their quirks and errnos,
// scratch-page recovery, the user view and `__arena` globals placement.
import assert from 'node:assert/strict';
import { BODY_PAGES, clearLo32, defaultUserVmStart, HALF_GUARD, kernVmStartFor, SZ_4G } from '../src/arena/geometry.js';
import { RangeTree } from '../src/arena/range-tree.js';
import { ArenaSegvError, MapError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { ArenaMap, NUMA_NO_NODE } from '../src/maps/arena.js';
import { createMap } from '../src/maps/map.js';
import type { MapSpec } from '../src/maps/types.js';
import {
  BPF_ANY, BPF_F_MMAPABLE, BPF_F_NO_USER_CONV, BPF_F_NUMA_NODE, BPF_F_SEGV_ON_FAULT, BPF_MAP_TYPE_ARENA,
  EBUSY, EINVAL, EOPNOTSUPP, GUARD_SZ, PAGE_SIZE,
} from '../src/uapi.js';

const PAGE = BigInt(PAGE_SIZE);
const NN = NUMA_NO_NODE;
/** verifier_arena.c's layout: 2 pages ending exactly at a 4 GiB boundary (lo32 0xffffe000). */
const NEAR_4G = (1n << 44n) | (0xffff_ffffn - 2n * PAGE + 1n);

function arenaSpec(over: Partial<MapSpec> = {}): MapSpec {
  return { name: 'arena', type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: 16, flags: BPF_F_MMAPABLE, mapExtra: 1n << 32n, ...over };
}

function makeArena(over: Partial<MapSpec> = {}, memory = new AddressSpace()): ArenaMap {
  return createMap(arenaSpec(over), memory, { nrCpus: 1 }) as ArenaMap;
}

function mapErrno(fn: () => unknown, errno: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MapError, `expected MapError, got ${String(e)}`);
    assert.equal(e.errno, errno, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

function segv(fn: () => unknown, reason: string, address?: bigint): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArenaSegvError, `expected ArenaSegvError, got ${String(e)}`);
    assert.equal(e.kind, 'arena-segv');
    assert.equal(e.reason, reason, e.message);
    if (address !== undefined) assert.equal(e.address, address);
    assert.match(e.message, /SIGSEGV/);
    return true;
  });
}

/** Program-style access: the page and byte a PROBE_MEM32 access to a user address reaches. */
function progPage(a: ArenaMap, uaddr: bigint): Uint8Array | undefined {
  return a.pageAtOffset(Number(uaddr & 0xffff_ffffn));
}

function progStore(a: ArenaMap, uaddr: bigint, byte: number): boolean {
  const page = progPage(a, uaddr);
  if (!page) return false;
  page[Number(uaddr & 0xfffn)] = byte;
  return true;
}

function progLoad(a: ArenaMap, uaddr: bigint): number {
  const page = progPage(a, uaddr);
  return page ? page[Number(uaddr & 0xfffn)] : 0;
}

describe('arena', () => {
  describe('creation (spec §1.1)', () => {
    const rejects = (over: Partial<MapSpec>, errno: string, pattern?: RegExp) => mapErrno(() => makeArena(over), errno, pattern);

    it('checks in the kernel order: sizes/flags, then map_extra alignment, then 4 GiB, then the boundary', () => {
      // Step 2 before everything else (even with a bad map_extra and a too-big size).
      rejects({ keySize: 4, mapExtra: 1n, maxEntries: (1 << 20) + 1 }, 'EINVAL', /key_size and value_size/);
      rejects({ valueSize: 8 }, 'EINVAL', /key_size and value_size/);
      rejects({ maxEntries: 0, mapExtra: 1n }, 'EINVAL', /must not be 0/);
      rejects({ flags: 0, maxEntries: (1 << 20) + 1 }, 'EINVAL', /BPF_F_MMAPABLE/);
      rejects({ flags: BPF_F_MMAPABLE | BPF_F_NUMA_NODE }, 'EINVAL', /flags 0x4/);
      // Step 3 before step 4.
      rejects({ mapExtra: 0x1001n, maxEntries: (1 << 20) + 1 }, 'EINVAL', /page aligned/);
      // Step 4 before step 5.
      rejects({ mapExtra: 0xffff_f000n, maxEntries: (1 << 20) + 1 }, 'E2BIG', /4 GiB/);
      rejects({ mapExtra: 0xffff_f000n, maxEntries: 2 }, 'ERANGE', /crosses a 4 GiB boundary/);
      rejects({ mapExtra: (1n << 32n) + PAGE, maxEntries: 1 << 20 }, 'ERANGE');
    });

    it('accepts a full 4 GiB arena on a 4 GiB boundary and one ending exactly at it', () => {
      const big = makeArena({ maxEntries: 1 << 20, mapExtra: 1n << 32n, flags: BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT | BPF_F_NO_USER_CONV });
      assert.equal(big.sizeBytes, SZ_4G);
      assert.equal(big.userVmEnd, 2n << 32n);
      assert.ok(big.segvOnFault && big.noUserConv);
      const near = makeArena({ maxEntries: 2, mapExtra: NEAR_4G });
      assert.equal(near.userVmEnd, 0x1001_0000_0000n);
    });

    it('starts with every page free (range_tree_set(0, max_entries)) and nothing allocated', () => {
      const a = makeArena({ maxEntries: 16 });
      assert.deepEqual(a.rangeTree.intervals(), [[0, 15]]);
      assert.equal(a.pagesAllocated, 0);
      assert.equal(a.pagesScratched, 0);
      assert.equal(a.pageCntMax, 16);
    });

    it('has the kernel map ops: lookup -EINVAL, the rest -EOPNOTSUPP (spec §1.1)', () => {
      const a = makeArena();
      mapErrno(() => a.lookup(new Uint8Array(0)), 'EINVAL');
      mapErrno(() => a.update(new Uint8Array(0), new Uint8Array(0)), 'EOPNOTSUPP');
      mapErrno(() => a.delete(new Uint8Array(0)), 'EOPNOTSUPP');
      mapErrno(() => a.nextKey(undefined), 'EOPNOTSUPP');
      assert.equal(a.lookupElem(new Uint8Array(0), 0), 0n);
      assert.equal(a.updateElem(new Uint8Array(0), new Uint8Array(0), BPF_ANY, 0), -EOPNOTSUPP);
      assert.equal(a.deleteElem(new Uint8Array(0)), -EOPNOTSUPP);
    });
  });

  describe('geometry and conversions (spec §1.2, §1.3)', () => {
    it('uses 4 KiB pages and 64 KiB guards split in two halves', () => {
      assert.equal(PAGE_SIZE, 4096);
      assert.equal(GUARD_SZ, 65536);
      assert.equal(HALF_GUARD, 32768);
      assert.equal(BODY_PAGES, 1 << 20);
    });

    it('gives each arena of an address space its own page-aligned kern_vm_start', () => {
      const memory = new AddressSpace();
      const a = makeArena({}, memory);
      const b = makeArena({}, memory);
      assert.equal(a.kernVmStart, 0xffffd000_00008000n);
      assert.equal(a.kernVmStart, kernVmStartFor(0));
      assert.equal(b.kernVmStart, kernVmStartFor(1));
      // Windows [start − 32 KiB, start + 4 GiB + 32 KiB) do not overlap.
      assert.ok(b.kernVmStart - BigInt(HALF_GUARD) >= a.kernVmStart + BigInt(SZ_4G + HALF_GUARD));
      assert.equal(a.kernVmStart % PAGE, 0n);
      assert.equal(a.kernVmStartOf(), a.kernVmStart);
      assert.equal(a.kernVmStartHi, 0xffffd000 | 0);
      assert.equal(a.kernVmStartLo, 0x8000);
    });

    it('picks user_vm_start as mmap(NULL) would when map_extra is 0 (spec §1.4)', () => {
      // 2 × len below the mmap top; crossing 4 GiB rounds the start up to the boundary.
      assert.equal(defaultUserVmStart(PAGE_SIZE, 0), 0x7eff_ffff_e000n);
      assert.equal(defaultUserVmStart(SZ_4G, 0), 0x7efe_0000_0000n);
      assert.equal(defaultUserVmStart(3 * 2 ** 30, 0), 0x7eff_0000_0000n);
      for (const pages of [1, 7, 4096, (1 << 19) + 1, 3 << 18, (1 << 20) - 1, 1 << 20]) {
        for (const index of [0, 1, 5]) {
          const start = defaultUserVmStart(pages * PAGE_SIZE, index);
          assert.equal(start % PAGE, 0n);
          assert.equal(start >> 32n, (start + BigInt(pages * PAGE_SIZE) - 1n) >> 32n, `${pages} pages cross 4 GiB`);
        }
      }
      const memory = new AddressSpace();
      const a = makeArena({ mapExtra: 0n, maxEntries: 1 }, memory);
      const b = makeArena({ mapExtra: 0n, maxEntries: 1 }, memory);
      assert.equal(a.userVmStart, 0x7eff_ffff_e000n);
      assert.equal(a.userVmEnd, 0x7eff_ffff_f000n);
      assert.ok(b.userVmEnd <= a.userVmStart, 'a second arena gets its own range');
      // map_extra wins when given.
      assert.equal(makeArena({ mapExtra: 1n << 44n }).userVmStart, 1n << 44n);
    });

    it('converts user ↔ kernel through lo32 and clear_lo32', () => {
      const a = makeArena({ mapExtra: 0x7f7d_2620_0000n, maxEntries: 16 });
      assert.equal(a.userToKern(0x7f7d_2620_0000n), a.kernVmStart + 0x2620_0000n);
      // Only the low 32 bits matter: the 32-bit form and a junk upper half agree.
      assert.equal(a.userToKern(0x2620_1234n), a.kernVmStart + 0x2620_1234n);
      assert.equal(a.userToKern(0xbadc_0ffe_2620_1234n), a.kernVmStart + 0x2620_1234n);
      assert.equal(a.kernToUser(a.kernVmStart + 0x2620_1234n), 0x7f7d_2620_1234n);
      assert.equal(clearLo32(0x7f7d_2620_0000n), 0x7f7d_0000_0000n);
      assert.equal(a.geometry.offsetToUser(0x2620_3000), 0x7f7d_2620_3000n);
    });

    it('computes pgoff as compute_pgoff, wrapping at 32 bits', () => {
      const a = makeArena({ mapExtra: 0x7f7d_2620_0000n, maxEntries: 16 });
      assert.equal(a.pgoff(0x7f7d_2620_0000n), 0);
      assert.equal(a.pgoff(0x7f7d_2620_3fffn), 3);
      assert.equal(a.pgoff(0x2620_3000n), 3);
      // Below the start wraps to a huge pgoff; NULL is computed like any address.
      assert.equal(a.pgoff(0x7f7d_261f_f000n), (1 << 20) - 1);
      assert.equal(a.pgoff(0n), (2 ** 32 - 0x2620_0000) / PAGE_SIZE);
      const near = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(near.pgoff(0n), 2);
      assert.equal(near.pgoff(NEAR_4G + PAGE), 1);
    });

    it('maps the page-table slots of pgoffs by lo32, so lo32 0 can be a real page', () => {
      const a = makeArena({ mapExtra: 1n << 44n, maxEntries: 4 });
      const p0 = a.allocPages(0n, 1, NN, 0n, true);
      assert.equal(p0, 1n << 44n);
      assert.ok(a.pageAtOffset(0) !== undefined, 'lo32 0 is pgoff 0 here');
      const near = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(near.geometry.slotOfPgoff(0), 0xffffe);
      assert.equal(near.geometry.slotOfPgoff(1), 0xfffff);
    });
  });

  describe('range tree (spec §2.2)', () => {
    it('hands out pages in order from a fresh tree', () => {
      const t = new RangeTree();
      t.set(0, 8);
      for (let i = 0; i < 8; i++) {
        const s = t.find(1);
        assert.equal(s, i);
        t.clear(s, 1);
      }
      assert.equal(t.find(1), -1);
    });

    it('is best fit, not first fit', () => {
      const t = new RangeTree();
      t.set(0, 20);
      t.clear(0, 20);
      t.set(0, 3);   // hole of 3 at 0
      t.set(5, 1);   // hole of 1 at 5
      t.set(8, 2);   // hole of 2 at 8
      t.set(12, 8);  // hole of 8 at 12
      assert.equal(t.find(1), 5);
      assert.equal(t.find(2), 8);
      assert.equal(t.find(3), 0);
      assert.equal(t.find(4), 12);
      assert.equal(t.find(9), -1);
    });

    it('breaks ties among equal sizes in favour of the interval changed last', () => {
      const t = new RangeTree();
      t.set(0, 10);
      t.clear(0, 10);
      t.set(2, 1);
      t.set(6, 1);
      assert.equal(t.find(1), 6, 'newer hole');
      t.set(4, 1);
      assert.equal(t.find(1), 4);
      // Setting an already-free slot returns early: no re-insert, the order stays.
      t.set(2, 1);
      assert.equal(t.find(1), 4);
      // Growing then shrinking a hole re-inserts it: now 6 is newest again.
      t.set(7, 1);
      t.clear(7, 1);
      assert.equal(t.find(1), 6);
    });

    it('splits with the old node keeping the left part and the right part inserted after it', () => {
      const t = new RangeTree();
      t.set(0, 10);
      t.clear(4, 2);
      assert.deepEqual(t.intervals(), [[0, 3], [6, 9]]);
      assert.equal(t.find(4), 6);
    });

    it('merges both neighbours into one interval, re-inserted last', () => {
      const t = new RangeTree();
      t.set(0, 12);
      t.clear(0, 12);
      t.set(0, 2);   // [0,1]
      t.set(3, 1);   // [3]
      t.set(5, 2);   // [5,6]
      t.set(9, 3);   // [9,11]
      assert.equal(t.find(3), 9);
      t.set(2, 1);   // [0,3] size 4: left and right merged
      assert.deepEqual(t.intervals(), [[0, 3], [5, 6], [9, 11]]);
      assert.equal(t.find(3), 9);
      t.set(10, 2);  // no-op
      t.set(7, 2);   // [5,11] merged
      assert.deepEqual(t.intervals(), [[0, 3], [5, 11]]);
      assert.equal(t.find(4), 0);
      assert.equal(t.find(5), 5);
    });

    it('clears partly-allocated ranges and sets partly-free ones', () => {
      const t = new RangeTree();
      t.set(0, 10);
      t.clear(2, 2);
      t.clear(1, 5);  // overlaps [0,1] on the left and [4,9] on the right
      assert.deepEqual(t.intervals(), [[0, 0], [6, 9]]);
      t.clear(0, 10);
      assert.deepEqual(t.intervals(), []);
      t.set(3, 2);
      t.set(2, 5);    // covers the free [3,4] and extends it
      assert.deepEqual(t.intervals(), [[2, 6]]);
      assert.equal(t.freeCount, 5);
    });

    it('answers is_range_tree_set only for ranges inside one free interval', () => {
      const t = new RangeTree();
      t.set(0, 10);
      t.clear(5, 1);
      assert.ok(t.isSet(0, 5));
      assert.ok(t.isSet(6, 4));
      assert.ok(!t.isSet(4, 2));
      assert.ok(!t.isSet(5, 1));
      assert.ok(!t.isSet(8, 3));
      assert.ok(!t.isSet(10, 1));
    });

    it('matches a brute-force model of the kernel trees on random operation sequences', () => {
      const rnd = prng(0x5eed);
      for (let round = 0; round < 60; round++) {
        const n = 1 + Math.floor(rnd() * 64);
        const t = new RangeTree();
        const m = new KernelRangeTreeModel();
        t.set(0, n);
        m.set(0, n);
        for (let step = 0; step < 300; step++) {
          const start = Math.floor(rnd() * n);
          const len = 1 + Math.floor(rnd() * Math.min(8, n - start));
          const op = rnd();
          if (op < 0.35) {
            const want = 1 + Math.floor(rnd() * 6);
            assert.equal(t.find(want), m.find(want), `round ${round} step ${step}: find(${want})`);
            const s = t.find(want);
            if (s >= 0) { t.clear(s, want); m.clear(s, want); }
          } else if (op < 0.55) {
            t.clear(start, len); m.clear(start, len);
          } else if (op < 0.9) {
            t.set(start, len); m.set(start, len);
          } else {
            assert.equal(t.isSet(start, len), m.isSet(start, len));
          }
          assert.deepEqual(t.intervals(), m.intervals(), `round ${round} step ${step}`);
          for (let len2 = 1; len2 <= 8; len2++) assert.equal(t.find(len2), m.find(len2), `round ${round} step ${step}: find(${len2})`);
        }
      }
    });

    it('stays fast with many intervals', () => {
      const t = new RangeTree();
      const n = 1 << 20;
      t.set(0, n);
      const t0 = Date.now();
      for (let i = 0; i < 50_000; i++) t.clear(t.find(1), 1);
      for (let i = 0; i < 50_000; i += 2) t.set(i, 1);
      for (let i = 0; i < 25_000; i++) t.clear(t.find(1), 1);
      assert.equal(t.freeCount, n - 50_000);
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    });

    it('keeps 200 000 scattered allocations exact (the free runs of a bitmap, best fit among them)', () => {
      // Scattered single pages over a 2^20-page arena leave ~10^5 free intervals: each operation
      // must be logarithmic in them (a linear one made this take minutes).
      const n = 1 << 20;
      const t = new RangeTree();
      t.set(0, n);
      const free = new Uint8Array(n).fill(1);
      const page = (i: number) => Math.imul(i, 2654435761 | 0) & (n - 1);
      let allocated = 0;
      for (let i = 0; i < 200_000; i++) {
        const pg = page(i);
        assert.equal(t.isSet(pg, 1), free[pg] === 1);
        if (free[pg]) { t.clear(pg, 1); free[pg] = 0; allocated++; }
      }
      // Free every other allocation again (merging with free neighbours where there are any).
      for (let i = 0; i < 200_000; i += 2) { t.set(page(i), 1); if (!free[page(i)]) { free[page(i)] = 1; allocated--; } }
      const runs: Array<[number, number]> = [];
      for (let s = 0; s < n;) {
        if (!free[s]) { s++; continue; }
        let e = s;
        while (e + 1 < n && free[e + 1]) e++;
        runs.push([s, e]);
        s = e + 1;
      }
      assert.equal(t.freeCount, n - allocated);
      assert.ok(runs.length > 50_000, `${runs.length} free intervals`);
      assert.deepEqual(t.intervals(), runs);
      // Best fit: find(len) starts a run of the smallest size ≥ len.
      const sizes = runs.map(([s, e]) => e - s + 1);
      const byStart = new Map(runs.map(([s, e]) => [s, e - s + 1]));
      for (const len of [1, 2, 3, 5, 8, 13, 21, 40]) {
        const fits = sizes.filter((z) => z >= len);
        const got = t.find(len);
        if (fits.length === 0) assert.equal(got, -1);
        else assert.equal(byStart.get(got), fits.reduce((a, b) => Math.min(a, b)), `find(${len})`);
      }
    });
  });

  describe('allocation (spec §2.1)', () => {
    it('basic_alloc1: alloc, alloc, third fails, free the second, realloc returns it', () => {
      const a = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      const p1 = a.allocPages(0n, 1, NN, 0n, true);
      const p2 = a.allocPages(0n, 1, NN, 0n, true);
      assert.equal(p1, NEAR_4G);
      assert.equal(p2, NEAR_4G + PAGE);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 0n);
      assert.ok(progStore(a, p2, 7));
      a.freePages(p2, 1, true);
      // Use after free reads 0 (the page is gone from the kernel window).
      assert.equal(progPage(a, p2), undefined);
      assert.equal(progLoad(a, p2), 0);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), p2);
      assert.equal(progLoad(a, p2), 0, 'the new page is zeroed');
    });

    it('big_alloc1: 4 GiB arena, first page, last page by address, base + 4 GiB fails, best-fit reuse', () => {
      const base = 1n << 32n;
      const a = makeArena({ mapExtra: base, maxEntries: 1 << 20 });
      const first = a.allocPages(0n, 1, NN, 0n, true);
      assert.equal(first, base);
      const last = a.allocPages(base + BigInt(SZ_4G) - PAGE, 1, NN, 0n, true);
      assert.equal(last, base + BigInt(SZ_4G) - PAGE);
      assert.equal(a.allocPages(base + BigInt(SZ_4G), 1, NN, 0n, true), 0n);
      a.freePages(first, 1, true);
      // The 1-page hole at pgoff 0 beats the huge middle interval.
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), base);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), base + PAGE);
    });

    it('is sparse: a 4 GiB arena with three pages holds three pages', () => {
      const a = makeArena({ mapExtra: 1n << 32n, maxEntries: 1 << 20 });
      assert.notEqual(a.allocPages(0n, 1, NN, 0n, true), 0n);
      assert.notEqual(a.allocPages((1n << 32n) + (1n << 31n), 1, NN, 0n, true), 0n);
      assert.notEqual(a.allocPages((2n << 32n) - PAGE, 1, NN, 0n, true), 0n);
      assert.equal(a.pagesAllocated, 3);
      assert.equal(a.pageTable.slots.size, 3);
    });

    it('returns 0 for flags, page_cnt 0, too many pages and bad NUMA nodes', () => {
      const a = makeArena({ maxEntries: 4 });
      assert.equal(a.allocPages(0n, 1, NN, 1n, true), 0n);
      assert.equal(a.allocPages(0n, 0, NN, 0n, true), 0n);
      assert.equal(a.allocPages(0n, 5, NN, 0n, true), 0n);
      assert.equal(a.allocPages(0n, 1, 1, 0n, true), 0n);
      assert.equal(a.allocPages(0n, 1, -2, 0n, true), 0n);
      assert.equal(a.pagesAllocated, 0);
      assert.equal(a.allocPages(0n, 1, 0, 0n, true), 1n << 32n, 'node 0 is online');
      // Exactly max_entries pages fit.
      const b = makeArena({ maxEntries: 4 });
      assert.equal(b.allocPages(0n, 4, NN, 0n, false), 1n << 32n);
      assert.equal(b.pagesAllocated, 4);
    });

    it('allocates at an explicit address only if aligned, inside the mapping and wholly free', () => {
      const base = 1n << 32n;
      const a = makeArena({ mapExtra: base, maxEntries: 8 });
      assert.equal(a.allocPages(base + 3n * PAGE + 1n, 1, NN, 0n, true), 0n, 'unaligned');
      assert.equal(a.allocPages(base + 8n * PAGE, 1, NN, 0n, true), 0n, 'past the end');
      assert.equal(a.allocPages(base + 6n * PAGE, 3, NN, 0n, true), 0n, 'runs past the end');
      assert.equal(a.allocPages(base - PAGE, 1, NN, 0n, true), 0n, 'below the start (wrapped pgoff)');
      assert.equal(a.allocPages(base + 3n * PAGE, 1, NN, 0n, true), base + 3n * PAGE);
      assert.equal(a.allocPages(base + 3n * PAGE, 1, NN, 0n, true), 0n, 'already allocated');
      assert.equal(a.allocPages(base + 2n * PAGE, 2, NN, 0n, true), 0n, 'overlaps an allocation');
      assert.equal(a.reservePages(base + 5n * PAGE, 1), 0);
      assert.equal(a.allocPages(base + 5n * PAGE, 1, NN, 0n, true), 0n, 'reserved');
      // The 32-bit form (only lo32 counts) and a junk upper half address the same page.
      assert.equal(a.allocPages(6n * PAGE, 1, NN, 0n, true), base + 6n * PAGE);
      assert.equal(a.allocPages(0xdead_0000_0000_0000n + 7n * PAGE, 1, NN, 0n, true), base + 7n * PAGE);
      assert.equal(a.pagesAllocated, 3);
    });

    it('treats addr with lo32 0 but upper bits set as an explicit request for pgoff 0', () => {
      const a = makeArena({ mapExtra: 1n << 32n, maxEntries: 4 });
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 1n << 32n);
      // 1 << 32 is non-zero, so not "anywhere": pgoff 0 is taken.
      assert.equal(a.allocPages(1n << 32n, 1, NN, 0n, true), 0n);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), (1n << 32n) + PAGE);
    });

    it('is all or nothing for multi-page requests', () => {
      const base = 1n << 32n;
      const a = makeArena({ mapExtra: base, maxEntries: 8 });
      assert.equal(a.allocPages(base + 2n * PAGE, 1, NN, 0n, true), base + 2n * PAGE);
      const before = a.rangeTree.intervals();
      assert.equal(a.allocPages(base + PAGE, 3, NN, 0n, true), 0n);
      assert.deepEqual(a.rangeTree.intervals(), before);
      assert.equal(a.pagesAllocated, 1);
      // Implicit: the only 5-page run is [3, 7].
      assert.equal(a.allocPages(0n, 5, NN, 0n, true), base + 3n * PAGE);
      assert.equal(a.allocPages(0n, 2, NN, 0n, true), base, 'best fit: the 2-page hole');
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 0n);
      assert.equal(a.pagesAllocated, 8);
    });

    it('rolls back a partly installed range when a slot holds a foreign page (WARN + -EBUSY)', () => {
      const base = 1n << 32n;
      const a = makeArena({ mapExtra: base, maxEntries: 8 });
      // A real page in a slot the tree thinks free cannot happen through the API; plant one.
      const foreign = new Uint8Array(PAGE_SIZE);
      assert.ok(a.pageTable.ptepTrySet(2, foreign));
      assert.equal(a.allocPages(0n, 4, NN, 0n, true), 0n);
      // Pages 0 and 1 were mapped then freed again; the tree is whole again.
      assert.deepEqual(a.rangeTree.intervals(), [[0, 7]]);
      assert.equal(a.pageTable.pte(0), undefined);
      assert.equal(a.pageTable.pte(2), foreign);
      // Non-sleepable: the rollback frees through the deferred path.
      assert.equal(a.allocPages(0n, 4, NN, 0n, false), 0n);
      assert.equal(a.pendingFrees, 1);
      assert.deepEqual(a.rangeTree.intervals(), [[2, 7]]);
      a.runDeferredFrees();
      assert.deepEqual(a.rangeTree.intervals(), [[0, 7]]);
    });

    it('hands out zeroed pages, also when reallocating a dirty slot', () => {
      const a = makeArena({ maxEntries: 2 });
      const p = a.allocPages(0n, 2, NN, 0n, true);
      const old = progPage(a, p)!;
      old.fill(0xaa);
      a.freePages(p, 2, true);
      const q = a.allocPages(p, 2, NN, 0n, true);
      assert.equal(q, p);
      const fresh = progPage(a, q)!;
      assert.notEqual(fresh, old);
      assert.ok(fresh.every((b) => b === 0));
      assert.ok(progPage(a, q + PAGE)!.every((b) => b === 0));
    });

    it('has the kernel-caller variant bpf_arena_alloc_pages_sleepable (spec §3.1)', () => {
      const a = makeArena({ maxEntries: 2 });
      assert.equal(a.allocPagesSleepable(0n, 1, NN, 0n), 1n << 32n);
      assert.equal(a.allocPagesSleepable(0n, 1, NN, 2n), 0n);
    });
  });

  describe('free (spec §2.3)', () => {
    const base = 1n << 32n;

    it('rounds an unaligned pointer down and uses only its lo32', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 2, NN, 0n, true);
      a.freePages(p + PAGE + 123n, 1, true);
      assert.ok(progPage(a, p) !== undefined);
      assert.equal(progPage(a, p + PAGE), undefined);
      a.freePages(0xffff_0000_0000_0000n | (p & 0xffff_ffffn), 1, true);
      assert.equal(a.pagesAllocated, 0);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 3]]);
    });

    it('is silent and idempotent: double free and never-allocated pages', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 1, NN, 0n, true);
      a.freePages(p, 1, true);
      a.freePages(p, 1, true);
      a.freePages(base + 3n * PAGE, 1, true);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 3]]);
      assert.equal(a.allocPages(0n, 4, NN, 0n, true), base);
    });

    it('ignores NULL and page_cnt 0', () => {
      const a = makeArena({ mapExtra: 1n << 44n, maxEntries: 4 });
      const p = a.allocPages(0n, 1, NN, 0n, true);
      assert.equal(p & 0xffff_ffffn, 0n, 'pgoff 0 has lo32 0 here');
      a.freePages(0n, 1, true);
      a.freePages(p, 0, true);
      assert.equal(a.pagesAllocated, 1);
      // The full pointer is not NULL, so it frees pgoff 0.
      a.freePages(p, 1, true);
      assert.equal(a.pagesAllocated, 0);
    });

    it('frees a sub-range of a multi-page allocation', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 3, NN, 0n, true);
      a.freePages(p + PAGE, 1, true);
      assert.ok(progPage(a, p) && !progPage(a, p + PAGE) && progPage(a, p + 2n * PAGE));
      assert.deepEqual(a.rangeTree.intervals(), [[1, 1], [3, 3]]);
    });

    it('makes a reserved range allocatable again', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 2 });
      assert.equal(a.reservePages(base, 2), 0);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 0n);
      a.freePages(base, 2, true);
      assert.equal(a.allocPages(base + PAGE, 1, NN, 0n, true), base + PAGE);
    });

    it('clips the range at user_vm_end', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 4, NN, 0n, true);
      a.freePages(p + 3n * PAGE, 100, true);
      assert.deepEqual(a.rangeTree.intervals(), [[3, 3]]);
      a.freePages(p + 4n * PAGE, 1, true);  // starts at the end: nothing
      a.freePages(p + 2n * PAGE, 0xffff_ffff, true);
      assert.deepEqual(a.rangeTree.intervals(), [[2, 3]]);
      assert.equal(a.pagesAllocated, 2);
    });

    it('ignores pointers below user_vm_start (the kernel would corrupt its tree)', () => {
      const a = makeArena({ mapExtra: base + 4n * PAGE, maxEntries: 4 });
      a.allocPages(0n, 4, NN, 0n, true);
      a.freePages(base, 6, true);
      assert.equal(a.pagesAllocated, 4);
      assert.deepEqual(a.rangeTree.intervals(), []);
    });

    it('defers non-sleepable frees: pages stay mapped and slots stay taken until runDeferredFrees', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 2 });
      const p = a.allocPages(0n, 1, NN, 0n, false);
      progStore(a, p, 42);
      a.freePages(p, 1, false);
      assert.equal(a.pendingFrees, 1);
      assert.equal(progLoad(a, p), 42, 'still mapped');
      assert.equal(a.userRead(p, 1)[0], 42, 'user space still sees it');
      assert.equal(a.allocPages(p, 1, NN, 0n, false), 0n, 'not reusable yet');
      assert.equal(a.allocPages(0n, 1, NN, 0n, false), base + PAGE);
      assert.equal(a.runDeferredFrees(), 1);
      assert.equal(a.pendingFrees, 0);
      assert.equal(progPage(a, p), undefined);
      assert.equal(a.allocPages(0n, 1, NN, 0n, false), p);
      assert.equal(progLoad(a, p), 0);
    });

    it('frees immediately when sleepable', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 1 });
      const p = a.allocPages(0n, 1, NN, 0n, true);
      a.freePages(p, 1, true);
      assert.equal(a.pendingFrees, 0);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), p);
    });

    it('runs deferred spans newest first, as the kernel llist does (tie order)', () => {
      const deferred = makeArena({ mapExtra: base, maxEntries: 6 });
      const sleepable = makeArena({ mapExtra: base, maxEntries: 6 });
      for (const a of [deferred, sleepable]) a.allocPages(0n, 6, NN, 0n, true);
      deferred.freePages(base + PAGE, 1, false);
      deferred.freePages(base + 4n * PAGE, 1, false);
      deferred.runDeferredFrees();
      sleepable.freePages(base + PAGE, 1, true);
      sleepable.freePages(base + 4n * PAGE, 1, true);
      // The hole set free last wins a tie.
      assert.equal(deferred.allocPages(0n, 1, NN, 0n, true), base + PAGE);
      assert.equal(sleepable.allocPages(0n, 1, NN, 0n, true), base + 4n * PAGE);
    });

    it('waits for deferred frees and drops every page at close (spec §2.6)', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 3, NN, 0n, true);
      a.installScratch(a.kernVmStart + 0x1_0000_0000n);
      a.freePages(p, 1, false);
      a.close();
      assert.equal(a.pendingFrees, 0);
      assert.equal(a.pagesAllocated, 0);
      assert.equal(a.pagesScratched, 0);
    });
  });

  describe('reserve (spec §2.4)', () => {
    it('returns 0 for page_cnt 0 and for an unaligned pointer, reserving nothing', () => {
      const a = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(a.reservePages(NEAR_4G, 0), 0);
      assert.equal(a.reservePages(NEAR_4G + 1n, 1), 0);
      assert.equal(a.reservePages(NEAR_4G + 1n, 1000), 0, 'even when far too big');
      assert.deepEqual(a.rangeTree.intervals(), [[0, 1]]);
      assert.equal(a.allocPages(NEAR_4G, 1, NN, 0n, true), NEAR_4G);
    });

    it('reserve_invalid_region: past the end, NULL and huge counts are -EINVAL', () => {
      const a = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(a.reservePages(NEAR_4G + PAGE, 2), -EINVAL);
      assert.equal(a.reservePages(NEAR_4G + 2n * PAGE, 1), -EINVAL);
      // NULL is not special: pgoff(NULL) is 2 here, past the 2-page arena.
      assert.equal(a.reservePages(0n, 1), -EINVAL);
      assert.equal(a.reservePages(0n, 3), -EINVAL);
      assert.equal(a.reservePages(NEAR_4G, 4096), -EINVAL);
      assert.equal(a.reservePages(NEAR_4G, 0xffff_ffff), -EINVAL);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 1]]);
    });

    it('reserve_twice and over allocated pages: -EBUSY', () => {
      const a = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(a.reservePages(NEAR_4G, 1), 0);
      assert.equal(a.reservePages(NEAR_4G, 1), -EBUSY);
      assert.equal(a.reservePages(NEAR_4G, 2), -EBUSY);
      const p = a.allocPages(0n, 1, NN, 0n, true);
      assert.equal(p, NEAR_4G + PAGE);
      assert.equal(a.reservePages(p, 1), -EBUSY);
    });

    it('keeps a reserved page from explicit and implicit allocation, without a page', () => {
      const a = makeArena({ mapExtra: NEAR_4G, maxEntries: 2 });
      assert.equal(a.reservePages(NEAR_4G, 1), 0);
      assert.equal(a.allocPages(NEAR_4G, 1, NN, 0n, true), 0n);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), NEAR_4G + PAGE);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 0n);
      assert.equal(a.pagesAllocated, 1);
      assert.equal(progPage(a, NEAR_4G), undefined, 'BPF accesses to a reserved page fault');
    });

    it('reserves with a 32-bit pointer form (only lo32 counts)', () => {
      const a = makeArena({ mapExtra: 1n << 32n, maxEntries: 4 });
      assert.equal(a.reservePages(2n * PAGE, 2), 0);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 1]]);
    });
  });

  describe('scratch page (spec §3.3)', () => {
    const base = 1n << 32n;

    it('installs into the body and the upper half guard, not the lower guard', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 1 << 20 });
      const k = a.kernVmStart;
      const body = a.installScratch(k + 5n * PAGE + 123n);
      assert.deepEqual(body, { installed: true, inRange: true, userPageAddr: base + 5n * PAGE });
      const upper = a.installScratch(k + BigInt(SZ_4G) + 100n);
      assert.deepEqual(upper, { installed: true, inRange: true, userPageAddr: base + BigInt(SZ_4G) });
      assert.ok(a.pageAtOffset(SZ_4G + 100) === a.pageTable.scratch);
      const lastGuard = a.installScratch(k + BigInt(SZ_4G + HALF_GUARD) - 1n);
      assert.ok(lastGuard.installed && lastGuard.inRange);
      assert.equal(a.installScratch(k + BigInt(SZ_4G + HALF_GUARD)).inRange, false);
      assert.deepEqual(a.installScratch(k - 1n), { installed: false, inRange: false, userPageAddr: 0n });
      assert.equal(a.installScratch(k - BigInt(HALF_GUARD)).inRange, false);
      assert.equal(a.installScratch(0xffff_8881_0000_0000n).inRange, false);
      assert.equal(a.installScratchAtOffset(-4096).inRange, false);
      assert.equal(a.pagesScratched, 3);
      assert.equal(a.pagesAllocated, 0);
      // Still free in the range tree.
      assert.deepEqual(a.rangeTree.intervals(), [[0, (1 << 20) - 1]]);
    });

    it('is one page shared by every scratched slot', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 16 });
      a.installScratchAtOffset(3 * PAGE_SIZE);
      a.installScratchAtOffset(9 * PAGE_SIZE + 17);
      progStore(a, base + 3n * PAGE + 10n, 0x5a);
      assert.equal(progLoad(a, base + 9n * PAGE + 10n), 0x5a);
      assert.ok(a.isScratch(a.pageAtOffset(3 * PAGE_SIZE)));
    });

    it('leaves a populated slot alone: second install and installs over real pages are no-ops', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 16 });
      assert.ok(a.installScratchAtOffset(0).installed);
      assert.deepEqual(a.installScratchAtOffset(100), { installed: false, inRange: true, userPageAddr: base });
      const p = a.allocPages(base + PAGE, 1, NN, 0n, true);
      const real = progPage(a, p);
      assert.equal(a.installScratchAtOffset(PAGE_SIZE).installed, false);
      assert.equal(progPage(a, p), real);
      assert.equal(a.pagesScratched, 1);
    });

    it('gives a fresh zeroed page when allocating over a scratched slot (f64c7237)', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      a.installScratchAtOffset(0);
      a.installScratchAtOffset(2 * PAGE_SIZE);
      a.pageTable.scratch.fill(0x77);
      const p = a.allocPages(base, 1, NN, 0n, true);
      assert.equal(p, base);
      const page = progPage(a, p)!;
      assert.ok(!a.isScratch(page));
      assert.ok(page.every((b) => b === 0));
      assert.equal(a.pagesScratched, 1);
      // Implicit allocation also replaces scratch; the scratch page itself is untouched.
      assert.equal(a.allocPages(0n, 3, NN, 0n, true), base + PAGE);
      assert.equal(a.pagesScratched, 0);
      assert.equal(a.pagesAllocated, 4);
      assert.equal(a.pageTable.scratch[0], 0x77);
    });

    it('clears scratched slots on free without freeing the scratch page', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      a.installScratchAtOffset(PAGE_SIZE);
      a.installScratchAtOffset(2 * PAGE_SIZE);
      a.pageTable.scratch[5] = 9;
      a.freePages(base + PAGE, 1, true);
      assert.equal(a.pageTable.pte(1), undefined);
      assert.equal(a.pagesScratched, 1);
      a.freePages(base + 2n * PAGE, 1, false);
      assert.equal(a.pagesScratched, 1, 'deferred');
      a.runDeferredFrees();
      assert.equal(a.pagesScratched, 0);
      assert.equal(a.pageTable.scratch[5], 9);
      // The slot is "PTE none" again, so the next kernel fault scratches it again.
      assert.ok(a.installScratchAtOffset(PAGE_SIZE).installed);
    });
  });

  describe('user view (spec §2.5)', () => {
    const base = 1n << 32n;

    it('sees pages the program allocated and writes to', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      const p = a.allocPages(0n, 2, NN, 0n, true);
      progStore(a, p + PAGE - 1n, 1);
      progStore(a, p + PAGE, 2);
      assert.deepEqual([...a.userRead(p + PAGE - 2n, 4)], [0, 1, 2, 0]);
      a.userWrite(p + 10n, Uint8Array.of(3, 4));
      assert.equal(progLoad(a, p + 11n), 4);
      assert.equal(a.pagesAllocated, 2);
    });

    it('allocates a zeroed page on first touch and marks its slot allocated', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      assert.deepEqual([...a.userRead(base + 2n * PAGE + 5n, 2)], [0, 0]);
      assert.equal(a.pagesAllocated, 1);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 1], [3, 3]]);
      assert.equal(a.allocPages(base + 2n * PAGE, 1, NN, 0n, true), 0n);
      a.userWrite(base + 2n * PAGE + 5n, Uint8Array.of(8));
      assert.equal(progLoad(a, base + 2n * PAGE + 5n), 8, 'the kernel window holds the same page');
      // A write spanning two pages faults both in.
      a.userWrite(base + PAGE - 1n, Uint8Array.of(1, 2));
      assert.equal(a.pagesAllocated, 3);
    });

    it('with BPF_F_SEGV_ON_FAULT, an unallocated page is SIGSEGV and stays unallocated', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4, flags: BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT });
      segv(() => a.userRead(base, 1), 'segv-on-fault', base);
      segv(() => a.userWrite(base + 5n, Uint8Array.of(1)), 'segv-on-fault', base + 5n);
      assert.equal(a.pagesAllocated, 0);
      assert.deepEqual(a.rangeTree.intervals(), [[0, 3]]);
      const p = a.allocPages(0n, 1, NN, 0n, true);
      a.userWrite(p, Uint8Array.of(1));
      assert.equal(a.userRead(p, 1)[0], 1);
    });

    it('is SIGSEGV on a scratched page regardless of flags', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      a.installScratchAtOffset(PAGE_SIZE);
      segv(() => a.userRead(base + PAGE + 8n, 4), 'scratch-page', base + PAGE + 8n);
      assert.equal(a.pagesAllocated, 0);
      assert.equal(a.pagesScratched, 1);
    });

    it('is SIGSEGV outside [user_vm_start, user_vm_end)', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 4 });
      segv(() => a.userRead(base - 1n, 1), 'outside-mapping', base - 1n);
      segv(() => a.userRead(base + 4n * PAGE, 1), 'outside-mapping');
      // A read running off the end faults at the first byte past it.
      segv(() => a.userRead(base + 4n * PAGE - 2n, 4), 'outside-mapping', base + 4n * PAGE);
      segv(() => a.userWrite(2n * PAGE, Uint8Array.of(1)), 'outside-mapping');
      assert.deepEqual([...a.userRead(base, 0)], []);
    });

    it('allocates a page over a reserved slot on a user touch (fault path checks only the PTE)', () => {
      const a = makeArena({ mapExtra: base, maxEntries: 2 });
      assert.equal(a.reservePages(base, 1), 0);
      a.userWrite(base, Uint8Array.of(6));
      assert.equal(a.pagesAllocated, 1);
      assert.equal(progLoad(a, base), 6);
      assert.equal(a.reservePages(base, 1), -EBUSY);
      assert.deepEqual(a.rangeTree.intervals(), [[1, 1]]);
    });
  });

  describe('__arena globals (spec §1.9)', () => {
    it("places them at offset 0 or at mmap_sz − round_up(data_sz, page), through the user view", () => {
      const data = new Uint8Array(PAGE_SIZE + 10).fill(1);
      const start = makeArena({ maxEntries: 8 });
      assert.equal(start.placeGlobals(data, 'start'), 0);
      assert.equal(start.pagesAllocated, 2);
      assert.equal(start.userRead(start.userVmStart + BigInt(PAGE_SIZE + 9), 1)[0], 1);
      const end = makeArena({ maxEntries: 8 });
      assert.equal(end.placeGlobals(data, 'end'), 6 * PAGE_SIZE);
      assert.equal(progLoad(end, end.userVmStart + 6n * PAGE), 1);
      assert.deepEqual(end.rangeTree.intervals(), [[0, 5]]);
      assert.equal(end.allocPages(0n, 7, NN, 0n, true), 0n);
      assert.equal(makeArena({ maxEntries: 8 }).placeGlobals(new Uint8Array(0), 'end'), 8 * PAGE_SIZE);
    });

    it('verifier_arena_globals1: reserving before the globals works, over them is -EBUSY', () => {
      const base = 1n << 32n;
      const a = makeArena({ mapExtra: base, maxEntries: 1 << 20 });
      const off = a.placeGlobals(new Uint8Array(16 * PAGE_SIZE).fill(3), 'end');
      assert.equal(off, SZ_4G - 16 * PAGE_SIZE);
      assert.equal(a.pagesAllocated, 16);
      assert.equal(a.reservePages(base, (1 << 20) - 16), 0);
      assert.equal(a.reservePages(base + BigInt(off), 1), -EBUSY);
      assert.equal(a.reservePages(base + BigInt(off) + 15n * PAGE, 1), -EBUSY);
      assert.equal(a.allocPages(0n, 1, NN, 0n, true), 0n);
    });

    it('rejects globals larger than the arena', () => {
      const a = makeArena({ maxEntries: 1 });
      mapErrno(() => a.placeGlobals(new Uint8Array(PAGE_SIZE + 1), 'end'), 'E2BIG', /exceeds the arena size/);
    });
  });

  describe('engine lookups', () => {
    it('agree between offset, full kernel address and hi/lo forms, guards included', () => {
      const a = makeArena({ mapExtra: 0x7f7d_2620_0000n, maxEntries: 16 });
      const p = a.allocPages(0n, 1, NN, 0n, true);
      const off = Number(p & 0xffff_ffffn);
      const page = a.pageAtOffset(off + 5);
      assert.ok(page);
      const k = a.kernVmStart + BigInt(off + 5);
      assert.equal(a.pageAt(k), page);
      assert.equal(a.pageAtHiLo(Number(k & 0xffff_ffffn) | 0, Number(k >> 32n) | 0), page);
      assert.equal(a.pageAtOffset(off + PAGE_SIZE), undefined);
      a.installScratch(a.kernVmStart + BigInt(SZ_4G) + 8n);
      const guard = a.kernVmStart + BigInt(SZ_4G) + 16n;
      // The upper guard spills into the next 4 GiB window of kernel addresses.
      assert.equal(a.pageAt(guard), a.pageTable.scratch);
      assert.equal(a.pageAtHiLo(Number(guard & 0xffff_ffffn) | 0, Number(guard >> 32n) | 0), a.pageTable.scratch);
      assert.equal(a.pageAtOffset(-1), undefined);
      assert.equal(a.pageAt(a.kernVmStart - 1n), undefined);
      assert.equal(a.pageAt(a.kernVmStart + BigInt(SZ_4G + HALF_GUARD)), undefined);
      assert.equal(a.pageAt(0n), undefined);
    });

    it('keeps the range tree and page table consistent under random kfunc and user traffic', () => {
      const rnd = prng(77);
      const base = 1n << 32n;
      for (let round = 0; round < 20; round++) {
        const n = 1 + Math.floor(rnd() * 24);
        const a = makeArena({ mapExtra: base, maxEntries: n });
        const pick = () => base + BigInt(Math.floor(rnd() * (n + 1))) * PAGE;
        for (let step = 0; step < 200; step++) {
          const op = Math.floor(rnd() * 7);
          const cnt = 1 + Math.floor(rnd() * 3);
          if (op === 0) a.allocPages(0n, cnt, NN, 0n, rnd() < 0.5);
          else if (op === 1) a.allocPages(pick(), cnt, NN, 0n, true);
          else if (op === 2) a.freePages(pick(), cnt, rnd() < 0.5);
          else if (op === 3) a.reservePages(pick(), cnt);
          else if (op === 4) a.installScratchAtOffset(Math.floor(rnd() * (n + 2)) * PAGE_SIZE);
          else if (op === 5) { try { a.userWrite(pick(), Uint8Array.of(1)); } catch (e) { assert.ok(e instanceof ArenaSegvError); } }
          else a.runDeferredFrees();
          // A free slot never holds a real page; a real page's slot is never free.
          const free = new Set<number>();
          for (const [s, l] of a.rangeTree.intervals()) for (let i = s; i <= l; i++) free.add(i);
          for (let pg = 0; pg < n; pg++) {
            const page = a.pageTable.pte(pg);
            if (page && !a.isScratch(page)) assert.ok(!free.has(pg), `round ${round} step ${step}: page ${pg}`);
          }
          assert.ok([...free].every((pg) => pg < n));
        }
      }
    });
  });
});

/** Deterministic xorshift32 in [0, 1). */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * range_tree.c done the slow, literal way: a list of free nodes and the size tree's in-order
 * sequence as an array (bigger first; an equal size goes after the existing ones), find =
 * the last node in that order that fits. Independent of the stamp scheme in RangeTree.
 */
class KernelRangeTreeModel {
  private readonly nodes: Array<{ start: number; last: number }> = [];
  private readonly bySize: Array<{ start: number; last: number }> = [];

  intervals(): Array<[number, number]> {
    return [...this.nodes].sort((x, y) => x.start - y.start).map((n) => [n.start, n.last]);
  }

  find(len: number): number {
    let best = -1;
    for (const n of this.bySize) if (n.last - n.start + 1 >= len) best = n.start;
    return best;
  }

  isSet(start: number, len: number): boolean {
    const n = this.first(start, start + len - 1);
    return n !== undefined && n.start <= start && n.last >= start + len - 1;
  }

  clear(start: number, len: number): void {
    const last = start + len - 1;
    for (let n = this.first(start, last); n; n = this.first(start, last)) {
      if (n.start < start && n.last > last) {
        const oldLast = n.last;
        this.remove(n); n.last = start - 1; this.insert(n);
        this.insert({ start: last + 1, last: oldLast });
      } else if (n.start < start) {
        this.remove(n); n.last = start - 1; this.insert(n);
      } else if (n.last > last) {
        this.remove(n); n.start = last + 1; this.insert(n);
        break;
      } else {
        this.remove(n);
      }
    }
  }

  set(start: number, len: number): void {
    const last = start + len - 1;
    if (this.isSet(start, len)) return;
    this.clear(start, len);
    const left = this.first(start - 1, start - 1);
    const right = this.first(last + 1, last + 1);
    if (left && right) {
      this.remove(left); this.remove(right); left.last = right.last; this.insert(left);
    } else if (left) {
      this.remove(left); left.last = last; this.insert(left);
    } else if (right) {
      this.remove(right); right.start = start; this.insert(right);
    } else {
      this.insert({ start, last });
    }
  }

  /** The lowest-start node overlapping [start, last]. */
  private first(start: number, last: number): { start: number; last: number } | undefined {
    let best: { start: number; last: number } | undefined;
    for (const n of this.nodes) if (n.start <= last && n.last >= start && (!best || n.start < best.start)) best = n;
    return best;
  }

  private insert(n: { start: number; last: number }): void {
    const size = n.last - n.start + 1;
    let i = 0;
    while (i < this.bySize.length && this.bySize[i].last - this.bySize[i].start + 1 >= size) i++;
    this.bySize.splice(i, 0, n);
    this.nodes.push(n);
  }

  private remove(n: { start: number; last: number }): void {
    this.bySize.splice(this.bySize.indexOf(n), 1);
    this.nodes.splice(this.nodes.indexOf(n), 1);
  }
}
