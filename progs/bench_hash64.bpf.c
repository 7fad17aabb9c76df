// SPDX-License-Identifier: GPL-2.0
/*
 * bench_hash64.bpf.c - the compiled benchmark "hash64" (bench/compiled/hash64.h, shared with its gcc
 * twin bench/native/chash64.c); `npm run bench` runs the subprogram bench_hash64 as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/hash64.h"

BENCH_COMPUTE(hash64)

char LICENSE[] SEC("license") = "GPL";
