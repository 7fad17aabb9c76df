/* The native twin of the compiled benchmark "fib": bench/compiled/fib.h, as progs/bench_fib.bpf.c runs it. */
#include "../compiled/fib.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return fib_bench(mem, len, param); }
