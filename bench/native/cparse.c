/* The native twin of the compiled benchmark "parse": bench/compiled/parse.h, as progs/bench_parse.bpf.c runs it. */
#include "../compiled/parse.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return parse_bench(mem, len, param); }
