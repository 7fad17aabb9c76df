/* (d) Byte sieve of Eratosthenes over the (zeroed) input; primes below len (bench/programs.ts: sieve). */
#include <stdint.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) {
  (void)param;
  for (uint64_t i = 2; i * i < len; i++) {
    if (mem[i]) continue;
    for (uint64_t j = i * i; j < len; j += i) mem[j] = 1;
  }
  uint64_t count = 0;
  for (uint64_t i = 2; i < len; i++) count += mem[i] == 0;
  return count;
}
