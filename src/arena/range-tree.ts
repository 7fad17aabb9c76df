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
 * Structures: two balanced search trees (AVL) over the same intervals, as the kernel's two
 * rbtrees: one ordered by start (disjoint intervals, so `last` is ordered too), one by
 * (size ascending, stamp descending), whose first entry of size ≥ len is the best fit. Every
 * operation is O(log n) in the number of free intervals, plus O(log n) per interval a clear
 * or set swallows whole.
 */

interface FreeInterval {
  start: number;
  /** Inclusive, as rn_last. */
  last: number;
  /** Size-tree insertion order. */
  stamp: number;
}

interface AvlNode<T> {
  value: T;
  left: AvlNode<T> | undefined;
  right: AvlNode<T> | undefined;
  height: number;
}

const heightOf = <T>(n: AvlNode<T> | undefined): number => (n === undefined ? 0 : n.height);

/**
 * A balanced (AVL) search tree of values ordered by `compare`. A value's key must not change
 * while it is in the tree, except in ways that keep its place in the order.
 */
class AvlTree<T> {
  private root: AvlNode<T> | undefined;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  insert(value: T): void {
    this.root = this.insertAt(this.root, value);
  }

  /** Removes the value that compares equal to `value` (it must be in the tree). */
  remove(value: T): void {
    this.root = this.removeAt(this.root, value);
  }

