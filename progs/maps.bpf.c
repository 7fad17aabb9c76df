// SPDX-License-Identifier: GPL-2.0
/*
 * maps.bpf.c - one BTF-defined map of each common type, update flags, error
 * codes, an atomic add on a map value, ring buffer calls and a tail call
 * through a PROG_ARRAY whose `values` initialiser (.rel.maps, R_BPF_64_ABS64)
 * points at a program in the same section.
 *
 * Program types: the PROG_ARRAY users are SEC("raw_tp") because the kernel
 * does not let sleepable programs (SEC("syscall") is sleepable) use a
 * PROG_ARRAY ("Sleepable programs can only use array, hash, ringbuf and local
 * storage maps"). raw_tp programs can be test-run with no ctx. The others are
 * SEC("syscall"). Section "syscall" holds 4 entry programs, "raw_tp" 2.
 *
 * Maps: arr (ARRAY 4 x u64), pcpu_arr (PERCPU_ARRAY 2 x u64), hash (HASH 4,
 * u32 -> struct val, map_flags BPF_F_NO_PREALLOC), pcpu_hash (PERCPU_HASH 8,
 * key_size/value_size only), lru (LRU_HASH 2, u32 -> u32), rb (RINGBUF 4096),
 * pinned (HASH 4, pinning LIBBPF_PIN_BY_NAME: parsed and ignored by bpfrun;
 * the kernel needs bpffs for it), jmp_table (PROG_ARRAY 2, slot 1 =
 * tail_target).
 *
 * Run in file order once, fresh load, no ctx, on CPU 0:
 *
 *  # | section | program       | return value
 * ---+---------+---------------+-------------
 *  1 | raw_tp  | tail_target   | 42
 *  2 | syscall | use_array     | 106
 *  3 | syscall | use_hash      | 337
 *  4 | syscall | use_lru       | 5
 *  5 | syscall | use_ringbuf   | 64
 *  6 | raw_tp  | use_tail_call | 42  (the tail call to slot 1 runs tail_target)
 *
 * Final globals (.bss) and map contents:
 *   tail_hits = 2 (1 from the direct run, 1 via the tail call)
 *   use_array: r_arr_upd_any = 0, r_arr_upd_noexist = -17 (EEXIST: array
 *     elements always exist), r_arr_upd_exist = 0, r_arr_upd_oob = -7
 *     (E2BIG, key 4 >= max_entries), r_arr_lookup_oob_null = 1,
 *     r_arr_delete = -22 (EINVAL), r_arr_fetch_add = 100 (old value),
 *     arr_val1 = 106, r_pcpu_arr_upd = 0, pcpu_val0 = 7, pcpu_val1 = 9
 *     map arr = {0, 106, 200, 0}; pcpu_arr on CPU 0 = {7, 9} (other CPUs 0)
 *   use_hash: r_hash_ins = {0, 0, 0, 0} (keys 1..4, BPF_NOEXIST),
 *     r_hash_full = -7 (E2BIG, key 5), r_hash_noexist = -17 (key 2),
 *     r_hash_exist = 0 (replace key 3 in the full map), r_hash_exist_missing
 *     = -2 (ENOENT, key 9 with BPF_EXIST), r_hash_lookup_missing_null = 1,
 *     r_hash_del_missing = -2, r_hash_del = 0 (key 4),
 *     r_hash_ins_after_del = 0 (key 6), r_hash_fetch_add = 330,
 *     hash_sum3 = 337, hash_count3 = 33, r_pcpu_hash_upd = 0,
 *     pcpu_hash_val = 12, r_pinned_upd = 0, pinned_val = 70
 *     map hash = {1: {1, 10}, 2: {2, 20}, 3: {33, 337}, 6: {6, 60}}
 *     map pcpu_hash = {1: 12 on CPU 0 (0 on other CPUs)}; pinned = {7: 70}
 *   use_lru: r_lru_upd1 = 0, r_lru_upd2 = 0, lru_hit1 = 10, r_lru_upd3 = 0,
 *     lru_has1 = 1, lru_has2 = 0 (evicted: least recently used, never
 *     looked up), lru_has3 = 1, lru_val3 = 30; map lru = {1: 10, 3: 30}
 *   use_ringbuf: r_rb_output = 0, rb_avail = 64, rb_size = 4096,
 *     rb_cons = 0, rb_prod = 64, rb_too_big_null = 1
 *     ring contents, each record = 8-byte header + data rounded up to 8:
 *       @0  len 16, committed: u64 0x1111, u64 0x2222
 *       @24 len 8, DISCARDED:  u64 0xdead (consumers skip it)
 *       @40 len 12, committed: u32 1, 2, 3 (+4 bytes of padding)
 *     a consumer sees 2 records: 16 bytes then 12 bytes.
 *   use_tail_call: tail_empty_fallthrough = 1 (slot 0 is empty: the call
 *     falls through), tail_not_taken = 0 (code after the taken tail call
 *     never runs)
 */
