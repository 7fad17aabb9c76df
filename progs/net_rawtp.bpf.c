// SPDX-License-Identifier: MIT
/*
 * net_rawtp.bpf.c - a raw tracepoint program for BPF_PROG_TEST_RUN (spec program-types
 * §1.7, §2.7): the context is the caller's u64 argument array. The program reads args[0..2]
 * (so max_ctx_offset is 24), stores them in .bss and returns args[0] + args[1].
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__u64 args[3];
	__u32 runs;
} ra;

SEC("raw_tp/sys_enter")
int rawtp_args(struct bpf_raw_tracepoint_args *ctx)
{
	ra.args[0] = ctx->args[0];
	ra.args[1] = ctx->args[1];
	ra.args[2] = ctx->args[2];
	ra.runs++;
	return ctx->args[0] + ctx->args[1];
}
