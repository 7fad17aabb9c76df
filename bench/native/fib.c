/* (a) fib(n) mod 2^64, iteratively (bench/programs.ts: fib). */
#include <stdint.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t n) {
  (void)mem; (void)len;
  uint64_t a = 0, b = 1;
  do {
    uint64_t t = a + b;
    a = b;
    b = t;
  } while (--n != 0);
  return a;
}
