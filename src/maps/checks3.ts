/**
 * Creation checks (map_alloc_check / map_alloc) of the local storages, the cgroup storages and
 * STACK_TRACE, with the kernel's errnos, in the kernel's order. spec maps-and-kernel-objects
 * §2.10, §2.12, §2.13.
 */
import { MapError } from '../errors.js';
import { hex } from '../text.js';
import {
  BPF_F_ACCESS_MASK, BPF_F_CLONE, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_STACK_BUILD_ID,
  BPF_F_WRONLY, BPF_F_WRONLY_PROG, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, BPF_MAP_TYPE_SOCKHASH, E2BIG, EINVAL, errnoName, mapTypeName, PCPU_MIN_UNIT_SIZE,
} from '../uapi.js';
import { PERF_EVENT_MAX_STACK } from './stack-trace.js';
import type { MapSpec } from './types.js';

/**
 * BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: min(KMALLOC_MAX_SIZE − MAX_BPF_STACK − sizeof selem,
 * U16_MAX − sizeof selem), sizeof(struct bpf_local_storage_elem) being 128 on x86-64. spec §0.4
 */
export const BPF_LOCAL_STORAGE_MAX_VALUE_SIZE = 0xffff - 128;

const LOCAL_STORAGE_FLAGS = BPF_F_NO_PREALLOC | BPF_F_CLONE;
const CGROUP_STORAGE_FLAGS = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
const STACK_FLAGS = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;

function fail(s: MapSpec, errno: number, rule: string): never {
  throw new MapError(s.name, errnoName(errno), rule);
}

// bpf_local_storage_map_alloc_check: every rule but the size limit is one EINVAL. spec §2.12
// (The BTF key must be a 32-bit int, bpf_local_storage_map_check_btf: bpfrun's MapSpec carries
// the type ids, not the types, so only their presence is checked.)
export function checkLocalStorage(s: MapSpec): void {
  const what = mapTypeName(s.type);
  if (s.flags & ~LOCAL_STORAGE_FLAGS) fail(s, EINVAL, `flags ${hex((s.flags & ~LOCAL_STORAGE_FLAGS) >>> 0)} are not allowed for ${what} maps (only NO_PREALLOC and CLONE)`);
  if (!(s.flags & BPF_F_NO_PREALLOC)) fail(s, EINVAL, `${what} maps need BPF_F_NO_PREALLOC`);
  if (s.maxEntries !== 0) fail(s, EINVAL, `${what} max_entries must be 0, got ${s.maxEntries}`);
  if (s.keySize !== 4) fail(s, EINVAL, `${what} keys are int fds: key_size must be 4, got ${s.keySize}`);
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (!s.keyTypeId || !s.valueTypeId) fail(s, EINVAL, `${what} maps need BTF key and value types`);
  if (s.valueSize > BPF_LOCAL_STORAGE_MAX_VALUE_SIZE) fail(s, E2BIG, `value_size ${s.valueSize} exceeds BPF_LOCAL_STORAGE_MAX_VALUE_SIZE (${BPF_LOCAL_STORAGE_MAX_VALUE_SIZE})`);
}

// cgroup_storage_map_alloc. spec §2.13
export function checkCgroupStorage(s: MapSpec): void {
  const percpu = s.type === BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
  const max = percpu ? Math.min(BPF_LOCAL_STORAGE_MAX_VALUE_SIZE, PCPU_MIN_UNIT_SIZE) : BPF_LOCAL_STORAGE_MAX_VALUE_SIZE;
  if (s.keySize !== 16 && s.keySize !== 8) fail(s, EINVAL, `key_size must be 16 (struct bpf_cgroup_storage_key) or 8 (a u64 cgroup id), got ${s.keySize}`);
  if (s.valueSize === 0) fail(s, EINVAL, 'value_size must not be 0');
  if (s.valueSize > max) fail(s, E2BIG, `value_size ${s.valueSize} exceeds ${max}`);
  if ((s.flags & ~CGROUP_STORAGE_FLAGS) || (s.flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) === (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) {
    fail(s, EINVAL, `flags ${hex(s.flags)}: only NUMA_NODE and the access flags (not RDONLY_PROG with WRONLY_PROG)`);
  }
  if (s.maxEntries !== 0) fail(s, EINVAL, `cgroup storage max_entries must be 0, got ${s.maxEntries}`);
}

// stack_map_alloc. spec §2.10
export function checkStackTrace(s: MapSpec): void {
  if (s.flags & ~STACK_FLAGS) fail(s, EINVAL, `flags ${hex((s.flags & ~STACK_FLAGS) >>> 0)} are not allowed for stack_trace maps (only NUMA_NODE, RDONLY, WRONLY, STACK_BUILD_ID)`);
  if (s.maxEntries === 0 || s.keySize !== 4 || s.valueSize < 8 || s.valueSize % 8 !== 0) {
    fail(s, EINVAL, `max_entries ≥ 1, key_size 4 and value_size a multiple of 8 (≥ 8) needed, got ${s.maxEntries}, ${s.keySize}, ${s.valueSize}`);
  }
  if (s.flags & BPF_F_STACK_BUILD_ID) {
    if (s.valueSize % 32 !== 0 || s.valueSize / 32 > PERF_EVENT_MAX_STACK) fail(s, EINVAL, `build-id stacks: value_size must be a multiple of 32, at most ${PERF_EVENT_MAX_STACK} entries`);
  } else if (Math.floor(s.valueSize / 8) > PERF_EVENT_MAX_STACK) {
    fail(s, EINVAL, `value_size ${s.valueSize} holds more than perf_event_max_stack (${PERF_EVENT_MAX_STACK}) IPs`);
  }
  if (s.maxEntries > 2 ** 31) fail(s, E2BIG, `max_entries ${s.maxEntries} exceeds 2^31`);
}

const SOCK_FLAGS = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY;

// sock_map_alloc / sock_hash_alloc: EINVAL for all but a key over MAX_BPF_STACK (E2BIG). spec §2.15
export function checkSockMap(s: MapSpec): void {
  const hash = s.type === BPF_MAP_TYPE_SOCKHASH;
  if (s.maxEntries === 0 || (!hash && s.maxEntries > 0x7fffffff)) fail(s, EINVAL, `max_entries ${s.maxEntries} must be 1..INT_MAX`);
  if (hash ? s.keySize === 0 : s.keySize !== 4) fail(s, EINVAL, hash ? 'key_size must not be 0' : `sockmap keys are u32 indices: key_size must be 4, got ${s.keySize}`);
  if (s.valueSize !== 4 && s.valueSize !== 8) fail(s, EINVAL, `values are socket fds: value_size must be 4 or 8, got ${s.valueSize}`);
  if (s.flags & ~SOCK_FLAGS) fail(s, EINVAL, `flags ${hex((s.flags & ~SOCK_FLAGS) >>> 0)} are not allowed (only NUMA_NODE, RDONLY, WRONLY)`);
  if (hash && s.keySize > 512) fail(s, E2BIG, `key_size ${s.keySize} exceeds MAX_BPF_STACK (512)`);
  if (hash && s.maxEntries > 2 ** 31) fail(s, EINVAL, `max_entries ${s.maxEntries} needs more than U32_MAX bytes of buckets`);
}

// reuseport_array_alloc_check: value_size 4 or 8, then the array rules (checked by the caller).
export function checkReuseportValue(s: MapSpec): void {
  if (s.valueSize !== 4 && s.valueSize !== 8) fail(s, EINVAL, `values are socket fds: value_size must be 4 or 8, got ${s.valueSize}`);
}
