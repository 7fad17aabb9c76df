/**
 * RINGBUF (kernel/bpf/ringbuf.c), with the kernel's record layout. Each record is an 8-byte
 * header (u32 len with BPF_RINGBUF_BUSY_BIT while reserved and BPF_RINGBUF_DISCARD_BIT once
 * discarded; u32 pg_off) followed by the sample, padded to 8 bytes. Positions only grow; a
 * position's offset in the data area is `pos & mask`.
 *
 * The kernel maps the data pages twice, back to back, so a record that runs past the end is
 * still contiguous in virtual memory. Here the data region is twice the ring size: a record
 * that wraps is written contiguously into the second half, and submit/discard copy that tail
 * back to the start of the first half, where the real pages are. Readers of a wrapped record
 * (the host's consume) read it from the second half, as a user-space mmap would.
 *
 * The producer/consumer positions are not in simulated memory (programs never touch them).
 */
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { BpfMap } from './base.js';
import { roundUp8, type MapSpec } from './types.js';
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, EAGAIN, EINVAL,
  ENOTSUPP, PAGE_SIZE,
} from '../uapi.js';

/** RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4, so the two flag bits never collide with a length. */
export const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
/**
 * Pages before the data in the kernel's vmap: struct bpf_ringbuf up to consumer_pos
 * (RINGBUF_PGOFF, one page on x86-64) plus the consumer and producer pages (RINGBUF_POS_PAGES).
 * A header's pg_off counts pages from the start of that area.
 */
const RINGBUF_META_PAGES = 1 + 2;
const LEN_MASK = 0x3fffffff;

