/**
 * USER_RINGBUF (kernel/bpf/ringbuf.c; spec maps-and-kernel-objects §2.14): a ring buffer with
 * the RINGBUF layout where user space produces and programs consume with
 * bpf_user_ringbuf_drain.
 *
 * The host API is libbpf's user-space producer (tools/lib/bpf/ringbuf.c
 * `user_ring_buffer__reserve` / `__submit` / `__discard`): a reservation writes the 8-byte
 * header {u32 len | BPF_RINGBUF_BUSY_BIT, u32 pad 0} at `producer_pos & mask` and advances
 * producer_pos at once; submit clears BUSY, discard clears BUSY and sets
 * BPF_RINGBUF_DISCARD_BIT. A record occupies round_up(len + 8, 8) bytes.
 *
 * As for RINGBUF (./ringbuf.ts) the data region is twice the ring size, standing for the
 * kernel's double mapping: a sample that runs past the end is written contiguously into the
 * second half, and submit/discard copy that tail back to the start of the first half, so the
 * sample the drain hands out at `(pos + 8) & mask` is contiguous either way.
 *
 * The positions are JS fields (user space would see them in the mmapped pages); `setProducerPos`
 * lets tests play a misbehaving producer (an unaligned or overrunning producer_pos), which the
 * drain must survive with the kernel's errnos.
 */
import { AddressSpace, type MemoryRegion } from '../memory.js';
import { BpfMap } from './base.js';
import { roundUp8, type MapSpec } from './types.js';
import {
  BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, E2BIG,
  EBUSY, EINVAL, ENOSPC, ENOTSUPP,
} from '../uapi.js';

