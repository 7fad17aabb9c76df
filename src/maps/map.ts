/**
 * Map creation: the checks of the bpf() syscall's map_create (kernel/bpf/syscall.c) followed by
 * each type's map_alloc_check / map_alloc, with the kernel's errno. Errors name the map and
 * the rule. bpfrun runs with full privileges (CAP_BPF, CAP_SYS_ADMIN, CAP_PERFMON), so the
 * capability checks and the unprivileged Spectre rounding of arrays never apply.
 */
import { MapError } from '../errors.js';
import type { AddressSpace } from '../memory.js';
import { hex } from '../text.js';
import {
  BPF_F_ACCESS_MASK, BPF_F_INNER_MAP, BPF_F_MMAPABLE, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC,
  BPF_F_NO_USER_CONV, BPF_F_NUMA_NODE, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY, BPF_F_RDONLY_PROG,
  BPF_F_SEGV_ON_FAULT, BPF_F_TOKEN_FD, BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_F_ZERO_SEED, BPF_MAP_TYPE_ARENA,
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_CGROUP_STORAGE, BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_INSN_ARRAY, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_STRUCT_OPS, BPF_MAP_TYPE_CPUMAP, BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_XSKMAP, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_USER_RINGBUF, BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_TASK_STORAGE,
  BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_CGRP_STORAGE, BPF_MAP_TYPE_STACK_TRACE, BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_SOCKMAP, BPF_MAP_TYPE_SOCKHASH, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, E2BIG,
  EBADF, EINVAL, ENOMEM, ENOTSUPP, EOPNOTSUPP, ERANGE, errnoName, INT_MAX, KMALLOC_MAX_SIZE, mapTypeName,
  NR_MAP_TYPES, PAGE_SIZE, PCPU_MIN_UNIT_SIZE, U32_MAX,
} from '../uapi.js';
import { ArenaMap } from './arena.js';
import { ArrayMap } from './array.js';
import type { BpfMap, MapOptions } from './base.js';
import { BloomFilterMap } from './bloom-filter.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import { MapInMap } from './map-in-map.js';
import { QueueStackMap } from './queue-stack.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { ProgArrayMap } from './progarray.js';
import { RingBufMap } from './ringbuf.js';
import { CgroupArrayMap } from './cgroup-array.js';
import { CgroupStorageMap } from './cgroup-storage.js';
import { LocalStorageMap } from './local-storage.js';
import { StackTraceMap } from './stack-trace.js';
import { UserRingBufMap } from './user-ringbuf.js';
import { checkCgroupStorage, checkLocalStorage, checkReuseportValue, checkSockMap, checkStackTrace } from './checks3.js';
import { SockMap } from './sockmap.js';
import { roundUp8, type MapSpec } from './types.js';

export { BpfMap, type MapOptions } from './base.js';

/** AddressSpace maps at most 2 GiB per region; a bigger map is the kernel's ENOMEM. */
const MAX_REGION_BYTES = 0x80000000;
/** sizeof(struct htab_elem) on x86-64 (hash node, LRU node, hash; the key follows). */
const HTAB_ELEM_SIZE = 48;
/** sizeof(struct bucket) on x86-64: an hlist_nulls_head and an rqspinlock_t, padded. */
const HTAB_BUCKET_SIZE = 16;
/** An fd array's element: round_up(value_size 4, 8), the kernel keeps a pointer per slot. */
const FD_ARRAY_ELEM_SIZE = 8;
/** RINGBUF_MAX_DATA_SZ: pg_off is 24 bits of pages, minus the meta pages. */
const RINGBUF_MAX_DATA_SZ = ((1 << 24) - 3) * PAGE_SIZE;
/** The arena's address range: at most 4 GiB, inside one 4 GiB-aligned window. */
const ARENA_MAX_BYTES = 2 ** 32;

const ARRAY_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
const HTAB_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
const RINGBUF_CREATE_FLAG_MASK = BPF_F_NUMA_NODE;
const ARENA_CREATE_FLAG_MASK = BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT | BPF_F_NO_USER_CONV;

