// SPDX-License-Identifier: GPL-2.0
/*
 * bench_sort.bpf.c - the compiled benchmark "sort" (bench/compiled/sort.h, shared with its gcc
 * twin bench/native/csort.c); `npm run bench` runs the subprogram bench_sort as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/sort.h"

BENCH_COMPUTE(sort)

char LICENSE[] SEC("license") = "GPL";
