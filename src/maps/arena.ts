/**
 * ARENA placeholder: creation is validated (kernel-arena-streams.md §1.1, arena_map_alloc) and
 * the definition recorded; the pages, the address model and the kfuncs come later.
 */
import type { AddressSpace } from '../memory.js';
import { BpfMap } from './base.js';
import { EINVAL, EOPNOTSUPP, PAGE_SIZE, type MapSpec } from './types.js';

export class ArenaMap extends BpfMap {
  /** map_extra: the requested user_vm_start (0 = chosen at the first mmap). */
  readonly userVmStart: bigint;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.userVmStart = spec.mapExtra;
  }

  /** max_entries is the arena's size in pages. */
  get pages(): number { return this.spec.maxEntries; }
  get sizeBytes(): number { return this.spec.maxEntries * PAGE_SIZE; }

  // arena map ops: lookup is ERR_PTR(-EINVAL); update, delete and get_next_key are -EOPNOTSUPP.
  lookupElem(_key: Uint8Array, _cpu: number): bigint { return 0n; }
  updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number { return -EOPNOTSUPP; }
  deleteElem(_key: Uint8Array): number { return -EOPNOTSUPP; }
  protected hostLookup(): never { return this.fail(EINVAL, 'arenas have no elements to look up'); }
  protected hostUpdate(): never { return this.fail(EOPNOTSUPP, 'arenas have no elements to update'); }
  protected hostDelete(): never { return this.fail(EOPNOTSUPP, 'arenas have no elements to delete'); }
  protected hostNextKey(): never { return this.fail(EOPNOTSUPP, 'arenas have no keys'); }
}
