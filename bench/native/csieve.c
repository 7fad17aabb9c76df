/* The native twin of the compiled benchmark "sieve": bench/compiled/sieve.h, as progs/bench_sieve.bpf.c runs it. */
#include "../compiled/sieve.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return sieve_bench(mem, len, param); }
