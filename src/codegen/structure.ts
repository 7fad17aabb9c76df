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

/**
 * An emission order of a function's blocks (0 = the entry; `succs[b]` its successors) in which
 * every natural loop is contiguous and starts at its header — the stackifier's block sort of
 * WebAssembly back ends. clang lays rotated loops out with the header in the middle (the entry
 * jumps forward into the loop); in address order those do not nest, in this order they do.
 * Within a loop (and at top level) blocks follow the control flow, inner loops placed whole,
 * ties broken by address. Unreachable blocks go last. Undefined for an irreducible graph (a
 * retreating edge to a block that does not dominate its source).
 */
export function loopOrder(succs: readonly (readonly number[])[]): number[] | undefined {
  const n = succs.length;
  const preds: number[][] = Array.from({ length: n }, () => []);
  succs.forEach((ss, b) => { for (const s of ss) preds[s].push(b); });
  // Reverse post-order from the entry (iterative DFS).
  const rpoIndex = new Array<number>(n).fill(-1);
  const post: number[] = [];
  const seen = new Uint8Array(n);
  const stack: [number, number][] = [[0, 0]];
  seen[0] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [b, k] = top;
    if (k < succs[b].length) {
      top[1]++;
      const s = succs[b][k];
      if (!seen[s]) { seen[s] = 1; stack.push([s, 0]); }
    } else {
      post.push(b);
      stack.pop();
    }
  }
  const rpo = post.reverse();
  rpo.forEach((b, i) => { rpoIndex[b] = i; });
  // Immediate dominators (Cooper, Harvey, Kennedy).
  const idom = new Array<number>(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (rpoIndex[a] > rpoIndex[b]) a = idom[a];
      while (rpoIndex[b] > rpoIndex[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const b of rpo) {
      if (b === 0) continue;
      let d = -1;
      for (const p of preds[b]) if (rpoIndex[p] >= 0 && idom[p] >= 0) d = d < 0 ? p : intersect(p, d);
      if (d >= 0 && idom[b] !== d) { idom[b] = d; changed = true; }
    }
  }
  const dominates = (a: number, b: number) => {
    for (let x = b; ; x = idom[x]) { if (x === a) return true; if (x === 0) return a === 0; }
  };
  // Natural loops: a header per back edge, its body the blocks reaching the edge's source.
  const body = new Map<number, Set<number>>();
  for (const u of rpo) {
    for (const h of succs[u]) {
      if (rpoIndex[h] > rpoIndex[u]) continue;
      if (!dominates(h, u)) return undefined; // irreducible
      let set = body.get(h);
      if (!set) body.set(h, set = new Set([h]));
      const work = [u];
      while (work.length) {
        const x = work.pop()!;
        if (set.has(x)) continue;
        set.add(x);
        for (const p of preds[x]) if (rpoIndex[p] >= 0) work.push(p);
      }
    }
  }
  const loops = [...body].map(([header, blocks]) => ({ header, blocks })).sort((a, b) => a.blocks.size - b.blocks.size);
  /** Each block's innermost loop (the smallest body holding it), by header; -1: none. */
  const innermost = new Array<number>(n).fill(-1);
  for (const l of [...loops].reverse()) for (const b of l.blocks) innermost[b] = l.header;
  const loopOf = new Map(loops.map((l) => [l.header, l]));
  /** The loop enclosing each loop directly (by header), or -1: the smallest other body holding its header. */
  const parents = new Map(loops.map((own) => {
    const outer = loops.find((l) => l !== own && l.blocks.has(own.header) && l.blocks.size > own.blocks.size);
    return [own.header, outer ? outer.header : -1];
  }));
  const parent = (h: number) => parents.get(h)!;
  const order: number[] = [];
  /** Places the region of loop `h` (-1: the whole function): its blocks in flow order. */
  const place = (h: number) => {
    const members = h < 0 ? rpo : [...loopOf.get(h)!.blocks];
    const inRegion = (b: number) => h < 0 || loopOf.get(h)!.blocks.has(b);
    /** The node standing for `b` in this region: itself, or the header of the child loop holding it. */
    const rep = (b: number) => {
      let x = innermost[b];
      if (x === h || x < 0) return b;
      for (let p = parent(x); p !== h; p = parent(p)) x = p;
      return x;
    };
    const nodes = new Set(members.map(rep));
    const indeg = new Map([...nodes].map((x) => [x, 0]));
    const out = new Map([...nodes].map((x) => [x, new Set<number>()]));
    for (const u of members) {
      for (const v of succs[u]) {
        if (!inRegion(v) || rpoIndex[v] <= rpoIndex[u]) continue; // an exit, or a back edge
        const ru = rep(u), rv = rep(v);
        if (ru !== rv && !out.get(ru)!.has(rv)) { out.get(ru)!.add(rv); indeg.set(rv, indeg.get(rv)! + 1); }
      }
    }
    const ready = [...nodes].filter((x) => indeg.get(x) === 0);
    while (ready.length) {
      let k = 0;
      for (let i = 1; i < ready.length; i++) if (ready[i] < ready[k]) k = i;
      const x = ready.splice(k, 1)[0];
      if (x !== h && loopOf.has(x) && innermost[x] === x) place(x); else order.push(x);
      for (const y of out.get(x)!) { indeg.set(y, indeg.get(y)! - 1); if (indeg.get(y) === 0) ready.push(y); }
    }
  };
  place(-1);
  for (let b = 0; b < n; b++) if (rpoIndex[b] < 0) order.push(b);
  return order.length === n ? order : undefined;
}