/** BPF_MAX_USER_RINGBUF_SAMPLES (include/linux/bpf.h): at most this many records per drain. */
export const BPF_MAX_USER_RINGBUF_SAMPLES = 128 * 1024;
/** DYNPTR_MAX_SIZE: a sample longer than this cannot be put in a dynptr (E2BIG). */
export const DYNPTR_MAX_SIZE = (1 << 24) - 1;
const FLAG_BITS = (BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;

/** A reservation of the user-space producer: the sample bytes to fill, then submit or discard. */
export interface UserRingbufSample {
  /** The sample's bytes, a view into the ring (write the data here before submitting). */
  readonly data: Uint8Array;
  /** The record's position (producer_pos when reserved). */
  readonly pos: number;
}

/** A drain's outcome before the helper's return value is formed. */
export interface DrainResult {
  /** The helper's return value: samples passed to the callback, or a negative errno. */
  readonly ret: number;
  /** Samples handed to the callback. */
  readonly samples: number;
  readonly discarded: number;
}

export class UserRingBufMap extends BpfMap {
  readonly size: number;
  private readonly mask: number;
  private readonly data: MemoryRegion;
  private readonly view: DataView;
  readonly base: bigint;
  private consumerPos = 0;
  private producerPos = 0;
  /** rb->busy: a drain in progress. */
  private busy = false;
  /** Wakeups of user-space pollers the kernel would have queued (irq_work). */
  notifications = 0;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    this.size = spec.maxEntries;
    this.mask = this.size - 1;
    // Writable: the callback's dynptr is a LOCAL dynptr, not flagged read-only (spec §2.14 [I]).
    this.data = this.mapRegion(`user ring buffer ${spec.name}`, new Uint8Array(2 * this.size), true);
    this.view = this.data.view;
    this.base = AddressSpace.address(this.data);
  }

  get consumerPosition(): number { return this.consumerPos; }
  get producerPosition(): number { return this.producerPos; }
  /** Bytes between the consumer and the producer. */
  get pending(): number { return this.producerPos - this.consumerPos; }

  // ---- User-space producer (libbpf user_ring_buffer__*) ----

  /**
   * user_ring_buffer__reserve: a sample of `size` bytes, or throws MapError: E2BIG for a size
   * with BUSY/DISCARD bits or a record larger than the data area, ENOSPC when the free space
   * (size − (producer − consumer)) is smaller than the record.
   */
  reserve(size: number): UserRingbufSample {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) this.fail(EINVAL, `sample size ${size} is not a u32`);
    if ((size & FLAG_BITS) !== 0 || size >= 2 ** 32) this.fail(E2BIG, `sample size ${size} has the busy or discard bit set`);
    const total = roundUp8(size + BPF_RINGBUF_HDR_SZ);
    if (total > this.size) this.fail(E2BIG, `a record of ${total} bytes is larger than the ring (${this.size})`);
    const avail = this.size - (this.producerPos - this.consumerPos);
    if (avail < total) this.fail(ENOSPC, `a record of ${total} bytes does not fit in the ${avail} free bytes`);
    const pos = this.producerPos;
    const off = pos & this.mask;
    this.view.setUint32(off, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    this.view.setUint32(off + 4, 0, true);
    this.producerPos = pos + total;
    const start = off + BPF_RINGBUF_HDR_SZ;
    return { data: this.data.bytes.subarray(start, start + size), pos };
  }

  /** user_ring_buffer__submit: the record becomes visible to drains. */
  submit(sample: UserRingbufSample): void { this.commit(sample, false); }

  /** user_ring_buffer__discard: drains skip the record. */
  discard(sample: UserRingbufSample): void { this.commit(sample, true); }

  /** reserve + copy + submit. */
  write(bytes: Uint8Array): void {
    const s = this.reserve(bytes.length);
    s.data.set(bytes);
    this.submit(s);
  }

  /** For tests: set producer_pos as a misbehaving producer could (spec §2.14 step 3). */
  setProducerPos(pos: number): void { this.producerPos = pos; }

  /** For tests: write a raw header word at a position (a corrupted record). */
  setHeader(pos: number, len: number): void { this.view.setUint32(pos & this.mask, len >>> 0, true); }

  private commit(sample: UserRingbufSample, discard: boolean): void {
    const off = sample.pos & this.mask;
    const hdr = this.view.getUint32(off, true);
    if (!(hdr & BPF_RINGBUF_BUSY_BIT)) this.fail(EINVAL, `the record at position ${sample.pos} is not reserved`);
    const end = off + BPF_RINGBUF_HDR_SZ + (hdr & ~FLAG_BITS);
    if (end > this.size) this.data.bytes.copyWithin(0, this.size, end);
    let len = (hdr & ~BPF_RINGBUF_BUSY_BIT) >>> 0;
    if (discard) len = (len | BPF_RINGBUF_DISCARD_BIT) >>> 0;
    this.view.setUint32(off, len, true);
  }

  // ---- bpf_user_ringbuf_drain (spec §2.14) ----

  /**
   * Drains up to BPF_MAX_USER_RINGBUF_SAMPLES records; `callback(sampleAddress, len)` returns
   * the BPF callback's r0 (non-zero stops after that sample).
   */
  drain(flags: bigint, callback: (sample: bigint, len: number) => bigint): DrainResult {
    if ((flags & ~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0n) return { ret: -EINVAL, samples: 0, discarded: 0 };
    if (this.busy) return { ret: -EBUSY, samples: 0, discarded: 0 };
    this.busy = true;
    let samples = 0, discarded = 0, err = 0, ret = 0n;
    try {
      for (; samples < BPF_MAX_USER_RINGBUF_SAMPLES && ret === 0n; samples++) {
        const r = this.peek();
        if (r === 'nodata') break;
        if (r === 'discarded') { discarded++; continue; }
        if (r < 0) { err = r; break; }
        ret = callback(this.base + BigInt((this.consumerPos + BPF_RINGBUF_HDR_SZ) & this.mask), r);
        this.consumerPos += roundUp8(r + BPF_RINGBUF_HDR_SZ);
      }
    } finally {
      this.busy = false;
    }
    if (flags & BigInt(BPF_RB_FORCE_WAKEUP)) this.notifications++;
    else if (!(flags & BigInt(BPF_RB_NO_WAKEUP)) && samples > 0) this.notifications++;
    return { ret: err !== 0 ? err : samples - discarded, samples: samples - discarded, discarded };
  }

  /** __bpf_user_ringbuf_peek: the next sample's length, 'nodata', 'discarded' (skipped), or -errno. */
  private peek(): number | 'nodata' | 'discarded' {
    const prod = this.producerPos, cons = this.consumerPos;
    if (prod % 8 !== 0) return -EINVAL;
    if (cons >= prod) return 'nodata';
    const hdr = this.view.getUint32(cons & this.mask, true);
    const len = (hdr & ~FLAG_BITS) >>> 0;
    const total = roundUp8(len + BPF_RINGBUF_HDR_SZ);
    if (total > prod - cons) return -EINVAL;
    if (total > this.size) return -E2BIG;
    if (len > DYNPTR_MAX_SIZE) return -E2BIG;
    if (hdr & BPF_RINGBUF_DISCARD_BIT) {
      this.consumerPos = cons + total;
      return 'discarded';
    }
    if (hdr & BPF_RINGBUF_BUSY_BIT) return 'nodata';
    return len;
  }

  // ---- Map operations: all ENOTSUPP (spec §2.14 [X]); programs may only drain (§1.3). ----

  lookupElem(): bigint { return 0n; }
  updateElem(): number { return -ENOTSUPP; }
  deleteElem(): number { return -ENOTSUPP; }
  protected hostLookup(): never { return this.fail(ENOTSUPP, 'user ring buffers have no elements to look up'); }
  protected hostUpdate(): never { return this.fail(ENOTSUPP, 'user ring buffers have no elements to update'); }
  protected hostDelete(): never { return this.fail(ENOTSUPP, 'user ring buffers have no elements to delete'); }
  protected hostNextKey(): never { return this.fail(ENOTSUPP, 'user ring buffers have no keys'); }
  /** No elements to list (pending samples: `pending`, `drain`). */
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> { /* nothing to list */ }
  /** checkKey would EINVAL a non-empty key first; the kernel answers ENOTSUPP for every op. */
  protected override checkKey(): void {}
}
