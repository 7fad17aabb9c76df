/**
 * The kernel's approximate LRU for LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/bpf_lru_list.c;
 * spec §2.16), driven by HashMap (hash.ts).
 *
 * max_entries nodes exist (the kernel preallocates them; here a node is only materialized, with
 * its value slot, when it first leaves a FREE list, so a huge map stays cheap — the order in
 * which nodes leave is the kernel's). A node is in exactly one place:
 *
 * - common mode: the global FREE / ACTIVE / INACTIVE lists, a per-CPU local FREE stack, or a
 *   per-CPU local PENDING list; nr_scans 128, target_free T = clamp((n / P) / 2, 1, 128);
 * - per-CPU mode (BPF_F_NO_COMMON_LRU): its owning CPU's FREE / ACTIVE / INACTIVE lists;
 *   nr_scans 4, shrink target 4.
 *
 * Lists are circular with a sentinel, as the kernel's list_head: `next` goes from the head
 * (newest) toward the tail (oldest), `prev` the other way. Lock failures (pending_free) cannot
 * happen in a single-threaded simulation and are not modelled.
 */
export const LRU_ACTIVE = 0;
export const LRU_INACTIVE = 1;
export const LRU_FREE = 2;
export const LRU_LOCAL_FREE = 3;
export const LRU_LOCAL_PENDING = 4;

const LOCAL_FREE_TARGET = 128;
const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
const PERCPU_FREE_TARGET = 4;
const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

interface Link {
  prev: Link;
  next: Link;
}

/** `E`: the hash element a node backs; `S`: its value slot. */
export interface LruNode<E, S> extends Link {
  /** Element index (0 … max_entries − 1), as in the kernel's preallocated array. */
  readonly id: number;
  readonly slot: S;
  ref: boolean;
  type: number;
  /** Per-CPU mode: the owning CPU; common mode: the CPU whose PENDING list it last entered. */
  cpu: number;
  /** The hash element this node currently backs (managed by the hash table). */
  elem: E | null;
}

function sentinel(): Link {
  const s = {} as Link;
  s.prev = s.next = s;
  return s;
}
function unlink(n: Link): void {
  n.prev.next = n.next;
  n.next.prev = n.prev;
  n.prev = n.next = n;
}
/** list_move: unlink (if linked) and add at the head of `head`. */
function moveHead(n: Link, head: Link): void {
  if (n.prev !== undefined && n.prev !== n) { n.prev.next = n.next; n.next.prev = n.prev; }
  n.next = head.next;
  n.prev = head;
  head.next.prev = n;
  head.next = n;
}

/** A FREE list: real nodes, then (toward the tail) the not yet materialized ones, highest id first. */
class FreeList<E, S> {
  readonly head = sentinel();
  constructor(public virginLo: number, public virginHi: number, readonly owner: number) {}
  empty(): boolean { return this.head.next === this.head && this.virginHi === this.virginLo; }
}

interface LruList<E, S> {
  readonly active: Link;
  readonly inactive: Link;
  readonly free: FreeList<E, S>;
  /** counts[ACTIVE], counts[INACTIVE] */
  readonly counts: [number, number];
  /** next_inactive_rotation: a node of INACTIVE or its sentinel. */
  cursor: Link;
}

interface LocalList<E, S> {
  /** free_llist: a stack, top = last element. */
  readonly free: LruNode<E, S>[];
  readonly pending: Link;
  nextSteal: number;
}

function newList<E, S>(lo: number, hi: number, owner: number): LruList<E, S> {
  const inactive = sentinel();
  return { active: sentinel(), inactive, free: new FreeList<E, S>(lo, hi, owner), counts: [0, 0], cursor: inactive };
}

export interface LruHooks<E, S> {
  /** A value slot for a newly materialized node. */
  newSlot(): S;
  /** htab_lru_map_delete_node: unlink the node's element from the table; false if it is not linked. */
  evict(node: LruNode<E, S>): boolean;
}

export class Lru<E, S> {
  readonly percpu: boolean;
  readonly nrScans: number;
  /** target_free (common mode). */
  readonly targetFree: number;
  private readonly lists: LruList<E, S>[];
  private readonly locals: LocalList<E, S>[] = [];

  constructor(readonly nrElems: number, readonly nrCpus: number, percpu: boolean, private readonly hooks: LruHooks<E, S>) {
    this.percpu = percpu;
    if (percpu) {
      // bpf_percpu_lru_populate: CPU c gets a contiguous run of n / P nodes.
      const per = Math.floor(nrElems / nrCpus);
      this.lists = [];
      for (let c = 0; c < nrCpus; c++) this.lists.push(newList(c * per, c === nrCpus - 1 ? nrElems : (c + 1) * per, c));
      this.nrScans = PERCPU_NR_SCANS;
      this.targetFree = PERCPU_FREE_TARGET;
    } else {
      // bpf_common_lru_populate: every node on the global FREE list, the last one at the head.
      this.lists = [newList(0, nrElems, 0)];
      for (let c = 0; c < nrCpus; c++) this.locals.push({ free: [], pending: sentinel(), nextSteal: c });
      this.nrScans = LOCAL_NR_SCANS;
      this.targetFree = Math.min(Math.max(Math.floor(Math.floor(nrElems / nrCpus) / 2), 1), LOCAL_FREE_TARGET);
    }
  }

