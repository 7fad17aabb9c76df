/**
 * bpf_strtol (#105) and bpf_strtoul (#106): kernel/bpf/helpers.c __bpf_strtoull with lib/kstrtox.c's
 * radix and digit rules. Leading spaces and one '-' are skipped, at most 63 more bytes are looked
 * at, base 0 detects 0x / 0 prefixes; the result is the number of bytes consumed, or -EINVAL
 * (bad flags or base, nothing to parse), -ERANGE (overflow). `*res` is 0 unless it succeeded.
 */
import type { SimKernel } from '../kernel/kernel.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { EINVAL, ERANGE, type HelperName } from '../uapi.js';

const BPF_STRTOX_BASE_MASK = 0x1fn;
const U64_MAX = (1n << 64n) - 1n;

/** The kernel's isspace(): \t \n \v \f \r, space, and Latin-1 no-break space. */
const isSpace = (c: number) => (c >= 9 && c <= 13) || c === 32 || c === 0xa0;

/** __bpf_strtoull: the value, whether a '-' came first, and the bytes consumed; or a negative errno. */
export function parseStrtox(buf: Uint8Array, flags: bigint): { value: bigint; negative: boolean; consumed: number } | number {
  let base = Number(flags & BPF_STRTOX_BASE_MASK);
  if (buf.length === 0) return -EINVAL;
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return -EINVAL;
  if ((flags & ~BPF_STRTOX_BASE_MASK) !== 0n) return -EINVAL;
  let at = 0;
  while (at < buf.length && isSpace(buf[at])) at++;
  const negative = at < buf.length && buf[at] === 0x2d;
  if (negative) at++;
  if (at === buf.length) return -EINVAL;
  // A NUL-terminated copy of at most 63 bytes (str[64]).
  const str = buf.subarray(at, at + Math.min(buf.length - at, 63));
  const ch = (k: number) => (k < str.length ? str[k] : 0);
  const lower = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  const isXdigit = (c: number) => (c >= 0x30 && c <= 0x39) || (lower(c) >= 0x61 && lower(c) <= 0x66);
  let k = 0;
  // _parse_integer_fixup_radix
  if (base === 0) base = ch(0) === 0x30 ? (lower(ch(1)) === 0x78 && isXdigit(ch(2)) ? 16 : 8) : 10;
  if (base === 16 && ch(0) === 0x30 && lower(ch(1)) === 0x78) k = 2;
  // _parse_integer
  let value = 0n;
  let digits = 0;
  let overflow = false;
  for (; k < str.length; k++, digits++) {
    const c = str[k], lc = lower(c);
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : lc >= 0x61 && lc <= 0x66 ? lc - 0x61 + 10 : 99;
    if (v >= base) break;
    value = value * BigInt(base) + BigInt(v);
    if (value > U64_MAX) { overflow = true; value = U64_MAX; }
  }
  if (overflow) return -ERANGE;
  if (digits === 0) return -EINVAL;
  return { value, negative, consumed: at + k };
}

export function createStrtoxHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  /** Reads the buffer, zeroes *res, parses; writes *res on success. */
  const run = (ctx: CallContext, signed: boolean): number => {
    const len = ctx.argLo(2) >>> 0;
    const buf = len === 0 ? new Uint8Array(0) : kernel.readOrFail(ctx.index, ctx.arg(1), len);
    const res = new Uint8Array(8);
    kernel.writeOrFail(ctx.index, ctx.arg(4), res);
    const r = parseStrtox(buf, ctx.arg(3));
    if (typeof r === 'number') return r;
    let value: bigint;
    if (!signed) {
      if (r.negative) return -EINVAL;
      value = r.value;
    } else if (r.negative) {
      // __bpf_strtoll: -value must not be positive as an s64.
      if (BigInt.asIntN(64, -r.value) > 0n) return -ERANGE;
      value = BigInt.asUintN(64, -r.value);
    } else {
      if (BigInt.asIntN(64, r.value) < 0n) return -ERANGE;
      value = r.value;
    }
    new DataView(res.buffer).setBigUint64(0, value, true);
    kernel.writeOrFail(ctx.index, ctx.arg(4), res);
    return r.consumed;
  };
  return {
    strtol: (ctx) => run(ctx, true),
    strtoul: (ctx) => run(ctx, false),
  };
}
