/**
 * What every map family shares: the map definition (MapSpec), the value stride, and the update
 * flag arithmetic. The constants these are written in (map types, map_flags, errno) live in
 * ../uapi.ts.
 */
import { BPF_F_LOCK, U32_MAX } from '../uapi.js';


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
  /**
   * ARRAY_OF_MAPS / HASH_OF_MAPS: the inner map template (the kernel's inner_map_fd; libbpf's
   * `<outer>.inner` map from `__array(values, struct {...})`). spec maps-and-kernel-objects §2.4
   */
  readonly innerMap?: MapSpec;
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

