/**
 * Packet memory as the kernel lays it out for a test run: one buffer (headroom, the linear
 * packet, tailroom) plus page fragments. The program reaches the linear bytes through real
 * addresses: the buffer is mapped in a window of its own, but only [first, end) is a region —
 * data_meta (or data) to data_end, the bytes the verifier lets a program touch — so an access
 * past data_end is a MemoryAccessError, never a silent zero (spec program-types §3.1). When a
 * helper moves data or data_end the region is remapped in the same window, so addresses into
 * the buffer keep their meaning.
 */
import { AddressSpace, MemoryRegion } from '../memory.js';

/** PAGE_SIZE: a test run's fragments are at most one page each. */
export const FRAG_SIZE = 4096;
/** MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS=17). */
export const MAX_FRAGS = 17;

/**
 * Buffers given back by released packets, one per size, handed (zeroed) to the next packet of
 * that size: a run per packet over a capture allocates no frame. Nothing keeps a released
 * buffer: outputs, clones and records are copies.
 */
const SPARE = new Map<number, Uint8Array>();
const MAX_SPARE_SIZES = 16;

function frameBuffer(size: number): Uint8Array {
  const spare = SPARE.get(size);
  if (spare === undefined) return new Uint8Array(size);
  SPARE.delete(size);
  return spare.fill(0);
}

export class PacketBuffer {
  /** The whole buffer: hard_start / head is offset 0. */
  buf: Uint8Array;
  /** Offsets into buf. meta <= data <= end; meta == data when there is no metadata. */
  meta: number;
  data: number;
  end: number;
  /** Page fragments after the linear part, in order (each a page-sized buffer and its length). */
  readonly frags: Array<{ bytes: Uint8Array; size: number }> = [];
  private region: MemoryRegion;

  constructor(private readonly memory: AddressSpace, name: string, size: number, headroom: number, linear: Uint8Array) {
    this.buf = frameBuffer(size);
    this.buf.set(linear, headroom);
    this.meta = this.data = headroom;
    this.end = headroom + linear.length;
    this.region = memory.map(name, this.buf.subarray(this.meta, this.end), true, this.meta);
  }

  /** High half of every packet address. */
  get hi(): number { return this.region.hi; }

  /** The 64-bit address of buffer offset `off` as (lo, hi): lo returned (the buffer starts at lo 0). */
  lo(off: number): number { return off | 0; }

  /** Buffer offset of an address the program handed a helper, or -1 if it is not in this buffer. */
  offsetOf(address: bigint): number {
    if (Number(address >> 32n) !== this.region.hi >>> 0) return -1;
    const off = Number(address & 0xffffffffn);
    return off <= this.buf.length ? off : -1;
  }

  /** Bytes in fragments. */
  get fragBytes(): number {
    let n = 0;
    for (const f of this.frags) n += f.size;
    return n;
  }

  /** Linear length (data to end). */
  get linear(): number { return this.end - this.data; }

  /** Copies `rest` into page fragments; false when that needs more than MAX_FRAGS. */
  addFrags(rest: Uint8Array): boolean {
    for (let at = 0; at < rest.length; at += FRAG_SIZE) {
      if (this.frags.length === MAX_FRAGS) return false;
      const page = new Uint8Array(FRAG_SIZE);
      const size = Math.min(FRAG_SIZE, rest.length - at);
      page.set(rest.subarray(at, at + size));
      this.frags.push({ bytes: page, size });
    }
    return true;
  }

  /** The bytes from linear offset `from` (relative to buf) to the end, fragments included: a copy. */
  contents(from: number): Uint8Array {
    const out = new Uint8Array(this.end - from + this.fragBytes);
    out.set(this.buf.subarray(from, this.end));
    let at = this.end - from;
    for (const f of this.frags) { out.set(f.bytes.subarray(0, f.size), at); at += f.size; }
    return out;
  }

  /**
   * Reads `len` bytes at `off` counted from `from` (a buffer offset) across the linear part and
   * the fragments into `to`; false when they are not all there.
   */
  copyOut(from: number, off: number, len: number, to: Uint8Array): boolean {
    if (off < 0 || off + len > this.end - from + this.fragBytes) return false;
    for (let k = 0; k < len; k++) to[k] = this.byteAt(from + off + k);
    return true;
  }

  /** Writes `bytes` at `off` counted from `from`, across the linear part and fragments; false when out of range. */
  copyIn(from: number, off: number, bytes: Uint8Array): boolean {
    if (off < 0 || off + bytes.length > this.end - from + this.fragBytes) return false;
    for (let k = 0; k < bytes.length; k++) this.setByteAt(from + off + k, bytes[k]);
    return true;
  }

  /** The byte at buffer offset `pos`, where positions past `end` continue into the fragments. */
  byteAt(pos: number): number {
    if (pos < this.end) return this.buf[pos];
    let rel = pos - this.end;
    for (const f of this.frags) {
      if (rel < f.size) return f.bytes[rel];
      rel -= f.size;
    }
    return 0;
  }

  private setByteAt(pos: number, v: number): void {
    if (pos < this.end) { this.buf[pos] = v; return; }
    let rel = pos - this.end;
    for (const f of this.frags) {
      if (rel < f.size) { f.bytes[rel] = v; return; }
      rel -= f.size;
    }
  }

  /**
   * Moves the linear bytes [from, to) of the buffer into a larger buffer (skb head
   * reallocation: pskb_expand_head), keeping every offset relative to data: returns the shift.
   */
  grow(headroom: number, tailroom: number): number {
    const needHead = Math.max(0, headroom - this.meta);
    const needTail = Math.max(0, tailroom - (this.buf.length - this.end));
    if (needHead === 0 && needTail === 0) return 0;
    const next = new Uint8Array(this.buf.length + needHead + needTail);
    next.set(this.buf, needHead);
    this.buf = next;
    this.meta += needHead; this.data += needHead; this.end += needHead;
    return needHead;
  }

  /**
   * Makes the first `n` bytes from data linear (pskb_may_pull / __pskb_pull_tail): fragment
   * bytes move to the end of the linear part, emptied fragments are dropped. The caller checks
   * that `n` is at most the whole length. Does not refresh.
   */
  pull(n: number): void {
    let need = n - (this.end - this.data);
    if (need <= 0) return;
    this.grow(0, need);
    while (need > 0 && this.frags.length > 0) {
      const f = this.frags[0];
      const take = Math.min(need, f.size);
      this.buf.set(f.bytes.subarray(0, take), this.end);
      this.end += take;
      need -= take;
      if (take === f.size) this.frags.shift();
      else { f.bytes.copyWithin(0, take, f.size); f.size -= take; }
    }
  }

  /** Maps the accessible bytes again after data_meta, data or data_end moved. */
  refresh(): void {
    this.region = this.memory.remap(this.region, this.buf.subarray(this.meta, this.end), this.meta);
  }

  release(): void {
    this.memory.unmap(this.region);
    if (SPARE.size >= MAX_SPARE_SIZES) SPARE.clear();
    SPARE.set(this.buf.length, this.buf);
  }
}
