/**
 * HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c), one class: the
 * per-CPU and LRU behaviours are switches on the same table.
 *
 * Storage: value slots with stride round_up(value_size, 8) live in mapped regions that a slot
 * pool hands out (one region per CPU for per-CPU maps); a JS Map goes from the key's bytes to
 * the element. The kernel preallocates max_entries elements unless BPF_F_NO_PREALLOC; the pool
 * instead grows in doubling chunks up to max_entries and never shrinks, whatever the flag, so
 * a huge, mostly empty map costs little. Either way an element's address stays valid until it
 * is deleted, and a deleted slot is reused by a later insert (as the kernel's freelist does).
 *
 * Choices where the kernel is approximate or unspecified:
 * - Iteration (get_next_key, entries) is in insertion order; the kernel walks its buckets.
 * - Updating an existing element writes the new value into the same slot. The kernel's
 *   htab_map_update_elem and htab_lru_map_update_elem instead link a fresh element and free
 *   the old one (so a pointer from an earlier lookup keeps the old bytes until the slot is
 *   reused), while per-CPU hashes and BPF_F_LOCK updates are done in place. Keeping the slot
 *   makes the outcome deterministic and matches the in-place cases; programs cannot rely on
 *   the difference, since the kernel may reuse the old element at any time.
 *
 * LRU maps follow the kernel's approximate LRU exactly (lru.ts, spec §2.16): an element is one
 * of max_entries LRU nodes; every LRU_HASH update takes a node (possibly evicting other keys)
 * before looking at the key, and a replacing update links the new node (ref set) and frees the
 * old one, so the value address changes; LRU_PERCPU_HASH updates an existing element in place
 * (setting its ref) and takes no node for BPF_EXIST. Program lookups set ref; host lookups do
 * not (htab_lru_map_lookup_elem_sys). An update or delete runs on a CPU: a program's on the
 * kernel's current CPU, a host (syscall) one on `hostCpu` (default 0).
 */
import { out } from '../int64.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { BpfMap, keyString } from './base.js';

/** A key as the table holds it (tableKey). */
type TableKey = number | string;

/**
 * The table key of a map key: a number for 4-byte keys and for 8-byte keys below 2^53 (the
 * usual u32 and u64 ids), which the table hashes and compares without building a string; else
 * keyString's string. The two kinds never collide: a Map tells 5 from "5".
 */
