// SPDX-License-Identifier: GPL-2.0
/*
 * loops.bpf.c - the same data-dependent series summed with each BPF loop
 * style. The bound `n` and the mask `key` are writable .data globals, so
 * clang can neither fold the loops into a closed form (spec elf-loading
 * §3.3 #14) nor unroll them.
 *
 *   series: S(n) = sum_{i=0}^{n-1} ((i*i) ^ key), key = 0x55, n = 100
 *   S(100) = 329766 (0x50826)
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program        | loop style                       | return value
 * ---+----------------+----------------------------------+-------------
 *  1 | loop_bpf_for   | bpf_for (bpf_iter_num_* kfuncs)  | 329766
 *  2 | loop_repeat    | bpf_repeat (bpf_iter_num_*)      | 329766
 *  3 | loop_cond_break| cond_break (may_goto, 0xe5)      | 329766
 *  4 | loop_can_loop  | while (... && can_loop)          | 329766
 *  5 | loop_bpf_loop  | bpf_loop helper (181) + callback | 329766
 *  6 | loop_plain     | bounded for (i < 128 && i < n)   | 329766
 *
 * Final globals (.bss):
 *   sum_for = sum_repeat = sum_cond_break = sum_can_loop = sum_bpf_loop =
 *   sum_plain = 329766
 *   iters_for = iters_repeat = iters_cond_break = iters_can_loop =
 *   iters_plain = 100
 *   bpf_loop_ret = 100 (bpf_loop returns the number of iterations)
 * (.data n = 100, key = 0x55 unchanged.)
 *
 * The may_goto budget (8M iterations, or the timed variant) is far above
 * 100, so it never ends loops 3 and 4 early.
 */
#include "bpfrun.h"

__u32 n = 100;
__u32 key = 0x55;

__u64 sum_for, sum_repeat, sum_cond_break, sum_can_loop, sum_bpf_loop, sum_plain;
__u32 iters_for, iters_repeat, iters_cond_break, iters_can_loop, iters_plain;
long bpf_loop_ret;

static __always_inline __u64 term(__u32 i)
{
	return (i * i) ^ key;
}

SEC("syscall")
int loop_bpf_for(void *ctx)
{
	__u64 acc = 0;
	__u32 cnt = 0;
	int i;

	bpf_for(i, 0, n) {
		acc += term(i);
		cnt++;
	}
	sum_for = acc;
	iters_for = cnt;
	return acc;
}

SEC("syscall")
int loop_repeat(void *ctx)
{
	__u64 acc = 0;
	__u32 i = 0;

	bpf_repeat(n) {
		acc += term(i);
		i++;
	}
	sum_repeat = acc;
	iters_repeat = i;
	return acc;
}

SEC("syscall")
int loop_cond_break(void *ctx)
{
	__u64 acc = 0;
	__u32 i = 0, lim = n;

	while (i < lim) {
		acc += term(i);
		i++;
		cond_break;
	}
	sum_cond_break = acc;
	iters_cond_break = i;
	return acc;
}

SEC("syscall")
int loop_can_loop(void *ctx)
{
	__u64 acc = 0;
	__u32 i = 0, lim = n;

	while (i < lim && can_loop) {
		acc += term(i);
		i++;
	}
	sum_can_loop = acc;
	iters_can_loop = i;
	return acc;
}

struct loop_ctx {
	__u64 acc;
	__u32 key;
};

static long loop_cb(__u32 idx, void *data)
{
	struct loop_ctx *c = data;

	c->acc += (idx * idx) ^ c->key;
	return 0;
}

SEC("syscall")
int loop_bpf_loop(void *ctx)
{
	struct loop_ctx c = {.acc = 0, .key = key};

	bpf_loop_ret = bpf_loop(n, loop_cb, &c, 0);
	sum_bpf_loop = c.acc;
	return c.acc;
}

SEC("syscall")
int loop_plain(void *ctx)
{
	__u64 acc = 0;
	__u32 i;

	for (i = 0; i < 128 && i < n; i++)
		acc += term(i);
	sum_plain = acc;
	iters_plain = i;
	return acc;
}

char LICENSE[] SEC("license") = "GPL";
