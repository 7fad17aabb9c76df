/**
 * Structured control flow for one BPF function (the "stackifier" of WebAssembly back ends):
 * with blocks kept in address order, every backward jump becomes `continue` of a labelled loop
 * that starts at its target, and every forward jump `break` of a labelled block that ends right
 * before its target. It succeeds when those constructs can nest — always for the reducible
 * graphs clang emits; otherwise the caller falls back to a block-dispatch loop.
 */

/** A labelled construct over the block positions [start, end). */
export interface Construct {
  readonly kind: 'loop' | 'block';
  readonly start: number;
  readonly end: number;
}

export interface Structure {
  /** Constructs opening at a position, outermost first. */
  readonly opens: ReadonlyMap<number, readonly Construct[]>;
  /** Constructs closing at a position (before its code), innermost first. */
  readonly closes: ReadonlyMap<number, readonly Construct[]>;
}

export interface Edge {
  /** Leader of the block whose last instruction jumps. */
  readonly block: number;
  /** The leader after that block (where the jump instruction's block ends). */
  readonly blockEnd: number;
  readonly to: number;
}

/** Nesting of [a.start, a.end) and [b.start, b.end): true when they are disjoint or nested. */
function nests(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.end <= b.start || b.end <= a.start || (a.start <= b.start && b.end <= a.end) || (b.start <= a.start && a.end <= b.end);
}

/**
 * Above this many jumps in one function the (quadratic) nesting search is not worth it: the
 * function runs as a dispatch loop, which compiles in linear time.
 */
export const MAX_STRUCTURED_EDGES = 2048;

/** The constructs for `edges` in a function whose blocks start at `leaders`, or undefined. */
export function structure(edges: readonly Edge[]): Structure | undefined {
  if (edges.length > MAX_STRUCTURED_EDGES) return undefined;
  // Loops: one per back-edge target, from the header to the end of the last block jumping back.
  const loopEnd = new Map<number, number>();
  for (const e of edges) if (e.to <= e.block) loopEnd.set(e.to, Math.max(loopEnd.get(e.to) ?? 0, e.blockEnd));
  const loops = [...loopEnd].map(([start, end]) => ({ start, end }));
  // Overlapping loops are widened to nest (a loop's body may hold more blocks: it only repeats
  // through `continue`); a jump into the middle of a widened loop is caught below.
  for (let changed = true; changed;) {
    changed = false;
    for (const a of loops) for (const b of loops) {
      if (a !== b && a.start < b.start && b.start < a.end && a.end < b.end) { a.end = b.end; changed = true; }
    }
  }
  // Blocks: one per forward-jump target, from a start that contains every jump to it.
  const blockStart = new Map<number, number>();
  for (const e of edges) if (e.to > e.block) blockStart.set(e.to, Math.min(blockStart.get(e.to) ?? e.block, e.block));
  const blocks = [...blockStart].map(([end, start]) => ({ start, end }));
  for (let changed = true, rounds = 0; changed; rounds++) {
    if (rounds > 4 * (blocks.length + loops.length) + 8) return undefined;
    changed = false;
    for (const b of blocks) {
      for (const l of loops) {
        // Leaving a loop: the block must enclose it.
        if (l.start < b.start && b.start < l.end && l.end < b.end) { b.start = l.start; changed = true; }
        // Entering a loop anywhere but at its header: not structurable.
        if (b.start < l.start && l.start < b.end && b.end < l.end) return undefined;
      }
      for (const c of blocks) {
        if (c !== b && c.start < b.start && b.start < c.end && c.end < b.end) { b.start = c.start; changed = true; }
      }
    }
  }
  const all: Construct[] = [
    ...loops.map((l) => ({ kind: 'loop' as const, ...l })),
    ...blocks.map((b) => ({ kind: 'block' as const, ...b })),
  ];
  // Outermost first: the earlier start, then the later end; on a tie a block encloses a loop.
  const order = (a: Construct, b: Construct) =>
    a.start - b.start || b.end - a.end || (a.kind === b.kind ? 0 : a.kind === 'block' ? -1 : 1);
  // In that order every construct must fit inside the innermost one still open.
  const open: Construct[] = [];
  for (const c of [...all].sort(order)) {
    while (open.length > 0 && open[open.length - 1].end <= c.start) open.pop();
    if (open.length > 0 && !nests(open[open.length - 1], c)) return undefined;
    open.push(c);
  }
  const opens = new Map<number, Construct[]>();
  const closes = new Map<number, Construct[]>();
  for (const c of [...all].sort(order)) {
    if (!opens.has(c.start)) opens.set(c.start, []);
    opens.get(c.start)!.push(c);
    if (!closes.has(c.end)) closes.set(c.end, []);
    closes.get(c.end)!.unshift(c);
  }
  return { opens, closes };
}
