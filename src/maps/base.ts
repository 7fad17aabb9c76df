/**
 * The base of every map: the spec, the two faces (program-side operations that return
 * addresses and negative errnos, host-side operations that behave like the bpf() syscall and
 * throw MapError), and the syscall-level rules shared by all types: fd permissions, freezing,
 * BPF_F_LOCK, and key/value lengths.
 */
import { MapError } from '../errors.js';
import type { AddressSpace, MemoryRegion } from '../memory.js';
import { out, splitU64Into } from '../int64.js';
import { hexBytes } from '../text.js';
import {
  BPF_ANY, BPF_F_LOCK, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, E2BIG, EEXIST, EINVAL, ENOENT,
  ENOTSUPP, EPERM, errnoName, mapTypeName,
} from '../uapi.js';
import { hasLockFlag, roundUp8, type MapSpec } from './types.js';
import { specialRanges, type SpecialFields } from './special-fields.js';
import {
  deleteBatch, lookupBatch, updateBatch, type BatchDeleteOptions, type BatchLookupOptions, type BatchLookupResult, type BatchUpdateOptions,
} from './batch.js';

export interface MapOptions {
  /** Number of possible CPUs: how many copies a per-CPU map keeps. */
  readonly nrCpus: number;
  /**
   * BLOOM_FILTER without BPF_F_ZERO_SEED: the hash seed (the kernel draws a random one; bpfrun
   * defaults to a value derived from the map's name, so runs reproduce). spec §2.3
   */
  readonly hashSeed?: number;
}

/** lookupElemAt's split of a BigInt address. */
const HALVES = new Int32Array(2);

export abstract class BpfMap {
  /** Size of a value as the bpf() syscall exchanges it: all CPUs' copies for per-CPU maps. */
  readonly hostValueSize: number;
  private isFrozen = false;
  /**
   * Where the value's bpf_spin_lock / bpf_res_spin_lock / bpf_timer / bpf_wq are, from its BTF
   * (set at creation, src/kernel/special-fields.ts); undefined: none. spec §6.1
   */
  specialFields?: SpecialFields;
  /** Regions this map mapped into the address space (for info and close()). */
  protected readonly ownRegions: MemoryRegion[] = [];

  constructor(
    readonly spec: MapSpec,
    protected readonly memory: AddressSpace,
    readonly nrCpus: number,
    /** Whether values are per CPU (PERCPU_ARRAY, PERCPU_HASH, LRU_PERCPU_HASH). */
    readonly percpu = false,
  ) {
    this.hostValueSize = percpu ? roundUp8(spec.valueSize) * nrCpus : spec.valueSize;
  }

  get name(): string { return this.spec.name; }
  get type(): number { return this.spec.type; }
  get typeName(): string { return mapTypeName(this.spec.type); }
  get keySize(): number { return this.spec.keySize; }
  get valueSize(): number { return this.spec.valueSize; }
  /** max_entries as the kernel reports it (LRU with BPF_F_NO_COMMON_LRU may round it). */
  get maxEntries(): number { return this.spec.maxEntries; }
  get flags(): number { return this.spec.flags; }
  get frozen(): boolean { return this.isFrozen; }
  /** BPF_F_RDONLY_PROG: the value regions are mapped read-only and program updates fail. */
  get readonlyForProgram(): boolean { return (this.spec.flags & BPF_F_RDONLY_PROG) !== 0; }
  /** BPF_F_WRONLY_PROG: the verifier would reject program reads; recorded, not enforced. */
  get writeonlyForProgram(): boolean { return (this.spec.flags & BPF_F_WRONLY_PROG) !== 0; }
  get regions(): readonly MemoryRegion[] { return this.ownRegions; }

  /** Maps a buffer for this map; read-only to programs when BPF_F_RDONLY_PROG is set. */
  protected mapRegion(label: string, bytes: Uint8Array, writable = !this.readonlyForProgram): MemoryRegion {
    const region = this.memory.map(label, bytes, writable);
    this.ownRegions.push(region);
    return region;
  }

  /** Unmaps the map's memory; pointers into it fault afterwards. */
  close(): void {
    for (const r of this.ownRegions) this.memory.unmap(r);
    this.ownRegions.length = 0;
  }

