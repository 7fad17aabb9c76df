/* The native twin of the compiled benchmark "crc32": bench/compiled/crc32.h, as progs/bench_crc32.bpf.c runs it. */
#include "../compiled/crc32.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return crc32_bench(mem, len, param); }
