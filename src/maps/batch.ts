/**
 * The batch commands of the bpf() syscall (kernel/bpf/syscall.c bpf_map_do_batch,
 * generic_map_lookup_batch / generic_map_update_batch / generic_map_delete_batch, and
 * kernel/bpf/hashtab.c __htab_map_lookup_and_delete_batch), behind BpfMap.lookupBatch,
 * lookupAndDeleteBatch, updateBatch and deleteBatch. What libbpf's bpf_map_lookup_batch &co.
 * pass (in_batch, out_batch, keys, values, count, elem_flags, flags) are the options and results.
 *
 * Which types have which ops (the bpf_map_ops of Linux 7.2):
 * - ARRAY, PERCPU_ARRAY, ARRAY_OF_MAPS: lookup and update (generic); delete and
 *   lookup_and_delete are ENOTSUPP (array elements cannot be deleted).
 * - LPM_TRIE: lookup, update and delete (generic); lookup_and_delete is ENOTSUPP.
 * - HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH, HASH_OF_MAPS: all four; lookup and
 *   lookup_and_delete walk the table (the hash cursor), update and delete are generic.
 * - Every other type: ENOTSUPP (524) for all four, after the fd permission check (EPERM).
 *
 * Cursors (in_batch / out_batch): for the generic lookup the cursor is a key (the last key
 * visited; the walk resumes with get_next_key from it). For the hash family the kernel's cursor
 * is a u32 bucket index; bpfrun keeps hash maps in insertion order (the order of get_next_key),
 * so its u32 cursor is a position along that order and every element is its own "bucket": a
 * batch never splits a bucket, so ENOSPC (the first bucket does not fit in `count`) cannot
 * happen for count >= 1. Deleting elements between calls does not move the cursor; elements
 * inserted later come after every cursor handed out.
 */
import { MapError } from '../errors.js';
import { hexBytes } from '../text.js';
import {
  BPF_F_LOCK, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, EFAULT, EINVAL,
  ENOTSUPP, ERANGE, errnoName,
} from '../uapi.js';
import type { SpecialFields } from './special-fields.js';
import { roundUp8 } from './types.js';

/** What the batches use of a BpfMap (./base.ts, which calls in here; no import back). */
interface BpfMap {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly hostValueSize: number;
  readonly nrCpus: number;
  readonly percpu: boolean;
  readonly specialFields?: SpecialFields;
  lookup(key: Uint8Array, flags?: number): Uint8Array | undefined;
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  delete(key: Uint8Array): void;
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined;
}

/** elem_flags: one CPU's value of a per-CPU map (bits 63..32 name the CPU); new in 7.x. */
export const BPF_F_CPU = 8;
/** elem_flags (update only): the same value on every CPU of a per-CPU map; new in 7.x. */
export const BPF_F_ALL_CPUS = 16;

export interface BatchLookupOptions {
  /** Elements to return at most (the count in/out parameter's input); 0 returns at once. */
  readonly count: number;
  /** in_batch: the outBatch of the previous call; undefined (NULL) starts from the beginning. */
  readonly inBatch?: Uint8Array;
  /** elem_flags: BPF_F_LOCK, or BPF_F_CPU | (cpu << 32) on a per-CPU map (lookup only). */
  readonly elemFlags?: number | bigint;
  /** flags: must be 0 for the hash family (EINVAL); the generic lookup ignores it. */
  readonly flags?: number;
}

export interface BatchLookupResult {
  /** The keys returned, `count` of them. */
  readonly keys: Uint8Array[];
  /** Their values, laid out as BPF_MAP_LOOKUP_ELEM returns them (per-CPU: every CPU's, 8-aligned). */
  readonly values: Uint8Array[];
  /** count as the kernel writes it back. */
  readonly count: number;
  /**
   * out_batch: the cursor for the next call. When the kernel leaves out_batch unwritten (count
   * 0, or a generic walk that returned nothing) this is `inBatch` unchanged.
   */
  readonly outBatch: Uint8Array | undefined;
  /** The walk reached the end: the kernel's ENOENT (with `count` elements still returned). */
  readonly done: boolean;
}

export interface BatchUpdateOptions {
  /** How many elements to process; default: keys.length. Keys or values missing below it fault. */
  readonly count?: number;
  /**
   * elem_flags: 0, BPF_F_LOCK, BPF_F_CPU | (cpu << 32) or BPF_F_ALL_CPUS (per-CPU maps). Every
   * element is written as with BPF_ANY: BPF_NOEXIST and BPF_EXIST are EINVAL here.
   */
  readonly elemFlags?: number | bigint;
  /** flags: ignored by the kernel's generic update and delete. */
  readonly flags?: number;
}

