/**
 * The arena's kernel page table (kernel-arena-streams.md §1.1, §3.1, §3.3): one slot per 4 KiB
 * page of the kernel window [kern_vm_start − 32 KiB, kern_vm_start + 4 GiB + 32 KiB), indexed
 * by kernel page relative to kern_vm_start (−8…−1 is the lower half guard, 2^20…2^20+7 the
 * upper one). A slot is empty (pte_none), a real page, or the arena's one shared scratch page.
 *
 * Sparse: pages exist only once installed, so a 4 GiB arena with three pages costs three
 * pages. A lookup is one Map access keyed by the slot number.
 */
import { BODY_PAGES, HALF_GUARD_PAGES } from './geometry.js';
import { PAGE_SIZE } from '../uapi.js';

/** The lowest and one past the highest slot of the window. */
export const FIRST_SLOT = -HALF_GUARD_PAGES;
export const END_SLOT = BODY_PAGES + HALF_GUARD_PAGES;

export class PageTable {
  /**
   * slot → page. Engines may read it directly: `slots.get(Math.floor(off / 4096))`, where off
   * is the byte offset from kern_vm_start.
   */
  readonly slots = new Map<number, Uint8Array>();
  /** The per-arena scratch page (spec §1.1: allocated at creation), shared by all scratched slots. */
  readonly scratch = new Uint8Array(PAGE_SIZE);
  private scratched = 0;

  /** Real pages present (spec: what the arena holds; the scratch page is not counted). */
  get pagesPresent(): number {
    return this.slots.size - this.scratched;
  }

  /** Slots currently holding the scratch page. */
  get pagesScratched(): number {
    return this.scratched;
  }

  /** ptep_get: the page in a slot, or undefined (pte_none). */
  pte(slot: number): Uint8Array | undefined {
    return this.slots.get(slot);
  }

  isScratch(page: Uint8Array | undefined): boolean {
    return page === this.scratch;
  }

  /** ptep_try_set (spec §3.1): installs only into an empty slot; false if the slot is populated. */
  ptepTrySet(slot: number, page: Uint8Array): boolean {
    checkSlot(slot);
    if (this.slots.has(slot)) return false;
    this.slots.set(slot, page);
    if (page === this.scratch) this.scratched++;
    return true;
  }

  /** ptep_get_and_clear: empties a slot and returns what it held. */
  ptepGetAndClear(slot: number): Uint8Array | undefined {
    const page = this.slots.get(slot);
    if (page === undefined) return undefined;
    this.slots.delete(slot);
    if (page === this.scratch) this.scratched--;
    return page;
  }

  /**
   * Clears every populated slot in [first, first + count) and returns the real pages removed
   * (the scratch page is skipped, spec §3.3, apply_range_clear_cb). Walks the smaller of the
   * range and the populated set, so freeing a whole 4 GiB arena stays cheap.
   */
  clearRange(first: number, count: number): Uint8Array[] {
    const freed: Uint8Array[] = [];
    const take = (slot: number) => {
      const page = this.ptepGetAndClear(slot);
      if (page !== undefined && page !== this.scratch) freed.push(page);
    };
    if (count <= this.slots.size) {
      for (let s = first; s < first + count; s++) take(s);
    } else {
      const end = first + count;
      for (const s of [...this.slots.keys()]) if (s >= first && s < end) take(s);
    }
    return freed;
  }

  /** The page covering a byte offset from kern_vm_start (negative or ≥ 4 GiB for the guards). */
  pageAtOffset(off: number): Uint8Array | undefined {
    return this.slots.get(Math.floor(off / PAGE_SIZE));
  }

  /** Teardown (spec §2.6): drops every page. */
  clearAll(): void {
    this.slots.clear();
    this.scratched = 0;
  }
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < FIRST_SLOT || slot >= END_SLOT) {
    throw new RangeError(`arena page slot ${slot} is outside the kernel window [${FIRST_SLOT}, ${END_SLOT})`);
  }
}
