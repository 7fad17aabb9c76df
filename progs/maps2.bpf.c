// SPDX-License-Identifier: GPL-2.0
/*
 * maps2.bpf.c - the map types of issue 12 from programs: QUEUE and STACK
 * (push/pop/peek, BPF_EXIST overwriting the oldest), LPM_TRIE (longest-prefix
 * lookups, update/delete errnos, ENOSPC), BLOOM_FILTER (BPF_F_ZERO_SEED, so
 * the false positives are the kernel's jhash bits), ARRAY_OF_MAPS and
 * HASH_OF_MAPS (inner maps from `.values` initialisers; a lookup result is
 * the map argument of the next helper call).
 *
 * All programs are SEC("raw_tp") (test-run with no ctx): a sleepable
 * SEC("syscall") program may not use a BLOOM_FILTER. Every result is a .bss
 * global; test/data/kernel/maps2.json holds what Linux 6.18 answered
 * (scripts/kernel-oracle/cases/maps2.py), and the programs run in this order
 * on one loaded object: queue_stack, lpm, bloom, map_in_map.
 *
 * Errnos: EINVAL -22, E2BIG -7, ENOENT -2, EEXIST -17, ENOSPC -28.
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 3);
	__uint(value_size, sizeof(__u32));
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 3);
	__uint(value_size, sizeof(__u32));
} stack SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u8 data[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

/* 1 entry x 1 hash function: a 64-bit array, so false positives are common. */
struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 1);
	__uint(value_size, sizeof(__u32));
	__uint(map_extra, 1);
	__uint(map_flags, BPF_F_ZERO_SEED);
} bloom SEC(".maps");

/* 100 entries x 3 functions: (300 / 5) * 7 = 420 -> 512 bits. */
struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 100);
	__uint(value_size, 6);
	__uint(map_extra, 3);
	__uint(map_flags, BPF_F_ZERO_SEED);
} bloom6 SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_b },
};

/* queue_stack */
long q_push[3], q_push_full, q_push_noexist, q_push_bad, q_push_exist;
long q_peek, q_pop[4];
__u32 q_peek_val, q_pop_val[4];
long s_push[3], s_push_exist, s_pop[4], s_peek_empty;
__u32 s_pop_val[4], s_peek_empty_val;
int q_lookup_null;

/* lpm */
long l_upd[4], l_upd_full, l_upd_noexist, l_upd_exist_missing, l_upd_replace, l_upd_badlen, l_upd_badflags;
__u32 l_hit32, l_hit20, l_hit8_null, l_hit_other_null, l_hit_replaced;
long l_del_trailing, l_del_missing, l_del_badlen, l_upd_after_del;
__u32 l_hit_after_del;

/* bloom */
long b_push_bad, b_push[10], b_peek_pushed;
__u64 b_hits; /* bit i: peek of 100 + i found (false positives or members) */
long b6_push, b6_peek_same, b6_peek_other;
__u64 b6_hits;

/* map_in_map */
int m_a_found, m_b_found, m_empty_null, m_oob_null, m_h_found, m_h_missing_null;
long m_upd_a, m_upd_b;
__u64 m_a_val, m_b_val, m_h_val;

SEC("raw_tp")
int queue_stack(void *ctx)
{
	__u32 v;
	int i;

	for (i = 0; i < 3; i++) {
		v = i + 1;
		q_push[i] = bpf_map_push_elem(&queue, &v, 0);
	}
	v = 4;
	q_push_full = bpf_map_push_elem(&queue, &v, 0);
	q_push_noexist = bpf_map_push_elem(&queue, &v, BPF_NOEXIST);
	q_push_bad = bpf_map_push_elem(&queue, &v, 3);
	v = 9;
	q_push_exist = bpf_map_push_elem(&queue, &v, BPF_EXIST); /* drops 1 */
	q_peek = bpf_map_peek_elem(&queue, &q_peek_val);
	for (i = 0; i < 4; i++)
		q_pop[i] = bpf_map_pop_elem(&queue, &q_pop_val[i]);

	for (i = 0; i < 3; i++) {
		v = i + 1;
		s_push[i] = bpf_map_push_elem(&stack, &v, 0);
	}
	v = 9;
	s_push_exist = bpf_map_push_elem(&stack, &v, BPF_EXIST); /* drops the bottom (1) */
	for (i = 0; i < 4; i++) {
		s_pop_val[i] = 0xaaaa;
		s_pop[i] = bpf_map_pop_elem(&stack, &s_pop_val[i]);
	}
	s_peek_empty_val = 0xbbbb;
	s_peek_empty = bpf_map_peek_elem(&stack, &s_peek_empty_val);
	return 0;
}

static __always_inline struct lpm_key K(__u8 a, __u8 b, __u8 c, __u8 d, __u32 len)
{
	struct lpm_key k = { .prefixlen = len, .data = { a, b, c, d } };
	return k;
}

static __always_inline __u32 lpm_get(struct lpm_key k)
{
	__u32 *p = bpf_map_lookup_elem(&lpm, &k);
	return p ? *p : 0xffffffff;
}

