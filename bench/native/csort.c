/* The native twin of the compiled benchmark "sort": bench/compiled/sort.h, as progs/bench_sort.bpf.c runs it. */
#include "../compiled/sort.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return sort_bench(mem, len, param); }
