// SPDX-License-Identifier: GPL-2.0
/*
 * streams.bpf.c - BPF stream output (kernel-arena-streams.md §4) and a
 * deliberate arena fault on an unallocated page (§1.8, §3.4, §4.7).
 *
 * bpf_stream_printk (progs/include/bpfrun.h) calls the kfunc
 * bpf_stream_vprintk (4 args, 2026 kernels) if present, else
 * bpf_stream_vprintk_impl (5 args, aux__prog = NULL; 6.18). A runtime needs
 * either one. Streams belong to each (main) program; each program below
 * starts with empty streams.
 *
 * Map `arena`: ARENA, BPF_F_MMAPABLE, 16 pages, map_extra = 1 << 44 (as in
 * arena.bpf.c). No arena globals. fault_addr (.data) = 0x100000008010 =
 * page 8 + 0x10, never allocated.
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program      | return value
 * ---+--------------+-------------
 *  1 | stream_print | 0
 *  2 | stream_fault | 0  (the value read from the unmapped page)
 *
 * 1 stream_print:
 *   stdout = "hello stream 42\nname=bpf n=7\n"
 *   stderr = "warn 0xbeef\n"
 *   r_out1 = 0, r_out2 = 0, r_err1 = 0 (0 = success)
 *   r_bad  = -2 (-ENOENT: stream id 3 does not exist; nothing written)
 * 2 stream_fault: allocates one page (first allocation: page 0,
 *   0x100000000000; the program must reference the arena for the kernel to
 *   accept addr_space_cast), writes 5 to it (no fault), then through
 *   fault_addr does a 4-byte store of 0x1234 (dropped) and a 4-byte u32
 *   load (yields 0; unsigned on purpose: a sign-extending load from an
 *   arena needs a newer JIT), then prints the loaded value.
 *   stdout = "after fault: 0\n"
 *   stderr = two kernel fault reports, each followed by a stack dump
 *     (kernel-arena-streams §4.6; content machine-dependent):
 *       "ERROR: Arena WRITE access at unmapped address 0x100000008010\n"
 *       "CPU: <id> UID: <uid> PID: <pid> Comm: <comm>\n"
 *       "Call trace:\n" <frames, BPF frames followed by "  <source> @ streams.bpf.c:<line>\n"> "\n"
 *       "ERROR: Arena READ access at unmapped address 0x100000008010\n"
 *       "CPU: ...\n" "Call trace:\n" ... "\n"
 *     (A BPF-instruction fault does not install the scratch page, so the
 *     load faults and reports too.)
 *   globals: page_ptr = 0x100000000000, fault_read_val = 0 (initial
 *   0xffffffff),
 *   r_after = 0
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

char name[8] = "bpf";
__u64 fault_addr = (1ULL << 44) + 8 * __PAGE_SIZE + 0x10;
__u32 fault_read_val = 0xffffffff;

long r_out1, r_out2, r_err1, r_bad, r_after;
__u64 page_ptr;

SEC("syscall")
int stream_print(void *ctx)
{
	r_out1 = bpf_stream_printk(BPF_STDOUT, "hello stream %d\n", 42);
	r_out2 = bpf_stream_printk(BPF_STDOUT, "name=%s n=%u\n", name, 7);
	r_err1 = bpf_stream_printk(BPF_STDERR, "warn 0x%x\n", 0xbeef);
	r_bad = bpf_stream_printk(3, "nope\n");
	return 0;
}

SEC("syscall")
int stream_fault(void *ctx)
{
	volatile __u32 __arena *p;
	__u32 __arena *page;

	page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page)
		return -1;
	page_ptr = (__u64)page;
	*page = 5;

	p = (volatile __u32 __arena *)fault_addr;
	*p = 0x1234;          /* WRITE fault: store dropped, reported */
	fault_read_val = *p;  /* READ fault: loads 0, reported */

	r_after = bpf_stream_printk(BPF_STDOUT, "after fault: %u\n", fault_read_val);
	return fault_read_val;
}

char LICENSE[] SEC("license") = "GPL";
