/**
 * PROG_ARRAY (kernel/bpf/arraymap.c, the fd_array family): slots holding programs for
 * bpf_tail_call. The programs are opaque here; the loader fills slots with set()/clear(), or
 * through the syscall-style update() once it supplies `resolveProgram` (the kernel's value is a
 * program fd; bpfrun lets the loader decide what the u32 means).
 */
import { MapError } from '../errors.js';
import type { AddressSpace } from '../memory.js';
import { hexBytes } from '../text.js';
import { BPF_ANY, E2BIG, EBADF, EINVAL, ENOENT, EOPNOTSUPP } from '../uapi.js';
import { arrayNextIndex } from './array.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import { type MapSpec } from './types.js';

/** What `resolveProgram` returns: the program and the id host lookups report for it. */
export interface ResolvedProgram {
  readonly program: unknown;
  readonly id: number;
}

export class ProgArrayMap extends BpfMap {
  /**
   * The filled slots only, by index: a legal map of 2^28 slots costs memory in proportion to
   * the slots in use, not to max_entries.
   */
  private readonly slots = new Map<number, ResolvedProgram>();
  /** Turns the u32 of a host update into a program, or undefined (the kernel's EBADF). */
  resolveProgram?: (value: number) => ResolvedProgram | undefined;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
  }

  /** Puts a program in slot `index`; host lookups then report `id`. */
  set(index: number, program: unknown, id = index): void {
    this.checkIndex(index);
    this.fill(index, { program, id });
  }

  /** Empties a slot; returns whether it held a program. */
  clear(index: number): boolean {
    this.checkIndex(index);
    return this.slots.delete(index);
  }

  /** The program for bpf_tail_call, or undefined (out of range or empty: the call falls through). */
  get(index: number): unknown {
    return this.slots.get(index)?.program;
  }

  /** Number of filled slots. */
  get filled(): number {
    return this.slots.size;
  }

  private fill(index: number, entry: ResolvedProgram): void {
    // An undefined program is an empty slot, as it always was.
    if (entry.program === undefined) this.slots.delete(index);
    else this.slots.set(index, entry);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.spec.maxEntries) {
      throw new MapError(this.spec.name, 'E2BIG', `slot ${index} is out of range (max_entries ${this.spec.maxEntries})`);
    }
  }

  // ---- Program side: the verifier allows only bpf_tail_call on a PROG_ARRAY; should an
  // unverified program try, lookups give NULL and the rest fail as fd_array_map_lookup_elem
  // does (-EOPNOTSUPP). ----
  lookupElem(_key: Uint8Array, _cpu: number): bigint { return 0n; }
  updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number { return -EOPNOTSUPP; }
  deleteElem(_key: Uint8Array): number { return -EOPNOTSUPP; }

  // ---- Host side ----

  // bpf_fd_array_map_lookup_elem: the program's id, ENOENT for an empty or out-of-range slot.
  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const entry = this.slots.get(keyIndex(key));
    return entry === undefined ? undefined : indexKey(entry.id);
  }

  // bpf_fd_array_map_update_elem: only BPF_ANY; E2BIG past the end; the value must name a program.
  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags !== BPF_ANY) return -EINVAL;
    const index = keyIndex(key);
    if (index >= this.spec.maxEntries) return -E2BIG;
    const resolved = this.resolveProgram?.(keyIndex(value));
    if (resolved === undefined) return -EBADF;
    this.fill(index, { program: resolved.program, id: resolved.id });
    return 0;
  }

  // __fd_array_map_delete_elem: E2BIG past the end, ENOENT for an empty slot.
  protected hostDelete(key: Uint8Array): number {
    const index = keyIndex(key);
    if (index >= this.spec.maxEntries) return -E2BIG;
    return this.clear(index) ? 0 : -ENOENT;
  }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = arrayNextIndex(key, this.spec.maxEntries);
    return next === undefined ? undefined : indexKey(next);
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === EINVAL) return `update of slot ${keyIndex(key)}: prog arrays accept only BPF_ANY (got ${flags})`;
    if (errno === E2BIG) return `slot ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    if (errno === EBADF) return `update of slot ${keyIndex(key)}: the value does not name a program${this.resolveProgram ? '' : ' (no program resolver is set)'}`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    if (errno === E2BIG) return `slot ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    if (errno === ENOENT) return `delete of slot ${keyIndex(key)}: the slot is empty`;
    return `delete of key ${hexBytes(key)} failed`;
  }
}