export interface BatchDeleteOptions {
  readonly count?: number;
  /** elem_flags: only BPF_F_LOCK is allowed (and needs a spin lock in the value). */
  readonly elemFlags?: number | bigint;
  readonly flags?: number;
}

/**
 * A batch command that failed part way: `count` elements were done (the count the kernel
 * writes back before returning the errno). `cause` is the element operation's MapError.
 */
export class MapBatchError extends MapError {
  constructor(map: string, errno: string, reason: string, readonly count: number, options?: ErrorOptions) {
    super(map, errno, reason, options);
    this.name = 'MapBatchError';
  }
}

type Op = 'lookup' | 'lookup_and_delete' | 'update' | 'delete';

const GENERIC_ARRAY = new Set(['lookup', 'update']);
const ALL = new Set(['lookup', 'lookup_and_delete', 'update', 'delete']);
const BATCH_OPS: ReadonlyMap<number, ReadonlySet<string>> = new Map([
  [BPF_MAP_TYPE_ARRAY, GENERIC_ARRAY],
  [BPF_MAP_TYPE_PERCPU_ARRAY, GENERIC_ARRAY],
  [BPF_MAP_TYPE_ARRAY_OF_MAPS, GENERIC_ARRAY],
  [BPF_MAP_TYPE_LPM_TRIE, new Set(['lookup', 'update', 'delete'])],
  [BPF_MAP_TYPE_HASH, ALL],
  [BPF_MAP_TYPE_PERCPU_HASH, ALL],
  [BPF_MAP_TYPE_LRU_HASH, ALL],
  [BPF_MAP_TYPE_LRU_PERCPU_HASH, ALL],
  [BPF_MAP_TYPE_HASH_OF_MAPS, ALL],
]);

const HASH_FAMILY = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_HASH_OF_MAPS]);

/** A map whose lookup batches walk a hash table (HashMap, the HASH_OF_MAPS MapInMap). */
interface BatchWalkable {
  batchTake(cursor: number, max: number): { keys: Uint8Array[]; next: number; more: boolean; past: boolean };
}

/** An error before any element was handled: a MapError, and the kernel leaves count alone. */
function fail(map: BpfMap, errno: number, reason: string): never {
  throw new MapError(map.name, errnoName(errno), reason);
}

/** An error part way: MapBatchError with the count the kernel writes back. */
function failAt(map: BpfMap, errno: number, reason: string, count: number, cause?: unknown): never {
  throw new MapBatchError(map.name, errnoName(errno), reason, count, cause === undefined ? undefined : { cause });
}

/** bpf_map_do_batch: ENOTSUPP when the type lacks the op (after the permission check). */
function requireOp(map: BpfMap, op: Op): void {
  if (!BATCH_OPS.get(map.type)?.has(op)) fail(map, ENOTSUPP, `${op}_batch is not supported for ${map.typeName} maps`);
}

function toFlags(f: number | bigint | undefined): bigint {
  if (f === undefined) return 0n;
  return BigInt.asUintN(64, typeof f === 'bigint' ? f : BigInt(f));
}

/** bpf_map_check_op_flags (include/linux/bpf.h). */
function checkOpFlags(map: BpfMap, flags: bigint, allowed: number): void {
  const low = Number(flags & 0xffffffffn);
  if ((low & ~allowed) !== 0) fail(map, EINVAL, `elem_flags ${flags}: only ${allowedNames(allowed)} are allowed`);
  if ((low & BPF_F_LOCK) && map.specialFields?.spinLock === undefined) {
    fail(map, EINVAL, 'BPF_F_LOCK needs a struct bpf_spin_lock in the value, and this map has none');
  }
  if (!(low & BPF_F_CPU) && (flags >> 32n) !== 0n) fail(map, EINVAL, `elem_flags ${flags}: the upper 32 bits are set without BPF_F_CPU`);
  if (low & (BPF_F_CPU | BPF_F_ALL_CPUS)) {
    if (!map.percpu) fail(map, EINVAL, `BPF_F_CPU and BPF_F_ALL_CPUS are only for per-CPU maps, not ${map.typeName}`);
    if ((low & BPF_F_CPU) && (low & BPF_F_ALL_CPUS)) fail(map, EINVAL, 'BPF_F_CPU and BPF_F_ALL_CPUS together');
    const cpu = Number(flags >> 32n);
    if ((low & BPF_F_CPU) && cpu >= map.nrCpus) fail(map, ERANGE, `BPF_F_CPU names CPU ${cpu}, but there are ${map.nrCpus}`);
  }
}

