/* (e) Multiply/rotate hash of the input's u64 words, `passes` passes (bench/programs.ts: mixhash). */
#include <stdint.h>
#include <string.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t passes) {
  uint64_t h = 0x243f6a8885a308d3ull;
  for (uint64_t p = 0; p < passes; p++) {
    for (uint64_t o = 0; o < len; o += 8) {
      uint64_t w;
      memcpy(&w, mem + o, 8);
      h ^= w;
      h = (h << 27) | (h >> 37);
      h *= 0x9e3779b97f4a7c15ull;
    }
  }
  return h;
}
