/*
 * hash64: a 64-bit multiply-xorshift hash (splitmix64's finaliser over each word, chained) of
 * the buffer's u64 words, `param` passes.
 */
#include "common.h"

static inline uint64_t hash64_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint64_t h = 0x243f6a8885a308d3ull;
  uint64_t n = len < BENCH_MAX_BYTES ? len / 8 : BENCH_MAX_BYTES / 8;
  const uint64_t *w = (const uint64_t *)mem;
  for (uint64_t p = 0; p < param && p < BENCH_MAX_ITERS; p++) {
    for (uint64_t i = 0; i < n; i++) {
      uint64_t x = h ^ w[i];
      x ^= x >> 30;
      x *= 0xbf58476d1ce4e5b9ull;
      x ^= x >> 27;
      x *= 0x94d049bb133111ebull;
      x ^= x >> 31;
      h = x + p;
    }
  }
  return h;
}
