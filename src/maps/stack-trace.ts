/**
 * STACK_TRACE (kernel/bpf/stackmap.c; spec maps-and-kernel-objects §2.10): buckets of call
 * chains indexed by stack id = jhash2(ips, 0) & (n_buckets − 1), with max_entries preallocated
 * bucket elements.
 *
 * bpfrun's call chain (what get_perf_callchain would collect) is the program's own BPF frames,
 * innermost first: each frame's return address in the code window (CODE_WINDOW.start + 8 ×
 * (pc + 1), the instruction after the call). Native frames (helpers, bpf_loop) are not in it.
 * There is no user stack: with BPF_F_USER_STACK the chain is empty.
 */
import type { AddressSpace } from '../memory.js';
import { BPF_F_STACK_BUILD_ID, E2BIG, EEXIST, EFAULT, EINVAL, ENOENT, ENOMEM } from '../uapi.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import { jhash } from './jhash.js';
import type { MapSpec } from './types.js';

/** sysctl kernel.perf_event_max_stack (default). */
export const PERF_EVENT_MAX_STACK = 127;
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9;
export const BPF_F_REUSE_STACKID = 1 << 10;
export const BPF_F_USER_BUILD_ID = 1 << 11;

interface Bucket { readonly hash: number; readonly ips: readonly bigint[] }

/** stack_map_calculate_max_depth. */
export function stackMaxDepth(size: number, elemSize: number, flags: number): number {
  return Math.min(Math.floor(size / elemSize) + (flags & BPF_F_SKIP_FIELD_MASK), PERF_EVENT_MAX_STACK);
}

/** jhash2 over u64 IPs as 2·nr u32 words, seed 0 (= jhash over their little-endian bytes). */
function hashIps(ips: readonly bigint[]): number {
  const bytes = new Uint8Array(ips.length * 8);
  const v = new DataView(bytes.buffer);
  ips.forEach((ip, k) => v.setBigUint64(8 * k, ip, true));
  return jhash(bytes, 0) >>> 0;
}

export class StackTraceMap extends BpfMap {
  readonly nBuckets: number;
  private readonly buckets: (Bucket | undefined)[];
  /** Free preallocated bucket elements (pcpu_freelist). */
  private free: number;
  private readonly elemSize: number;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.nBuckets = 2 ** Math.ceil(Math.log2(spec.maxEntries));
    this.buckets = new Array(this.nBuckets);
    this.free = spec.maxEntries;
    this.elemSize = spec.flags & BPF_F_STACK_BUILD_ID ? 32 : 8;
  }

  /**
   * bpf_get_stackid on `chain` (innermost first): the id, or -EINVAL (flags), -EFAULT (chain no
   * longer than skip), -EEXIST (bucket holds another stack), -ENOMEM (no free element).
   */
  getStackId(chain: readonly bigint[], flags: bigint): number {
    const known = BigInt(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID);
    if ((flags & ~known) !== 0n) return -EINVAL;
    const f = Number(flags);
    const skip = f & BPF_F_SKIP_FIELD_MASK;
    const maxDepth = stackMaxDepth(this.valueSize, this.elemSize, f);
    const trace = chain.slice(0, maxDepth); // get_perf_callchain stops at max_depth
    if (trace.length <= skip) return -EFAULT;
    const ips = trace.slice(skip, skip + Math.min(trace.length - skip, maxDepth - skip));
    const hash = hashIps(ips);
    const id = hash & (this.nBuckets - 1);
    const bucket = this.buckets[id];
    const hashMatches = bucket !== undefined && bucket.hash === hash;
    if (hashMatches && (f & BPF_F_FAST_STACK_CMP)) return id;
    if (hashMatches && bucket.ips.length === ips.length && bucket.ips.every((x, k) => x === ips[k])) return id;
    if (bucket && !(f & BPF_F_REUSE_STACKID)) return -EEXIST;
    if (this.free === 0) return -ENOMEM;
    this.free--;
    if (bucket) this.free++; // the old bucket goes back to the freelist
    this.buckets[id] = { hash, ips };
    return id;
  }

  /** The IPs stored at `id`, or undefined. */
  stack(id: number): readonly bigint[] | undefined { return this.buckets[id]?.ips; }

  private extract(id: number): Uint8Array | undefined {
    const b = this.buckets[id];
    if (!b) return undefined;
    const out = new Uint8Array(this.valueSize);
    const v = new DataView(out.buffer);
    // Build-id maps: struct bpf_stack_build_id {s32 status; u8 build_id[20]; u64 ip} — status
    // BPF_STACK_BUILD_ID_IP (2) with the raw IP: bpfrun's code has no build id.
    b.ips.forEach((ip, k) => {
      if (this.elemSize === 8) v.setBigUint64(8 * k, ip, true);
      else { v.setInt32(32 * k, 2, true); v.setBigUint64(32 * k + 24, ip, true); }
    });
    return out;
  }

  // Programs cannot look up, update or delete (§1.3).
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EINVAL; }

  // ---- Syscall side (spec §2.10) ----

  protected hostLookup(key: Uint8Array): Uint8Array | undefined {
    const id = keyIndex(key);
    return id >= this.nBuckets ? undefined : this.extract(id);
  }

  /** stack_map_update_elem: EINVAL. */
  protected hostUpdate(): number { return -EINVAL; }

  protected override updateFailure(): string { return 'stack trace maps cannot be updated (EINVAL): stacks come from bpf_get_stackid'; }

  protected hostDelete(key: Uint8Array): number {
    const id = keyIndex(key);
    if (id >= this.nBuckets) return -E2BIG;
    if (!this.buckets[id]) return -ENOENT;
    this.buckets[id] = undefined;
    this.free++;
    return 0;
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    return errno === E2BIG ? `stack id ${keyIndex(key)} is not below n_buckets ${this.nBuckets}` : super.deleteFailure(errno, key);
  }

  protected override hostLookupAndDelete(key: Uint8Array): Uint8Array | number {
    const id = keyIndex(key);
    if (id >= this.nBuckets) return -ENOENT;
    const v = this.extract(id);
    if (!v) return -ENOENT;
    this.buckets[id] = undefined;
    this.free++;
    return v;
  }

  /** stack_map_get_next_key: the next non-empty bucket after `key` (from 0 if none, out of range or empty). */
  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    let id = key === undefined ? 0 : keyIndex(key);
    id = key === undefined || id >= this.nBuckets || !this.buckets[id] ? 0 : id + 1;
    for (; id < this.nBuckets; id++) if (this.buckets[id]) return indexKey(id);
    return undefined;
  }
}
