/*
 * parse: a packet parser. The buffer holds frames back to back, each a little-endian u16
 * length then that many bytes; each frame is parsed as Ethernet (one optional 802.1Q tag),
 * IPv4 (options, fragments), then UDP or TCP (data offset), every header bounds-checked
 * against the frame's length and the IP total length, and summarised into a u64 that is
 * chained into the checksum. `param` passes over all frames.
 */
#include "common.h"

#define PARSE_MAX_FRAMES 65536

static inline uint64_t parse_frame(const uint8_t *f, uint64_t n) {
  if (n < 14) return 1;
  uint64_t type = bench_be16(f + 12), o = 14;
  if (type == 0x8100) {
    if (n < 18) return 2;
    type = bench_be16(f + 16);
    o = 18;
  }
  if (type != 0x0800) return 3 + (type << 8);
  if (n < o + 20) return 4;
  uint8_t vihl = f[o];
  if ((vihl >> 4) != 4) return 5;
  uint64_t ihl = (uint64_t)(vihl & 15) * 4;
  if (ihl < 20 || n < o + ihl) return 6;
  uint64_t tot = bench_be16(f + o + 2);
  if (tot < ihl || o + tot > n) return 7;
  uint64_t proto = f[o + 9];
  uint64_t r = (((uint64_t)bench_be32(f + o + 12) << 32) | bench_be32(f + o + 16)) ^ (proto << 56);
  if (bench_be16(f + o + 6) & 0x1fff) return r ^ 8; /* a non-first fragment: no L4 header */
  uint64_t l4 = o + ihl, end = o + tot, sport, dport, payload, plen;
  if (proto == 17) {
    if (end < l4 + 8) return r ^ 9;
    sport = bench_be16(f + l4);
    dport = bench_be16(f + l4 + 2);
    uint64_t ulen = bench_be16(f + l4 + 4);
    if (ulen < 8 || l4 + ulen > end) return r ^ 10;
    payload = l4 + 8;
    plen = ulen - 8;
  } else if (proto == 6) {
    if (end < l4 + 20) return r ^ 11;
    sport = bench_be16(f + l4);
    dport = bench_be16(f + l4 + 2);
    uint64_t doff = (uint64_t)(f[l4 + 12] >> 4) * 4;
    if (doff < 20 || l4 + doff > end) return r ^ 12;
    r ^= (uint64_t)f[l4 + 13] << 40; /* TCP flags */
    payload = l4 + doff;
    plen = end - payload;
  } else {
    return r ^ 13;
  }
  r ^= (sport << 16) ^ (dport << 32);
  for (uint64_t i = 0; i < plen && i < 8; i++) r = r * 31 + f[payload + i];
  return r + plen;
}

static inline uint64_t parse_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t p = 0; p < param && p < BENCH_MAX_ITERS; p++) {
    uint64_t off = 0;
    for (uint64_t k = 0; k < PARSE_MAX_FRAMES && off + 2 <= len; k++) {
      uint64_t flen = mem[off] | ((uint64_t)mem[off + 1] << 8);
      const uint8_t *f = mem + off + 2;
      off += 2 + flen;
      if (off > len) break;
      h = (h ^ parse_frame(f, flen)) * 0x100000001b3ull;
    }
  }
  return h;
}
