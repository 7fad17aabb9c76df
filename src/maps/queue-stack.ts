/**
 * QUEUE and STACK (kernel/bpf/queue_stack_maps.c; spec maps-and-kernel-objects §2.2). A ring of
 * max_entries + 1 slots with `head` (next push) and `tail` (oldest element), as the kernel keeps
 * it: a QUEUE pops from `tail` (FIFO), a STACK from `head − 1` (LIFO), and a push with
 * BPF_EXIST on a full map drops the oldest element (`tail`) in both.
 *
 * The values live in JS memory, not in mapped regions: no helper hands out a pointer into them
 * (push copies in, pop and peek copy out).
 *
 * Program side: pushElem / popElem / peekElem (bpf_map_push_elem, _pop_elem, _peek_elem); the
 * generic lookup/update/delete ops of the type return NULL / -EINVAL (the verifier rejects them,
 * §1.3). Host side (§1.2): update = push (the key must be empty: key_size is 0), lookup = peek,
 * lookupAndDelete = pop, delete and get_next_key = EINVAL.
 */
import type { AddressSpace } from '../memory.js';
import { BPF_EXIST, BPF_MAP_TYPE_STACK, BPF_NOEXIST, E2BIG, EINVAL, ENOENT } from '../uapi.js';
import { BpfMap } from './base.js';
import type { MapSpec } from './types.js';

export class QueueStackMap extends BpfMap {
  readonly stack: boolean;
  /** max_entries + 1 slots. */
  private readonly slots: (Uint8Array | undefined)[];
  private head = 0;
  private tail = 0;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.stack = spec.type === BPF_MAP_TYPE_STACK;
    this.slots = new Array(spec.maxEntries + 1);
  }

  private get size(): number { return this.slots.length; }
  /** Number of values held. */
  get length(): number { return (this.head - this.tail + this.size) % this.size; }
  private isFull(): boolean { return (this.head + 1) % this.size === this.tail; }

  // ---- Program side (the helpers) ----

  /** queue_stack_map_push_elem: 0, -EINVAL for flags other than 0 and BPF_EXIST, -E2BIG when full. */
  pushElem(value: Uint8Array, flags: number | bigint): number {
    const f = BigInt(flags);
    if ((f & BigInt(BPF_NOEXIST)) !== 0n || f > BigInt(BPF_EXIST)) return -EINVAL;
    if (this.isFull()) {
      if (f !== BigInt(BPF_EXIST)) return -E2BIG;
      // spec §2.2: BPF_EXIST drops the oldest element, for a STACK too (its bottom).
      this.slots[this.tail] = undefined;
      this.tail = (this.tail + 1) % this.size;
    }
    this.slots[this.head] = value.slice(0, this.spec.valueSize);
    this.head = (this.head + 1) % this.size;
    return 0;
  }

  /** __queue_map_get / __stack_map_get: the value, or -ENOENT when empty (the caller zero-fills). */
  private get(remove: boolean): Uint8Array | number {
    if (this.head === this.tail) return -ENOENT;
    if (this.stack) {
      const index = (this.head - 1 + this.size) % this.size;
      const v = this.slots[index]!;
      if (remove) { this.slots[index] = undefined; this.head = index; }
      return v;
    }
    const v = this.slots[this.tail]!;
    if (remove) { this.slots[this.tail] = undefined; this.tail = (this.tail + 1) % this.size; }
    return v;
  }

  popElem(): Uint8Array | number { return this.get(true); }
  peekElem(): Uint8Array | number { return this.get(false); }

  // queue_stack_map_lookup_elem / _update_elem / _delete_elem: unreachable from verified programs.
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EINVAL; }

  // ---- Host side (spec §1.2) ----

  protected hostLookup(): Uint8Array | undefined {
    const v = this.peekElem();
    return typeof v === 'number' ? undefined : v.slice();
  }

  protected hostUpdate(_key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.pushElem(value, flags);
  }

  protected hostDelete(): number { return -EINVAL; }

  protected override hostLookupAndDelete(_key: Uint8Array, flags: number): Uint8Array | number {
    // map_lookup_and_delete_elem: QUEUE/STACK take no flags at all.
    if (flags !== 0) return -EINVAL;
    const v = this.popElem();
    return typeof v === 'number' ? v : v.slice();
  }

  protected hostNextKey(): Uint8Array | undefined {
    this.fail(EINVAL, `${this.typeName} maps have no keys (get_next_key is EINVAL)`);
  }

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    // No keys to walk; the values from the next to pop to the last.
    const n = this.length;
    for (let i = 0; i < n; i++) {
      const index = this.stack ? (this.head - 1 - i + 2 * this.size) % this.size : (this.tail + i) % this.size;
      yield [new Uint8Array(0), this.slots[index]!.slice()];
    }
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === E2BIG) return `push: the ${this.typeName} is full (max_entries ${this.maxEntries}); BPF_EXIST would drop the oldest value`;
    if (errno === EINVAL) return `push with flags ${flags}: only 0 (BPF_ANY) and BPF_EXIST are allowed`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    return errno === EINVAL ? `${this.typeName} maps have no delete (use lookupAndDelete to pop)` : super.deleteFailure(errno, key);
  }
}
