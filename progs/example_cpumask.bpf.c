// SPDX-License-Identifier: GPL-2.0
/*
 * example_cpumask.bpf.c - the cpumask example (examples/README.md): a kfunc written in
 * TypeScript/JavaScript (examples/cpumask-kfunc.mjs) fills an arena-resident cpumask for the
 * program, as sched_ext's ops.set_cmask() now receives one written by the kernel through its
 * kernel address (kernel-arena-streams.md §9, §1.10). The kfunc is declared __weak so the object
 * loads without it (calling it then fails naming it).
 *
 * Run with the example kfunc, in file order, fresh load, no ctx:
 *   fill_mask -> 0 (the kfunc's return); stdout:
 *     "cpus 0-9 of 256: mask[0] = 0x3ff, mask[1..3] = 0 0 0\n"
 *   .bss: mask_word0 = 0x3ff, filled = 1. stderr: empty (the page is allocated).
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

/* 256 CPUs, as a bitmap of u64 words. */
struct cmask {
	__u64 bits[4];
};

extern int bpfrun_example_fill_cpumask(struct cmask *mask__arena, __u32 nr_cpus) __weak __ksym;

__u64 mask_word0;
int filled;

SEC("syscall")
int fill_mask(void *ctx)
{
	struct cmask __arena *m = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	int ret;

	if (!m)
		return -1;
	ret = bpfrun_example_fill_cpumask((struct cmask *)m, 10);
	mask_word0 = m->bits[0];
	filled = 1;
	bpf_stream_printk(BPF_STDOUT, "cpus 0-9 of 256: mask[0] = 0x%llx, mask[1..3] = %llu %llu %llu\n",
			  m->bits[0], m->bits[1], m->bits[2], m->bits[3]);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
