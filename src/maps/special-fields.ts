/**
 * The special fields of a map value that bpfrun models — `struct bpf_spin_lock`,
 * `struct bpf_res_spin_lock`, `struct bpf_timer`, `struct bpf_wq` — found from the value's BTF
 * as kernel/bpf/btf.c `btf_parse_fields` finds them (spec maps-and-kernel-objects §1.1, §6.1):
 * by struct name, in the value's members, nested structs and arrays included, at their
 * alignment. Each kind may appear at most once per value, and not a spin lock together with a
 * res spin lock; a violation does not fail map creation (map_check_btf ignores the parse
 * error): the map just has no special fields, and the program's lock call is what fails.
 */
import type { Btf, BtfType } from '../btf/btf.js';
import { MapError } from '../errors.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, EACCES, EOPNOTSUPP,
  errnoName, mapTypeName,
} from '../uapi.js';

export type SpecialFieldKind = 'spinLock' | 'resSpinLock' | 'timer' | 'wq';

/** Offsets (bytes from the value's start) of the special fields a value holds. */
export interface SpecialFields {
  readonly spinLock?: number;
  readonly resSpinLock?: number;
  readonly timer?: number;
  readonly wq?: number;
}

/** The kernel's struct name, size and alignment of each kind (include/uapi/linux/bpf.h). */
export const SPECIAL_FIELD_TYPES: Readonly<Record<SpecialFieldKind, { name: string; size: number; align: number }>> = {
  spinLock: { name: 'bpf_spin_lock', size: 4, align: 4 },
  resSpinLock: { name: 'bpf_res_spin_lock', size: 4, align: 4 },
  timer: { name: 'bpf_timer', size: 16, align: 8 },
  wq: { name: 'bpf_wq', size: 16, align: 8 },
};

/** BPF_MAP_TYPE_RHASH (7.2) and the local storages / CGROUP_STORAGE, by number (uapi enum). */
const BPF_MAP_TYPE_CGROUP_STORAGE = 19;
const BPF_MAP_TYPE_SK_STORAGE = 24;
const BPF_MAP_TYPE_INODE_STORAGE = 28;
const BPF_MAP_TYPE_TASK_STORAGE = 29;
const BPF_MAP_TYPE_CGRP_STORAGE = 32;
const BPF_MAP_TYPE_RHASH = 34;

/** spec §1.1 step 9: the map types each kind of special field is allowed in. */
const ALLOWED: Readonly<Record<SpecialFieldKind, ReadonlySet<number>>> = (() => {
  const locks = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_RHASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_CGROUP_STORAGE,
    BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_TASK_STORAGE, BPF_MAP_TYPE_CGRP_STORAGE]);
  const async = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_RHASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_ARRAY]);
  return { spinLock: locks, resSpinLock: locks, timer: async, wq: async };
})();

const KIND_BY_NAME: ReadonlyMap<string, SpecialFieldKind> = new Map(
  (Object.entries(SPECIAL_FIELD_TYPES) as [SpecialFieldKind, { name: string }][]).map(([k, t]) => [t.name, k]));

/** MAX_RESOLVE_DEPTH of btf.c. */
const MAX_DEPTH = 32;

/**
 * The special fields of the value type `typeId`, or undefined when it has none or its fields do
 * not parse (a kind twice, a spin lock with a res spin lock: spec §6.1). Members are taken as
 * the kernel takes them: no modifiers are skipped (btf_get_field_type looks at the member's
 * type itself), a misaligned field is not one.
 */
export function findSpecialFields(btf: Btf, typeId: number): SpecialFields | undefined {
  const found: Partial<Record<SpecialFieldKind, number>> = {};
  let bad = false;
  const visit = (t: BtfType, base: number, depth: number): void => {
    if (bad || depth >= MAX_DEPTH || (t.kind !== 'STRUCT' && t.kind !== 'UNION')) return;
    for (const m of t.members) {
      if (m.bitOffset % 8 !== 0) { bad = true; return; }
      let type = btf.type(m.type);
      let nelems = 1;
      for (let i = 0; i < MAX_DEPTH && type.kind === 'ARRAY'; i++) { nelems *= type.nelems; type = btf.type(type.type); }
      if (nelems === 0) continue;
      const off = base + m.bitOffset / 8;
      const kind = type.kind === 'STRUCT' ? KIND_BY_NAME.get(type.name) : undefined;
      if (kind === undefined) {
        if (type.kind === 'STRUCT' || type.kind === 'UNION') {
          for (let k = 0; k < nelems; k++) visit(type, off + k * type.size, depth + 1);
        }
        continue;
      }
      if (off % SPECIAL_FIELD_TYPES[kind].align !== 0) continue;
      if (nelems > 1 || found[kind] !== undefined) { bad = true; return; }
      found[kind] = off;
    }
  };
  const top = btf.type(typeId);
  if (top.kind === 'DATASEC') {
    // A global data section (libbpf's value type for .data/.bss maps): each variable at its offset.
    for (const v of top.vars) {
      const variable = btf.type(v.type);
      const t = btf.type(variable.kind === 'VAR' ? variable.type : v.type);
      const kind = t.kind === 'STRUCT' ? KIND_BY_NAME.get(t.name) : undefined;
      if (kind === undefined) visit(t, v.offset, 1);
      else if (found[kind] !== undefined) bad = true;
      else found[kind] = v.offset;
    }
  } else {
    visit(top, 0, 0);
  }
  if (bad || (found.spinLock !== undefined && found.resSpinLock !== undefined)) return undefined;
  return Object.keys(found).length === 0 ? undefined : found;
}

/**
 * map_check_btf's rules for a value with special fields (spec §1.1 step 9): not with
 * BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG (EACCES), and each kind only in its map types
 * (EOPNOTSUPP). Throws the MapError map creation fails with.
 */
export function checkSpecialFields(map: { name: string; type: number; flags: number }, fields: SpecialFields): void {
  if (map.flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) {
    throw new MapError(map.name, errnoName(EACCES), 'a value with special fields (bpf_spin_lock, bpf_timer, ...) cannot be BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG');
  }
  for (const kind of Object.keys(fields) as SpecialFieldKind[]) {
    if (!ALLOWED[kind].has(map.type)) {
      throw new MapError(map.name, errnoName(EOPNOTSUPP),
        `struct ${SPECIAL_FIELD_TYPES[kind].name} is not allowed in a ${mapTypeName(map.type)} value (spec §1.1)`);
    }
  }
}

/** The byte ranges [off, off + size) of the special fields, for copies that skip them. */
export function specialRanges(fields: SpecialFields | undefined): Array<readonly [number, number]> {
  if (!fields) return [];
  return (Object.entries(fields) as [SpecialFieldKind, number][]).map(([k, off]) => [off, off + SPECIAL_FIELD_TYPES[k].size]);
}
