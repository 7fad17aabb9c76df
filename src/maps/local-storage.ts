/**
 * SK_STORAGE, TASK_STORAGE, INODE_STORAGE and CGRP_STORAGE (kernel/bpf/bpf_local_storage.c,
 * bpf_task_storage.c, bpf_inode_storage.c, bpf_cgrp_storage.c, net/core/bpf_sk_storage.c;
 * spec maps-and-kernel-objects §2.12): at most one value per owner object and map.
 *
 * bpfrun's model of owners:
 * - an owner is named by the kernel pointer a program passes (`skb->sk`, a task or cgroup
 *   pointer); when the owner is simulated memory (the skb test run's dummy socket, a `struct
 *   bpf_sock` region) its element belongs to that region and disappears with it, as the kernel
 *   frees a socket's storage with the socket (a test run's socket lives for one run);
 * - the syscall side's keys are u32 fds (a socket fd, a pidfd, a cgroup fd, any fd of a file):
 *   the host binds an fd number to an owner pointer with `bindFd(fd, owner)`; an fd that is not
 *   bound is the kernel's EBADF.
 * Elements are created only by the helpers with BPF_LOCAL_STORAGE_GET_F_CREATE or by updates.
 * Each element's value is a mapped region of value_size bytes (the pointer the helper returns),
 * read-only to programs with BPF_F_RDONLY_PROG.
 */
import type { AddressSpace, MemoryRegion } from '../memory.js';
import { AddressSpace as Space } from '../memory.js';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, EBADF, EEXIST, EINVAL, ENOENT, ENOTSUPP, mapTypeName } from '../uapi.js';
import { BpfMap, keyIndex } from './base.js';
import type { MapSpec } from './types.js';

/** BPF_LOCAL_STORAGE_GET_F_CREATE (= BPF_SK_STORAGE_GET_F_CREATE). */
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1;

interface Element {
  readonly owner: bigint;
  readonly region: MemoryRegion;
  /** The owner's own region (a socket), when the owner is simulated memory. */
  readonly ownerRegion?: MemoryRegion;
}

export class LocalStorageMap extends BpfMap {
  private readonly elements = new Map<bigint, Element>();
  private readonly fds = new Map<number, bigint>();

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
  }

  /** Binds a syscall-side fd number to an owner pointer (bpfrun's stand-in for the fd table). */
  bindFd(fd: number, owner: bigint): void {
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`fd ${fd} is not a valid fd`);
    this.fds.set(fd, owner);
  }

  /** Number of live elements. */
  get size(): number {
    this.prune();
    return this.elements.size;
  }

  /** The element of `owner` (a pointer), pruning elements whose owner memory is gone. */
  private element(owner: bigint): Element | undefined {
    const e = this.elements.get(owner);
    if (e && !this.alive(e)) { this.free(e); return undefined; }
    return e;
  }

  private alive(e: Element): boolean {
    if (!e.ownerRegion) return true;
    return this.memory.locate(e.owner, 1)?.region === e.ownerRegion;
  }

  private prune(): void {
    for (const e of [...this.elements.values()]) if (!this.alive(e)) this.free(e);
  }

  private free(e: Element): void {
    this.elements.delete(e.owner);
    this.memory.unmap(e.region);
    const k = this.ownRegions.indexOf(e.region);
    if (k >= 0) this.ownRegions.splice(k, 1);
  }

  /** bpf_local_storage_update with a NOEXIST/EXIST/ANY flag: 0 or -errno. */
  private store(owner: bigint, value: Uint8Array | undefined, flags: number): number {
    const old = this.element(owner);
    if (old && flags === BPF_NOEXIST) return -EEXIST;
    if (!old && flags === BPF_EXIST) return -ENOENT;
    if (old) {
      if (value) old.region.bytes.set(value.subarray(0, this.valueSize));
      return 0;
    }
    const bytes = new Uint8Array(this.valueSize);
    if (value) bytes.set(value.subarray(0, this.valueSize));
    const region = this.mapRegion(`${mapTypeName(this.type)} ${this.name} element of ${owner.toString(16)}`, bytes);
    const at = this.memory.locate(owner, 1);
    this.elements.set(owner, { owner, region, ownerRegion: at?.region });
    return 0;
  }

  // ---- Program side: bpf_{sk,task,inode,cgrp}_storage_get / _delete (spec §2.12) ----

  /**
   * The value's address or 0n: flags other than F_CREATE, a NULL owner, or nothing stored
   * without F_CREATE give NULL; with F_CREATE the element is created (a NOEXIST update) from
   * `init` (NULL → zeros).
   */
  storageGet(owner: bigint, init: Uint8Array | undefined, flags: bigint): bigint {
    if ((flags & ~BigInt(BPF_LOCAL_STORAGE_GET_F_CREATE)) !== 0n || owner === 0n) return 0n;
    const e = this.element(owner);
    if (e) return Space.address(e.region);
    if (!(flags & BigInt(BPF_LOCAL_STORAGE_GET_F_CREATE))) return 0n;
    if (this.store(owner, init, BPF_NOEXIST) < 0) return 0n;
    return Space.address(this.elements.get(owner)!.region);
  }

  /** 0, -EINVAL for a NULL owner, -ENOENT when nothing is stored. */
  storageDelete(owner: bigint): number {
    if (owner === 0n) return -EINVAL;
    const e = this.element(owner);
    if (!e) return -ENOENT;
    this.free(e);
    return 0;
  }

  // The generic program-side ops are not allowed on these maps (the verifier, §1.3).
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EINVAL; }

  // ---- Syscall side: keys are fds (spec §2.12) ----

  private ownerOf(key: Uint8Array): bigint {
    const fd = keyIndex(key) | 0;
    const owner = this.fds.get(fd);
    if (owner === undefined) this.fail(EBADF, `fd ${fd} is not bound to a ${mapTypeName(this.type).toLowerCase().replace('_storage', '')} owner (bindFd)`);
    return owner;
  }

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const e = this.element(this.ownerOf(key));
    return e?.region.bytes.slice();
  }

  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    // bpf_local_storage_update: flags ⊆ ANY | NOEXIST | EXIST (| F_LOCK), not NOEXIST and EXIST.
    const f = flags & ~BPF_F_LOCK;
    if (!Number.isInteger(flags) || flags < 0 || f > BPF_EXIST) return -EINVAL;
    return this.store(this.ownerOf(key), value, f === BPF_ANY ? BPF_ANY : f);
  }

  protected hostDelete(key: Uint8Array): number {
    const e = this.element(this.ownerOf(key));
    if (!e) return -ENOENT;
    this.free(e);
    return 0;
  }

  /** The live elements: [owner pointer as a little-endian u64, value] (get_next_key is ENOTSUPP). */
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    this.prune();
    for (const e of this.elements.values()) {
      const k = new Uint8Array(8);
      new DataView(k.buffer).setBigUint64(0, e.owner, true);
      yield [k, e.region.bytes.slice()];
    }
  }

  protected hostNextKey(): never {
    return this.fail(ENOTSUPP, `${this.typeName} maps have no get_next_key (ENOTSUPP)`);
  }
}
