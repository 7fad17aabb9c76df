/**
 * CGROUP_STORAGE and PERCPU_CGROUP_STORAGE (kernel/bpf/local_storage.c, net/bpf/test_run.c;
 * spec maps-and-kernel-objects §2.13).
 *
 * bpfrun attaches programs to no cgroup, so the map's own list of storages (one per attached
 * cgroup, or per cgroup and attach type) is always empty: syscall lookups and updates find no
 * key (ENOENT), get_next_key has nothing to return (ENOENT), delete is always EINVAL.
 *
 * What programs see is the test run's storage: BPF_PROG_TEST_RUN allocates a fresh zero-filled
 * storage of each type the program uses for each test-run call (`bpf_cgroup_storages_alloc`),
 * shares it across the `repeat` iterations and frees it at the end; it is not reachable through
 * the map. Here a storage belongs to the run's context object (the simulated skb of that call)
 * and is unmapped when a later call's context replaces it.
 */
import type { AddressSpace, MemoryRegion } from '../memory.js';
import { AddressSpace as Space } from '../memory.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, EINVAL, ENOENT } from '../uapi.js';
import { BpfMap } from './base.js';
import { roundUp8, type MapSpec } from './types.js';

export class CgroupStorageMap extends BpfMap {
  /** The storage of the current test-run call: its context, one region per CPU copy. */
  private current?: { readonly context: unknown; readonly copies: MemoryRegion[] };

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus, spec.type === BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
  }

  /**
   * bpf_get_local_storage: the address of the run's storage (this CPU's copy for the per-CPU
   * type); never NULL. `context` identifies the test-run call (the kernel's run context).
   */
  localStorage(context: unknown, cpu: number): bigint {
    if (!this.current || this.current.context !== context) {
      this.release();
      const n = this.percpu ? this.nrCpus : 1;
      const copies = Array.from({ length: n }, (_, k) =>
        this.mapRegion(`${this.typeName} ${this.name} test-run storage${this.percpu ? ` (CPU ${k})` : ''}`, new Uint8Array(this.percpu ? roundUp8(this.valueSize) : this.valueSize)));
      this.current = { context, copies };
    }
    return Space.address(this.current.copies[this.percpu ? cpu : 0]);
  }

  /** The current test-run storage's bytes (for tests), or undefined. */
  runStorage(cpu = 0): Uint8Array | undefined {
    return this.current?.copies[this.percpu ? cpu : 0].bytes.slice(0, this.valueSize);
  }

  private release(): void {
    if (!this.current) return;
    for (const r of this.current.copies) {
      this.memory.unmap(r);
      const k = this.ownRegions.indexOf(r);
      if (k >= 0) this.ownRegions.splice(k, 1);
    }
    this.current = undefined;
  }

  // Programs cannot use the generic ops on these maps (only get_local_storage, §1.3).
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EINVAL; }

  // ---- Syscall side: no cgroup is attached, so no key exists ----

  protected hostLookup(): Uint8Array | undefined { return undefined; }

  protected hostUpdate(_key: Uint8Array, _value: Uint8Array, flags: number): number {
    // cgroup_storage_update_elem: flags ⊆ EXIST | F_LOCK (BPF_NOEXIST → EINVAL); the per-CPU
    // type (bpf_percpu_cgroup_storage_update) flags ⊆ ANY | EXIST.
    const allowed = this.percpu ? BPF_EXIST : BPF_EXIST | BPF_F_LOCK;
    if (!Number.isInteger(flags) || flags < 0 || (flags & ~allowed) !== 0 || flags > allowed) return -EINVAL;
    return -ENOENT;
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === ENOENT) return 'no cgroup storage with this key: storages exist only for attached programs (bpfrun attaches none)';
    if (errno === EINVAL) return `update flags ${flags}: only BPF_ANY/BPF_EXIST${this.percpu ? '' : ' and BPF_F_LOCK'} are allowed`;
    return super.updateFailure(errno, key, flags);
  }

  /** cgroup_storage_delete_elem: always EINVAL. */
  protected hostDelete(): number { return -EINVAL; }

  protected override deleteFailure(): string { return 'cgroup storages cannot be deleted (EINVAL)'; }

  /** cgroup_storage_get_next_key: the list is empty, so the first key and any key are ENOENT. */
  protected hostNextKey(): Uint8Array | undefined { return undefined; }
}
