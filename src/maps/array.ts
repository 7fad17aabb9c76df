/**
 * ARRAY and PERCPU_ARRAY (kernel/bpf/arraymap.c). Values are contiguous with stride
 * round_up(value_size, 8) in one region; a per-CPU array has one such region per CPU. All
 * elements always exist and start zeroed (an ARRAY may start from `initialValue`).
 */
import { out } from '../int64.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { hexBytes } from '../text.js';
import { BPF_EXIST, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, EPERM } from '../uapi.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import { flagsValue, flagsWithoutLock, hasLockFlag, roundUp8, type MapSpec } from './types.js';

export class ArrayMap extends BpfMap {
  /** round_up(value_size, 8): the kernel's elem_size. */
  readonly stride: number;
  /** One region for ARRAY, one per CPU for PERCPU_ARRAY. */
  private readonly copies: MemoryRegion[] = [];
  /** Element addresses, computed once each, so lookups allocate nothing after the first. */
  private readonly addrCache: (bigint | undefined)[] = [];

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus, spec.type === BPF_MAP_TYPE_PERCPU_ARRAY);
    this.stride = roundUp8(spec.valueSize);
    const n = this.percpu ? nrCpus : 1;
    for (let cpu = 0; cpu < n; cpu++) {
      const label = this.percpu ? `map value of ${spec.name} (cpu ${cpu})` : `map value of ${spec.name}`;
      this.copies.push(this.mapRegion(label, new Uint8Array(spec.maxEntries * this.stride)));
    }
    if (spec.initialValue) this.copies[0].bytes.set(spec.initialValue, 0);
  }

  /** Address of element `index` in `cpu`'s copy (cpu is ignored for ARRAY). */
  private address(index: number, cpu: number): bigint {
    const c = this.percpu ? cpu : 0;
    const slot = c * this.spec.maxEntries + index;
    let a = this.addrCache[slot];
    if (a === undefined) {
      a = AddressSpace.address(this.copies[c], index * this.stride);
      this.addrCache[slot] = a;
    }
    return a;
  }

  /** The bytes of every copy, for hosts that want to read or patch values in place. */
  copyBytes(cpu = 0): Uint8Array {
    return this.copies[this.percpu ? cpu : 0].bytes;
  }

  /**
   * bpf_for_each_array_elem (kernel/bpf/arraymap.c): `fn(index, value address)` for every index
   * in order (this CPU's copy of a per-CPU array) until it returns true; the number of calls.
   */
  forEachElement(cpu: number, fn: (index: number, value: bigint) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.spec.maxEntries; i++) {
      n++;
      if (fn(i, this.address(i, cpu))) break;
    }
    return n;
  }

  // ---- Program side ----

  // array_map_lookup_elem / percpu_array_map_lookup_elem: NULL past max_entries.
  lookupElem(key: Uint8Array, cpu: number): bigint {
    const index = keyIndex(key);
    return index < this.spec.maxEntries ? this.address(index, cpu) : 0n;
  }

  override lookupElemAt(bytes: Uint8Array, offset: number, cpu: number): number {
    const index = (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0; // keyIndex
    if (index >= this.spec.maxEntries) { out.hi = 0; return 0; }
    const region = this.copies[this.percpu ? cpu : 0];
    out.hi = region.hi;
    return (region.start + index * this.stride) | 0;
  }

  updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (this.readonlyForProgram) return -EPERM;
    const err = this.checkUpdate(key, flags, true);
    if (err !== 0) return err;
    // array_map_update_elem: a per-CPU array written by a program changes this CPU's copy only.
    const size = this.spec.valueSize;
    this.copies[this.percpu ? cpu : 0].bytes.set(value.length === size ? value : value.subarray(0, size), keyIndex(key) * this.stride);
    return 0;
  }

  // array_map_delete_elem: elements of an array always exist.
  deleteElem(_key: Uint8Array): number {
    return -EINVAL;
  }

  /**
   * Flag and index rules, in the kernel's order. array_map_update_elem accepts BPF_F_LOCK
   * (rejected last, as no value holds a spin lock); bpf_percpu_array_update (the syscall path
   * of per-CPU arrays) allows only flags <= BPF_EXIST.
   */
  private checkUpdate(key: Uint8Array, flags: number, fromProgram: boolean): number {
    const percpuSyscall = this.percpu && !fromProgram;
    const base = percpuSyscall ? flagsValue(flags) : flagsWithoutLock(flags);
    if (base > BPF_EXIST) return -EINVAL;
    if (keyIndex(key) >= this.spec.maxEntries) return -E2BIG; // all elements were preallocated
    if (base === BPF_NOEXIST) return -EEXIST; // all elements already exist
    if (hasLockFlag(flags)) return -EINVAL;
    return 0;
  }

  // ---- Host side ----

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const index = keyIndex(key);
    if (index >= this.spec.maxEntries) return undefined;
    const off = index * this.stride;
    if (!this.percpu) return this.copies[0].bytes.slice(off, off + this.spec.valueSize);
    // bpf_percpu_array_copy: elem_size bytes from each CPU, back to back.
    const out = new Uint8Array(this.hostValueSize);
    this.copies.forEach((r, cpu) => out.set(r.bytes.subarray(off, off + this.stride), cpu * this.stride));
    return out;
  }

  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    const err = this.checkUpdate(key, flags, false);
    if (err !== 0) return err;
    const off = keyIndex(key) * this.stride;
    if (!this.percpu) {
      this.copies[0].bytes.set(value, off);
    } else {
      // bpf_percpu_array_update: the caller supplies elem_size bytes per CPU.
      this.copies.forEach((r, cpu) => r.bytes.set(value.subarray(cpu * this.stride, (cpu + 1) * this.stride), off));
    }
    return 0;
  }

  protected hostDelete(_key: Uint8Array): number {
    return -EINVAL;
  }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = arrayNextIndex(key, this.spec.maxEntries);
    return next === undefined ? undefined : indexKey(next);
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === E2BIG) return `index ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    if (errno === EEXIST) return `update of index ${keyIndex(key)}: array elements always exist, so BPF_NOEXIST fails`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    return errno === EINVAL ? `delete of key ${hexBytes(key)}: array elements cannot be deleted` : super.deleteFailure(errno, key);
  }
}

/**
 * array_map_get_next_key: no key or an out-of-range one gives index 0; the last index ends the
 * walk (ENOENT, here undefined); otherwise index + 1.
 */
export function arrayNextIndex(key: Uint8Array | undefined, maxEntries: number): number | undefined {
  const index = key === undefined ? 0xffffffff : keyIndex(key);
  if (index >= maxEntries) return 0;
  if (index === maxEntries - 1) return undefined;
  return index + 1;
}
