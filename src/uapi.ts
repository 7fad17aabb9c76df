/**
 * The kernel's user-visible constants bpfrun works with, in one leaf module (as cilium/ebpf's
 * internal/sys): map type numbers and names, map_flags, update and ring buffer flags
 * (include/uapi/linux/bpf.h), errno values (include/uapi/asm-generic/errno*.h), helper ids
 * (__BPF_FUNC_MAPPER, through ./helper-names.ts) and the x86-64 sizes the kernel's limits are
 * written in. Numbers and their names only: what the numbers mean is in the modules that use them.
 */
import { HELPER_NAMES } from './helper-names.js';

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
export const EINTR = 4;
export const ENXIO = 6;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EPROTO = 71;
export const EBADMSG = 74;
export const EOPNOTSUPP = 95;
export const EAFNOSUPPORT = 97;
export const EALREADY = 114;
/** Kernel-internal "operation not supported" (include/linux/errno.h); bpf() leaks it to user space. */
export const ENOTSUPP = 524;

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [EPERM, 'EPERM'], [ENOENT, 'ENOENT'], [E2BIG, 'E2BIG'], [EBADF, 'EBADF'], [EAGAIN, 'EAGAIN'],
  [ENOMEM, 'ENOMEM'], [EACCES, 'EACCES'], [EFAULT, 'EFAULT'], [EBUSY, 'EBUSY'], [EEXIST, 'EEXIST'], [EINVAL, 'EINVAL'],
  [ENOSPC, 'ENOSPC'], [ERANGE, 'ERANGE'], [EOPNOTSUPP, 'EOPNOTSUPP'], [ENOTSUPP, 'ENOTSUPP'],
  [EINTR, 'EINTR'], [ENXIO, 'ENXIO'], [ENODEV, 'ENODEV'], [EPROTO, 'EPROTO'], [EBADMSG, 'EBADMSG'],
  [EAFNOSUPPORT, 'EAFNOSUPPORT'], [EALREADY, 'EALREADY'],
]);

/** "EINVAL" for 22 (or for -22); "errno N" for numbers without a name here. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

// ---- Sizes (x86-64) ----
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/**
 * GUARD_SZ (kernel/bpf/arena.c): round_up(1 << 16, 2 * PAGE_SIZE), the reach of an s16 insn
 * offset; half of it guards each side of an arena's 4 GiB (kernel-arena-streams.md §1.2).
 */
export const GUARD_SZ = 1 << 16;
/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value (rounded up to 8) a percpu map may hold. */
export const PCPU_MIN_UNIT_SIZE = 32768;
/** KMALLOC_MAX_SIZE with 4 KiB pages and MAX_PAGE_ORDER 10. */
export const KMALLOC_MAX_SIZE = 1 << 22;
export const INT_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

// ---- Helper ids (enum bpf_func_id) ----

/** A helper's name without the bpf_ prefix, as __BPF_FUNC_MAPPER spells it ("map_lookup_elem"). */
export type HelperName = (typeof HELPER_NAMES)[number];

/** Helper ids by name (BPF_FUNC.map_lookup_elem = 1), derived from the generated name table. */
export const BPF_FUNC: Readonly<Record<HelperName, number>> = Object.freeze(
  Object.fromEntries(HELPER_NAMES.map((name, id) => [name, id])) as Record<HelperName, number>);

/** The helper's name as the kernel spells it (`bpf_map_lookup_elem`), for messages. */
export function helperName(id: number): string {
  const name = HELPER_NAMES[id];
  return name === undefined ? `helper #${id}` : `bpf_${name}`;
}
