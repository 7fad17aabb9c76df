// SPDX-License-Identifier: MIT
/*
 * loop_inline.bpf.c - bpf_loop where the verifier inlines it (flags the constant 0) and where it
 * keeps the helper (flags from the context), spec maps-and-kernel-objects §6.5. Raw
 * tracepoints, so BPF_PROG_TEST_RUN takes the count as args[0] (and the flags as args[1]).
 *
 *   loop_inlined - bpf_loop(args[0], cb, &n, 0): inlined. More than 8388608 (all 64 bits of
 *                  R1 count) gives -E2BIG as a 32-bit value: lr.ret = 0x00000000fffffff9, and
 *                  lr.is_e2big (a 64-bit compare with -E2BIG) is 0.
 *   loop_helper  - bpf_loop(args[0], cb, &n, args[1]): the helper. The count is a u32 (upper
 *                  bits ignored), -E2BIG is sign-extended, flags != 0 is -EINVAL.
 * The callback counts its calls in lr.calls; both programs return lr.ret's low 32 bits.
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__s64 ret;
	__u64 is_e2big;
	__u64 calls;
} lr;

static long count_cb(__u64 index, void *ctx)
{
	lr.calls++;
	return 0;
}

SEC("raw_tp/sys_enter")
int loop_inlined(struct bpf_raw_tracepoint_args *ctx)
{
	lr.ret = bpf_loop(ctx->args[0], count_cb, NULL, 0);
	lr.is_e2big = lr.ret == -7;
	return lr.ret;
}

SEC("raw_tp/sys_enter")
int loop_helper(struct bpf_raw_tracepoint_args *ctx)
{
	lr.ret = bpf_loop(ctx->args[0], count_cb, NULL, ctx->args[1]);
	lr.is_e2big = lr.ret == -7;
	return lr.ret;
}
