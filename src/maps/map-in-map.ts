/**
 * ARRAY_OF_MAPS and HASH_OF_MAPS (kernel/bpf/map_in_map.c, arraymap.c, hashtab.c; spec
 * maps-and-kernel-objects §1.4, §2.4). Each slot holds an inner map, which must match the
 * template (MapSpec.innerMap, libbpf's `<outer>.inner` from `__array(values, ...)`) under the
 * template type's map_meta_equal; a mismatch is EINVAL.
 *
 * The model of fds and ids (bpfrun has no fds): a map's **id** is its position in its kernel's
 * map list plus one (the object's maps in definition order, so the first map is id 1). The
 * syscall-style API exchanges ids where the kernel exchanges fds (update) and ids (lookup):
 * `update(key, u32 id)` and `lookup(key)` → u32 id. `setInner(key, map)` and `inner(key)`
 * take and give BpfMap objects. A program's bpf_map_lookup_elem returns the inner map's handle,
 * the value `&inner` yields, so it can be the map argument of the next helper call.
 *
 * Ids and handles come from a MapRegistry the loader attaches (the kernel's maps); a map
 * created on its own gets a registry of its own, which only knows the maps set into it.
 *
 * HASH_OF_MAPS iterates (get_next_key) in insertion order, as bpfrun's hash maps do; the kernel
 * walks its buckets. Inner maps are held by reference: closing or replacing one is the host's
 * business (the kernel's refcounts and RCU grace periods are not modelled).
 */
import type { AddressSpace } from '../memory.js';
import { hexBytes } from '../text.js';
import {
  BPF_ANY, BPF_EXIST, BPF_F_INNER_MAP, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_XSKMAP, BPF_NOEXIST, E2BIG, EBADF, EEXIST, EINVAL, ENOENT, EPERM, mapTypeName,
} from '../uapi.js';
import { BpfMap, indexKey, keyIndex, keyString } from './base.js';
import { arrayNextIndex } from './array.js';
import { flagsValue, type MapSpec } from './types.js';

/** Map ids and handles: what the kernel's fd table and map idr are to the real maps. */
export interface MapRegistry {
  /** The map with this id, or undefined (the kernel's EBADF for a bad fd). */
  byId(id: number): BpfMap | undefined;
  /** The id of a map, or undefined when the registry does not know it. */
  idOf(map: BpfMap): number | undefined;
  /** The handle a program sees for the map (`&map`); 0n when unknown. */
  handleOf(map: BpfMap): bigint;
}

/** A registry for maps created outside a loaded object: ids in order of first use, no handles. */
class LocalRegistry implements MapRegistry {
  private readonly maps: BpfMap[] = [];
  byId(id: number): BpfMap | undefined { return this.maps[id - 1]; }
  idOf(map: BpfMap): number {
    const i = this.maps.indexOf(map);
    return i >= 0 ? i + 1 : this.maps.push(map);
  }
  handleOf(): bigint { return 0n; }
}

/**
 * map_meta_equal of the template's type (bpf_map_meta_equal, array_map_meta_equal,
 * xsk_map_meta_equal): undefined when `inner` fits `template`, else the reason. spec §2.4
 */
export function innerMapMismatch(template: MapSpec, inner: MapSpec): string | undefined {
  if (inner.type !== template.type) return `map type ${mapTypeName(inner.type)} differs from the template's ${mapTypeName(template.type)}`;
  if (inner.keySize !== template.keySize) return `key_size ${inner.keySize} differs from the template's ${template.keySize}`;
  if (inner.valueSize !== template.valueSize) return `value_size ${inner.valueSize} differs from the template's ${template.valueSize}`;
  if (inner.flags !== template.flags) return `map_flags ${inner.flags} differ from the template's ${template.flags}`;
  const array = template.type === BPF_MAP_TYPE_ARRAY || template.type === BPF_MAP_TYPE_PERCPU_ARRAY;
  if (((array && !(template.flags & BPF_F_INNER_MAP)) || template.type === BPF_MAP_TYPE_XSKMAP) && inner.maxEntries !== template.maxEntries) {
    return `max_entries ${inner.maxEntries} differs from the template's ${template.maxEntries}${array ? ' (the template has no BPF_F_INNER_MAP)' : ''}`;
  }
  return undefined;
}

interface Slot { readonly key: Uint8Array; readonly map: BpfMap; handle: bigint }

