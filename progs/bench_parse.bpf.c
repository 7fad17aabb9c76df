// SPDX-License-Identifier: GPL-2.0
/*
 * bench_parse.bpf.c - the compiled benchmark "parse" (bench/compiled/parse.h, shared with its gcc
 * twin bench/native/cparse.c); `npm run bench` runs the subprogram bench_parse as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/parse.h"

BENCH_COMPUTE(parse)

char LICENSE[] SEC("license") = "GPL";
