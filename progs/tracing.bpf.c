// SPDX-License-Identifier: MIT
/*
 * tracing.bpf.c - tracing programs under BPF_PROG_TEST_RUN (spec program-types §1.8): the
 * kernel does not run the program under test. It calls its bpf_fentry_test* functions
 * (fentry/fexit: retval 0) or bpf_modify_return_test/_test2 (fmod_ret: retval 0x20021), and
 * refuses tp_btf with EFAULT. tr.runs counts the program's own runs: it stays 0.
 * With bpfrun's direct mode (RunOptions.tracingArgs) the program runs on the given arguments.
 */
#include "bpfrun.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__u64 runs, a, b;
} tr;

SEC("fentry/bpf_fentry_test2")
int BPF_PROG(on_test2, int a, __u64 b)
{
	tr.runs++;
	tr.a = a;
	tr.b = b;
	return 0;
}

SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(on_modify, int a, int *b, int ret)
{
	tr.runs++;
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter)
{
	tr.runs++;
	return 0;
}
