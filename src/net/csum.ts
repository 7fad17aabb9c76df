/**
 * Internet checksum arithmetic as the kernel's helpers use it (include/net/checksum.h,
 * lib/checksum.c): one's-complement sums of 16-bit words taken as they lie in memory
 * (little-endian reading), 32-bit partial sums, and the fold to 16 bits.
 */

/** One's-complement 32-bit add (csum_add). */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return (s > 0xffffffff ? s - 0xffffffff : s) >>> 0;
}

/** csum_sub. */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_partial: the 32-bit partial sum of `len` bytes at `start`, added to `seed`. */
export function csumPartial(bytes: Uint8Array, start: number, len: number, seed: number): number {
  let sum = 0;
  let k = 0;
  for (; k + 1 < len; k += 2) sum += bytes[start + k] | (bytes[start + k + 1] << 8);
  if (k < len) sum += bytes[start + k];
  // fold the (at most 2^31) sum into 32 bits with end-around carry, then add the seed
  let s = sum % 0xffffffff;
  if (s === 0 && sum !== 0) s = 0xffffffff;
  return csumAdd(s, seed);
}

/** csum_fold without the final complement: the 32-bit sum folded to 16 bits (csum_from32to16). */
export function fold16(sum: number): number {
  let s = (sum >>> 16) + (sum & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return s & 0xffff;
}

/** csum_fold: the folded sum, complemented (the value stored in a header's checksum field). */
export function csumFold(sum: number): number {
  return ~fold16(sum) & 0xffff;
}

/**
 * The RFC 1624 update of a stored 16-bit checksum `check` when the bytes it covers change from
 * `from` to `to` (both 32-bit memory readings when `size` is 4, 16-bit when 2): csum_replace4/2.
 */
export function csumReplace(check: number, from: number, to: number, size: 2 | 4): number {
  const diff = size === 4 ? csumAdd(~from >>> 0, to >>> 0) : csumAdd(~from & 0xffff, to & 0xffff);
  return csumFold(csumAdd(~check & 0xffff, diff));
}

/** inet_proto_csum_replace_by_diff / csum_replace_by_diff: adds a precomputed 32-bit difference. */
export function csumReplaceByDiff(check: number, diff: number): number {
  return csumFold(csumAdd(~check & 0xffff, diff >>> 0));
}
