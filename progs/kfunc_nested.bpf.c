// SPDX-License-Identifier: GPL-2.0
/*
 * kfunc_nested.bpf.c - a kfunc that calls back into the program while it runs, and a kfunc
 * called from that callback (test/kfunc.test.ts): under the strict GUARD_SZ / 2 contract
 * (kernel-arena-streams.md §1.2, §3) each call's accesses are checked against that call's own
 * arena arguments, and the outer call's check applies again once the inner call returns.
 * The kfuncs are the test's, in TypeScript:
 *   int   bpfrun_test_with_callback(void *ptr, void *cb)
 *           reads u32 at kaddr(ptr), calls cb(), then reads u32 at kaddr(ptr) + the test's
 *           offset; returns what cb returned
 *   __u32 bpfrun_test_arena_read(void *ptr)   u32 load at kaddr(ptr)
 * where kaddr(ptr) = kern_vm_start + lo32(ptr).
 *
 * Map `arena`: ARENA, BPF_F_MMAPABLE, 16 pages, at the address mmap picks (PG(n): its page n).
 * SEC("syscall"), fresh load, no ctx:
 *   nested: allocates PG(0) and PG(12), stores 0x1234 at PG(12), calls
 *     bpfrun_test_with_callback(PG(0), nested_cb); nested_cb reads PG(12) with
 *     bpfrun_test_arena_read (48 KiB past the outer call's argument: allowed, it is the inner
 *     call's own argument) and returns it. Returns 0x1234.
 *     With the test's offset at 0x8000 the outer call's second read is 32 KiB past its argument:
 *     strict mode ends the run with a contract error naming bpfrun_test_with_callback.
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
} arena SEC(".maps");

extern int bpfrun_test_with_callback(void *ptr, void *cb) __ksym;
extern __u32 bpfrun_test_arena_read(void *ptr) __ksym;

/* .bss: PG(12), for the callback */
__u64 inner_addr;

static int nested_cb(void *unused)
{
	return bpfrun_test_arena_read((void *)(__u32 __arena *)inner_addr);
}

SEC("syscall")
int nested(void *ctx)
{
	__u32 __arena *outer = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	__u32 __arena *inner;

	if (!outer)
		return -1;
	inner = bpf_arena_alloc_pages(&arena, (char __arena *)outer + 12 * __PAGE_SIZE, 1, NUMA_NO_NODE, 0);
	if (!inner)
		return -1;
	*inner = 0x1234;
	inner_addr = (__u64)inner;
	return bpfrun_test_with_callback((void *)outer, (void *)nested_cb);
}

char _license[] SEC("license") = "GPL";
