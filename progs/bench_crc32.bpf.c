// SPDX-License-Identifier: GPL-2.0
/*
 * bench_crc32.bpf.c - the compiled benchmark "crc32" (bench/compiled/crc32.h, shared with its gcc
 * twin bench/native/ccrc32.c); `npm run bench` runs the subprogram bench_crc32 as raw bytecode
 * (progs/include/bench_compiled.h).
 */
#include "bpfrun.h"
#include "bench_compiled.h"
#include "../bench/compiled/crc32.h"

BENCH_COMPUTE(crc32)

char LICENSE[] SEC("license") = "GPL";