const QUEUE_STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const LPM_CREATE_FLAG_MASK = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const BLOOM_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;
/** LPM_DATA_SIZE_MAX, and LPM_VAL_SIZE_MAX: KMALLOC_MAX_SIZE - 256 - sizeof(struct lpm_trie_node) (24). */
const LPM_DATA_SIZE_MAX = 256;
const LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - 24;

type MapAlloc = (spec: MapSpec, memory: AddressSpace, nrCpus: number, options: MapOptions) => BpfMap;

const allocArray: MapAlloc = (s, memory, nrCpus) => {
  checkArray(s);
  checkRegion(s, s.maxEntries * roundUp8(s.valueSize));
  // A per-CPU array holds a copy per CPU, all allocated at creation: the limit is on their sum.
  if (s.type === BPF_MAP_TYPE_PERCPU_ARRAY) checkRegion(s, s.maxEntries * roundUp8(s.valueSize) * nrCpus, `of values (${nrCpus} CPUs' copies)`);
  return new ArrayMap(s, memory, nrCpus);
};
const allocHash: MapAlloc = (s, memory, nrCpus) => new HashMap(s, memory, nrCpus, checkHash(s, nrCpus));

/**
 * The map types bpfrun implements, by type number: each entry is the type's map_alloc_check
 * and map_alloc. A new map type is one entry here and its own module.
 */