  /** The first value (in order) for which `pred` holds; `pred` must be false, then true. */
  first(pred: (v: T) => boolean): T | undefined {
    let found: T | undefined;
    for (let n = this.root; n !== undefined;) {
      if (pred(n.value)) {
        found = n.value;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    return found;
  }

  /** The last value (in order) for which `pred` holds; `pred` must be true, then false. */
  last(pred: (v: T) => boolean): T | undefined {
    let found: T | undefined;
    for (let n = this.root; n !== undefined;) {
      if (pred(n.value)) {
        found = n.value;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return found;
  }

  /** The values in order (iteratively: no recursion over the tree's depth). */
  values(): T[] {
    const out: T[] = [];
    const stack: AvlNode<T>[] = [];
    for (let n = this.root; n !== undefined || stack.length > 0;) {
      if (n !== undefined) {
        stack.push(n);
        n = n.left;
      } else {
        const top = stack.pop()!;
        out.push(top.value);
        n = top.right;
      }
    }
    return out;
  }

  // Recursion depth is the tree's height: at most 1.44 log2(n) (under 30 for 2^20 values).
  private insertAt(n: AvlNode<T> | undefined, value: T): AvlNode<T> {
    if (n === undefined) return { value, left: undefined, right: undefined, height: 1 };
    if (this.compare(value, n.value) < 0) n.left = this.insertAt(n.left, value);
    else n.right = this.insertAt(n.right, value);
    return balance(n);
  }

  private removeAt(n: AvlNode<T> | undefined, value: T): AvlNode<T> | undefined {
    if (n === undefined) throw new Error('range tree: removing an interval that is not in the tree');
    const c = this.compare(value, n.value);
    if (c < 0) {
      n.left = this.removeAt(n.left, value);
    } else if (c > 0) {
      n.right = this.removeAt(n.right, value);
    } else {
      if (n.left === undefined) return n.right;
      if (n.right === undefined) return n.left;
      // Replace with the successor: the leftmost node of the right subtree.
      let s = n.right;
      while (s.left !== undefined) s = s.left;
      n.value = s.value;
      n.right = this.removeAt(n.right, s.value);
    }
    return balance(n);
  }
}

function update<T>(n: AvlNode<T>): void {
  n.height = 1 + Math.max(heightOf(n.left), heightOf(n.right));
}

function rotateRight<T>(n: AvlNode<T>): AvlNode<T> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<T>(n: AvlNode<T>): AvlNode<T> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance<T>(n: AvlNode<T>): AvlNode<T> {
  update(n);
  const b = heightOf(n.left) - heightOf(n.right);
  if (b > 1) {
    if (heightOf(n.left!.left) < heightOf(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (b < -1) {
    if (heightOf(n.right!.right) < heightOf(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

const sizeOf = (n: FreeInterval): number => n.last - n.start + 1;

export class RangeTree {
  /** Free intervals by start. */
  private readonly byStart = new AvlTree<FreeInterval>((a, b) => a.start - b.start);
  /** Free intervals by size, then newest first: the first one of size ≥ len is the best fit. */
  private readonly bySize = new AvlTree<FreeInterval>((a, b) => sizeOf(a) - sizeOf(b) || b.stamp - a.stamp);
  private clock = 0;
  private free = 0;

  /** Free intervals, lowest first, as [start, last] pairs (copies). */
  intervals(): Array<[number, number]> {
    return this.byStart.values().map((n) => [n.start, n.last]);
  }

  /** Number of free slots. */
  get freeCount(): number {
    return this.free;
  }

  /**
   * range_tree_find: the start of the best-fit free interval for `len` slots, or -1 (the
   * kernel's -ENOENT). Best fit: smallest size ≥ len; ties go to the interval changed last.
   */
  find(len: number): number {
    return this.bySize.first((n) => sizeOf(n) >= len)?.start ?? -1;
  }

  /** is_range_tree_set: whether one free interval covers all of [start, start + len). */
  isSet(start: number, len: number): boolean {
    const n = this.firstEndingAtOrAfter(start);
    return n !== undefined && n.start <= start && n.last >= start + len - 1;
  }

  /** range_tree_clear: marks [start, start + len) allocated; parts already allocated are fine. */
  clear(start: number, len: number): void {
    if (len <= 0) return;
    const last = start + len - 1;
    for (let n = this.firstEndingAtOrAfter(start); n !== undefined && n.start <= last;) {
      if (n.start < start && n.last > last) {
        // Covers the whole range: the old node keeps the left part, a new one takes the right.
        const right: FreeInterval = { start: last + 1, last: n.last, stamp: -1 };
        this.reshape(n, n.start, start - 1);
        this.add(right);
        return;
      } else if (n.start < start) {
        this.reshape(n, n.start, start - 1);
      } else if (n.last > last) {
        this.reshape(n, last + 1, n.last);
        return;
      } else {
        this.remove(n);
      }
      const after = n.start;
      n = this.byStart.first((m) => m.start > after);
    }
  }

  /** range_tree_set: marks [start, start + len) free, merging with free neighbours. */
  set(start: number, len: number): void {
    if (len <= 0) return;
    const last = start + len - 1;
    // Already wholly free: the kernel returns before touching (or re-stamping) anything.
    if (this.isSet(start, len)) return;
    this.clear(start, len);
    // After the clear, a left neighbour ends at start - 1 and a right one starts at last + 1.
    const before = this.byStart.last((n) => n.start < start);
    const after = this.byStart.first((n) => n.start > last);
    const left = before?.last === start - 1 ? before : undefined;
    const right = after?.start === last + 1 ? after : undefined;
    if (left && right) {
      this.remove(right);
      this.reshape(left, left.start, right.last);
    } else if (left) {
      this.reshape(left, left.start, last);
    } else if (right) {
      this.reshape(right, start, right.last);
    } else {
      this.add({ start, last, stamp: -1 });
    }
  }

  /** The first interval with last ≥ slot (intervals are disjoint, so last is ordered as start). */
  private firstEndingAtOrAfter(slot: number): FreeInterval | undefined {
    return this.byStart.first((n) => n.last >= slot);
  }

  /**
   * range_it_remove + new bounds + range_it_insert: the interval moves to the end of its size
   * class. The new bounds stay between its neighbours, so its place by start holds.
   */
  private reshape(n: FreeInterval, start: number, last: number): void {
    this.removeFromSize(n);
    n.start = start;
    n.last = last;
    this.addToSize(n);
  }

  private add(n: FreeInterval): void {
    this.byStart.insert(n);
    this.addToSize(n);
  }

  private remove(n: FreeInterval): void {
    this.removeFromSize(n);
    this.byStart.remove(n);
  }

  private addToSize(n: FreeInterval): void {
    n.stamp = this.clock++;
    this.bySize.insert(n);
    this.free += sizeOf(n);
  }

  private removeFromSize(n: FreeInterval): void {
    this.bySize.remove(n);
    this.free -= sizeOf(n);
  }
}