  // ---------------------------------------------------------------------------------------
  // Program side: what the helpers call. Keys and values are the bytes the helper copied out
  // of program memory (key_size and value_size long); `cpu` is the running CPU.
  // ---------------------------------------------------------------------------------------

  /** bpf_map_lookup_elem: the simulated address of the value (this CPU's copy), or 0n. */
  abstract lookupElem(key: Uint8Array, cpu: number): bigint;
  /**
   * lookupElem for the engines' direct helper path, without BigInt: the key is the keySize
   * bytes at `bytes[offset]` (program memory, read now and not kept); returns the address's low
   * half and leaves its high half in int64's `out.hi` (0 and 0 for NULL). Types with a
   * cheaper form override it; the rest go through lookupElem.
   */
  lookupElemAt(bytes: Uint8Array, offset: number, cpu: number): number {
    splitU64Into(this.lookupElem(bytes.subarray(offset, offset + this.spec.keySize), cpu), HALVES, 0);
    out.hi = HALVES[1];
    return HALVES[0];
  }
  /** bpf_map_update_elem: 0 or a negative errno. Per-CPU maps write only `cpu`'s copy. */
  abstract updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number;
  /** bpf_map_delete_elem: 0 or a negative errno. */
  abstract deleteElem(key: Uint8Array): number;

  // ---------------------------------------------------------------------------------------
  // Host side: BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM / GET_NEXT_KEY / FREEZE.
  // ---------------------------------------------------------------------------------------