#include "bpfrun.h"

struct val {
	__u64 count;
	__u64 sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} pcpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

int tail_target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = {[1] = (void *)&tail_target},
};

/* results */
int tail_hits;
long r_arr_upd_any, r_arr_upd_noexist, r_arr_upd_exist, r_arr_upd_oob;
int r_arr_lookup_oob_null;
long r_arr_delete;
__u64 r_arr_fetch_add, arr_val1;
long r_pcpu_arr_upd;
__u64 pcpu_val0, pcpu_val1;

long r_hash_ins[4];
long r_hash_full, r_hash_noexist, r_hash_exist, r_hash_exist_missing;
int r_hash_lookup_missing_null;
long r_hash_del_missing, r_hash_del, r_hash_ins_after_del;
__u64 r_hash_fetch_add, hash_sum3, hash_count3;
long r_pcpu_hash_upd;
__u64 pcpu_hash_val;
long r_pinned_upd;
__u32 pinned_val;

long r_lru_upd1, r_lru_upd2, r_lru_upd3;
__u32 lru_hit1, lru_has1, lru_has2, lru_has3, lru_val3;

long r_rb_output;
__u64 rb_avail, rb_size, rb_cons, rb_prod;
int rb_too_big_null;

int tail_empty_fallthrough, tail_not_taken;

SEC("raw_tp")
int tail_target(void *ctx)
{
	tail_hits++;
	return 42;
}

SEC("syscall")
int use_array(void *ctx)
{
	__u32 k;
	__u64 v, *p;

	k = 1;
	v = 100;
	r_arr_upd_any = bpf_map_update_elem(&arr, &k, &v, BPF_ANY);
	r_arr_upd_noexist = bpf_map_update_elem(&arr, &k, &v, BPF_NOEXIST);
	k = 2;
	v = 200;
	r_arr_upd_exist = bpf_map_update_elem(&arr, &k, &v, BPF_EXIST);
	k = 4;
	r_arr_upd_oob = bpf_map_update_elem(&arr, &k, &v, BPF_ANY);
	r_arr_lookup_oob_null = bpf_map_lookup_elem(&arr, &k) == NULL;
	k = 1;
	r_arr_delete = bpf_map_delete_elem(&arr, &k);

	p = bpf_map_lookup_elem(&arr, &k);
	if (!p)
		return -1;
	r_arr_fetch_add = __sync_fetch_and_add(p, 5); /* atomic fetch-add */
	__sync_fetch_and_add(p, 1);                   /* atomic add, no fetch */
	arr_val1 = *p;

	k = 0;
	p = bpf_map_lookup_elem(&pcpu_arr, &k);
	if (!p)
		return -2;
	*p += 7;
	pcpu_val0 = *p;
	k = 1;
	v = 9;
	r_pcpu_arr_upd = bpf_map_update_elem(&pcpu_arr, &k, &v, BPF_ANY);
	p = bpf_map_lookup_elem(&pcpu_arr, &k);
	if (!p)
		return -3;
	pcpu_val1 = *p;
	return arr_val1;
}