  /** bpf_lru_node_set_ref */
  setRef(node: LruNode<E, S>): void { node.ref = true; }

  /** bpf_lru_pop_free on `cpu`: a node now in that CPU's PENDING (common) or INACTIVE (per-CPU) list, or null. */
  popFree(cpu: number): LruNode<E, S> | null {
    return this.percpu ? this.percpuPopFree(cpu) : this.commonPopFree(cpu);
  }

  /** bpf_lru_push_free */
  pushFree(node: LruNode<E, S>): void {
    if (this.percpu) { this.move(this.lists[node.cpu], node, LRU_FREE); return; }
    if (node.type === LRU_LOCAL_PENDING) {
      node.type = LRU_LOCAL_FREE;
      node.ref = false;
      unlink(node);
      this.locals[node.cpu].free.push(node);
      return;
    }
    if (node.type === LRU_FREE || node.type === LRU_LOCAL_FREE) return; // WARN_ON_ONCE
    this.move(this.lists[0], node, LRU_FREE);
  }

  /**
   * The lists, for tests and debugging: each from head (newest) to tail (oldest); local FREE
   * stacks from the top (popped first).
   */
  dump(): { cpu?: number; active: LruNode<E, S>[]; inactive: LruNode<E, S>[]; free: LruNode<E, S>[]; virginFree: number;
    local?: { free: LruNode<E, S>[]; pending: LruNode<E, S>[] }[] }[] {
    const walk = (h: Link) => { const out: LruNode<E, S>[] = []; for (let n = h.next; n !== h; n = n.next) out.push(n as LruNode<E, S>); return out; };
    return this.lists.map((l, i) => ({
      ...(this.percpu ? { cpu: i } : {}),
      active: walk(l.active), inactive: walk(l.inactive), free: walk(l.free.head), virginFree: l.free.virginHi - l.free.virginLo,
      ...(this.percpu ? {} : { local: this.locals.map((loc) => ({ free: [...loc.free].reverse(), pending: walk(loc.pending) })) }),
    }));
  }

  // ---- list primitives ----

  /** The head of a FREE list (materializing the next node if only virgin ones are left). */
  private firstFree(fl: FreeList<E, S>): LruNode<E, S> {
    if (fl.head.next !== fl.head) return fl.head.next as LruNode<E, S>;
    const id = --fl.virginHi;
    const node = { id, slot: this.hooks.newSlot(), ref: false, type: LRU_FREE, cpu: fl.owner, elem: null } as unknown as LruNode<E, S>;
    node.prev = node.next = node;
    moveHead(node, fl.head);
    return node;
  }

  private head(l: LruList<E, S>, type: number): Link {
    return type === LRU_ACTIVE ? l.active : type === LRU_INACTIVE ? l.inactive : l.free.head;
  }

  private countDec(l: LruList<E, S>, type: number): void { if (type < LRU_FREE) l.counts[type as 0 | 1]--; }
  private countInc(l: LruList<E, S>, type: number): void { if (type < LRU_FREE) l.counts[type as 0 | 1]++; }

  /** __bpf_lru_node_move: between or within ACTIVE / INACTIVE / FREE; clears ref. */
  private move(l: LruList<E, S>, node: LruNode<E, S>, tgt: number): void {
    if (node.type !== tgt) {
      this.countDec(l, node.type);
      this.countInc(l, tgt);
      node.type = tgt;
    }
    node.ref = false;
    if (node === l.cursor) l.cursor = l.cursor.prev;
    moveHead(node, this.head(l, tgt));
  }

  /** __bpf_lru_node_move_to_free: out of the list (ref kept), to `take`. */
  private moveToFree(l: LruList<E, S>, node: LruNode<E, S>, tgtType: number, take: (n: LruNode<E, S>) => void): void {
    if (node === l.cursor) l.cursor = l.cursor.prev;
    this.countDec(l, node.type);
    node.type = tgtType;
    take(node);
  }

  /** __bpf_lru_node_move_in: from a PENDING list into the global lists; clears ref. */
  private moveIn(l: LruList<E, S>, node: LruNode<E, S>, tgt: number): void {
    this.countInc(l, tgt);
    node.type = tgt;
    node.ref = false;
    moveHead(node, this.head(l, tgt));
  }

  // ---- rotation and shrinking ----

  private rotateActive(l: LruList<E, S>): void {
    const first = l.active.next;
    let i = 0;
    for (let n = l.active.prev, tmp = n.prev; n !== l.active; n = tmp, tmp = n.prev) {
      const node = n as LruNode<E, S>;
      this.move(l, node, node.ref ? LRU_ACTIVE : LRU_INACTIVE);
      if (++i === this.nrScans || n === first) break;
    }
  }