function allowedNames(allowed: number): string {
  const names = [[BPF_F_LOCK, 'BPF_F_LOCK'], [BPF_F_CPU, 'BPF_F_CPU'], [BPF_F_ALL_CPUS, 'BPF_F_ALL_CPUS']] as const;
  const out = names.filter(([b]) => allowed & b).map(([, n]) => n);
  return out.length === 1 ? out[0] : out.join(', ');
}

/** The value a lookup hands back: one CPU's value_size bytes with BPF_F_CPU. */
function lookupValue(map: BpfMap, key: Uint8Array, flags: bigint): Uint8Array | undefined {
  const low = Number(flags & 0xffffffffn);
  const v = map.lookup(key, low & BPF_F_LOCK);
  if (v === undefined || !(low & BPF_F_CPU)) return v;
  const off = Number(flags >> 32n) * roundUp8(map.valueSize);
  return v.slice(off, off + map.valueSize);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** BPF_MAP_LOOKUP_BATCH / BPF_MAP_LOOKUP_AND_DELETE_BATCH after the permission checks. */
export function lookupBatch(map: BpfMap, del: boolean, opts: BatchLookupOptions): BatchLookupResult {
  requireOp(map, del ? 'lookup_and_delete' : 'lookup');
  const flags = toFlags(opts.elemFlags);
  const max = opts.count;
  if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) throw new RangeError('count must be a u32');
  if (HASH_FAMILY.has(map.type)) return hashLookupBatch(map, del, opts, flags, max);

  // generic_map_lookup_batch: attr->batch.flags is not checked.
  checkOpFlags(map, flags, BPF_F_LOCK | BPF_F_CPU);
  const none: BatchLookupResult = { keys: [], values: [], count: 0, outBatch: opts.inBatch, done: false };
  if (max === 0) return none;
  let prev: Uint8Array | undefined;
  if (opts.inBatch !== undefined) {
    if (opts.inBatch.length < map.keySize) fail(map, EFAULT, `in_batch must hold a key (${map.keySize} bytes), got ${opts.inBatch.length}`);
    prev = opts.inBatch.slice(0, map.keySize);
  }
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  let done = false;
  while (keys.length < max) {
    const key = map.nextKey(prev);
    if (key === undefined) { done = true; break; }
    let value: Uint8Array | undefined;
    try {
      value = lookupValue(map, key, flags);
    } catch (e) {
      // bpf_map_copy_value failed with something other than ENOENT: the kernel returns it with
      // count 0 (written before the walk).
      if (e instanceof MapError) failAt(map, errnoOf(e), `lookup_batch: lookup of key ${hexBytes(key)} failed: ${e.reason}`, 0, e);
      throw e;
    }
    if (value !== undefined) { keys.push(key); values.push(value); }
    prev = key;
  }
  // out_batch is written only when something was returned: the last key visited.
  return { keys, values, count: keys.length, outBatch: keys.length > 0 ? prev : opts.inBatch, done };
}

/** __htab_map_lookup_and_delete_batch, one element per bucket. */
function hashLookupBatch(map: BpfMap, del: boolean, opts: BatchLookupOptions, flags: bigint, max: number): BatchLookupResult {
  checkOpFlags(map, flags, BPF_F_LOCK | (!del && map.percpu ? BPF_F_CPU : 0));
  if ((opts.flags ?? 0) !== 0) fail(map, EINVAL, `flags ${opts.flags}: batch flags must be 0`);
  const none: BatchLookupResult = { keys: [], values: [], count: 0, outBatch: opts.inBatch, done: false };
  if (max === 0) return none;
  let cursor = 0;
  if (opts.inBatch !== undefined) {
    if (opts.inBatch.length < 4) fail(map, EFAULT, `in_batch of a hash map is a u32 (4 bytes), got ${opts.inBatch.length}`);
    cursor = new DataView(opts.inBatch.buffer, opts.inBatch.byteOffset, 4).getUint32(0, true);
  }
  const walk = (map as unknown as Partial<BatchWalkable>).batchTake;
  if (walk === undefined) fail(map, ENOTSUPP, `${del ? 'lookup_and_delete' : 'lookup'}_batch is not implemented for ${map.typeName} maps in bpfrun`);
  const taken = walk.call(map, cursor, max);
  // A cursor at or past the end (the kernel: batch >= n_buckets): ENOENT at once, out_batch
  // untouched. A walk from the start always writes out_batch, even on an empty map.
  if (opts.inBatch !== undefined && taken.past) return { ...none, done: true };
  const values: Uint8Array[] = [];
  for (const key of taken.keys) values.push(lookupValue(map, key, flags) as Uint8Array);
  if (del) for (const key of taken.keys) map.delete(key);
  return { keys: taken.keys, values, count: taken.keys.length, outBatch: u32(taken.next), done: !taken.more };
}

