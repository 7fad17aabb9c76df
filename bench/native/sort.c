/* (c) Insertion sort of u32s in place, then sum of a[i] * (i + 1) (bench/programs.ts: sort). */
#include <stdint.h>
#include <string.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) {
  (void)param;
  uint32_t *a = (uint32_t *)mem;
  uint64_t n = len / 4;
  for (uint64_t i = 1; i < n; i++) {
    uint32_t key = a[i];
    uint64_t j = i;
    while (j > 0 && a[j - 1] > key) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = key;
  }
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += (uint64_t)a[i] * (i + 1);
  return sum;
}
