/* fib: a loop of 64-bit arithmetic, fib(param) mod 2^64 folded into a multiply-add mix. */
#include "common.h"

static inline uint64_t fib_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint64_t a = 0, b = 1, acc = len;
  (void)mem;
  for (uint64_t i = 0; i < param && i < BENCH_MAX_ITERS; i++) {
    uint64_t t = a + b;
    a = b;
    b = t;
    acc = acc * 3 + (t ^ i);
  }
  return a ^ acc;
}