  private rotateInactive(l: LruList<E, S>): void {
    const inactive = l.inactive;
    if (inactive.next === inactive) return;
    let last = l.cursor.next;
    if (last === inactive) last = last.next;
    let cur = l.cursor;
    let next: Link = inactive;
    let i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) { cur = cur.prev; continue; }
      const node = cur as LruNode<E, S>;
      next = cur.prev;
      if (node.ref) this.move(l, node, LRU_ACTIVE);
      if (cur === last) break;
      cur = next;
      i++;
    }
    l.cursor = next;
  }

  private rotate(l: LruList<E, S>): void {
    if (l.counts[LRU_INACTIVE] < l.counts[LRU_ACTIVE]) this.rotateActive(l);
    this.rotateInactive(l);
  }

  private shrinkInactive(l: LruList<E, S>, k: number, tgtType: number, take: (n: LruNode<E, S>) => void): number {
    let shrunk = 0;
    let i = 0;
    for (let n = l.inactive.prev, tmp = n.prev; n !== l.inactive; n = tmp, tmp = n.prev) {
      const node = n as LruNode<E, S>;
      if (node.ref) {
        this.move(l, node, LRU_ACTIVE);
      } else if (this.hooks.evict(node)) {
        this.moveToFree(l, node, tgtType, take);
        if (++shrunk === k) break;
      }
      if (++i === this.nrScans) break;
    }
    return shrunk;
  }

  /** __bpf_lru_list_shrink: honour ref first; if nothing was taken, force exactly one. */
  private shrink(l: LruList<E, S>, k: number, tgtType: number, take: (n: LruNode<E, S>) => void): number {
    const shrunk = this.shrinkInactive(l, k, tgtType, take);
    if (shrunk) return shrunk;
    const force = l.inactive.next !== l.inactive ? l.inactive : l.active;
    for (let n = force.prev, tmp = n.prev; n !== force; n = tmp, tmp = n.prev) {
      const node = n as LruNode<E, S>;
      if (this.hooks.evict(node)) {
        this.moveToFree(l, node, tgtType, take);
        return 1;
      }
    }
    return 0;
  }

  // ---- common mode ----

  /** bpf_lru_list_pop_free_to_local */
  private refill(loc: LocalList<E, S>): void {
    const l = this.lists[0];
    // __local_list_flush: oldest pending first.
    for (let n = loc.pending.prev, tmp = n.prev; n !== loc.pending; n = tmp, tmp = n.prev) {
      const node = n as LruNode<E, S>;
      this.moveIn(l, node, node.ref ? LRU_ACTIVE : LRU_INACTIVE);
    }
    this.rotate(l);
    const harvested: LruNode<E, S>[] = [];
    const take = (node: LruNode<E, S>) => { unlink(node); harvested.push(node); };
    while (harvested.length < this.targetFree && !l.free.empty()) {
      this.moveToFree(l, this.firstFree(l.free), LRU_LOCAL_FREE, take);
    }
    if (harvested.length < this.targetFree) this.shrink(l, this.targetFree - harvested.length, LRU_LOCAL_FREE, take);
    // The first harvested ends on top of the local stack.
    for (let i = harvested.length - 1; i >= 0; i--) loc.free.push(harvested[i]);
  }

  /** __local_list_add_pending */
  private addPending(loc: LocalList<E, S>, cpu: number, node: LruNode<E, S>): void {
    node.cpu = cpu;
    node.type = LRU_LOCAL_PENDING;
    node.ref = false;
    moveHead(node, loc.pending);
  }

  /** __local_list_pop_pending: the oldest unreferenced evictable node, else the oldest evictable. */
  private popPending(loc: LocalList<E, S>): LruNode<E, S> | null {
    for (const force of [false, true]) {
      for (let n = loc.pending.prev; n !== loc.pending; n = n.prev) {
        const node = n as LruNode<E, S>;
        if ((!node.ref || force) && this.hooks.evict(node)) {
          unlink(node);
          return node;
        }
      }
    }
    return null;
  }

  private commonPopFree(cpu: number): LruNode<E, S> | null {
    const loc = this.locals[cpu];
    let node = loc.free.pop() ?? null;
    if (node === null) {
      this.refill(loc);
      node = loc.free.pop() ?? null;
    }
    if (node !== null) {
      this.addPending(loc, cpu, node);
      return node;
    }
    // Steal from the local FREE / PENDING lists of every CPU, round-robin from next_steal.
    const first = loc.nextSteal;
    let steal = first;
    do {
      const victim = this.locals[steal];
      node = victim.free.pop() ?? this.popPending(victim);
      steal = (steal + 1) % this.nrCpus;
    } while (node === null && steal !== first);
    loc.nextSteal = steal;
    if (node === null) return null;
    this.addPending(loc, cpu, node);
    return node;
  }

  // ---- per-CPU mode ----

  private percpuPopFree(cpu: number): LruNode<E, S> | null {
    const l = this.lists[cpu];
    this.rotate(l);
    if (l.free.empty()) this.shrink(l, PERCPU_FREE_TARGET, LRU_FREE, (n) => moveHead(n, l.free.head));
    if (l.free.empty()) return null;
    const node = this.firstFree(l.free);
    node.ref = false;
    this.move(l, node, LRU_INACTIVE);
    return node;
  }
}
