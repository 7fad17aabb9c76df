/* sort: insertion sort of the buffer's u32s in place; the checksum is sum(a[i] * (i + 1)). */
#include "common.h"

static inline uint64_t sort_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint32_t *a = (uint32_t *)mem;
  uint64_t n = len / 4;
  (void)param;
  if (n > BENCH_MAX_BYTES / 4) n = BENCH_MAX_BYTES / 4;
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
