// SPDX-License-Identifier: GPL-2.0
/*
 * stream_vprintk.bpf.c - an object built against Linux 7.2's vmlinux.h: it
 * calls the 4-argument bpf_stream_vprintk (KF_IMPLICIT_ARGS) and
 * bpf_stream_print_stack with non-weak externs (kernel-arena-streams.md
 * §4.2, §4.3).
 *
 *  kernel | result
 * --------+-----------------------------------------------------------------
 *  7.2    | loads; say_new returns 0 and writes "new 42\n" to stdout
 *  6.18   | does not load: 6.18 has neither kfunc
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
			      __u32 len__sz) __ksym;
extern int bpf_stream_print_stack(int stream_id) __ksym;

SEC("syscall")
int say_new(void *ctx)
{
	static const char fmt[] = "new %d\n";
	unsigned long long args[1] = { 42 };

	if (ctx)
		bpf_stream_print_stack(2);
	return bpf_stream_vprintk(1, fmt, args, sizeof(args));
}

char LICENSE[] SEC("license") = "GPL";