export class MapInMap extends BpfMap {
  readonly array: boolean;
  readonly template: MapSpec;
  private registry: MapRegistry = new LocalRegistry();
  /** By key string; a JS Map keeps insertion order (bpfrun's hash order). */
  private readonly slots = new Map<string, Slot>();

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number, template: MapSpec) {
    super(spec, memory, nrCpus);
    this.array = spec.type === BPF_MAP_TYPE_ARRAY_OF_MAPS;
    this.template = template;
  }

  /** Gives the map the ids and handles of its kernel's maps (the loader does this). */
  attachRegistry(registry: MapRegistry): void {
    this.registry = registry;
    for (const s of this.slots.values()) s.handle = registry.handleOf(s.map);
  }

  /** Number of occupied slots. */
  get size(): number { return this.slots.size; }

  /** The inner map at `key`, or undefined. */
  inner(key: Uint8Array): BpfMap | undefined {
    this.requireRead('lookup');
    this.checkKey(key);
    return this.slots.get(keyString(key))?.map;
  }

  /** Sets an inner map, checked against the template (EINVAL) and the update flags. */
  setInner(key: Uint8Array, map: BpfMap, flags: number = BPF_ANY): void {
    this.requireWrite('update');
    this.checkKey(key);
    const err = this.put(key, map, flags);
    if (err < 0) this.fail(-err, err === -EINVAL ? this.mismatch(map, flags) : this.updateFailure(-err, key, flags));
  }

  private mismatch(map: BpfMap, flags: number): string {
    if (this.array && flagsValue(flags) !== BPF_ANY) return `update with flags ${flags}: map-in-map arrays take only BPF_ANY`;
    if (flagsValue(flags) > BPF_EXIST) return `update with flags ${flags}: invalid flags`;
    return `inner map ${map.name} does not match the template ${this.template.name}: ${innerMapMismatch(this.template, map.spec) ?? 'it is itself a map-in-map'}`;
  }

  /** bpf_fd_array_map_update_elem / bpf_fd_htab_map_update_elem with a resolved map. */
  private put(key: Uint8Array, map: BpfMap, flags: number): number {
    const f = flagsValue(flags);
    if (this.array) {
      if (f !== BPF_ANY) return -EINVAL;
      if (keyIndex(key) >= this.spec.maxEntries) return -E2BIG;
    } else if (f > BPF_EXIST) {
      return -EINVAL;
    }
    // bpf_map_fd_get_ptr: the template's map_meta_equal (a map-in-map never matches: its type
    // cannot be a template's).
    if (map instanceof MapInMap || innerMapMismatch(this.template, map.spec) !== undefined) return -EINVAL;
    const ks = keyString(key);
    if (!this.array) {
      const exists = this.slots.has(ks);
      if (f === BPF_NOEXIST && exists) return -EEXIST;
      if (f === BPF_EXIST && !exists) return -ENOENT;
      if (!exists && this.slots.size >= this.spec.maxEntries) return -E2BIG;
    }
    this.registry.idOf(map);
    this.slots.set(ks, { key: key.slice(), map, handle: this.registry.handleOf(map) });
    return 0;
  }

  // ---- Batch cursors of HASH_OF_MAPS (src/maps/batch.ts; HashMap.batchTake is the model) ----

  /** Each key's batch position, ascending along the slots' (insertion) order. */
  private batchPositions = new Map<string, number>();
  private batchNextPosition = 0;

  /**
   * Up to `max` keys at positions >= `cursor` in insertion order, the cursor after them, whether
   * more remain, and whether `cursor` is past every position given. A key deleted and inserted
   * again moves to the end and gets a new position unless its old one still fits the order.
   */
  batchTake(cursor: number, max: number): { keys: Uint8Array[]; next: number; more: boolean; past: boolean } {
    const positions = new Map<string, number>();
    let prev = -1;
    for (const ks of this.slots.keys()) {
      let p = this.batchPositions.get(ks);
      if (p === undefined || p <= prev) p = this.batchNextPosition++;
      positions.set(ks, p);
      prev = p;
    }
    this.batchPositions = positions;
    const keys: Uint8Array[] = [];
    let next = cursor;
    let more = false;
    for (const [ks, s] of this.slots) {
      const p = positions.get(ks) as number;
      if (p < cursor) continue;
      if (keys.length === max) { more = true; break; }
      keys.push(s.key.slice());
      next = p + 1;
    }
    if (!more) next = Math.max(next, this.batchNextPosition);
    return { keys, next, more, past: cursor >= this.batchNextPosition };
  }

  // ---- Program side: lookup only (spec §1.3) ----

  /** array_of_map_lookup_elem / htab_of_map_lookup_elem: the inner map's handle, or NULL. */
  lookupElem(key: Uint8Array): bigint {
    return this.slots.get(keyString(key))?.handle ?? 0n;
  }

  // Rejected by the verifier from programs (§1.3); the ops would take a map fd.
  updateElem(): number { return -EINVAL; }
  deleteElem(key: Uint8Array): number {
    if (this.readonlyForProgram) return -EPERM;
    return this.remove(key);
  }

  private remove(key: Uint8Array): number {
    if (this.array && keyIndex(key) >= this.spec.maxEntries) return -E2BIG;
    return this.slots.delete(keyString(key)) ? 0 : -ENOENT;
  }

  // ---- Host side: ids in, ids out ----

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const s = this.slots.get(keyString(key));
    if (!s) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.registry.idOf(s.map) ?? 0, true);
    return out;
  }

  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    const id = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
    const map = this.registry.byId(id);
    // The kernel resolves the fd after the flag and index checks of the update.
    if (!map) {
      const f = flagsValue(flags);
      if (this.array ? f !== BPF_ANY : f > BPF_EXIST) return -EINVAL;
      if (this.array && keyIndex(key) >= this.spec.maxEntries) return -E2BIG;
      return -EBADF;
    }
    return this.put(key, map, flags);
  }

  protected hostDelete(key: Uint8Array): number {
    return this.remove(key);
  }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (this.array) {
      const next = arrayNextIndex(key, this.spec.maxEntries);
      return next === undefined ? undefined : indexKey(next);
    }
    const keys = [...this.slots.values()];
    const i = key === undefined ? -1 : keys.findIndex((s) => keyString(s.key) === keyString(key));
    const next = keys[i + 1]; // a missing key restarts from the first (-1 + 1)
    return next?.key.slice();
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === EBADF) return `update of ${hexBytes(key)}: the value is not the id of a map`;
    if (errno === EINVAL) return `update of ${hexBytes(key)} with flags ${flags}: invalid flags or an inner map that does not match the template ${this.template.name}`;
    if (errno === E2BIG && this.array) return `index ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    if (errno === E2BIG) return `delete of index ${keyIndex(key)}: out of range (max_entries ${this.maxEntries})`;
    return super.deleteFailure(errno, key);
  }
}
