/* (b) Bitwise CRC-32, reflected, poly 0xEDB88320 (bench/programs.ts: crc32). */
#include <stdint.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) {
  (void)param;
  uint32_t crc = 0xffffffffu;
  for (uint64_t i = 0; i < len; i++) {
    crc ^= mem[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}
