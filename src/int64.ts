/**
 * 64-bit integer arithmetic on pairs of int32 halves, without allocation or BigInt, for the
 * engines' hot paths. A value is (lo, hi), each held as a signed int32 (`| 0`). Functions
 * return the low half and leave the high half in `out.hi` — read it right after the call.
 *
 * Semantics follow the BPF ISA (spec §8.2): unsigned division by zero gives 0, modulo by zero
 * keeps the dividend, signed division truncates toward zero, LLONG_MIN s/ -1 = LLONG_MIN.
 */

/** High half of the last result. */
export const out = { hi: 0 };

const TWO32 = 4294967296;

/** Low 64 bits of a * b: the 32x32 → 64 product of the low halves from 16-bit limbs, plus the
 *  cross terms, which only reach the high half. Every intermediate stays below 2^32. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): number {
  const a0 = alo & 0xffff, a1 = alo >>> 16;
  const b0 = blo & 0xffff, b1 = blo >>> 16;
  const p00 = a0 * b0;
  const m1 = a1 * b0 + (p00 >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  const carry = a1 * b1 + (m1 >>> 16) + (m2 >>> 16); // high 32 bits of alo * blo
  out.hi = (carry + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  return Math.imul(alo, blo);
}

let remLo = 0;
let remHi = 0;

/** Unsigned n / d (d != 0); the remainder is left in remLo/remHi. */
function udivmod(nlo: number, nhi: number, dlo: number, dhi: number): number {
  const nl = nlo >>> 0, nh = nhi >>> 0, dl = dlo >>> 0, dh = dhi >>> 0;
  if (dh === 0 && dl < 0x100000) {
    // Two-step schoolbook division in doubles: every intermediate stays below 2^53, and the
    // one-off correction covers a quotient that rounding pushed up.
    const qh = Math.floor(nh / dl);
    const rest = (nh - qh * dl) * TWO32 + nl;
    let ql = Math.floor(rest / dl);
    let r = rest - ql * dl;
    if (r < 0) { ql -= 1; r += dl; }
    remLo = r | 0;
    remHi = 0;
    out.hi = qh | 0;
    return ql | 0;
  }
  // Shift-subtract long division; only for divisors of 20 bits or more.
  let qlo = 0, qhi = 0, rlo = 0, rhi = 0;
  for (let bit = 63; bit >= 0; bit--) {
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    const nb = bit >= 32 ? (nh >>> (bit - 32)) & 1 : (nl >>> bit) & 1;
    rlo = ((rlo << 1) | nb) >>> 0;
    if (rhi > dh || (rhi === dh && rlo >= dl)) {
      const borrow = rlo < dl ? 1 : 0;
      rlo = (rlo - dl) >>> 0;
      rhi = (rhi - dh - borrow) >>> 0;
      if (bit >= 32) qhi |= 1 << (bit - 32);
      else qlo |= 1 << bit;
    }
  }
  remLo = rlo | 0;
  remHi = rhi | 0;
  out.hi = qhi | 0;
  return qlo | 0;
}

/** Unsigned a / b; 0 when b == 0. */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) { out.hi = 0; return 0; }
  if ((ahi | bhi) === 0) { out.hi = 0; return ((alo >>> 0) / (blo >>> 0)) | 0; }
  return udivmod(alo, ahi, blo, bhi);
}

/** Unsigned a % b; a when b == 0. */
export function umod64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) { out.hi = ahi; return alo; }
  if ((ahi | bhi) === 0) { out.hi = 0; return ((alo >>> 0) % (blo >>> 0)) | 0; }
  udivmod(alo, ahi, blo, bhi);
  out.hi = remHi;
  return remLo;
}

/** Negation (two's complement) of (lo, hi). */
export function neg64(lo: number, hi: number): number {
  out.hi = (lo === 0 ? -hi : ~hi) | 0;
  return (-lo) | 0;
}

