/*
 * crc32: bytewise table-driven CRC-32 (reflected, poly 0xEDB88320), `param` passes over the
 * data. The BPF stack (512 bytes) cannot hold the 1 KiB table and a const table would be a
 * .rodata map, so the function builds the table in the first 1 KiB of the buffer; the data is
 * the rest.
 */
#include "common.h"

static inline uint64_t crc32_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  uint32_t *table = (uint32_t *)mem;
  if (len < 1024) return 0;
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    table[n] = c;
  }
  uint32_t crc = 0xffffffffu;
  for (uint64_t p = 0; p < param && p < BENCH_MAX_ITERS; p++)
    for (uint64_t i = 1024; i < len && i < BENCH_MAX_BYTES; i++)
      crc = table[(crc ^ mem[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}