  /**
   * The value (a copy; per-CPU maps: every CPU's value, each padded to 8 bytes), or undefined.
   * Special fields (lock words, timers) read as zeros (copy_map_value + check_and_init_map_value,
   * spec §1.2); `flags` may be BPF_F_LOCK when the value has a bpf_spin_lock (spec §6.1).
   */
  lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.requireRead('lookup');
    if (flags !== 0 && flags !== BPF_F_LOCK) this.fail(EINVAL, `lookup flags ${flags}: only BPF_F_LOCK is supported`);
    if (flags === BPF_F_LOCK && this.specialFields?.spinLock === undefined) {
      this.fail(EINVAL, 'BPF_F_LOCK needs a struct bpf_spin_lock in the value, and this map has none');
    }
    this.checkKey(key);
    const value = this.hostLookup(key);
    if (value && this.specialFields) for (const [a, b] of specialRanges(this.specialFields)) value.fill(0, a, b);
    return value;
  }

  /** Inserts or replaces; throws MapError with the kernel's errno. */
  update(key: Uint8Array, value: Uint8Array, flags: number = BPF_ANY): void {
    this.requireWrite('update');
    this.checkKey(key);
    if (value.length !== this.hostValueSize) {
      this.fail(EINVAL, `value must be ${this.hostValueSize} bytes${this.percpu ? ` (${this.nrCpus} CPUs × ${roundUp8(this.valueSize)})` : ''}, got ${value.length}`);
    }
    // map_update_elem (syscall.c): BPF_F_LOCK needs a bpf_spin_lock in the value.
    if (hasLockFlag(flags) && this.specialFields?.spinLock === undefined) {
      this.fail(EINVAL, 'BPF_F_LOCK needs a struct bpf_spin_lock in the value, and this map has none');
    }
    const err = this.specialFields ? this.updateSkippingSpecial(key, value, flags, (v, f) => this.hostUpdate(key, v, f))
      : this.hostUpdate(key, value, flags);
    if (err < 0) this.fail(-err, this.updateFailure(-err, key, flags));
  }

  /**
   * An update of a value with special fields (spec §1.2, §6.1): they are never copied from
   * the new value. Without BPF_F_LOCK the element's special fields start afresh (zero: a
   * timer in the replaced value is freed); with BPF_F_LOCK an existing element is updated in
   * place, under its lock, and keeps them (its timer survives). `write` does the family's
   * update (flags without BPF_F_LOCK when it was handled here).
   */
  protected updateSkippingSpecial(key: Uint8Array, value: Uint8Array, flags: number,
    write: (value: Uint8Array, flags: number) => number): number {
    const merged = value.slice();
    const ranges = specialRanges(this.specialFields);
    const old = hasLockFlag(flags) ? this.hostLookup(key) : undefined;
    for (const [a, b] of ranges) {
      if (old) merged.set(old.subarray(a, b), a);
      else merged.fill(0, a, b);
    }
    return write(merged, hasLockFlag(flags) ? flags - BPF_F_LOCK : flags);
  }

  /**
   * bpf_map_update_elem from a program: BPF_F_LOCK is allowed on ARRAY and HASH values with a
   * spin lock (spec §6.1); special fields are never copied from the program's value.
   */
  updateElemFromProgram(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (!this.specialFields) return this.updateElem(key, value, flags, cpu);
    if (hasLockFlag(flags) && this.specialFields.spinLock === undefined) return -EINVAL;
    return this.updateSkippingSpecial(key, value, flags, (v, f) => this.updateElem(key, v, f, cpu));
  }

  /** Deletes; throws MapError (ENOENT for a missing key, EINVAL for arrays). */
  delete(key: Uint8Array): void {
    this.requireWrite('delete');
    this.checkKey(key);
    const err = this.hostDelete(key);
    if (err < 0) this.fail(-err, this.deleteFailure(-err, key));
  }

  /**
   * BPF_MAP_LOOKUP_AND_DELETE_ELEM (spec maps-and-kernel-objects §1.2): the value, then the
   * element is gone; undefined for ENOENT. Needs read and write access; flags other than
   * BPF_F_LOCK are EINVAL, and BPF_F_LOCK is EINVAL too (no value holds a spin lock). Only QUEUE
   * and STACK (pop) and the hash maps implement it; every other type is ENOTSUPP (524).
   */
  lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.requireRead('lookup_and_delete');
    this.requireWrite('lookup_and_delete');
    this.checkKey(key);
    if (flags !== 0 && flags !== BPF_F_LOCK) this.fail(EINVAL, `lookup_and_delete flags ${flags}: only BPF_F_LOCK is allowed`);
    // QUEUE/STACK refuse any flag (EINVAL) before the spin-lock check, which is EINVAL as well.
    if (flags === BPF_F_LOCK) this.fail(EINVAL, 'BPF_F_LOCK needs a struct bpf_spin_lock in the value, and this map has none');
    const r = this.hostLookupAndDelete(key, flags);
    if (typeof r !== 'number') return r;
    if (r === -ENOENT) return undefined;
    this.fail(-r, r === -ENOTSUPP ? `lookup_and_delete is not supported for ${this.typeName} maps` : `lookup_and_delete of key ${hexBytes(key)} failed`);
  }

  /** The type's lookup_and_delete: the value, or a negative errno (default ENOTSUPP). */
  protected hostLookupAndDelete(_key: Uint8Array, _flags: number): Uint8Array | number {
    return -ENOTSUPP;
  }

  /**
   * BPF_MAP_GET_NEXT_KEY: the first key for undefined (or for a key that is not in a hash map),
   * the following key otherwise, undefined after the last one (the kernel's ENOENT).
   */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    this.requireRead('get_next_key');
    if (key !== undefined) this.checkKey(key);
    return this.hostNextKey(key);
  }

  /** Every [key, value] pair, in get_next_key order, as copies. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (let k = this.nextKey(undefined); k !== undefined; k = this.nextKey(k)) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }

  // ---------------------------------------------------------------------------------------
  // Batches: BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH / UPDATE_BATCH / DELETE_BATCH
  // (libbpf's bpf_map_*_batch; rules and cursors in ./batch.ts). Types without the op are
  // ENOTSUPP; a failure part way throws MapBatchError, whose `count` says how many were done.
  // ---------------------------------------------------------------------------------------

  /**
   * Up to `count` elements after the cursor `inBatch` (undefined: from the start); `done` is the
   * kernel's ENOENT (the end was reached; the elements found are still returned).
   */
  lookupBatch(opts: BatchLookupOptions): BatchLookupResult {
    this.requireRead('lookup_batch');
    return lookupBatch(this, false, opts);
  }

  /** lookupBatch that deletes what it returns (hash maps only; others ENOTSUPP). */
  lookupAndDeleteBatch(opts: BatchLookupOptions): BatchLookupResult {
    this.requireRead('lookup_and_delete_batch');
    this.requireWrite('lookup_and_delete_batch');
    return lookupBatch(this, true, opts);
  }

  /** Updates keys[i] to values[i] in order; the number done (opts.count ?? keys.length). */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchUpdateOptions = {}): number {
    this.requireWrite('update_batch');
    return updateBatch(this, keys, values, opts);
  }

  /** Deletes the keys in order (a missing key stops the batch with ENOENT); the number done. */
  deleteBatch(keys: readonly Uint8Array[], opts: BatchDeleteOptions = {}): number {
    this.requireWrite('delete_batch');
    return deleteBatch(this, keys, opts);
  }

  /**
   * BPF_MAP_FREEZE: from now on the syscall side cannot write (EPERM); programs still can,
   * unless BPF_F_RDONLY_PROG. Rules from map_freeze() and map_get_sys_perms() (syscall.c).
   */
  freeze(): void {
    // map_get_sys_perms() drops write permission once frozen, so freezing twice is EPERM,
    // as is freezing through a read-only fd.
    if (this.isFrozen) this.fail(EPERM, 'map is already frozen');
    if (this.spec.flags & BPF_F_RDONLY) this.fail(EPERM, 'cannot freeze a map created with BPF_F_RDONLY');
    this.isFrozen = true;
  }

  // ---- To implement per family; errors are returned as negative errnos ----
  protected abstract hostLookup(key: Uint8Array): Uint8Array | undefined;
  protected abstract hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number;
  protected abstract hostDelete(key: Uint8Array): number;
  protected abstract hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined;

  /** Sentence for a failed host update; families refine E2BIG. */
  protected updateFailure(errno: number, key: Uint8Array, flags: number): string {
    const what = `update of key ${hexBytes(key)} with flags ${flags}`;
    switch (errno) {
      case EEXIST: return `${what}: the element exists and flags are BPF_NOEXIST`;
      case ENOENT: return `${what}: no such element and flags are BPF_EXIST`;
      case E2BIG: return `${what}: the map is full (max_entries ${this.maxEntries})`;
      case EINVAL: return `${what}: invalid flags`;
      default: return `${what} failed`;
    }
  }

  protected deleteFailure(errno: number, key: Uint8Array): string {
    return errno === ENOENT ? `delete of key ${hexBytes(key)}: no such element` : `delete of key ${hexBytes(key)} failed`;
  }

  /** Throws the MapError for an errno. */
  protected fail(errno: number, reason: string): never {
    throw new MapError(this.spec.name, errnoName(errno), reason);
  }

  protected checkKey(key: Uint8Array): void {
    if (key.length !== this.spec.keySize) this.fail(EINVAL, `key must be ${this.spec.keySize} bytes, got ${key.length}`);
  }

  // map_get_sys_perms() (syscall.c): BPF_F_RDONLY/BPF_F_WRONLY restrict the fd; freezing
  // removes write permission.
  protected requireRead(op: string): void {
    if (this.spec.flags & BPF_F_WRONLY) this.fail(EPERM, `${op} on a map created with BPF_F_WRONLY`);
  }

  protected requireWrite(op: string): void {
    if (this.isFrozen) this.fail(EPERM, `${op} on a frozen map`);
    if (this.spec.flags & BPF_F_RDONLY) this.fail(EPERM, `${op} on a map created with BPF_F_RDONLY`);
  }
}

/** Key bytes as a string for JS Map lookups: one char per byte, one allocation per call. */
export function keyString(key: Uint8Array): string {
  // Fixed-arity calls for the common key sizes are several times faster than apply().
  const f = String.fromCharCode;
  switch (key.length) {
    case 1: return f(key[0]);
    case 2: return f(key[0], key[1]);
    case 4: return f(key[0], key[1], key[2], key[3]);
    case 8: return f(key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7]);
    case 16: return f(key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
      key[8], key[9], key[10], key[11], key[12], key[13], key[14], key[15]);
  }
  if (key.length <= 4096) return String.fromCharCode.apply(null, key as unknown as number[]);
  let s = '';
  for (let i = 0; i < key.length; i += 4096) {
    s += String.fromCharCode.apply(null, key.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** The u32 index an array key holds (little-endian, as on x86-64). */
export function keyIndex(key: Uint8Array): number {
  return (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0;
}

export function indexKey(index: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index, true);
  return k;
}

