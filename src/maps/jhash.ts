/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h `jhash`), bit-exact;
 * spec maps-and-kernel-objects §2.3 gives the algorithm and its test vectors. All arithmetic
 * is u32. `jhash2` on u32 words is the same number on a little-endian host, so this one
 * function serves both.
 */

const rol = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** jhash(key, length, initval). */
export function jhash(key: Uint8Array, initval: number): number {
  const len = key.length;
  let a = (0xdeadbeef + len + initval) >>> 0;
  let b = a;
  let c = a;
  const word = (off: number): number => {
    let w = 0;
    for (let i = 3; i >= 0; i--) w = (w * 256) + (off + i < len ? key[off + i] : 0);
    return w >>> 0;
  };
  let off = 0;
  // __jhash_mix: six "x -= z; x ^= rol(z, r); z += y" steps.
  for (; len - off > 12; off += 12) {
    a = (a + word(off)) >>> 0;
    b = (b + word(off + 4)) >>> 0;
    c = (c + word(off + 8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 4)) >>> 0; b = (b + a) >>> 0;
  }
  if (len === 0) return c;
  // The last 1..12 bytes, zero-padded, then __jhash_final.
  a = (a + word(off)) >>> 0;
  b = (b + word(off + 4)) >>> 0;
  c = (c + word(off + 8)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 24)) >>> 0;
  return c;
}