SEC("syscall")
int use_hash(void *ctx)
{
	struct val v, *p;
	__u64 pv, *pp;
	__u32 k, pk, *p32;

	k = 1; v.count = 1; v.sum = 10;
	r_hash_ins[0] = bpf_map_update_elem(&hash, &k, &v, BPF_NOEXIST);
	k = 2; v.count = 2; v.sum = 20;
	r_hash_ins[1] = bpf_map_update_elem(&hash, &k, &v, BPF_NOEXIST);
	k = 3; v.count = 3; v.sum = 30;
	r_hash_ins[2] = bpf_map_update_elem(&hash, &k, &v, BPF_NOEXIST);
	k = 4; v.count = 4; v.sum = 40;
	r_hash_ins[3] = bpf_map_update_elem(&hash, &k, &v, BPF_NOEXIST);

	k = 5; v.count = 5; v.sum = 50;
	r_hash_full = bpf_map_update_elem(&hash, &k, &v, BPF_ANY);
	k = 2;
	r_hash_noexist = bpf_map_update_elem(&hash, &k, &v, BPF_NOEXIST);
	k = 3; v.count = 33; v.sum = 330;
	r_hash_exist = bpf_map_update_elem(&hash, &k, &v, BPF_EXIST);
	k = 9;
	r_hash_exist_missing = bpf_map_update_elem(&hash, &k, &v, BPF_EXIST);
	r_hash_lookup_missing_null = bpf_map_lookup_elem(&hash, &k) == NULL;
	r_hash_del_missing = bpf_map_delete_elem(&hash, &k);
	k = 4;
	r_hash_del = bpf_map_delete_elem(&hash, &k);
	k = 6; v.count = 6; v.sum = 60;
	r_hash_ins_after_del = bpf_map_update_elem(&hash, &k, &v, BPF_ANY);

	k = 3;
	p = bpf_map_lookup_elem(&hash, &k);
	if (!p)
		return -1;
	r_hash_fetch_add = __sync_fetch_and_add(&p->sum, 7);
	hash_sum3 = p->sum;
	hash_count3 = p->count;

	pk = 1;
	pv = 11;
	r_pcpu_hash_upd = bpf_map_update_elem(&pcpu_hash, &pk, &pv, BPF_ANY);
	pp = bpf_map_lookup_elem(&pcpu_hash, &pk);
	if (!pp)
		return -2;
	*pp += 1;
	pcpu_hash_val = *pp;

	pk = 7;
	k = 70;
	r_pinned_upd = bpf_map_update_elem(&pinned, &pk, &k, BPF_ANY);
	p32 = bpf_map_lookup_elem(&pinned, &pk);
	if (!p32)
		return -3;
	pinned_val = *p32;
	return hash_sum3;
}

SEC("syscall")
int use_lru(void *ctx)
{
	__u32 k, v, *p;

	k = 1; v = 10;
	r_lru_upd1 = bpf_map_update_elem(&lru, &k, &v, BPF_NOEXIST);
	k = 2; v = 20;
	r_lru_upd2 = bpf_map_update_elem(&lru, &k, &v, BPF_NOEXIST);
	k = 1;
	p = bpf_map_lookup_elem(&lru, &k); /* marks key 1 as referenced */
	lru_hit1 = p ? *p : 0;
	k = 3; v = 30;
	r_lru_upd3 = bpf_map_update_elem(&lru, &k, &v, BPF_NOEXIST); /* evicts key 2 */

	k = 1;
	lru_has1 = bpf_map_lookup_elem(&lru, &k) != NULL;
	k = 2;
	lru_has2 = bpf_map_lookup_elem(&lru, &k) != NULL;
	k = 3;
	p = bpf_map_lookup_elem(&lru, &k);
	lru_has3 = p != NULL;
	lru_val3 = p ? *p : 0;
	return lru_has1 + lru_has2 * 2 + lru_has3 * 4;
}

struct rec3 {
	__u32 a, b, c;
};

SEC("syscall")
int use_ringbuf(void *ctx)
{
	struct rec3 r = {1, 2, 3};
	__u64 *e;

	e = bpf_ringbuf_reserve(&rb, 16, 0);
	if (!e)
		return -1;
	e[0] = 0x1111;
	e[1] = 0x2222;
	bpf_ringbuf_submit(e, 0);

	e = bpf_ringbuf_reserve(&rb, 8, 0);
	if (!e)
		return -2;
	e[0] = 0xdead;
	bpf_ringbuf_discard(e, 0);

	r_rb_output = bpf_ringbuf_output(&rb, &r, sizeof(r), 0);

	e = bpf_ringbuf_reserve(&rb, 8192, 0); /* larger than the ring */
	rb_too_big_null = e == NULL;
	if (e)
		bpf_ringbuf_discard(e, 0);

	rb_avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	rb_size = bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE);
	rb_cons = bpf_ringbuf_query(&rb, BPF_RB_CONS_POS);
	rb_prod = bpf_ringbuf_query(&rb, BPF_RB_PROD_POS);
	return rb_avail;
}

SEC("raw_tp")
int use_tail_call(void *ctx)
{
	bpf_tail_call(ctx, &jmp_table, 0); /* empty slot: falls through */
	tail_empty_fallthrough = 1;
	bpf_tail_call(ctx, &jmp_table, 1); /* -> tail_target, returns 42 */
	tail_not_taken = 1;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
