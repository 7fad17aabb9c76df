/* SPDX-License-Identifier: MIT */
/*
 * bench_compiled.h - the entry points of the compiled benchmarks (progs/bench_*.bpf.c; the
 * algorithms are bench/compiled/NAME.h, shared with the native twins in bench/native/).
 *
 * BENCH_COMPUTE(NAME) defines, for NAME_bench(mem, len, param) of bench/compiled/NAME.h:
 *  - bench_NAME, a __hidden __noinline subprogram taking r1 = mem, r2 = len, r3 = param
 *    (hidden, not static: clang may not drop or reorder the arguments of a global function);
 *    `npm run bench` (bench/compiled.ts) runs its instructions as raw bytecode, with the
 *    conformance machine's r1 = input memory and r2 = its length;
 *  - NAME, a SEC("syscall") program calling it on its context, struct bench_args (len, param,
 *    then len bytes of data), or without a context (as the tests run every object) on a small
 *    built-in input: BENCH_SMALL_LEN bytes of a fixed pattern, param BENCH_SMALL_PARAM.
 * Its r0 is the full u64 checksum.
 */
#ifndef __BENCH_COMPILED_H__
#define __BENCH_COMPILED_H__

struct bench_args {
	__u64 len;
	__u64 param;
	__u8 data[];
};

#define BENCH_SMALL_LEN 2048
#define BENCH_SMALL_PARAM 2

#define BENCH_COMPUTE(NAME)                                                     \
__hidden __noinline __u64 bench_##NAME(__u8 *mem, __u64 len, __u64 param)         \
{                                                                               \
	return NAME##_bench(mem, len, param);                                   \
}                                                                               \
                                                                                \
__u8 NAME##_small[BENCH_SMALL_LEN];                                             \
                                                                                \
SEC("syscall")                                                                  \
__u64 NAME(struct bench_args *args)                                             \
{                                                                               \
	if (args)                                                               \
		return bench_##NAME(args->data, args->len, args->param);        \
	for (int i = 0; i < BENCH_SMALL_LEN; i++)                               \
		NAME##_small[i] = i * 131 + 7;                                  \
	return bench_##NAME(NAME##_small, BENCH_SMALL_LEN, BENCH_SMALL_PARAM);  \
}

#endif
