/*
 * sieve: the sieve of Eratosthenes over the buffer's bytes, `param` times (at most 255); the
 * checksum mixes the prime count and the sum of the primes. Pass p marks composites with
 * p + 1, so that no pass needs to clear the buffer (a clearing loop becomes a memset, which
 * BPF does not have): the buffer must start all zero.
 */
#include "common.h"

static inline uint64_t sieve_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint64_t n = len < BENCH_MAX_BYTES ? len : BENCH_MAX_BYTES, out = 0;
  for (uint64_t p = 0; p < param && p < 255; p++) {
    uint8_t mark = (uint8_t)(p + 1);
    uint64_t count = 0, sum = 0;
    for (uint64_t i = 2; i < n; i++) {
      if (mem[i] == mark) continue;
      count++;
      sum += i;
      for (uint64_t j = i * i; j < n; j += i) mem[j] = mark;
    }
    out = out * 31 + (count << 32) + sum;
  }
  return out;
}