/** Signed a / b truncated toward zero; 0 when b == 0; LLONG_MIN / -1 = LLONG_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) { out.hi = 0; return 0; }
  const aneg = ahi < 0, bneg = bhi < 0;
  let ul = alo, uh = ahi, vl = blo, vh = bhi;
  if (aneg) { ul = neg64(alo, ahi); uh = out.hi; }
  if (bneg) { vl = neg64(blo, bhi); vh = out.hi; }
  const ql = udiv64(ul, uh, vl, vh);
  if (aneg !== bneg) return neg64(ql, out.hi);
  return ql;
}

/** Signed a % b with the sign of a (C semantics); a when b == 0. */
export function smod64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) { out.hi = ahi; return alo; }
  const aneg = ahi < 0;
  let ul = alo, uh = ahi, vl = blo, vh = bhi;
  if (aneg) { ul = neg64(alo, ahi); uh = out.hi; }
  if (bhi < 0) { vl = neg64(blo, bhi); vh = out.hi; }
  const rl = umod64(ul, uh, vl, vh);
  if (aneg) return neg64(rl, out.hi);
  return rl;
}

/** Signed 32-bit division with the ISA's rules (0 on zero divisor, INT_MIN / -1 = INT_MIN). */
export function sdiv32(a: number, b: number): number {
  if (b === 0) return 0;
  return (a / b) | 0; // `| 0` truncates toward zero and wraps 2^31 to INT_MIN
}

/** Signed 32-bit remainder (sign of a); a when b == 0. */
export function smod32(a: number, b: number): number {
  if (b === 0) return a;
  return (a % b) | 0; // INT_MIN % -1 is -0 in JS, | 0 makes it 0
}

/** Logical shift left by n (0..63). */
export function lsh64(lo: number, hi: number, n: number): number {
  if (n === 0) { out.hi = hi; return lo; }
  if (n < 32) { out.hi = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  out.hi = lo << (n - 32);
  return 0;
}

/** Logical shift right by n (0..63). */
export function rsh64(lo: number, hi: number, n: number): number {
  if (n === 0) { out.hi = hi; return lo; }
  if (n < 32) { out.hi = hi >>> n | 0; return (lo >>> n) | (hi << (32 - n)); }
  out.hi = 0;
  return (hi >>> (n - 32)) | 0;
}

/** Arithmetic shift right by n (0..63). */
export function arsh64(lo: number, hi: number, n: number): number {
  if (n === 0) { out.hi = hi; return lo; }
  if (n < 32) { out.hi = hi >> n; return (lo >>> n) | (hi << (32 - n)); }
  out.hi = hi >> 31;
  return hi >> (n - 32);
}

/** Byte swap of a 32-bit value. */
export function bswap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) | 0;
}

/** Byte swap of a 16-bit value (result zero-extended). */
export function bswap16(x: number): number {
  return ((x >>> 8) & 0xff) | ((x & 0xff) << 8);
}

/**
 * The conversions between BigInts and (lo, hi) halves go through one 8-byte DataView: its
 * BigInt accessors convert natively (setBigUint64 takes the value mod 2^64), with no BigInt
 * arithmetic, so helpers crossing the boundary once per call stay cheap.
 */
const SCRATCH = new DataView(new ArrayBuffer(8));

/** (lo, hi) as an unsigned BigInt — for API boundaries, never hot paths. */
export function toU64(lo: number, hi: number): bigint {
  SCRATCH.setInt32(0, lo, true);
  SCRATCH.setInt32(4, hi, true);
  return SCRATCH.getBigUint64(0, true);
}

/** Splits a BigInt (any sign; taken mod 2^64) into [lo, hi] int32 halves. */
export function fromU64(v: bigint): [number, number] {
  SCRATCH.setBigUint64(0, v, true);
  return [SCRATCH.getInt32(0, true), SCRATCH.getInt32(4, true)];
}

/** fromU64 into regs[at], regs[at + 1], without the pair. */
export function splitU64Into(v: bigint, regs: Int32Array, at: number): void {
  SCRATCH.setBigUint64(0, v, true);
  regs[at] = SCRATCH.getInt32(0, true);
  regs[at + 1] = SCRATCH.getInt32(4, true);
}
