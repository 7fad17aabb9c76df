// The int32-pair arithmetic against BigInt, on edge values and a seeded random sample.
import assert from 'node:assert/strict';
import {
  arsh64, fromU64, lsh64, mul64, neg64, out, rsh64, sdiv32, sdiv64, smod32, smod64, toU64, udiv64,
  umod64,
} from '../src/int64.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);

/** Deterministic xorshift so failures reproduce. */
function rng(seed: number): () => bigint {
  let x = seed >>> 0 || 1;
  const next32 = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return BigInt(x); };
  return () => (next32() << 32n) | next32();
}

const EDGES = [0n, 1n, 2n, 3n, 7n, 10n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0xfffffn, 0x100000n, 0x123456789n, 1n << 52n, (1n << 53n) + 1n, 0x7fffffffffffffffn, 0x8000000000000000n,
  M64, M64 - 1n, 0xdeadbeefcafebaben];

function samples(): Array<[bigint, bigint]> {
  const r = rng(12345);
  const pairs: Array<[bigint, bigint]> = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
  for (let i = 0; i < 3000; i++) {
    const a = r(), b = r();
    pairs.push([a, b], [a, b >> BigInt(Number(b & 63n))], [a >> 40n, b >> 50n]);
  }
  return pairs;
}

function call(f: (a: number, b: number, c: number, d: number) => number, a: bigint, b: bigint): bigint {
  const [alo, ahi] = fromU64(a);
  const [blo, bhi] = fromU64(b);
  const lo = f(alo, ahi, blo, bhi);
  return toU64(lo, out.hi);
}

describe('int64 pair arithmetic', () => {
  const pairs = samples();

  it('mul64 is the low 64 bits of the product', () => {
    for (const [a, b] of pairs) assert.equal(call(mul64, a, b), u64(a * b), `${a} * ${b}`);
  });

  it('udiv64 / umod64: unsigned, 0 and dividend on zero divisor', () => {
    for (const [a, b] of pairs) {
      assert.equal(call(udiv64, a, b), b === 0n ? 0n : a / b, `${a} / ${b}`);
      assert.equal(call(umod64, a, b), b === 0n ? a : a % b, `${a} % ${b}`);
    }
  });

  it('sdiv64 / smod64: truncating, LLONG_MIN / -1 = LLONG_MIN, x % -1 = 0', () => {
    for (const [a, b] of pairs) {
      const sa = s64(a), sb = s64(b);
      const q = sb === 0n ? 0n : sa === -(1n << 63n) && sb === -1n ? sa : sa / sb;
      const r = sb === 0n ? sa : sb === -1n ? 0n : sa % sb;
      assert.equal(call(sdiv64, a, b), u64(q), `${sa} s/ ${sb}`);
      assert.equal(call(smod64, a, b), u64(r), `${sa} s% ${sb}`);
    }
    assert.equal(call(smod64, u64(-13n), 3n), u64(-1n));
  });

  it('shifts mask nothing themselves and agree with BigInt for 0..63', () => {
    for (const [a] of pairs.slice(0, 400)) {
      for (let n = 0; n < 64; n++) {
        const [lo, hi] = fromU64(a);
        assert.equal(toU64(lsh64(lo, hi, n), out.hi), u64(a << BigInt(n)));
        assert.equal(toU64(rsh64(lo, hi, n), out.hi), a >> BigInt(n));
        assert.equal(toU64(arsh64(lo, hi, n), out.hi), u64(s64(a) >> BigInt(n)));
      }
    }
  });

  it('neg64', () => {
    for (const [a] of pairs.slice(0, 2000)) {
      const [lo, hi] = fromU64(a);
      assert.equal(toU64(neg64(lo, hi), out.hi), u64(-a));
    }
  });

  it('32-bit signed division rules', () => {
    assert.equal(sdiv32(-2147483648, -1), -2147483648);
    assert.equal(smod32(-2147483648, -1), 0);
    assert.equal(sdiv32(7, 0), 0);
    assert.equal(smod32(-7, 0), -7);
    assert.equal(sdiv32(-7, 2), -3);
    assert.equal(smod32(-7, 2), -1);
  });
});
