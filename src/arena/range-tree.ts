/**
 * The arena's page allocator: the kernel's range_tree (kernel/bpf/range_tree.c,
 * kernel-arena-streams.md §2.2). It records FREE page slots as maximal intervals
 * [start, last] of u32 page numbers and answers best-fit queries.
 *
 * The kernel keeps two rbtrees: one by address, one by size. The size tree sorts larger sizes
 * to the left and sends an equal size to the right, and __find_range walks right whenever a
 * node fits, so it returns the rightmost fitting node in that order: the smallest size ≥ len
 * and, among intervals of that size, the one (re)inserted last. Every change to an interval's
 * bounds is a remove + re-insert, so "inserted last" means "bounds changed (or created) last".
 * Here each interval carries a stamp from a counter bumped on every such re-insert, and
 * find() picks the highest stamp among the smallest fitting size. Which node keeps which part
 * follows the kernel: a split keeps the left part in the old node and inserts the right part
 * after it; a merge of both neighbours keeps the left node and drops the right one.
 *
 * Structures: intervals sorted by start (binary search; disjoint, so `last` is sorted too),
 * one stack of (interval, stamp) entries per size with lazy deletion (entries whose stamp no
 * longer matches are stale), and the sorted list of sizes that have a live interval. A find is
 * a binary search over distinct sizes (at most ~1450 for 2^20 pages) plus an amortised O(1) pop.
 */

interface FreeInterval {
  start: number;
  /** Inclusive, as rn_last. */
  last: number;
  /** Size-tree insertion order; -1 once removed. */
  stamp: number;
}

interface SizeEntry {
  readonly node: FreeInterval;
  readonly stamp: number;
}

interface SizeBucket {
  entries: SizeEntry[];
  live: number;
}

export class RangeTree {
  /** Free intervals by start. */
  private readonly nodes: FreeInterval[] = [];
  private readonly buckets = new Map<number, SizeBucket>();
  /** Sizes with at least one live interval, ascending. */
  private readonly sizes: number[] = [];
  private clock = 0;

  /** Free intervals, lowest first, as [start, last] pairs (copies). */
  intervals(): Array<[number, number]> {
    return this.nodes.map((n) => [n.start, n.last]);
  }

  /** Number of free slots. */
  get freeCount(): number {
    let n = 0;
    for (const r of this.nodes) n += r.last - r.start + 1;
    return n;
  }

  /**
   * range_tree_find: the start of the best-fit free interval for `len` slots, or -1 (the
   * kernel's -ENOENT). Best fit: smallest size ≥ len; ties go to the interval changed last.
   */
  find(len: number): number {
    const sizes = this.sizes;
    let lo = 0;
    let hi = sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sizes[mid] < len) lo = mid + 1;
      else hi = mid;
    }
    if (lo === sizes.length) return -1;
    return this.top(sizes[lo]).start;
  }

  /** is_range_tree_set: whether one free interval covers all of [start, start + len). */
  isSet(start: number, len: number): boolean {
    const last = start + len - 1;
    const i = this.firstEndingAtOrAfter(start);
    const n = this.nodes[i];
    return n !== undefined && n.start <= start && n.last >= last;
  }

  /** range_tree_clear: marks [start, start + len) allocated; parts already allocated are fine. */
  clear(start: number, len: number): void {
    if (len <= 0) return;
    const last = start + len - 1;
    const nodes = this.nodes;
    let i = this.firstEndingAtOrAfter(start);
    // Intervals wholly inside the range are dropped in one splice at the end.
    let dropFrom = -1;
    let dropCount = 0;
    while (i < nodes.length && nodes[i].start <= last) {
      const n = nodes[i];
      if (n.start < start && n.last > last) {
        // Covers the whole range: the old node keeps the left part, a new one takes the right.
        const right: FreeInterval = { start: last + 1, last: n.last, stamp: -1 };
        this.reshape(n, n.start, start - 1);
        nodes.splice(i + 1, 0, right);
        this.addToSize(right);
        break;
      } else if (n.start < start) {
        this.reshape(n, n.start, start - 1);
        i++;
      } else if (n.last > last) {
        this.reshape(n, last + 1, n.last);
        break;
      } else {
        this.removeFromSize(n);
        if (dropFrom < 0) dropFrom = i;
        dropCount++;
        i++;
      }
    }
    if (dropCount > 0) nodes.splice(dropFrom, dropCount);
  }

  /** range_tree_set: marks [start, start + len) free, merging with free neighbours. */
  set(start: number, len: number): void {
    if (len <= 0) return;
    const last = start + len - 1;
    // Already wholly free: the kernel returns before touching (or re-stamping) anything.
    if (this.isSet(start, len)) return;
    this.clear(start, len);
    const nodes = this.nodes;
    const i = this.firstEndingAtOrAfter(start);
    // After the clear, a left neighbour ends at start - 1 and a right one starts at last + 1.
    const left = i > 0 && nodes[i - 1].last === start - 1 ? nodes[i - 1] : undefined;
    const right = i < nodes.length && nodes[i].start === last + 1 ? nodes[i] : undefined;
    if (left && right) {
      this.removeFromSize(right);
      nodes.splice(i, 1);
      this.reshape(left, left.start, right.last);
    } else if (left) {
      this.reshape(left, left.start, last);
    } else if (right) {
      this.reshape(right, start, right.last);
    } else {
      const n: FreeInterval = { start, last, stamp: -1 };
      nodes.splice(i, 0, n);
      this.addToSize(n);
    }
  }

  /** Index of the first interval with last ≥ slot (intervals are disjoint, so last is sorted). */
  private firstEndingAtOrAfter(slot: number): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid].last < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** range_it_remove + new bounds + range_it_insert: the interval moves to the end of its size class. */
  private reshape(n: FreeInterval, start: number, last: number): void {
    this.removeFromSize(n);
    n.start = start;
    n.last = last;
    this.addToSize(n);
  }

  private addToSize(n: FreeInterval): void {
    const size = n.last - n.start + 1;
    n.stamp = this.clock++;
    let b = this.buckets.get(size);
    if (b === undefined) {
      b = { entries: [], live: 0 };
      this.buckets.set(size, b);
    }
    b.entries.push({ node: n, stamp: n.stamp });
    if (b.live++ === 0) this.sizes.splice(this.sizeIndex(size), 0, size);
  }

  private removeFromSize(n: FreeInterval): void {
    const size = n.last - n.start + 1;
    n.stamp = -1;
    const b = this.buckets.get(size)!;
    if (--b.live === 0) {
      this.buckets.delete(size);
      this.sizes.splice(this.sizeIndex(size), 1);
    } else if (b.entries.length > 2 * b.live + 16) {
      // Keep stale entries from piling up under a long-lived interval.
      b.entries = b.entries.filter((e) => e.node.stamp === e.stamp);
    }
  }

  /** The live interval of this size with the highest stamp. */
  private top(size: number): FreeInterval {
    const entries = this.buckets.get(size)!.entries;
    for (;;) {
      const e = entries[entries.length - 1];
      if (e.node.stamp === e.stamp) return e.node;
      entries.pop();
    }
  }

  private sizeIndex(size: number): number {
    const sizes = this.sizes;
    let lo = 0;
    let hi = sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sizes[mid] < size) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
