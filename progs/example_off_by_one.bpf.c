// SPDX-License-Identifier: GPL-2.0
/*
 * example_off_by_one.bpf.c - the off-by-one example (examples/README.md): the program hands a
 * kfunc (examples/off-by-one-kfunc.mjs) the last 16 bytes of its one arena page and their
 * length; the kfunc writes len + 1 bytes. The extra byte lands on the next page, which was never
 * allocated: the kernel's fault path installs the arena's scratch page, the write lands there,
 * and the violation is reported, page aligned, on the program's stderr (§3.3). With
 * --strict-kfuncs nothing is reported: the access stays within GUARD_SZ / 2 of the pointer, so
 * the contract holds, and the scratch path is the only signal. The kfunc is declared __weak.
 *
 * Run with the example kfunc, fresh load, no ctx:
 *   fill_tail -> 0; stdout: "tail[15] = 0x2a\n";
 *   stderr: "ERROR: Arena WRITE access at unmapped address 0x100000001000\n" + stack dump
 *   (bpfrun_example_fill_bytes, then bpf_prog_<tag>_fill_tail with its source line).
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

extern int bpfrun_example_fill_bytes(void *buf__arena, __u32 len, __u8 value) __weak __ksym;

SEC("syscall")
int fill_tail(void *ctx)
{
	__u8 __arena *page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	__u8 __arena *tail;
	int ret;

	if (!page)
		return -1;
	tail = page + __PAGE_SIZE - 16;
	ret = bpfrun_example_fill_bytes((void *)tail, 16, 0x2a);
	bpf_stream_printk(BPF_STDOUT, "tail[15] = 0x%x\n", tail[15]);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
