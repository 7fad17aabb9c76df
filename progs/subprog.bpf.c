// SPDX-License-Identifier: GPL-2.0
/*
 * subprog.bpf.c - subprograms in .text shared by two entry programs in one
 * SEC("syscall") section.
 *
 * .text functions:
 *   global_add  global (STB_GLOBAL): verified on its own by the kernel;
 *               calls to it are `call -1` + R_BPF_64_32 against the symbol
 *   hidden_sub  global + STV_HIDDEN (__hidden): treated as static by libbpf
 *   static_mul  static; calls global_add (a .rel.text relocation)
 *   mid, leaf   static; mid -> leaf is a pc-relative `call` inside .text with
 *               NO relocation; calls into them from `syscall` use the .text
 *               section symbol with the offset in imm
 *   loop_cb     static bpf_loop callback, passed by address (ld_imm64 +
 *               R_BPF_64_64 against .text, src_reg 0 in the .o)
 *
 * Inputs (.data): in_a = 7, in_b = 5, bias = 1.
 *   leaf(x) = 3*x + bias; mid(x) = leaf(x) + leaf(x+1)
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program | return value
 * ---+---------+-------------
 *  1 | prog_a  | 164  (= 12 + 35 + 47 + 70)
 *  2 | prog_b  | 27
 *
 * Final globals (.bss):
 *   res_add = 12       global_add(7, 5)
 *   res_mul = 35       static_mul(7, 5)
 *   res_mid = 47       mid(7) = leaf(7) + leaf(8) = 22 + 25
 *   res_loop_ret = 5   bpf_loop(5, loop_cb, ...) returns the iteration count
 *   res_loop_sum = 70  sum over idx 0..4 of idx*7
 *   res_sub = 2        hidden_sub(7, 5)
 *   res_mul_b = 25     static_mul(5, 5)
 *   res_b = 27         global_add(res_sub, res_mul_b)
 *   calls_a = 1, calls_b = 1
 */
#include "bpfrun.h"

int in_a = 7;
int in_b = 5;
int bias = 1;

int res_add, res_mul, res_mid, res_loop_ret, res_loop_sum;
int res_sub, res_mul_b, res_b;
int calls_a, calls_b;

__noinline int global_add(int a, int b)
{
	return a + b;
}

__hidden __noinline int hidden_sub(int a, int b)
{
	return a - b;
}

static __noinline int static_mul(int a, int b)
{
	return global_add(a * b, 0);
}

static __noinline int leaf(int x)
{
	return x * 3 + bias;
}

static __noinline int mid(int x)
{
	return leaf(x) + leaf(x + 1);
}

struct cb_ctx {
	int mul;
	int sum;
};

static long loop_cb(__u32 idx, void *data)
{
	struct cb_ctx *c = data;

	c->sum += idx * c->mul;
	return 0;
}

SEC("syscall")
int prog_a(void *ctx)
{
	struct cb_ctx c = {.mul = in_a, .sum = 0};

	res_add = global_add(in_a, in_b);
	res_mul = static_mul(in_a, in_b);
	res_mid = mid(in_a);
	res_loop_ret = bpf_loop(in_b, loop_cb, &c, 0);
	res_loop_sum = c.sum;
	calls_a++;
	return res_add + res_mul + res_mid + c.sum;
}

SEC("syscall")
int prog_b(void *ctx)
{
	res_sub = hidden_sub(in_a, in_b);
	res_mul_b = static_mul(in_b, in_b);
	res_b = global_add(res_sub, res_mul_b);
	calls_b++;
	return res_b;
}

char LICENSE[] SEC("license") = "GPL";
