// SPDX-License-Identifier: MIT
/*
 * probe_read.bpf.c - the probe-read helpers on user and kernel addresses (spec program-types
 * §4.10). The simulated user memory is the arena's user mapping: a test writes bytes there
 * through the host's view (which faults the page in) and passes the user address as args[0].
 * Page faults are disabled in probe reads, so a page never touched reads as EFAULT.
 *
 *   probe_reads - args[0]: a user address. Results into .bss:
 *     user       = bpf_probe_read_user(8 bytes)          user_str   = bpf_probe_read_user_str(16)
 *     compat     = bpf_probe_read(8 bytes)  (user path)   compat_str = bpf_probe_read_str(16)
 *     kernel_on_user = bpf_probe_read_kernel: ERANGE
 *     user_on_kernel = bpf_probe_read_user of a kernel address (.rodata): EFAULT
 *     compat_kernel  = bpf_probe_read_str of the kernel string "kernel!": 8
 *     str_zero       = bpf_probe_read_user_str with size 0: 0
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

const char kdata[8] = "kernel!";

struct {
	__s64 user, user_str, compat, compat_str, kernel_on_user, user_on_kernel, compat_kernel, str_zero;
	char buf_user[8], buf_user_str[16], buf_compat[8], buf_compat_str[16], buf_kernel[8], buf_kstr[16];
	char buf_fault[8];
} pr;

SEC("raw_tp/sys_enter")
int probe_reads(struct bpf_raw_tracepoint_args *ctx)
{
	void *u = (void *)ctx->args[0];

	pr.user = bpf_probe_read_user(pr.buf_user, sizeof(pr.buf_user), u);
	pr.user_str = bpf_probe_read_user_str(pr.buf_user_str, sizeof(pr.buf_user_str), u);
	pr.compat = bpf_probe_read(pr.buf_compat, sizeof(pr.buf_compat), u);
	pr.compat_str = bpf_probe_read_str(pr.buf_compat_str, sizeof(pr.buf_compat_str), u);
	__builtin_memset(pr.buf_kernel, 0xAA, sizeof(pr.buf_kernel));
	pr.kernel_on_user = bpf_probe_read_kernel(pr.buf_kernel, sizeof(pr.buf_kernel), u);
	__builtin_memset(pr.buf_fault, 0xAA, sizeof(pr.buf_fault));
	pr.user_on_kernel = bpf_probe_read_user(pr.buf_fault, sizeof(pr.buf_fault), kdata);
	pr.compat_kernel = bpf_probe_read_str(pr.buf_kstr, sizeof(pr.buf_kstr), kdata);
	pr.str_zero = bpf_probe_read_user_str(pr.buf_kstr, 0, u);
	return 0;
}
