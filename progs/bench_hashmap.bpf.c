// SPDX-License-Identifier: GPL-2.0
/*
 * bench_hashmap.bpf.c - the compiled benchmark "hashmap" (bench/compiled/hashmap.h, shared
 * with its gcc twin bench/native/chashmap.c, which has an open-addressing table where this
 * has a BPF_MAP_TYPE_HASH: one bpf_map_lookup_elem per item, bpf_map_update_elem for a new
 * key, bpf_map_delete_elem at the end, so the map is empty after every run).
 *
 * `npm run bench` runs the SEC("syscall") program with struct bench_args as its context
 * (len, param, then the u32 keys); without a context (the tests) it runs on a small built-in
 * input.
 */
#include "bpfrun.h"
#include "bench_compiled.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} hm SEC(".maps");

static __always_inline __u64 *hm_lookup(__u32 k)
{
	return bpf_map_lookup_elem(&hm, &k);
}

static __always_inline void hm_insert(__u32 k, __u64 v)
{
	bpf_map_update_elem(&hm, &k, &v, BPF_NOEXIST);
}

static __always_inline void hm_delete(__u32 k)
{
	bpf_map_delete_elem(&hm, &k);
}

#define HM_LOOKUP(k) hm_lookup(k)
#define HM_INSERT(k, v) hm_insert(k, v)
#define HM_DELETE(k) hm_delete(k)
#include "../bench/compiled/hashmap.h"

_Static_assert(HM_KEYS == 4096, "hm's max_entries is HM_KEYS");

__u32 hashmap_small[BENCH_SMALL_LEN / 4];

SEC("syscall")
__u64 hashmap(struct bench_args *args)
{
	if (args)
		return hashmap_bench(args->data, args->len, args->param);
	for (int i = 0; i < BENCH_SMALL_LEN / 4; i++)
		hashmap_small[i] = i * 2654435761u;
	return hashmap_bench((__u8 *)hashmap_small, BENCH_SMALL_LEN, BENCH_SMALL_PARAM);
}

char LICENSE[] SEC("license") = "GPL";
