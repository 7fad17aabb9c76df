// SPDX-License-Identifier: GPL-2.0
/*
 * struct_ops.bpf.c - struct_ops maps as libbpf loads them (sched-ext.md §1.4,
 * elf-loading.md §1.9), with a small local ops struct (not sched_ext's).
 *
 * Maps:
 *  - ops_a in .struct_ops.link: init -> test_init, enqueue -> test_enqueue,
 *    flags = 0x15, name = "alpha".
 *  - ops_b in .struct_ops: init -> test_init_b, enqueue unset, flags = 7,
 *    name = "beta".
 * Programs: test_init (returns 42), test_enqueue (returns arg0 + arg1),
 * test_init_b (returns 7; its section has a `?`, but ops_b is created, so
 * libbpf turns its autoload on), orphan (referenced by no map, `?` section:
 * not autoloaded; libbpf leaves the autoload of unreferenced programs alone,
 * and the kernel refuses a struct_ops program without attach_btf_id),
 * only_c (referenced only by ops_c in ?.struct_ops, a map libbpf does not
 * create by default: not autoloaded).
 */
#include "bpfrun.h"

struct bpfrun_test_ops {
	int (*init)(void);
	void (*enqueue)(__u64 a, __u64 b);
	__u64 flags;
	__u32 timeout_ms;
	char name[16];
};


SEC("struct_ops/test_init")
int test_init(__u64 *ctx)
{
	return 42;
}

SEC("struct_ops/test_enqueue")
int test_enqueue(__u64 *ctx)
{
	return (int)(ctx[0] + ctx[1]);
}

SEC("?struct_ops.s/test_init_b")
int test_init_b(__u64 *ctx)
{
	return 7;
}

SEC("?struct_ops/orphan")
int orphan(__u64 *ctx)
{
	return -1;
}

SEC(".struct_ops.link")
struct bpfrun_test_ops ops_a = {
	.init = (void *)test_init,
	.enqueue = (void *)test_enqueue,
	.flags = 0x15,
	.timeout_ms = 5000,
	.name = "alpha",
};

SEC(".struct_ops")
struct bpfrun_test_ops ops_b = {
	.init = (void *)test_init_b,
	.flags = 7,
	.name = "beta",
};

SEC("struct_ops/only_c")
int only_c(__u64 *ctx)
{
	return 3;
}

SEC("?.struct_ops")
struct bpfrun_test_ops ops_c = {
	.init = (void *)only_c,
	.name = "gamma",
};

char LICENSE[] SEC("license") = "GPL";
