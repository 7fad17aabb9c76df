/**
 * Constants and the map definition shared by every map family: map type numbers, map_flags,
 * update flags and errno values, all as in include/uapi/linux/bpf.h and asm-generic/errno*.h.
 */

// ---- Map types (enum bpf_map_type) ----
export const BPF_MAP_TYPE_UNSPEC = 0;
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_STACK_TRACE = 7;
export const BPF_MAP_TYPE_CGROUP_ARRAY = 8;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_LPM_TRIE = 11;
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
export const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
export const BPF_MAP_TYPE_DEVMAP = 14;
export const BPF_MAP_TYPE_SOCKMAP = 15;
export const BPF_MAP_TYPE_CPUMAP = 16;
export const BPF_MAP_TYPE_XSKMAP = 17;
export const BPF_MAP_TYPE_SOCKHASH = 18;
export const BPF_MAP_TYPE_CGROUP_STORAGE = 19;
export const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
export const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;
export const BPF_MAP_TYPE_QUEUE = 22;
export const BPF_MAP_TYPE_STACK = 23;
export const BPF_MAP_TYPE_SK_STORAGE = 24;
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;
export const BPF_MAP_TYPE_STRUCT_OPS = 26;
export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_MAP_TYPE_INODE_STORAGE = 28;
export const BPF_MAP_TYPE_TASK_STORAGE = 29;
export const BPF_MAP_TYPE_BLOOM_FILTER = 30;
export const BPF_MAP_TYPE_USER_RINGBUF = 31;
export const BPF_MAP_TYPE_CGRP_STORAGE = 32;
export const BPF_MAP_TYPE_ARENA = 33;
export const BPF_MAP_TYPE_INSN_ARRAY = 34;

const MAP_TYPE_NAMES: readonly string[] = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array',
  'stack_trace', 'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps',
  'hash_of_maps', 'devmap', 'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage',
  'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack', 'sk_storage', 'devmap_hash',
  'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena', 'insn_array',
];

/** Number of map types the kernel's bpf_map_types[] knows; larger numbers are EINVAL. */
export const NR_MAP_TYPES = MAP_TYPE_NAMES.length;

/** bpftool's name for a map type ("hash", "percpu_array", ...), or "type N" if unknown. */
export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `type ${type}`;
}

// ---- map_flags (BPF_MAP_CREATE) ----
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
/** File-level: the map's fd may only read (host updates and deletes fail with EPERM). */
export const BPF_F_RDONLY = 1 << 3;
/** File-level: the map's fd may only write (host lookups fail with EPERM). */
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_STACK_BUILD_ID = 1 << 5;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_CLONE = 1 << 9;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_PRESERVE_ELEMS = 1 << 11;
export const BPF_F_INNER_MAP = 1 << 12;
export const BPF_F_LINK = 1 << 13;
export const BPF_F_PATH_FD = 1 << 14;
export const BPF_F_VTYPE_BTF_OBJ_FD = 1 << 15;
export const BPF_F_TOKEN_FD = 1 << 16;
export const BPF_F_SEGV_ON_FAULT = 1 << 17;
export const BPF_F_NO_USER_CONV = 1 << 18;
/** BPF_F_ACCESS_MASK (include/linux/bpf.h). */
export const BPF_F_ACCESS_MASK = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

// ---- Update flags (BPF_MAP_UPDATE_ELEM, bpf_map_update_elem) ----
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

// ---- Ring buffer flags ----
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;

// ---- errno ----
export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;
/** Kernel-internal "operation not supported" (include/linux/errno.h); bpf() leaks it to user space. */
export const ENOTSUPP = 524;

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [EPERM, 'EPERM'], [ENOENT, 'ENOENT'], [E2BIG, 'E2BIG'], [EBADF, 'EBADF'], [EAGAIN, 'EAGAIN'],
  [ENOMEM, 'ENOMEM'], [EFAULT, 'EFAULT'], [EBUSY, 'EBUSY'], [EEXIST, 'EEXIST'], [EINVAL, 'EINVAL'],
  [ENOSPC, 'ENOSPC'], [ERANGE, 'ERANGE'], [EOPNOTSUPP, 'EOPNOTSUPP'], [ENOTSUPP, 'ENOTSUPP'],
]);

/** "EINVAL" for 22 (or for -22); "errno N" for numbers without a name here. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

// ---- Sizes (x86-64) ----
export { PAGE_SIZE } from '../arena/geometry.js';
/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value (rounded up to 8) a percpu map may hold. */
export const PCPU_MIN_UNIT_SIZE = 32768;
/** KMALLOC_MAX_SIZE with 4 KiB pages and MAX_PAGE_ORDER 10. */
export const KMALLOC_MAX_SIZE = 1 << 22;
export const INT_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

/** round_up(n, 8): the stride of map values (kernel elem_size) and of per-CPU copies. */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * A map definition, as libbpf passes it to BPF_MAP_CREATE (the BTF `.maps` members or an
 * internal `.data`/`.bss`/`.rodata` map; elf-loading.md §2.4).
 */
export interface MapSpec {
  /** The object's name for the map (full, not truncated to BPF_OBJ_NAME_LEN); used in errors. */
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** map_flags (BPF_F_*). */
  readonly flags: number;
  /** map_extra (u64): the arena's user_vm_start, the bloom filter's hash count. */
  readonly mapExtra: bigint;
  /** Only read with BPF_F_NUMA_NODE; bpfrun simulates a single node, 0. */
  readonly numaNode?: number;
  /** libbpf's pinning attribute (0 none, 1 by name); recorded, not acted on. */
  readonly pinning?: number;
  readonly keyTypeId?: number;
  readonly valueTypeId?: number;
  /**
   * ARRAY only: initial bytes of element 0 (a `.data`/`.rodata` section image), at most
   * value_size bytes; the rest stays zero.
   */
  readonly initialValue?: Uint8Array;
}

// ---- Update-flag arithmetic that stays exact above 32 bits ----

/** `flags & ~BPF_F_LOCK` for a u64 held in a number; anything above 32 bits is simply invalid. */
export function flagsWithoutLock(flags: number): number {
  if (!Number.isInteger(flags) || flags < 0 || flags > U32_MAX) return Infinity;
  return (flags & ~BPF_F_LOCK) >>> 0;
}

/** A u64 flags value held in a number, or Infinity when it cannot be a valid one. */
export function flagsValue(flags: number): number {
  return Number.isInteger(flags) && flags >= 0 && flags <= U32_MAX ? flags : Infinity;
}

/** Whether a u64 flags value (held in a number) has BPF_F_LOCK set. */
export function hasLockFlag(flags: number): boolean {
  return Number.isInteger(flags) && flags >= 0 && Math.floor(flags / BPF_F_LOCK) % 2 === 1;
}

/** Hex of bytes, for messages. */
export function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0');
  return s;
}