export class RingBufMap extends BpfMap {
  readonly size: number;
  private readonly mask: number;
  private readonly data: MemoryRegion;
  private readonly view: DataView;
  private readonly base: bigint;
  private consumerPos = 0;
  private producerPos = 0;
  /** Oldest record that may still be busy (the 6.10 fix for CVE-2024-41009). */
  private pendingPos = 0;
  /** Wakeups the kernel would have queued (irq_work on the consumer's wait queue). */
  notifications = 0;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.size = spec.maxEntries;
    this.mask = this.size - 1;
    // Writable even with BPF_F_RDONLY_PROG: ringbuf_map_alloc rejects every flag but NUMA_NODE.
    this.data = this.mapRegion(`ring buffer ${spec.name}`, new Uint8Array(2 * this.size), true);
    this.view = this.data.view;
    this.base = AddressSpace.address(this.data);
  }

  /** Whether `address` points into this ring buffer's data (how helpers find a sample's map). */
  owns(address: bigint): boolean {
    return address >= this.base && address < this.base + BigInt(2 * this.size);
  }

  /**
   * bpf_ringbuf_reserve / __bpf_ringbuf_reserve: the sample's address, or 0n when flags are
   * non-zero, the size is over RINGBUF_MAX_RECORD_SZ or the ring, or the ring has no room.
   */
  reserve(size: number, flags: bigint | number = 0): bigint {
    if (BigInt(flags) !== 0n) return 0n;
    const off = this.reserveOffset(size);
    return off < 0 ? 0n : this.base + BigInt(off + BPF_RINGBUF_HDR_SZ);
  }

  /** bpf_ringbuf_submit: 0, or -EINVAL when `sample` is not an open reservation of this ring. */
  submit(sample: bigint, flags: bigint | number = 0): number {
    return this.commit(sample, flags, false);
  }

  /** bpf_ringbuf_discard: the consumer skips the record. */
  discard(sample: bigint, flags: bigint | number = 0): number {
    return this.commit(sample, flags, true);
  }

  /** bpf_ringbuf_output: reserve, copy, submit. -EINVAL for unknown flags, -EAGAIN when full. */
  output(data: Uint8Array, flags: bigint | number = 0): number {
    const f = BigInt(flags);
    if ((f & ~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0n) return -EINVAL;
    const off = this.reserveOffset(data.length);
    if (off < 0) return -EAGAIN;
    this.data.bytes.set(data, off + BPF_RINGBUF_HDR_SZ);
    this.commitAt(off, f, false);
    return 0;
  }

  /** bpf_ringbuf_query; unknown flags give 0. */
  query(flags: bigint | number): bigint {
    switch (BigInt(flags)) {
      case BigInt(BPF_RB_AVAIL_DATA): return BigInt(this.producerPos - this.consumerPos);
      case BigInt(BPF_RB_RING_SIZE): return BigInt(this.size);
      case BigInt(BPF_RB_CONS_POS): return BigInt(this.consumerPos);
      case BigInt(BPF_RB_PROD_POS): return BigInt(this.producerPos);
      default: return 0n;
    }
  }

  /**
   * The host consumer (libbpf's ringbuf_process_ring): submitted samples in order, as copies,
   * skipping discarded records and stopping at the first busy one; advances the consumer.
   */
  consume(): Uint8Array[] {
    const samples: Uint8Array[] = [];
    while (this.consumerPos < this.producerPos) {
      const off = this.consumerPos % this.size;
      const hdr = this.view.getUint32(off, true);
      if (hdr & BPF_RINGBUF_BUSY_BIT) break;
      const len = hdr & LEN_MASK;
      if (!(hdr & BPF_RINGBUF_DISCARD_BIT)) {
        const start = off + BPF_RINGBUF_HDR_SZ;
        samples.push(this.data.bytes.slice(start, start + len));
      }
      this.consumerPos += roundUp8(len + BPF_RINGBUF_HDR_SZ);
    }
    return samples;
  }

  /** The header of the record whose sample is at `sample` ({len, busy, discarded, pgOff}), for tests and tools. */
  header(sample: bigint): { len: number; busy: boolean; discarded: boolean; pgOff: number } | undefined {
    const off = this.recordOffset(sample);
    if (off < 0) return undefined;
    const hdr = this.view.getUint32(off, true);
    return { len: hdr & LEN_MASK, busy: (hdr & BPF_RINGBUF_BUSY_BIT) !== 0, discarded: (hdr & BPF_RINGBUF_DISCARD_BIT) !== 0, pgOff: this.view.getUint32(off + 4, true) };
  }

  /** Offset of the new record's header in the data area, or -1. */
  private reserveOffset(size: number): number {
    if (!(size >= 0) || size > RINGBUF_MAX_RECORD_SZ) return -1;
    const len = roundUp8(size + BPF_RINGBUF_HDR_SZ);
    if (len > this.size) return -1;

    // Skip over records committed since the last reservation: the oldest busy one bounds how
    // far the producer may run ahead, so a wrapped reservation never overwrites it.
    let pend = this.pendingPos;
    while (pend < this.producerPos) {
      const hdr = this.view.getUint32(pend % this.size, true);
      if (hdr & BPF_RINGBUF_BUSY_BIT) break;
      pend += roundUp8((hdr & LEN_MASK) + BPF_RINGBUF_HDR_SZ);
    }
    this.pendingPos = pend;

    const prod = this.producerPos;
    const next = prod + len;
    // At most ring_size - 1 bytes ahead of the consumer and of the oldest busy record.
    if (next - this.consumerPos > this.mask || next - pend > this.mask) return -1;

    const off = prod % this.size;
    this.view.setUint32(off, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    this.view.setUint32(off + 4, RINGBUF_META_PAGES + Math.floor(off / PAGE_SIZE), true);
    this.producerPos = next;
    return off;
  }

  /** Header offset of an open-or-closed record from its sample address, or -1 if not one. */
  private recordOffset(sample: bigint): number {
    if (!this.owns(sample)) return -1;
    const off = Number(sample - this.base) - BPF_RINGBUF_HDR_SZ;
    return off >= 0 && off < this.size && off % 8 === 0 ? off : -1;
  }

  private commit(sample: bigint, flags: bigint | number, discard: boolean): number {
    const off = this.recordOffset(sample);
    if (off < 0 || !(this.view.getUint32(off, true) & BPF_RINGBUF_BUSY_BIT)) return -EINVAL;
    this.commitAt(off, BigInt(flags), discard);
    return 0;
  }

  // bpf_ringbuf_commit: clear BUSY (set DISCARD), then wake the consumer if it waits for this
  // very record, or always with BPF_RB_FORCE_WAKEUP, never with BPF_RB_NO_WAKEUP.
  private commitAt(off: number, flags: bigint, discard: boolean): void {
    const hdr = this.view.getUint32(off, true);
    const end = off + BPF_RINGBUF_HDR_SZ + (hdr & LEN_MASK);
    if (end > this.size) this.data.bytes.copyWithin(0, this.size, end);
    let len = (hdr ^ BPF_RINGBUF_BUSY_BIT) >>> 0;
    if (discard) len = (len | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    this.view.setUint32(off, len, true);
    if (flags & BigInt(BPF_RB_FORCE_WAKEUP)) this.notifications++;
    else if (this.consumerPos % this.size === off && !(flags & BigInt(BPF_RB_NO_WAKEUP))) this.notifications++;
  }

  // ---- Map operations: ringbuf_map_{lookup,update,delete}_elem and get_next_key are ENOTSUPP;
  // the verifier keeps programs from calling them at all. ----

  lookupElem(_key: Uint8Array, _cpu: number): bigint { return 0n; }
  updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number { return -ENOTSUPP; }
  deleteElem(_key: Uint8Array): number { return -ENOTSUPP; }
  protected hostLookup(): never { return this.fail(ENOTSUPP, 'ring buffers have no elements to look up'); }
  protected hostUpdate(): never { return this.fail(ENOTSUPP, 'ring buffers have no elements to update'); }
  protected hostDelete(): never { return this.fail(ENOTSUPP, 'ring buffers have no elements to delete'); }
  protected hostNextKey(): never { return this.fail(ENOTSUPP, 'ring buffers have no keys'); }
}