SEC("raw_tp")
int lpm_trie(void *ctx)
{
	struct lpm_key k;
	__u32 v;

	k = K(192, 168, 0, 0, 16); v = 16;
	l_upd[0] = bpf_map_update_elem(&lpm, &k, &v, BPF_NOEXIST);
	k = K(192, 168, 1, 0, 24); v = 24;
	l_upd[1] = bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	k = K(10, 0, 0, 0, 8); v = 8;
	l_upd[2] = bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	k = K(192, 168, 1, 77, 32); v = 32;
	l_upd[3] = bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	k = K(172, 16, 0, 0, 12); v = 12;
	l_upd_full = bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	k = K(192, 168, 0, 0, 16); v = 160;
	l_upd_noexist = bpf_map_update_elem(&lpm, &k, &v, BPF_NOEXIST);
	k = K(192, 168, 7, 0, 24);
	l_upd_exist_missing = bpf_map_update_elem(&lpm, &k, &v, BPF_EXIST);
	k = K(192, 168, 1, 99, 24); v = 240; /* same /24, other trailing bits */
	l_upd_replace = bpf_map_update_elem(&lpm, &k, &v, BPF_EXIST);
	k = K(1, 2, 3, 4, 33);
	l_upd_badlen = bpf_map_update_elem(&lpm, &k, &v, BPF_ANY);
	k = K(1, 2, 3, 4, 8);
	l_upd_badflags = bpf_map_update_elem(&lpm, &k, &v, 4);

	l_hit32 = lpm_get(K(192, 168, 1, 77, 32));
	l_hit_replaced = lpm_get(K(192, 168, 1, 5, 32));
	l_hit20 = lpm_get(K(192, 168, 1, 5, 20));
	l_hit8_null = lpm_get(K(192, 168, 1, 5, 8));
	l_hit_other_null = lpm_get(K(11, 0, 0, 1, 32));

	k = K(192, 168, 1, 0xff, 24); /* trailing bits ignored */
	l_del_trailing = bpf_map_delete_elem(&lpm, &k);
	l_del_missing = bpf_map_delete_elem(&lpm, &k);
	k = K(0, 0, 0, 0, 40);
	l_del_badlen = bpf_map_delete_elem(&lpm, &k);
	k = K(172, 16, 0, 0, 12); v = 12;
	l_upd_after_del = bpf_map_update_elem(&lpm, &k, &v, BPF_NOEXIST);
	l_hit_after_del = lpm_get(K(192, 168, 1, 5, 32));
	return 0;
}

SEC("raw_tp")
int bloom_filter(void *ctx)
{
	__u32 v;
	__u8 b6[6] = { 1, 2, 3, 4, 5, 6 };
	int i;

	v = 0;
	b_push_bad = bpf_map_push_elem(&bloom, &v, BPF_EXIST);
	for (i = 0; i < 10; i++) {
		v = i * 7;
		b_push[i] = bpf_map_push_elem(&bloom, &v, 0);
	}
	v = 21;
	b_peek_pushed = bpf_map_peek_elem(&bloom, &v);
	for (i = 0; i < 64; i++) {
		v = 100 + i;
		if (bpf_map_peek_elem(&bloom, &v) == 0)
			b_hits |= 1ULL << i;
	}

	b6_push = bpf_map_push_elem(&bloom6, b6, 0);
	b6_peek_same = bpf_map_peek_elem(&bloom6, b6);
	b6[5] = 7;
	b6_peek_other = bpf_map_peek_elem(&bloom6, b6);
	for (i = 0; i < 64; i++) {
		b6[0] = i;
		b6_push = bpf_map_push_elem(&bloom6, b6, 0);
	}
	for (i = 0; i < 64; i++) {
		b6[0] = i;
		b6[1] = 99;
		if (bpf_map_peek_elem(&bloom6, b6) == 0)
			b6_hits |= 1ULL << i;
	}
	return 0;
}

SEC("raw_tp")
int map_in_map(void *ctx)
{
	__u32 k = 0, one = 1;
	__u64 v;
	void *inner;
	__u64 *p;

	inner = bpf_map_lookup_elem(&outer_arr, &k);
	m_a_found = inner != 0;
	if (inner) {
		v = 111;
		m_upd_a = bpf_map_update_elem(inner, &one, &v, BPF_ANY);
		p = bpf_map_lookup_elem(&inner_a, &one);
		if (p)
			m_a_val = *p;
	}
	k = 1;
	inner = bpf_map_lookup_elem(&outer_arr, &k);
	m_b_found = inner != 0;
	if (inner) {
		v = 222;
		m_upd_b = bpf_map_update_elem(inner, &k, &v, BPF_ANY);
		p = bpf_map_lookup_elem(inner, &k);
		if (p)
			m_b_val = *p;
	}
	k = 2;
	m_empty_null = bpf_map_lookup_elem(&outer_arr, &k) == 0;
	k = 3;
	m_oob_null = bpf_map_lookup_elem(&outer_arr, &k) == 0;

	k = 3;
	inner = bpf_map_lookup_elem(&outer_hash, &k);
	m_h_found = inner != 0;
	if (inner) {
		p = bpf_map_lookup_elem(inner, &one);
		if (p)
			m_h_val = *p; /* inner_b[1], written above */
	}
	k = 0;
	m_h_missing_null = bpf_map_lookup_elem(&outer_hash, &k) == 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