const MAP_TYPES: ReadonlyMap<number, MapAlloc> = new Map<number, MapAlloc>([
  [BPF_MAP_TYPE_ARRAY, allocArray],
  [BPF_MAP_TYPE_PERCPU_ARRAY, allocArray],
  [BPF_MAP_TYPE_PROG_ARRAY, (s, memory, nrCpus) => {
    checkProgArray(s);
    // array_map_alloc sizes max_entries pointers for bpf_map_area_alloc; bpfrun's slots are
    // sparse, but a table the kernel would have to allocate past the region limit is ENOMEM.
    checkRegion(s, s.maxEntries * FD_ARRAY_ELEM_SIZE, 'of program slots (8 bytes each)');
    return new ProgArrayMap(s, memory, nrCpus);
  }],
  [BPF_MAP_TYPE_HASH, allocHash],
  [BPF_MAP_TYPE_PERCPU_HASH, allocHash],
  [BPF_MAP_TYPE_LRU_HASH, allocHash],
  [BPF_MAP_TYPE_LRU_PERCPU_HASH, allocHash],
  [BPF_MAP_TYPE_RINGBUF, (s, memory, nrCpus) => {
    checkRingbuf(s);
    checkRegion(s, 2 * s.maxEntries);
    return new RingBufMap(s, memory, nrCpus);
  }],
  // spec maps-and-kernel-objects §2.9: fd-array rules; each slot holds a simulated perf event.
  [BPF_MAP_TYPE_PERF_EVENT_ARRAY, (s, memory, nrCpus) => {
    checkFdArray(s, 'perf event array values are u32 perf event fds');
    checkRegion(s, s.maxEntries * FD_ARRAY_ELEM_SIZE, 'of event slots (8 bytes each)');
    return new PerfEventArrayMap(s, memory, nrCpus);
  }],
  // spec §2.14: the RINGBUF rules (BPF_F_RB_OVERWRITE is RINGBUF's only).
  [BPF_MAP_TYPE_USER_RINGBUF, (s, memory, nrCpus) => {
    checkRingbuf(s);
    checkRegion(s, 2 * s.maxEntries);
    return new UserRingBufMap(s, memory, nrCpus);
  }],
  // spec §2.12: bpf_local_storage_map_alloc_check.
  [BPF_MAP_TYPE_SK_STORAGE, (s, memory, nrCpus) => { checkLocalStorage(s); return new LocalStorageMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_TASK_STORAGE, (s, memory, nrCpus) => { checkLocalStorage(s); return new LocalStorageMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_INODE_STORAGE, (s, memory, nrCpus) => { checkLocalStorage(s); return new LocalStorageMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_CGRP_STORAGE, (s, memory, nrCpus) => { checkLocalStorage(s); return new LocalStorageMap(s, memory, nrCpus); }],
  // spec §2.13: cgroup_storage_map_alloc.
  [BPF_MAP_TYPE_CGROUP_STORAGE, (s, memory, nrCpus) => { checkCgroupStorage(s); return new CgroupStorageMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, (s, memory, nrCpus) => { checkCgroupStorage(s); return new CgroupStorageMap(s, memory, nrCpus); }],
  // spec §2.10: stack_map_alloc.
  [BPF_MAP_TYPE_STACK_TRACE, (s, memory, nrCpus) => { checkStackTrace(s); return new StackTraceMap(s, memory, nrCpus); }],
  // spec §2.11: fd-array rules; slots hold cgroups (the root only in bpfrun).
  [BPF_MAP_TYPE_CGROUP_ARRAY, (s, memory, nrCpus) => {
    checkFdArray(s, 'cgroup array values are u32 cgroup fds');
    checkRegion(s, s.maxEntries * FD_ARRAY_ELEM_SIZE, 'of cgroup slots (8 bytes each)');
    return new CgroupArrayMap(s, memory, nrCpus);
  }],
  // spec §2.15: always empty (bpfrun simulates no sockets for them to hold).
  [BPF_MAP_TYPE_SOCKMAP, (s, memory, nrCpus) => { checkSockMap(s); return new SockMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_SOCKHASH, (s, memory, nrCpus) => { checkSockMap(s); return new SockMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, (s, memory, nrCpus) => { checkReuseportValue(s); checkArray(s); return new SockMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_ARENA, (s, memory, nrCpus) => { checkArena(s); return new ArenaMap(s, memory, nrCpus); }],
  // The redirect maps hold their devices', CPUs' or sockets' values; bpf_redirect_map reads them
  // for its verdict (test runs never transmit). maps-and-kernel-objects §2.8
  [BPF_MAP_TYPE_DEVMAP, slotArray],
  [BPF_MAP_TYPE_CPUMAP, slotArray],
  [BPF_MAP_TYPE_XSKMAP, slotArray],
  [BPF_MAP_TYPE_DEVMAP_HASH, (s, memory, nrCpus) => new HashMap(s, memory, nrCpus, checkHash(s, nrCpus))],
  [BPF_MAP_TYPE_QUEUE, (s, memory, nrCpus) => { checkQueueStack(s); return new QueueStackMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_STACK, (s, memory, nrCpus) => { checkQueueStack(s); return new QueueStackMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_LPM_TRIE, (s, memory, nrCpus) => { checkLpmTrie(s); return new LpmTrieMap(s, memory, nrCpus); }],
  [BPF_MAP_TYPE_BLOOM_FILTER, (s, memory, nrCpus, options) => { checkBloom(s); return new BloomFilterMap(s, memory, nrCpus, options.hashSeed); }],
  [BPF_MAP_TYPE_ARRAY_OF_MAPS, (s, memory, nrCpus) => {
    // fd_array_map_alloc_check (value_size 4, no program access flags, the array rules), then
    // array_of_map_alloc's bpf_map_meta_alloc. spec §2.4
    checkFdArray(s, 'map-in-map values are u32 map fds');
    checkRegion(s, s.maxEntries * FD_ARRAY_ELEM_SIZE, 'of map slots (8 bytes each)');
    return new MapInMap(s, memory, nrCpus, checkInnerTemplate(s, memory, nrCpus));
  }],
  [BPF_MAP_TYPE_HASH_OF_MAPS, (s, memory, nrCpus) => {
    // fd_htab_map_alloc_check: value_size 4, then the hash rules; then bpf_map_meta_alloc.
    if (s.valueSize !== 4) fail(s, EINVAL, `map-in-map values are u32 map fds: value_size must be 4, got ${s.valueSize}`);
    const maxEntries = checkHash(s, nrCpus);
    return new MapInMap({ ...s, maxEntries }, memory, nrCpus, checkInnerTemplate(s, memory, nrCpus));
  }],
]);

/** Creates a map, validating its definition as BPF_MAP_CREATE does; throws MapError. */
export function createMap(spec: MapSpec, memory: AddressSpace, options: MapOptions): BpfMap {
  const { nrCpus } = options;
  if (!Number.isInteger(nrCpus) || nrCpus < 1) throw new RangeError('nrCpus must be a positive integer');
  const s = checkCommon(spec);
  const alloc = MAP_TYPES.get(s.type);
  if (!alloc) fail(s, EOPNOTSUPP, `map type ${s.type} (${mapTypeName(s.type)}) is not implemented by bpfrun`);
  return alloc(s, memory, nrCpus, options);
}

function fail(spec: MapSpec, errno: number, rule: string): never {
  throw new MapError(spec.name, errnoName(errno), rule);
}

/** map_create's checks before the type's own; returns the spec with BPF_F_TOKEN_FD stripped. */
function checkCommon(spec: MapSpec): MapSpec {
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= U32_MAX;
  for (const field of ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'] as const) {
    if (!u32(spec[field])) fail(spec, EINVAL, `${field} must be a u32, got ${spec[field]}`);
  }
  if (spec.mapExtra < 0n || spec.mapExtra >= 1n << 64n) fail(spec, EINVAL, `map_extra must be a u64, got ${spec.mapExtra}`);
  // BPF_F_TOKEN_FD only says which fd carries a token; map_create clears it before type checks.
  const s = spec.flags & BPF_F_TOKEN_FD ? { ...spec, flags: (spec.flags & ~BPF_F_TOKEN_FD) >>> 0 } : spec;
  if (s.type !== BPF_MAP_TYPE_BLOOM_FILTER && s.type !== BPF_MAP_TYPE_ARENA && s.mapExtra !== 0n) {
    fail(s, EINVAL, `map_extra must be 0 for ${mapTypeName(s.type)} maps (only bloom_filter and arena use it)`);
  }
  // bpf_get_file_flag
  if ((s.flags & BPF_F_RDONLY) && (s.flags & BPF_F_WRONLY)) fail(s, EINVAL, 'BPF_F_RDONLY and BPF_F_WRONLY are exclusive');
  if ((s.flags & BPF_F_NUMA_NODE) && (s.numaNode ?? 0) !== 0) {
    fail(s, EINVAL, `numa_node ${s.numaNode} does not exist (bpfrun simulates one NUMA node, 0)`);
  }
  if (s.type === BPF_MAP_TYPE_UNSPEC || s.type >= NR_MAP_TYPES) fail(s, EINVAL, `unknown map type ${s.type}`);
  if (s.initialValue !== undefined) {
    if (s.type !== BPF_MAP_TYPE_ARRAY) fail(s, EINVAL, 'an initial value is only for ARRAY maps (global data)');
    if (s.initialValue.length > s.valueSize) fail(s, EINVAL, `initial value of ${s.initialValue.length} bytes exceeds value_size ${s.valueSize}`);
  }
  return s;
}

/** bpf_map_flags_access_ok: a map cannot be both read-only and write-only to programs. */
function accessOk(flags: number): boolean {
  return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !== (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

function numaNodeSet(s: MapSpec): boolean {
  return (s.flags & BPF_F_NUMA_NODE) !== 0;
}

// array_map_alloc_check
function checkArray(s: MapSpec): void {
  const percpu = s.type === BPF_MAP_TYPE_PERCPU_ARRAY;
  if (s.maxEntries === 0) fail(s, EINVAL, 'max_entries must not be 0');
  if (s.keySize !== 4) fail(s, EINVAL, `array keys are u32 indices: key_size must be 4, got ${s.keySize}`);
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (s.flags & ~ARRAY_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~ARRAY_CREATE_FLAG_MASK) >>> 0)} are not allowed for ${mapTypeName(s.type)} maps`);
  if (!accessOk(s.flags)) fail(s, EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive');
  if (percpu && numaNodeSet(s)) fail(s, EINVAL, 'per-CPU arrays cannot take BPF_F_NUMA_NODE');
  if (s.type !== BPF_MAP_TYPE_ARRAY && (s.flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP))) {
    fail(s, EINVAL, 'BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for ARRAY maps');
  }
  if (s.type !== BPF_MAP_TYPE_PERF_EVENT_ARRAY && (s.flags & BPF_F_PRESERVE_ELEMS)) {
    fail(s, EINVAL, 'BPF_F_PRESERVE_ELEMS is only for PERF_EVENT_ARRAY maps');
  }
  if (s.valueSize > INT_MAX) fail(s, E2BIG, `value_size ${s.valueSize} exceeds INT_MAX`);
  if (percpu && roundUp8(s.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail(s, E2BIG, `per-CPU value_size ${s.valueSize} exceeds PCPU_MIN_UNIT_SIZE (${PCPU_MIN_UNIT_SIZE})`);
  }
}

// fd_array_map_alloc_check
function checkProgArray(s: MapSpec): void {
  checkFdArray(s, 'prog array values are u32 program fds');
}

/** fd_array_map_alloc_check: value_size 4 (an fd), no program access flags, then the array rules. */
function checkFdArray(s: MapSpec, what: string): void {
  if (s.valueSize !== 4) fail(s, EINVAL, `${what}: value_size must be 4, got ${s.valueSize}`);
  if (s.flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) fail(s, EINVAL, `BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG are not supported for ${mapTypeName(s.type)} maps`);
  checkArray(s);
}

/** htab_map_alloc_check, then htab_map_alloc's size rules; returns the effective max_entries. */
function checkHash(s: MapSpec, nrCpus: number): number {
  const percpu = s.type === BPF_MAP_TYPE_PERCPU_HASH || s.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const lru = s.type === BPF_MAP_TYPE_LRU_HASH || s.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const percpuLru = (s.flags & BPF_F_NO_COMMON_LRU) !== 0;
  const prealloc = (s.flags & BPF_F_NO_PREALLOC) === 0;
  if (s.flags & ~HTAB_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~HTAB_CREATE_FLAG_MASK) >>> 0)} are not allowed for ${mapTypeName(s.type)} maps`);
  if (!accessOk(s.flags)) fail(s, EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive');
  if (!lru && percpuLru) fail(s, EINVAL, 'BPF_F_NO_COMMON_LRU is only for LRU maps');
  if (lru && !prealloc) fail(s, ENOTSUPP, 'LRU maps must be preallocated (no BPF_F_NO_PREALLOC)');
  if (numaNodeSet(s) && (percpu || percpuLru)) fail(s, EINVAL, 'BPF_F_NUMA_NODE is not allowed with per-CPU values or per-CPU LRU lists');
  if (s.maxEntries === 0) fail(s, EINVAL, 'max_entries must not be 0');
  if (s.keySize === 0) fail(s, EINVAL, 'key_size must not be 0');
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (s.keySize + s.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) {
    fail(s, E2BIG, `key_size + value_size (${s.keySize + s.valueSize}) is too large for one element (KMALLOC_MAX_SIZE)`);
  }
  if (percpu && roundUp8(s.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail(s, E2BIG, `per-CPU value_size ${s.valueSize} exceeds PCPU_MIN_UNIT_SIZE (${PCPU_MIN_UNIT_SIZE})`);
  }
  // htab_map_alloc: per-CPU LRU lists get equal shares, so max_entries becomes a multiple of
  // the CPU count (rounded down if rounding up would overflow u32).
  let maxEntries = s.maxEntries;
  if (percpuLru) {
    maxEntries = Math.ceil(maxEntries / nrCpus) * nrCpus;
    if (maxEntries > U32_MAX) maxEntries = Math.floor(s.maxEntries / nrCpus) * nrCpus;
  }
  if (maxEntries > 2 ** 31) fail(s, E2BIG, `max_entries ${maxEntries} exceeds 2^31 (the bucket count is a power of 2)`);
  // htab_map_alloc: "check for u32 overflow" of the bucket table.
  const buckets = 2 ** Math.ceil(Math.log2(maxEntries));
  if (buckets > Math.floor(U32_MAX / HTAB_BUCKET_SIZE)) {
    fail(s, E2BIG, `max_entries ${maxEntries} needs ${buckets} buckets of ${HTAB_BUCKET_SIZE} bytes, past U32_MAX`);
  }
  return maxEntries;
}

// ringbuf_map_alloc
function checkRingbuf(s: MapSpec): void {
  if (s.flags & ~RINGBUF_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~RINGBUF_CREATE_FLAG_MASK) >>> 0)} are not allowed for ringbuf maps (only BPF_F_NUMA_NODE)`);
  if (s.keySize !== 0 || s.valueSize !== 0) fail(s, EINVAL, `ringbuf key_size and value_size must be 0, got ${s.keySize} and ${s.valueSize}`);
  const n = s.maxEntries;
  if (n === 0 || (n & (n - 1)) !== 0 || n % PAGE_SIZE !== 0) {
    fail(s, EINVAL, `ringbuf size (max_entries ${n}) must be a power of 2 and a multiple of the page size (${PAGE_SIZE})`);
  }
  if (n > RINGBUF_MAX_DATA_SZ) fail(s, E2BIG, `ringbuf size ${n} exceeds RINGBUF_MAX_DATA_SZ`);
}

// arena_map_alloc (kernel-arena-streams.md §1.1); the JIT-support check always passes here.
function checkArena(s: MapSpec): void {
  if (s.keySize !== 0 || s.valueSize !== 0) fail(s, EINVAL, `arena key_size and value_size must be 0, got ${s.keySize} and ${s.valueSize}`);
  if (s.maxEntries === 0) fail(s, EINVAL, 'arena max_entries (its size in pages) must not be 0');
  if (!(s.flags & BPF_F_MMAPABLE)) fail(s, EINVAL, 'arena maps need BPF_F_MMAPABLE');
  if (s.flags & ~ARENA_CREATE_FLAG_MASK) {
    fail(s, EINVAL, `flags ${hex((s.flags & ~ARENA_CREATE_FLAG_MASK) >>> 0)} are not allowed for arena maps (only MMAPABLE, SEGV_ON_FAULT, NO_USER_CONV)`);
  }
  if (s.mapExtra % BigInt(PAGE_SIZE) !== 0n) fail(s, EINVAL, `arena map_extra ${hex(s.mapExtra)} (user_vm_start) must be page aligned`);
  const size = BigInt(s.maxEntries) * BigInt(PAGE_SIZE);
  if (size > BigInt(ARENA_MAX_BYTES)) fail(s, E2BIG, `arena of ${s.maxEntries} pages exceeds 4 GiB`);
  if (s.mapExtra !== 0n && s.mapExtra >> 32n !== (s.mapExtra + size - 1n) >> 32n) {
    fail(s, ERANGE, `arena [${hex(s.mapExtra)}, +${hex(size)}) crosses a 4 GiB boundary`);
  }
}

// queue_stack_map_alloc_check. spec §2.2
function checkQueueStack(s: MapSpec): void {
  if (s.maxEntries === 0) fail(s, EINVAL, 'max_entries must not be 0');
  if (s.keySize !== 0) fail(s, EINVAL, `${mapTypeName(s.type)} maps have no keys: key_size must be 0, got ${s.keySize}`);
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (s.flags & ~QUEUE_STACK_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~QUEUE_STACK_CREATE_FLAG_MASK) >>> 0)} are not allowed for ${mapTypeName(s.type)} maps (only BPF_F_NUMA_NODE and the access flags)`);
  if (!accessOk(s.flags)) fail(s, EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive');
  if (s.valueSize > KMALLOC_MAX_SIZE) fail(s, E2BIG, `value_size ${s.valueSize} exceeds KMALLOC_MAX_SIZE (${KMALLOC_MAX_SIZE})`);
  checkRegion(s, (s.maxEntries + 1) * s.valueSize);
}

// trie_alloc: every failure is EINVAL. spec §2.1
function checkLpmTrie(s: MapSpec): void {
  if (s.maxEntries === 0) fail(s, EINVAL, 'max_entries must not be 0');
  if (!(s.flags & BPF_F_NO_PREALLOC)) fail(s, EINVAL, 'LPM tries need BPF_F_NO_PREALLOC');
  if (s.flags & ~LPM_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~LPM_CREATE_FLAG_MASK) >>> 0)} are not allowed for lpm_trie maps (only NO_PREALLOC, NUMA_NODE and the access flags)`);
  if (!accessOk(s.flags)) fail(s, EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive');
  if (s.keySize < 5 || s.keySize > 4 + LPM_DATA_SIZE_MAX) fail(s, EINVAL, `key_size ${s.keySize}: an LPM key is a u32 prefixlen and 1 to ${LPM_DATA_SIZE_MAX} data bytes (5 to ${4 + LPM_DATA_SIZE_MAX})`);
  if (s.valueSize < 1 || s.valueSize > LPM_VAL_SIZE_MAX) fail(s, EINVAL, `value_size ${s.valueSize} is outside 1..${LPM_VAL_SIZE_MAX}`);
}

// bloom_map_alloc_check, then bloom_map_alloc. spec §2.3
function checkBloom(s: MapSpec): void {
  if (s.valueSize > KMALLOC_MAX_SIZE) fail(s, E2BIG, `value_size ${s.valueSize} exceeds KMALLOC_MAX_SIZE (${KMALLOC_MAX_SIZE})`);
  if (s.keySize !== 0) fail(s, EINVAL, `bloom filters have no keys: key_size must be 0, got ${s.keySize}`);
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (s.maxEntries === 0) fail(s, EINVAL, 'max_entries must not be 0');
  if (s.flags & ~BLOOM_CREATE_FLAG_MASK) fail(s, EINVAL, `flags ${hex((s.flags & ~BLOOM_CREATE_FLAG_MASK) >>> 0)} are not allowed for bloom_filter maps (only NUMA_NODE, ZERO_SEED and the access flags)`);
  if (!accessOk(s.flags)) fail(s, EINVAL, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive');
  if (s.mapExtra & ~0xfn) fail(s, EINVAL, `map_extra ${s.mapExtra} (the number of hash functions) must fit in 4 bits`);
}

/** Types whose ops have no map_meta_equal: they cannot be inner-map templates. spec §1.4 */
const NO_META_EQUAL = new Set([
  BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_STRUCT_OPS, BPF_MAP_TYPE_CGROUP_STORAGE, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, BPF_MAP_TYPE_INSN_ARRAY,
]);

// bpf_map_meta_alloc: the template must be a map, not itself a map-in-map (EINVAL), and of a
// type with map_meta_equal (ENOTSUPP). spec §1.4, §2.4
// The template is a map of its own first (libbpf creates `<outer>.inner`, then closes it once
// the outer map exists), so its own creation errors come first, under its name.
function checkInnerTemplate(s: MapSpec, memory: AddressSpace, nrCpus: number): MapSpec {
  const t = s.innerMap;
  if (t) createMap(t, memory, { nrCpus }).close();
  if (!t) fail(s, EBADF, 'inner_map_fd does not name a map: a map-in-map needs an inner map template (__array(values, ...))');
  if (t.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || t.type === BPF_MAP_TYPE_HASH_OF_MAPS) fail(s, EINVAL, `the inner map template ${t.name} is itself a map-in-map`);
  if (NO_META_EQUAL.has(t.type)) fail(s, ENOTSUPP, `${mapTypeName(t.type)} maps cannot be inner maps (no map_meta_equal)`);
  return t;
}

/** bpf_map_area_alloc: bpfrun gives a map at most 2 GiB in one piece; more is the kernel's ENOMEM. */
/** A redirect map's table, bpf_map_area_alloc'd: past bpfrun's region limit, the kernel's ENOMEM. */
function slotArray(s: MapSpec, memory: AddressSpace, nrCpus: number): ArrayMap {
  checkRegion(s, s.maxEntries * Math.ceil(s.valueSize / 8) * 8, 'of slots');
  return new ArrayMap(s, memory, nrCpus);
}

function checkRegion(s: MapSpec, bytes: number, what = 'of values'): void {
  if (bytes > MAX_REGION_BYTES) fail(s, ENOMEM, `${bytes} bytes ${what} exceed bpfrun's 2 GiB region limit`);
}
