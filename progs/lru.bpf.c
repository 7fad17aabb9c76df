// SPDX-License-Identifier: GPL-2.0
/*
 * lru.bpf.c - program-side lookups and updates of an LRU_HASH (4, u32 -> u32),
 * for the kernel's approximate LRU (spec §2.16): a program lookup sets the
 * element's reference bit, a syscall lookup does not.
 *
 * Globals in: `key`, `val`, `flags`. Programs (SEC("syscall"), no ctx):
 *   lookup: bpf_map_lookup_elem(&lru, &key); returns the value, or -1 if absent
 *           (and sets `found`).
 *   update: bpf_map_update_elem(&lru, &key, &val, flags); returns its result.
 *
 * Kernel results (P = 2 possible CPUs, CPU 0, fresh load; spec §2.16's table):
 *   update key 1..4 (val = key * 10), lookup 1 (-> 10), update 5, update 6:
 *   every update returns 0; keys {1,3,4,5} after 5, {1,4,5,6} after 6.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} lru SEC(".maps");

__u32 key, val, found;
__u64 flags;

SEC("syscall")
int lookup(void *ctx)
{
	__u32 *p = bpf_map_lookup_elem(&lru, &key);

	found = p != NULL;
	return p ? *p : -1;
}

SEC("syscall")
int update(void *ctx)
{
	return bpf_map_update_elem(&lru, &key, &val, flags);
}

char LICENSE[] SEC("license") = "GPL";
