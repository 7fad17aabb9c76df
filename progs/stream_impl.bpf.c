// SPDX-License-Identifier: GPL-2.0
/*
 * stream_impl.bpf.c - an object built against Linux 6.18's vmlinux.h: it
 * calls bpf_stream_vprintk_impl (5 arguments, aux__prog = NULL) with a
 * non-weak extern (kernel-arena-streams.md §4.2).
 *
 *  kernel | result
 * --------+-----------------------------------------------------------------
 *  6.18   | loads; say_impl returns 0 and writes "impl 42\n" to stdout
 *  7.2    | does not load: "cannot find address for kernel function
 *         | bpf_stream_vprintk_impl" (EINVAL)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args,
				   __u32 len__sz, void *aux__prog) __ksym;

SEC("syscall")
int say_impl(void *ctx)
{
	static const char fmt[] = "impl %d\n";
	unsigned long long args[1] = { 42 };

	return bpf_stream_vprintk_impl(1, fmt, args, sizeof(args), 0);
}

char LICENSE[] SEC("license") = "GPL";
