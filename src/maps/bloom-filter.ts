/**
 * BLOOM_FILTER (kernel/bpf/bloom_filter.c; spec maps-and-kernel-objects §2.3). The bit array,
 * its size, and the bit positions are the kernel's: bit i of a value is
 * jhash(value, seed + i) & bitset_mask, so the false positives are the kernel's for the same
 * seed. With BPF_F_ZERO_SEED the seed is 0, as in the kernel; otherwise the kernel draws a
 * random seed, and bpfrun derives one deterministically (MapOptions.hashSeed, or the jhash of
 * the map's name) so that runs reproduce.
 *
 * Program side: pushElem (add) and peekElem (test: 0 or -ENOENT). Host side: update = push
 * (empty key), has(value) = the syscall lookup, which reads the value from user space and
 * answers 0 or ENOENT; lookup(key) has no value to test and is EINVAL here. pop, delete and
 * get_next_key are EOPNOTSUPP; lookup_and_delete is ENOTSUPP.
 */
import type { AddressSpace } from '../memory.js';
import { BPF_ANY, BPF_F_ZERO_SEED, EINVAL, ENOENT, EOPNOTSUPP, U32_MAX } from '../uapi.js';
import { BpfMap } from './base.js';
import { jhash } from './jhash.js';
import type { MapSpec } from './types.js';

/** bloom_map_alloc: nr_bits = max_entries · k, then (nr_bits / 5) · 7; the mask of a power of two. */
export function bloomBitsetMask(maxEntries: number, nrHashFuncs: number): number {
  const product = maxEntries * nrHashFuncs;
  if (product > U32_MAX) return U32_MAX;
  const bits = Math.floor(product / 5) * 7;
  if (bits > U32_MAX || bits > 2 ** 31) return U32_MAX;
  const n = bits <= 64 ? 64 : 2 ** Math.ceil(Math.log2(bits));
  return n - 1;
}

export class BloomFilterMap extends BpfMap {
  readonly nrHashFuncs: number;
  readonly bitsetMask: number;
  readonly hashSeed: number;
  /** The set bits (a sparse set: the kernel's array may be 512 MiB). */
  private readonly bits = new Set<number>();

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number, hashSeed?: number) {
    super(spec, memory, nrCpus);
    this.nrHashFuncs = Number(spec.mapExtra) || 5; // map_extra 0 means 5
    this.bitsetMask = bloomBitsetMask(spec.maxEntries, this.nrHashFuncs);
    this.hashSeed = spec.flags & BPF_F_ZERO_SEED ? 0
      : (hashSeed ?? jhash(new TextEncoder().encode(spec.name), 0x62706672)) >>> 0;
  }

  /** The bit a value sets for hash function `i`. */
  bitOf(value: Uint8Array, i: number): number {
    return (jhash(value, (this.hashSeed + i) >>> 0) & this.bitsetMask) >>> 0;
  }

  // ---- Program side ----

  /** bloom_map_push_elem: flags must be exactly BPF_ANY. */
  pushElem(value: Uint8Array, flags: number | bigint): number {
    if (BigInt(flags) !== BigInt(BPF_ANY)) return -EINVAL;
    for (let i = 0; i < this.nrHashFuncs; i++) this.bits.add(this.bitOf(value, i));
    return 0;
  }

  /** bloom_map_peek_elem: 0 when every bit of the value is set (maybe present), else -ENOENT. */
  peekElem(value: Uint8Array): number {
    for (let i = 0; i < this.nrHashFuncs; i++) if (!this.bits.has(this.bitOf(value, i))) return -ENOENT;
    return 0;
  }

  popElem(): number { return -EOPNOTSUPP; }

  // bloom_map_lookup_elem / _update_elem: EINVAL (NULL); delete EOPNOTSUPP.
  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -EINVAL; }
  deleteElem(): number { return -EOPNOTSUPP; }

  // ---- Host side ----

  /** BPF_MAP_LOOKUP_ELEM on a bloom filter: whether `value` may be present (false: ENOENT). */
  has(value: Uint8Array): boolean {
    this.requireRead('lookup');
    if (value.length !== this.valueSize) this.fail(EINVAL, `value must be ${this.valueSize} bytes, got ${value.length}`);
    return this.peekElem(value) === 0;
  }

  protected hostLookup(): Uint8Array | undefined {
    this.fail(EINVAL, 'a bloom filter lookup tests a value: use has(value)');
  }

  protected hostUpdate(_key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.pushElem(value, flags);
  }

  protected hostDelete(): number { return -EOPNOTSUPP; }

  protected hostNextKey(): Uint8Array | undefined {
    this.fail(EOPNOTSUPP, 'bloom filters have no keys (get_next_key is EOPNOTSUPP)');
  }

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> { /* nothing to list */ }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    return errno === EINVAL ? `push with flags ${flags}: a bloom filter takes only BPF_ANY` : super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    return errno === EOPNOTSUPP ? 'bloom filters have no delete' : super.deleteFailure(errno, key);
  }
}
