/**
 * The program-side lookup index of a hash map with keys of at most 8 bytes (the usual u32 and
 * u64 ids): key → value address, in one Int32Array, so that bpf_map_lookup_elem reads neither
 * a JS Map nor element objects (each probe is one run of adjacent words; chasing objects costs
 * a cache miss a level). It mirrors HashMap's table, which stays the map's truth: HashMap sets
 * and deletes here wherever it does there.
 *
 * Layout: an entry is [key lo, key hi, then each copy's value address as (lo, hi)] (one copy,
 * or one per CPU for per-CPU maps); linear probing, backward-shift deletion (no tombstones),
 * doubling past three quarters full. A value's high half is never 0 (map values live in the data windows,
 * ../addresses.ts), so a first copy's high half of 0 marks a free entry.
 */
export class KeyIndex<T> {
  /** Words per entry. */
  private readonly stride: number;
  private words: Int32Array;
  /** What each entry stands for (the element), at entry index; kept only when asked for. */
  private items: (T | undefined)[];
  private mask: number;
  private count = 0;
  /** Key halves of the last `read`. */
  private keyLo = 0;
  private keyHi = 0;

  constructor(
    /** Key size in bytes, 1..8. */
    private readonly keySize: number,
    private readonly copies: number,
    private readonly keepItems: boolean,
  ) {
    this.stride = 2 + 2 * copies;
    const capacity = 16;
    this.mask = capacity - 1;
    this.words = new Int32Array(capacity * this.stride);
    this.items = keepItems ? new Array(capacity).fill(undefined) : [];
  }

  /** The words array, for reading a found entry's value (`find` gives the entry's first word). */
  get entries(): Int32Array { return this.words; }

  /** The element an entry stands for (only when built with keepItems). */
  item(word: number): T {
    return this.items[word / this.stride] as T;
  }

  /**
   * The first word of the entry for the key at `b[o]` (keySize bytes), or -1. The value of copy
   * c is at word + 2 + 2c (lo) and word + 3 + 2c (hi).
   */
  find(b: Uint8Array, o: number): number {
    let lo: number, hi: number;
    if (this.keySize === 4) {
      lo = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
      hi = 0;
    } else {
      this.read(b, o);
      lo = this.keyLo;
      hi = this.keyHi;
    }
    const w = this.words, stride = this.stride, mask = this.mask;
    for (let i = hash(lo, hi) & mask; ; i = (i + 1) & mask) {
      const at = i * stride;
      if (w[at + 3] === 0) return -1;
      if (w[at] === lo && w[at + 1] === hi) return at;
    }
  }

  /** Sets the key's entry: `addrLo`/`addrHi` are each copy's value address. */
  set(key: Uint8Array, addrLo: readonly number[], addrHi: readonly number[], item: T): void {
    if (4 * (this.count + 1) > 3 * (this.mask + 1)) this.grow();
    this.read(key, 0);
    const lo = this.keyLo, hi = this.keyHi, w = this.words, stride = this.stride, mask = this.mask;
    let i = hash(lo, hi) & mask;
    for (; w[i * stride + 3] !== 0; i = (i + 1) & mask) {
      if (w[i * stride] === lo && w[i * stride + 1] === hi) break;
    }
    const at = i * stride;
    if (w[at + 3] === 0) this.count++;
    w[at] = lo;
    w[at + 1] = hi;
    for (let c = 0; c < this.copies; c++) { w[at + 2 + 2 * c] = addrLo[c]; w[at + 3 + 2 * c] = addrHi[c]; }
    if (this.keepItems) this.items[i] = item;
  }

  /** Removes the key's entry, if any: the entries after it in its probe run move back over the gap. */
  delete(key: Uint8Array): void {
    const found = this.find(key, 0);
    if (found < 0) return;
    const w = this.words, stride = this.stride, mask = this.mask;
    let gap = found / stride;
    for (let j = (gap + 1) & mask; w[j * stride + 3] !== 0; j = (j + 1) & mask) {
      const home = hash(w[j * stride], w[j * stride + 1]) & mask;
      // j's entry may fill the gap when its home is not in (gap, j] (cyclically).
      if (((j - home) & mask) >= ((j - gap) & mask)) {
        w.copyWithin(gap * stride, j * stride, (j + 1) * stride);
        if (this.keepItems) this.items[gap] = this.items[j];
        gap = j;
      }
    }
    w.fill(0, gap * stride, (gap + 1) * stride);
    if (this.keepItems) this.items[gap] = undefined;
    this.count--;
  }

  /** Any key size (find reads 4-byte keys itself). */
  private read(b: Uint8Array, o: number): void {
    let lo = 0, hi = 0;
    for (let k = 0; k < this.keySize; k++) {
      if (k < 4) lo |= b[o + k] << (8 * k);
      else hi |= b[o + k] << (8 * (k - 4));
    }
    this.keyLo = lo;
    this.keyHi = hi;
  }

  private grow(): void {
    const old = this.words, oldItems = this.items, stride = this.stride;
    const capacity = 2 * (this.mask + 1);
    this.mask = capacity - 1;
    this.words = new Int32Array(capacity * stride);
    this.items = this.keepItems ? new Array(capacity).fill(undefined) : [];
    const w = this.words, mask = this.mask;
    for (let at = 0; at < old.length; at += stride) {
      if (old[at + 3] === 0) continue;
      let i = hash(old[at], old[at + 1]) & mask;
      while (w[i * stride + 3] !== 0) i = (i + 1) & mask;
      w.set(old.subarray(at, at + stride), i * stride);
      if (this.keepItems) this.items[i] = oldItems[at / stride];
    }
  }
}

/** A 32-bit mix of the key's halves (murmur3's finalizer over lo ^ hi * golden ratio). */
function hash(lo: number, hi: number): number {
  let h = lo ^ Math.imul(hi, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
