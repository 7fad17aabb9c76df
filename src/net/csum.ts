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

/**
 * csum_partial as x86-64 computes it (arch/x86/lib/csum-partial_64.c): the buffer summed as
 * little-endian 32-bit words (the tail zero-padded) with end-around carry, added to `seed`. The
 * 32-bit value is what skb->csum holds (bpf_csum_update returns it); any 16-bit fold of it is the
 * same as of the 16-bit-word sum.
 */
export function csumPartial(bytes: Uint8Array, start: number, len: number, seed: number): number {
  let sum = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    const p = start + k;
    sum += (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
    if (sum >= 2 ** 52) sum = (sum % 0xffffffff) || 0xffffffff;
  }
  let tail = 0;
  for (let j = 0; k + j < len; j++) tail += bytes[start + k + j] * 2 ** (8 * j);
  sum += tail;
  // fold into 32 bits with end-around carry, then add the seed
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