/** generic_map_update_batch after the permission check. */
export function updateBatch(map: BpfMap, keys: readonly Uint8Array[], values: readonly Uint8Array[], opts: BatchUpdateOptions): number {
  requireOp(map, 'update');
  const flags = toFlags(opts.elemFlags);
  checkOpFlags(map, flags, BPF_F_LOCK | BPF_F_CPU | BPF_F_ALL_CPUS);
  const low = Number(flags & 0xffffffffn);
  const oneCpu = (low & (BPF_F_CPU | BPF_F_ALL_CPUS)) !== 0;
  const valueSize = oneCpu ? map.valueSize : map.hostValueSize;
  const max = opts.count ?? keys.length;
  if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) throw new RangeError('count must be a u32');
  const elemFlags = low & ~(BPF_F_CPU | BPF_F_ALL_CPUS);
  for (let cp = 0; cp < max; cp++) {
    const key = keys[cp];
    const value = values[cp];
    if (key === undefined || value === undefined || key.length < map.keySize || value.length < valueSize) {
      failAt(map, EFAULT, `update_batch: element ${cp} has no ${key === undefined || key.length < map.keySize ? `key (${map.keySize} bytes)` : `value (${valueSize} bytes)`}`, cp);
    }
    const k = key.length === map.keySize ? key : key.subarray(0, map.keySize);
    let v = value.length === valueSize ? value : value.subarray(0, valueSize);
    if (oneCpu) v = spreadCpuValue(map, k, v, low, Number(flags >> 32n));
    try {
      map.update(k, v, elemFlags);
    } catch (e) {
      if (e instanceof MapError) failAt(map, errnoOf(e), `update_batch stopped at element ${cp}: ${e.reason}`, cp, e);
      throw e;
    }
  }
  return max;
}

/**
 * BPF_F_CPU / BPF_F_ALL_CPUS: the full per-CPU value the update writes. With BPF_F_CPU the other
 * CPUs keep their values (an element that does not exist yet starts with zeros on them, as
 * pcpu_init_value does).
 */
function spreadCpuValue(map: BpfMap, key: Uint8Array, value: Uint8Array, low: number, cpu: number): Uint8Array {
  const stride = roundUp8(map.valueSize);
  if (low & BPF_F_ALL_CPUS) {
    const full = new Uint8Array(map.hostValueSize);
    for (let c = 0; c < map.nrCpus; c++) full.set(value, c * stride);
    return full;
  }
  let full: Uint8Array;
  try {
    full = map.lookup(key) ?? new Uint8Array(map.hostValueSize);
  } catch {
    full = new Uint8Array(map.hostValueSize);
  }
  full.set(value, cpu * stride); // copy_map_value: value_size bytes, the padding is left alone
  return full;
}

/** generic_map_delete_batch after the permission check. */
export function deleteBatch(map: BpfMap, keys: readonly Uint8Array[], opts: BatchDeleteOptions): number {
  requireOp(map, 'delete');
  const flags = toFlags(opts.elemFlags);
  if ((flags & ~BigInt(BPF_F_LOCK)) !== 0n) fail(map, EINVAL, `elem_flags ${flags}: only BPF_F_LOCK is allowed`);
  if (flags !== 0n && map.specialFields?.spinLock === undefined) {
    fail(map, EINVAL, 'BPF_F_LOCK needs a struct bpf_spin_lock in the value, and this map has none');
  }
  const max = opts.count ?? keys.length;
  if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) throw new RangeError('count must be a u32');
  for (let cp = 0; cp < max; cp++) {
    const key = keys[cp];
    if (key === undefined || key.length < map.keySize) failAt(map, EFAULT, `delete_batch: element ${cp} has no key (${map.keySize} bytes)`, cp);
    try {
      map.delete(key.length === map.keySize ? key : key.subarray(0, map.keySize));
    } catch (e) {
      if (e instanceof MapError) failAt(map, errnoOf(e), `delete_batch stopped at element ${cp}: ${e.reason}`, cp, e);
      throw e;
    }
  }
  return max;
}

function errnoOf(e: MapError): number {
  for (let n = 1; n < 600; n++) if (errnoName(n) === e.errno) return n;
  return EINVAL;
}

