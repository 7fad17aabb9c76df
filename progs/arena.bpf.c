// SPDX-License-Identifier: GPL-2.0
/*
 * arena.bpf.c - an ARENA map, __arena globals, a linked list in arena pages
 * summed by an __arg_arena global subprogram with cond_break, page free and
 * re-allocation, page reservation (built as arena.bpf.o, -mcpu=v4, and
 * arena.v3.bpf.o, -mcpu=v3; same expected results). Spec: elf-loading.md
 * §1.8 and §3.2 arena.c, kernel-arena-streams.md §1-§2.
 *
 * Map `arena`: type 33, map_flags BPF_F_MMAPABLE (0x400), max_entries 16
 * pages, map_extra = 1 << 44 = 0x100000000000 (BTF: one-value ENUM64).
 * Arena globals live in .addr_space.1 (PROGBITS, zero ones included):
 *   arena_init_val (u32) = 42, arena_buf (char[8]) = "Arena",
 *   arena_head (struct node __arena *) = NULL, arena_sum (u64) = 0.
 *
 * Where the globals sit decides which page the first allocation returns
 * (elf-loading §1.8 "Globals placement"):
 *   P = 0x100000001000 (page 1) if they sit at arena offset 0 (libbpf
 *       1.4-1.6, or newer libbpf on a kernel without large ld_imm64 offsets,
 *       e.g. 6.18 - the behaviour bpfrun follows);
 *   P = 0x100000000000 (page 0) if libbpf put them at the end (page 15).
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program       | return value
 * ---+---------------+-------------
 *  1 | arena_build   | 465   (list sum: 42 + 43 + ... + 51)
 *  2 | arena_free    | 2     (realloc_same + realloc_zero)
 *  3 | arena_reserve | -16   (r_reserve_again = -EBUSY)
 *
 * Program 1 allocates page P, builds 10 nodes {next, value} (16 bytes each)
 * at P+64 .. P+64+9*16, value = arena_init_val + i (i = 0..9), each pushed
 * at the head of the list, renames arena_buf[0] to 'a', and sums the list
 * with sum_list(). Program 2 frees page P, clears arena_head, and allocates
 * one page again: the range tree hands out P again (it merges the freed
 * page back into the one free interval; best fit), zero-filled. Program 3
 * reserves page 12 (0x10000000c000), reserves it again, and tries to
 * allocate exactly there.
 *
 * Final values:
 *   arena globals: arena_init_val = 42, arena_buf = "arena\0\0\0",
 *                  arena_head = 0 (NULL), arena_sum = 465
 *   .bss: result = 465, user_ptr = P, head_ptr = P + 0xd0 (the last node
 *         pushed, i = 9: P + 64 + 9*16; a full 64-bit user address),
 *         build_done = 1, free_done = 1, realloc_same = 1, realloc_zero = 1,
 *         r_reserve = 0, r_reserve_again = -16 (-EBUSY),
 *         reserved_alloc_null = 1
 *   arena pages in use at the end: the globals' page, P (re-allocated,
 *   all zero), page 12 reserved (no memory).
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

struct node {
	struct node __arena *next;
	__u64 value;
};

#define NR_NODES 10
#define ARENA_BASE (1ULL << 44)
#define RESERVE_ADDR (ARENA_BASE + 12 * __PAGE_SIZE)

/* __arena globals (.addr_space.1) */
__u32 __arena arena_init_val = 42; /* u32: no LDSX from the arena */
char __arena arena_buf[8] = "Arena";
struct node __arena *__arena arena_head;
__u64 __arena arena_sum;

/* plain results (.bss) */
__u64 result, user_ptr, head_ptr;
int build_done, free_done, realloc_same, realloc_zero;
long r_reserve, r_reserve_again;
int reserved_alloc_null;

__noinline __u64 sum_list(struct node __arena *head __arg_arena)
{
	struct node __arena *n = head;
	__u64 s = 0;

	while (n) {
		s += n->value;
		n = n->next;
		cond_break;
	}
	return s;
}

SEC("syscall")
int arena_build(void *ctx)
{
	struct node __arena *page, *nodes, *n;
	int i;

	page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page)
		return 1;
	user_ptr = (__u64)page;

	nodes = (struct node __arena *)((char __arena *)page + 64);
	for (i = 0; i < NR_NODES; i++) {
		n = &nodes[i];
		n->value = arena_init_val + i;
		n->next = arena_head;
		arena_head = n;
	}
	head_ptr = (__u64)arena_head;
	arena_buf[0] = 'a';

	arena_sum = sum_list(arena_head);
	result = arena_sum;
	build_done = 1;
	return result;
}

SEC("syscall")
int arena_free(void *ctx)
{
	struct node __arena *page = (struct node __arena *)user_ptr;
	struct node __arena *again;

	bpf_arena_free_pages(&arena, page, 1);
	arena_head = NULL;
	free_done = 1;

	again = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!again)
		return -1;
	realloc_same = (__u64)again == user_ptr;
	realloc_zero = ((struct node __arena *)((char __arena *)again + 64))->value == 0;
	return realloc_same + realloc_zero;
}

SEC("syscall")
int arena_reserve(void *ctx)
{
	void __arena *p = (void __arena *)RESERVE_ADDR;
	void __arena *q;

	r_reserve = bpf_arena_reserve_pages(&arena, p, 1);
	r_reserve_again = bpf_arena_reserve_pages(&arena, p, 1);
	q = bpf_arena_alloc_pages(&arena, p, 1, NUMA_NO_NODE, 0);
	reserved_alloc_null = q == NULL;
	return r_reserve_again;
}

char LICENSE[] SEC("license") = "GPL";
