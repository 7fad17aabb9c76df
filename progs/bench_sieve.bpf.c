// SPDX-License-Identifier: GPL-2.0
/*
 * bench_sieve.bpf.c - the compiled benchmark "sieve" (bench/compiled/sieve.h, shared with its gcc
 * twin bench/native/csieve.c); `npm run bench` runs the subprogram bench_sieve as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/sieve.h"

BENCH_COMPUTE(sieve)

char LICENSE[] SEC("license") = "GPL";
