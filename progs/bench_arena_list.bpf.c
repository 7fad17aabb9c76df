// SPDX-License-Identifier: GPL-2.0
/*
 * bench_arena_list.bpf.c - the compiled benchmark "arena_list" (bench/compiled/arena_list.h,
 * shared with its gcc twin bench/native/carena_list.c, which mallocs the block this takes
 * from the arena): a linked list of __arena nodes in pages from bpf_arena_alloc_pages, built,
 * walked and reversed, then the pages freed, so the arena is empty after every run.
 *
 * `npm run bench` runs the SEC("syscall") program with struct bench_args as its context
 * (len 0, param = node count, a power of two, at most ARENA_PAGES * 256 nodes); without a
 * context (the tests) it builds BENCH_SMALL_NODES nodes.
 */
#include "bpfrun.h"
#include "bench_compiled.h"

#define ARENA_PAGES 1024
#define BENCH_SMALL_NODES 256

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, ARENA_PAGES);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

#define LIST_PTR_ATTR __arena
#define LIST_PAGES(bytes) (((bytes) + __PAGE_SIZE - 1) / __PAGE_SIZE)
#define LIST_ALLOC(bytes) bpf_arena_alloc_pages(&arena, NULL, LIST_PAGES(bytes), NUMA_NO_NODE, 0)
#define LIST_FREE(p, bytes) bpf_arena_free_pages(&arena, (void __arena *)(p), LIST_PAGES(bytes))
#include "../bench/compiled/arena_list.h"

SEC("syscall")
__u64 arena_list(struct bench_args *args)
{
	if (args)
		return arena_list_bench(args->data, args->len, args->param);
	return arena_list_bench(0, 0, BENCH_SMALL_NODES);
}

char LICENSE[] SEC("license") = "GPL";
