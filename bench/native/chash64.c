/* The native twin of the compiled benchmark "hash64": bench/compiled/hash64.h, as progs/bench_hash64.bpf.c runs it. */
#include "../compiled/hash64.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return hash64_bench(mem, len, param); }
