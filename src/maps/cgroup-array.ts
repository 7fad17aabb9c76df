/**
 * CGROUP_ARRAY (kernel/bpf/arraymap.c, the fd_array family; spec maps-and-kernel-objects §2.11):
 * slots holding cgroups, for bpf_current_task_under_cgroup and bpf_skb_under_cgroup.
 *
 * bpfrun's cgroup model: the hierarchy is the root cgroup alone (cgroup v2 id 1), and the
 * current task and every test run's socket belong to it. A syscall update's value stands for a
 * cgroup directory fd; bpfrun takes it as the cgroup's id, so 1 is the root and anything else is
 * the kernel's EBADF for an fd that is not a cgroup. Since the root is everyone's ancestor, a
 * slot holding it answers 1 for the task and for a socket.
 */
import type { AddressSpace } from '../memory.js';
import { BPF_ANY, E2BIG, EAGAIN, EBADF, EINVAL, ENOENT, ENOTSUPP } from '../uapi.js';
import { arrayNextIndex } from './array.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import type { MapSpec } from './types.js';

/** The root cgroup's id (cgroup v2: kernfs id 1). */
export const ROOT_CGROUP_ID = 1;

export class CgroupArrayMap extends BpfMap {
  /** Slot → cgroup id. */
  private readonly slots = new Map<number, number>();

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
  }

  /**
   * bpf_current_task_under_cgroup / the cgroup step of bpf_skb_under_cgroup for an object in
   * `cgroupId`: -E2BIG past the end, -EAGAIN for an empty slot, else 1 if the slot's cgroup is
   * `cgroupId` or one of its ancestors (only the root exists), 0 if not.
   */
  underCgroup(index: number, cgroupId = ROOT_CGROUP_ID): number {
    if (index >= this.maxEntries) return -E2BIG;
    const c = this.slots.get(index);
    if (c === undefined) return -EAGAIN;
    return c === ROOT_CGROUP_ID || c === cgroupId ? 1 : 0;
  }

  // Programs only pass the map to the two helpers (§1.3).
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EINVAL; }

  /** bpf_fd_array_map_lookup_elem: CGROUP_ARRAY has no map_fd_sys_lookup_elem, so ENOTSUPP. */
  protected hostLookup(): never {
    return this.fail(ENOTSUPP, 'cgroup arrays cannot be looked up (their values are cgroup fds)');
  }

  // bpf_fd_array_map_update_elem: only BPF_ANY; E2BIG past the end; the value names the cgroup.
  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags !== BPF_ANY) return -EINVAL;
    const index = keyIndex(key);
    if (index >= this.maxEntries) return -E2BIG;
    const id = keyIndex(value);
    if (id !== ROOT_CGROUP_ID) return -EBADF;
    this.slots.set(index, id);
    return 0;
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === EBADF) return 'the value is not a cgroup: bpfrun has the root cgroup only (value 1)';
    if (errno === EINVAL) return `update flags ${flags}: fd arrays take BPF_ANY only`;
    if (errno === E2BIG) return `index ${keyIndex(key)} is past max_entries ${this.maxEntries}`;
    return super.updateFailure(errno, key, flags);
  }

  /** The occupied slots: [index, cgroup id as u32] (the syscall cannot read them: ENOTSUPP). */
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const [i, id] of [...this.slots].sort((a, b) => a[0] - b[0])) yield [indexKey(i), indexKey(id)];
  }

  protected hostDelete(key: Uint8Array): number {
    const index = keyIndex(key);
    if (index >= this.maxEntries) return -E2BIG;
    return this.slots.delete(index) ? 0 : -ENOENT;
  }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = arrayNextIndex(key, this.maxEntries);
    return next === undefined ? undefined : indexKey(next);
  }
}