function tableKey(key: Uint8Array): TableKey {
  if (key.length === 4) return (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0;
  if (key.length === 8 && key[7] === 0 && key[6] < 0x20) {
    return ((key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0) + (key[4] | (key[5] << 8) | (key[6] << 16)) * 4294967296;
  }
  return keyString(key);
}
import { KeyIndex } from './key-index.js';
import { Lru, type LruNode } from './lru.js';
import { flagsValue, flagsWithoutLock, hasLockFlag, roundUp8, type MapSpec } from './types.js';
import {
  BPF_EXIST, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_NOEXIST,
  BPF_F_NO_COMMON_LRU, E2BIG, EINVAL, ENOENT, ENOMEM, ENOTSUPP, EPERM, EEXIST,
} from '../uapi.js';

/** The CPU that host (syscall-side) LRU updates run on unless a map's `hostCpu` says otherwise. */
export const HOST_LRU_CPU = 0;

/** One value slot: the same offset in each CPU's chunk region. */
export interface Slot {
  /** Each CPU's chunk bytes (one entry unless per-CPU). */
  readonly bytes: readonly Uint8Array[];
  readonly offset: number;
  /** Each CPU's address of the value. */
  readonly addrs: readonly bigint[];
  /** The same addresses as int32 halves, for lookups that hand them to registers. */
  readonly addrLo: readonly number[];
  readonly addrHi: readonly number[];
}

interface Element {
  readonly key: Uint8Array;
  readonly tkey: TableKey;
  readonly slot: Slot;
  /** Insertion order. */
  prev: Element | null;
  next: Element | null;
  /** LRU maps: the node holding this element. */
  readonly node?: LruNode<Element, Slot>;
}

const FIRST_CHUNK = 16;
/** Stay below AddressSpace's 2 GiB region limit. */
const MAX_REGION_BYTES = 0x80000000;

/** Hands out value slots from regions mapped on demand; freed slots are reused first. */
export class SlotPool {
  private readonly free: Slot[] = [];
  private created = 0;
  private chunks = 0;

  constructor(
    private readonly map: (label: string, bytes: Uint8Array) => MemoryRegion,
    private readonly label: string,
    private readonly capacity: number,
    private readonly stride: number,
    private readonly nrCopies: number,
  ) {}

  /** A free slot, or undefined when max_entries slots are in use. */
  take(): Slot | undefined {
    if (this.free.length === 0 && this.created < this.capacity) this.grow();
    return this.free.pop();
  }

  release(slot: Slot): void {
    this.free.push(slot);
  }

  private grow(): void {
    const n = Math.min(this.capacity - this.created, Math.max(FIRST_CHUNK, this.created),
      Math.floor(MAX_REGION_BYTES / this.stride));
    const chunk = this.chunks++;
    const copies = [];
    for (let cpu = 0; cpu < this.nrCopies; cpu++) {
      const parts = [chunk > 0 ? `chunk ${chunk}` : '', this.nrCopies > 1 ? `cpu ${cpu}` : ''].filter(Boolean);
      copies.push(this.map(parts.length ? `${this.label} (${parts.join(', ')})` : this.label, new Uint8Array(n * this.stride)));
    }
    const bytes = copies.map((c) => c.bytes);
    // Pushed high to low so that pop() hands out ascending addresses.
    for (let i = n - 1; i >= 0; i--) {
      const offset = i * this.stride;
      this.free.push({
        bytes, offset, addrs: copies.map((c) => AddressSpace.address(c, offset)),
        addrLo: copies.map((c) => (c.start + offset) | 0), addrHi: copies.map((c) => c.hi),
      });
    }
    this.created += n;
  }
}

export class HashMap extends BpfMap {
  readonly lru: boolean;
  private readonly stride: number;
  private readonly table = new Map<TableKey, Element>();
  /** Keys of at most 8 bytes: the table's copy that program lookups read (./key-index.ts). */
  private readonly index?: KeyIndex<Element>;
  private readonly pool: SlotPool;
  private first: Element | null = null;
  private last: Element | null = null;
  /** LRU maps: the kernel's LRU lists. */
  readonly lruLists?: Lru<Element, Slot>;
  /** LRU maps: the CPU host (syscall) updates run on, as the caller's CPU in the kernel. */
  hostCpu = HOST_LRU_CPU;
  private readonly effectiveMaxEntries: number;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number, maxEntries = spec.maxEntries) {
    const t = spec.type;
    super(spec, memory, nrCpus, t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH);
    this.lru = t === BPF_MAP_TYPE_LRU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.effectiveMaxEntries = maxEntries;
    this.stride = roundUp8(spec.valueSize);
    if (spec.keySize <= 8) this.index = new KeyIndex(spec.keySize, this.percpu ? nrCpus : 1, this.lru);
    this.pool = new SlotPool((label, bytes) => this.mapRegion(label, bytes), `map value of ${spec.name}`, maxEntries, this.stride, this.percpu ? nrCpus : 1);
    if (this.lru) {
      this.lruLists = new Lru<Element, Slot>(maxEntries, nrCpus, (spec.flags & BPF_F_NO_COMMON_LRU) !== 0, {
        newSlot: () => this.pool.take() as Slot,
        evict: (node) => this.evictNode(node),
      });
    }
  }

  override get maxEntries(): number { return this.effectiveMaxEntries; }

  /** Number of elements. */
  get size(): number { return this.table.size; }

  /** Told the element count after every insert and delete (bpf_htab.count behind &map, spec maps §3.4). */
  onCountChange?: (count: number) => void;

  /**
   * bpf_for_each_hash_elem (kernel/bpf/hashtab.c): `fn(key, value address)` per element (this
   * CPU's copy for per-CPU maps) until it returns true; the number of calls. Insertion order here,
   * bucket order in the kernel. The next element is taken before the call, so the callback may
   * delete the current one; LRU recency is not touched.
   */
  forEachElement(cpu: number, fn: (key: Uint8Array, value: bigint) => boolean): number {
    let n = 0;
    for (let e = this.first; e !== null;) {
      const next = e.next;
      n++;
      if (fn(e.key, e.slot.addrs[this.percpu ? cpu : 0])) break;
      e = next;
    }
    return n;
  }

  // ---- Program side ----

  lookupElem(key: Uint8Array, cpu: number): bigint {
    const e = this.table.get(tableKey(key));
    if (e === undefined) return 0n;
    if (e.node) e.node.ref = true; // htab_lru_map_lookup_elem sets the reference bit
    return e.slot.addrs[this.percpu ? cpu : 0];
  }

  override lookupElemAt(bytes: Uint8Array, offset: number, cpu: number): number {
    const index = this.index;
    if (index === undefined) return super.lookupElemAt(bytes, offset, cpu);
    const at = index.find(bytes, offset);
    if (at < 0) { out.hi = 0; return 0; }
    if (this.lru) (index.item(at).node as LruNode<Element, Slot>).ref = true; // as lookupElem
    const w = index.entries, v = at + (this.percpu ? 2 + 2 * cpu : 2);
    out.hi = w[v + 1];
    return w[v];
  }

  updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (this.readonlyForProgram) return -EPERM;
    return this.upsert(key, value, flags, cpu);
  }

  deleteElem(key: Uint8Array): number {
    if (this.readonlyForProgram) return -EPERM;
    return this.remove(key);
  }

  // ---- Host side ----

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const e = this.table.get(tableKey(key));
    return e === undefined ? undefined : this.readValue(e.slot);
  }

  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.upsert(key, value, flags, -1);
  }

  protected hostDelete(key: Uint8Array): number {
    return this.remove(key);
  }

  // htab_lookup_and_delete_elem (spec §1.2): HASH, PERCPU_HASH and the LRU hashes only;
  // DEVMAP_HASH (also this class) is ENOTSUPP.
  protected override hostLookupAndDelete(key: Uint8Array): Uint8Array | number {
    if (this.spec.type === BPF_MAP_TYPE_DEVMAP_HASH) return -ENOTSUPP;
    const value = this.hostLookup(key);
    if (value === undefined) return -ENOENT;
    this.remove(key);
    return value;
  }

  // htab_map_get_next_key: a key that is not in the map restarts from the first element.
  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const e = key === undefined ? undefined : this.table.get(tableKey(key));
    const next = e === undefined ? this.first : e.next;
    return next === null ? undefined : next.key.slice();
  }

  /** Elements present when iteration starts and still present when reached, in insertion order. */
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    this.requireRead('get_next_key');
    const snapshot: Element[] = [];
    for (let e = this.first; e !== null; e = e.next) snapshot.push(e);
    for (const e of snapshot) {
      if (this.table.get(e.tkey) === e) yield [e.key.slice(), this.readValue(e.slot)];
    }
  }

  // ---- The shared update/delete paths ----

  /**
   * Insert or replace. `cpu` >= 0 is a program update (per-CPU maps: that CPU's copy); -1 is
   * the syscall, which supplies every CPU's value (bpf_percpu_hash_update, onallcpus).
   */
  private upsert(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    // htab_map_update_elem allows BPF_F_LOCK (and then needs a spin lock: EINVAL here);
    // htab_lru_map_update_elem and __htab_percpu_map_update_elem allow only flags <= BPF_EXIST.
    const plain = !this.lru && !this.percpu;
    const base = plain ? flagsWithoutLock(flags) : flagsValue(flags);
    if (base > BPF_EXIST) return -EINVAL;
    if (hasLockFlag(flags)) return -EINVAL;

    const tkey = tableKey(key);
    if (this.lruLists) return this.lruUpsert(key, tkey, value, base, cpu < 0 ? this.hostCpu : cpu, cpu);
    const old = this.table.get(tkey);
    // check_flags
    if (old !== undefined && base === BPF_NOEXIST) return -EEXIST;
    if (old === undefined && base === BPF_EXIST) return -ENOENT;

    if (old !== undefined) {
      this.writeValue(old.slot, value, cpu, false);
      return 0;
    }

    // A full HASH fails the insert (alloc_htab_elem: -E2BIG).
    const slot = this.pool.take();
    if (slot === undefined) return -E2BIG;
    this.writeValue(slot, value, cpu, true);
    this.link({ key: key.slice(), tkey, slot, prev: this.last, next: null });
    return 0;
  }

  /**
   * htab_lru_map_update_elem / __htab_lru_percpu_map_update_elem on `lruCpu`; `cpu` as for
   * upsert. The flags were checked.
   */
  private lruUpsert(key: Uint8Array, tkey: TableKey, value: Uint8Array, flags: number, lruCpu: number, cpu: number): number {
    const lru = this.lruLists as Lru<Element, Slot>;
    let node: LruNode<Element, Slot> | null = null;
    // The node comes first (it may evict keys, even this one); LRU_PERCPU_HASH skips it for BPF_EXIST.
    if (!this.percpu || flags !== BPF_EXIST) {
      node = lru.popFree(lruCpu);
      if (node === null) return -ENOMEM;
    }
    const old = this.table.get(tkey);
    let err = 0;
    if (old !== undefined && flags === BPF_NOEXIST) err = -EEXIST;
    else if (old === undefined && flags === BPF_EXIST) err = -ENOENT;
    else if (this.percpu && old !== undefined) {
      if (old.node) old.node.ref = true;
      this.writeValue(old.slot, value, cpu, false);
    } else {
      const n = node as LruNode<Element, Slot>;
      this.writeValue(n.slot, value, cpu, true);
      const e: Element = { key: key.slice(), tkey, slot: n.slot, prev: this.last, next: null, node: n };
      n.elem = e;
      node = null;
      if (old === undefined) {
        this.link(e);
      } else {
        // The new element takes the old one's place (in iteration order here).
        n.ref = true;
        e.prev = old.prev;
        e.next = old.next;
        if (old.prev) old.prev.next = e; else this.first = e;
        if (old.next) old.next.prev = e; else this.last = e;
        this.table.set(tkey, e);
        this.index?.set(e.key, e.slot.addrLo, e.slot.addrHi, e);
        (old.node as LruNode<Element, Slot>).elem = null;
        lru.pushFree(old.node as LruNode<Element, Slot>);
      }
    }
    if (node !== null) lru.pushFree(node);
    return err;
  }

  private link(e: Element): void {
    if (this.last) this.last.next = e; else this.first = e;
    this.last = e;
    this.table.set(e.tkey, e);
    this.index?.set(e.key, e.slot.addrLo, e.slot.addrHi, e);
    this.onCountChange?.(this.table.size);
  }

  /** htab_lru_map_delete_node: the LRU takes the node back from its key. */
  private evictNode(node: LruNode<Element, Slot>): boolean {
    const e = node.elem;
    if (e === null || this.table.get(e.tkey) !== e) return false;
    this.unlink(e);
    node.elem = null;
    return true;
  }

  // htab_map_delete_elem / htab_lru_map_delete_elem: ENOENT if absent.
  private remove(key: Uint8Array): number {
    const e = this.table.get(tableKey(key));
    if (e === undefined) return -ENOENT;
    this.unlink(e);
    if (e.node) {
      e.node.elem = null;
      this.lruLists?.pushFree(e.node);
    } else {
      this.pool.release(e.slot);
    }
    return 0;
  }

  private writeValue(slot: Slot, value: Uint8Array, cpu: number, fresh: boolean): void {
    const size = this.spec.valueSize;
    const v = value.length === size ? value : value.subarray(0, size); // helpers pass exactly size
    if (!this.percpu) {
      slot.bytes[0].set(v, slot.offset);
    } else if (cpu < 0) {
      // pcpu_copy_value(onallcpus): round_up(value_size, 8) bytes per CPU from the caller.
      for (let c = 0; c < slot.bytes.length; c++) {
        slot.bytes[c].set(value.subarray(c * this.stride, (c + 1) * this.stride), slot.offset);
      }
    } else {
      // A program's insert sets its CPU's copy and zeroes the others (pcpu_init_value);
      // a program's update of an existing element touches its CPU's copy only.
      if (fresh) for (const b of slot.bytes) b.fill(0, slot.offset, slot.offset + this.stride);
      slot.bytes[cpu].set(v, slot.offset);
    }
  }

  private readValue(slot: Slot): Uint8Array {
    if (!this.percpu) return slot.bytes[0].slice(slot.offset, slot.offset + this.spec.valueSize);
    const out = new Uint8Array(this.hostValueSize);
    for (let c = 0; c < slot.bytes.length; c++) {
      out.set(slot.bytes[c].subarray(slot.offset, slot.offset + this.stride), c * this.stride);
    }
    return out;
  }

  private unlink(e: Element): void {
    this.table.delete(e.tkey);
    this.index?.delete(e.key);
    if (e.prev) e.prev.next = e.next; else this.first = e.next;
    if (e.next) e.next.prev = e.prev; else this.last = e.prev;
    this.onCountChange?.(this.table.size);
  }

  // ---- Batch cursors (BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH, src/maps/batch.ts) ----

  /**
   * Each element's batch position: ascending along the insertion order, given when a batch walk
   * first sees the element (elements inserted since the last walk end the insertion list).
   */
  private readonly batchPositions = new WeakMap<Element, number>();
  private batchNextPosition = 0;
  /** Where the last walk stopped: `elem` is the first element at or after position `cursor`. */
  private batchHint: { cursor: number; elem: Element } | undefined;

  /**
   * The batch walk (the kernel walks buckets; here every element is its own "bucket"): up to
   * `max` keys of the elements at positions >= `cursor`, in insertion order. `next` is the
   * cursor after them (the end position when the walk reached the end), `more` whether elements
   * remain after them, `past` whether `cursor` is at or past the end (no element was ever
   * given a position >= cursor). Elements inserted later come after every cursor handed out,
   * and deleting elements does not move the others.
   */
  batchTake(cursor: number, max: number): { keys: Uint8Array[]; next: number; more: boolean; past: boolean } {
    const fresh: Element[] = [];
    for (let e = this.last; e !== null && !this.batchPositions.has(e); e = e.prev) fresh.push(e);
    for (let i = fresh.length - 1; i >= 0; i--) this.batchPositions.set(fresh[i], this.batchNextPosition++);
    const pos = (e: Element): number => this.batchPositions.get(e) as number;
    const hint = this.batchHint;
    let e: Element | null;
    if (hint !== undefined && hint.cursor === cursor && this.table.get(hint.elem.tkey) === hint.elem) {
      e = hint.elem;
    } else {
      for (e = this.first; e !== null && pos(e) < cursor; e = e.next);
    }
    const keys: Uint8Array[] = [];
    let next = cursor;
    for (; e !== null && keys.length < max; e = e.next) {
      keys.push(e.key.slice());
      next = pos(e) + 1;
    }
    this.batchHint = e === null ? undefined : { cursor: next, elem: e };
    if (e === null) next = Math.max(next, this.batchNextPosition);
    return { keys, next, more: e !== null, past: cursor >= this.batchNextPosition };
  }
}
