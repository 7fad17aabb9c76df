// SPDX-License-Identifier: GPL-2.0
/*
 * arena_profiles.bpf.c - the arena rules that differ between kernel profiles
 * (kernel-arena-streams.md changelog, §1.7, §1.8, §1.9, §2, §6.2), run with
 * bpfrun's --kernel 7.2 (default) and --kernel 6.18.
 *
 * Map `arena`: 4 pages at map_extra = 1 << 44. The __arena global
 * `arena_marker` sits on page 3 on 7.2 (globals at the end, §1.9) and on
 * page 0 on 6.18 (at the start), so the first allocation returns page 0
 * (7.2) or page 1 (6.18): `first_page`.
 *
 * Run in file order once, fresh load (user kfuncs bpf_rcu_read_lock/unlock
 * given as no-ops: bpfrun has no RCU):
 *
 *  # | program         | what                                    | 7.2          | 6.18
 * ---+-----------------+-----------------------------------------+--------------+------------
 *  1 | atomic_fault    | fetch_add / xchg / cmpxchg on page 2     | 0, 0, 0      | 7, 9, 11
 *    |                 | (never allocated): the value returned   |              |
 *    |                 | is the load register after the fixup    |              |
 *  2 | cross_page      | u64 at +0xffc of a 2-page allocation:   | 0x1122334455667788 both
 *    |                 | written and read back across the pages  |              |
 *    |                 | u64 at +0x1ffc (into the empty next     | 0, one WRITE and one READ
 *    |                 | page): dropped and read as 0            | report at first_page+0x1ffc
 *  3 | free_under_rcu  | free inside bpf_rcu_read_lock: deferred | still = 5,   | still = 0,
 *    |                 | per call site (7.2) or immediate in a   | same_slot=0  | same_slot=1
 *    |                 | sleepable program (6.18)                |              |
 *  4 | fetch_or_arena  | SEC("?syscall"): arena fetch_or refused | load error "BPF_ATOMIC stores
 *    |                 | at load on x86-64 (§6.2)                | into R<n> arena is not allowed"
 *
 * All programs return 0.
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

#define ARENA_BASE (1ULL << 44)

extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

__u64 __arena arena_marker = 0xabcd;

__u64 fetch_ret, xchg_ret, cmpxchg_ret;
__u64 first_page, cross_val, cross_empty;
__u64 still, same_slot;
volatile __u64 seven = 7, nine = 9, eleven = 11;

SEC("syscall")
int atomic_fault(void *ctx)
{
	__u64 __arena *p = (__u64 __arena *)(ARENA_BASE + 2 * __PAGE_SIZE);

	arena_marker++; /* uses the arena: the program has it (§1.5) */
	fetch_ret = __sync_fetch_and_add(p, seven);
	xchg_ret = __sync_lock_test_and_set(p + 1, nine);
	cmpxchg_ret = __sync_val_compare_and_swap(p + 2, eleven, 13);
	return 0;
}

SEC("syscall")
int cross_page(void *ctx)
{
	char __arena *base = bpf_arena_alloc_pages(&arena, NULL, 2, NUMA_NO_NODE, 0);

	if (!base)
		return 1;
	first_page = (__u64)base;
	*(volatile __u64 __arena *)(base + __PAGE_SIZE - 4) = 0x1122334455667788ULL;
	cross_val = *(volatile __u64 __arena *)(base + __PAGE_SIZE - 4);
	*(volatile __u64 __arena *)(base + 2 * __PAGE_SIZE - 4) = 0x99;
	cross_empty = *(volatile __u64 __arena *)(base + 2 * __PAGE_SIZE - 4);
	return 0;
}

SEC("syscall")
int free_under_rcu(void *ctx)
{
	__u64 __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	__u64 __arena *q;

	if (!p)
		return 1;
	*p = 5;
	bpf_rcu_read_lock();
	bpf_arena_free_pages(&arena, p, 1);
	bpf_rcu_read_unlock();
	still = *(volatile __u64 __arena *)p;
	q = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	same_slot = q == p;
	return 0;
}

SEC("?syscall")
int fetch_or_arena(void *ctx)
{
	__u64 __arena *p = (__u64 __arena *)(ARENA_BASE + 2 * __PAGE_SIZE);

	arena_marker++;
	fetch_ret = __sync_fetch_and_or(p, seven);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
