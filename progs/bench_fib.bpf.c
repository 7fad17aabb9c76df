// SPDX-License-Identifier: GPL-2.0
/*
 * bench_fib.bpf.c - the compiled benchmark "fib" (bench/compiled/fib.h, shared with its gcc
 * twin bench/native/cfib.c); `npm run bench` runs the subprogram bench_fib as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/fib.h"

BENCH_COMPUTE(fib)

char LICENSE[] SEC("license") = "GPL";
