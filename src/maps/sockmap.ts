/**
 * SOCKMAP, SOCKHASH (net/core/sock_map.c) and REUSEPORT_SOCKARRAY (kernel/bpf/reuseport_array.c),
 * as the spec's always-empty maps (maps-and-kernel-objects §2.15): bpfrun simulates no sockets
 * a map could hold, so the creation checks and errnos are the kernel's and every slot is empty.
 * - Program side: lookup → NULL; delete → -EINVAL (SOCKMAP: index past the end or an empty
 *   slot), -ENOENT (SOCKHASH); an update needs a socket pointer no bpfrun program can have.
 * - Syscall side: lookup → ENOSPC with a 4-byte value (the socket cookie needs 8), else
 *   ENOENT; update → EBADF (the value must be a socket fd, and bpfrun has none); delete as
 *   programs (REUSEPORT_SOCKARRAY: E2BIG past the end, ENOENT); get_next_key: SOCKMAP and
 *   REUSEPORT_SOCKARRAY walk the indices as arrays do, SOCKHASH has no key (ENOENT).
 */
import type { AddressSpace } from '../memory.js';
import { BPF_EXIST, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, BPF_MAP_TYPE_SOCKHASH, E2BIG, EBADF, EINVAL, ENOENT, ENOSPC, EOPNOTSUPP } from '../uapi.js';
import { arrayNextIndex } from './array.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import type { MapSpec } from './types.js';

export class SockMap extends BpfMap {
  private readonly hash: boolean;
  private readonly reuseport: boolean;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.hash = spec.type === BPF_MAP_TYPE_SOCKHASH;
    this.reuseport = spec.type === BPF_MAP_TYPE_REUSEPORT_SOCKARRAY;
  }

  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EOPNOTSUPP; }
  deleteElem(): number { return this.hash ? -ENOENT : -EINVAL; }

  protected hostLookup(): Uint8Array | undefined {
    if (this.valueSize !== 8) this.fail(ENOSPC, 'a socket map lookup returns the 8-byte socket cookie: value_size must be 8');
    return undefined;
  }

  // sock_map_update_elem_sys: an fd above S32_MAX is EINVAL, then sockfd_lookup fails (EBADF);
  // bpf_fd_reuseport_array_update_elem checks the flags and the index first.
  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const fd = this.valueSize === 8 ? v.getBigUint64(0, true) : BigInt(v.getUint32(0, true));
    if (this.reuseport) {
      if (flags > BPF_EXIST) return -EINVAL;
      if (keyIndex(key) >= this.maxEntries) return -E2BIG;
    }
    return fd > 0x7fffffffn ? -EINVAL : -EBADF;
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    return errno === EBADF ? 'the value must be a socket fd, and bpfrun simulates no sockets' : super.updateFailure(errno, key, flags);
  }

  protected hostDelete(key: Uint8Array): number {
    if (this.hash) return -ENOENT;
    if (this.reuseport) return keyIndex(key) >= this.maxEntries ? -E2BIG : -ENOENT;
    return -EINVAL;
  }

  /** Always empty. */
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> { /* nothing to list */ }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (this.hash) return undefined;
    const next = arrayNextIndex(key, this.maxEntries);
    return next === undefined ? undefined : indexKey(next);
  }
}
