// SPDX-License-Identifier: GPL-2.0
/*
 * maps3.bpf.c - the map types of issue 12 item 3 from programs: USER_RINGBUF
 * (bpf_user_ringbuf_drain with LOCAL dynptrs), SK_STORAGE on the skb test
 * run's dummy socket, CGROUP_STORAGE / PERCPU_CGROUP_STORAGE through
 * bpf_get_local_storage in a cgroup_skb test run, STACK_TRACE through
 * bpf_get_stackid / bpf_get_stack, CGROUP_ARRAY through
 * bpf_current_task_under_cgroup / bpf_skb_under_cgroup.
 *
 * Results are .bss globals. test/data/kernel/maps3.json holds what Linux 6.18
 * answered for the programs whose results do not depend on the kernel's own
 * stack or on a user-space producer (scripts/kernel-oracle/cases/maps3.py):
 * urb_empty, sk_storage, cg_storage, stack_errnos, cgroup_array (empty slots). The others (urb_drain,
 * stack_ids) are checked by test/maps3.test.ts against the spec.
 *
 * Errnos: EINVAL -22, E2BIG -7, ENOENT -2, EEXIST -17, EFAULT -14, EBUSY -16.
 */
#include "bpfrun.h"

#ifndef BPF_MAP_TYPE_USER_RINGBUF
#define BPF_MAP_TYPE_USER_RINGBUF 31
#endif

extern __u64 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym __weak;

/* ---- USER_RINGBUF ---- */

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} urb SEC(".maps");

__u64 urb_ret, urb_bad_flags, urb_count, urb_stop_at;
__u64 urb_sizes[8], urb_first[8];
__s64 urb_read_err[8], urb_data_ok[8];

static long urb_cb(struct bpf_dynptr *d, void *ctx)
{
	__u64 n = urb_count;
	__u64 v = 0;
	long err;
	void *p;

	if (n < 8) {
		urb_sizes[n] = bpf_dynptr_size(d);
		err = bpf_dynptr_read(&v, sizeof(v), d, 0, 0);
		urb_read_err[n] = err;
		if (err)
			bpf_dynptr_read(&v, 4, d, 0, 0);
		urb_first[n] = v;
		p = bpf_dynptr_data(d, 0, 4);
		urb_data_ok[n] = p != 0;
	}
	urb_count = n + 1;
	return urb_count == urb_stop_at ? 1 : 0;
}

SEC("raw_tp")
int urb_drain(void *ctx)
{
	urb_ret = bpf_user_ringbuf_drain(&urb, urb_cb, NULL, 0);
	return 0;
}

/* An empty ring: 0 samples; flags outside NO_WAKEUP|FORCE_WAKEUP: EINVAL. */
SEC("raw_tp")
int urb_empty(void *ctx)
{
	urb_ret = bpf_user_ringbuf_drain(&urb, urb_cb, NULL, BPF_RB_FORCE_WAKEUP);
	urb_bad_flags = bpf_user_ringbuf_drain(&urb, urb_cb, NULL, 4);
	return 0;
}

/* ---- SK_STORAGE on the test run's socket ---- */

struct sk_val {
	__u64 a;
	__u32 b;
	__u32 c;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_val);
} sk_st SEC(".maps");

__s64 sk_nosk, sk_get_nocreate, sk_bad_flags, sk_created, sk_init_a, sk_init_b, sk_again_same;
__s64 sk_after_write, sk_del, sk_del_again, sk_get_after_del, sk_zero_create_a;

SEC("tc")
int sk_storage(struct __sk_buff *skb)
{
	struct sk_val init = { .a = 0x1122334455667788ULL, .b = 7, .c = 9 };
	struct bpf_sock *sk = skb->sk;
	struct sk_val *v, *w;

	if (!sk) {
		sk_nosk = 1;
		return 0;
	}
	sk_get_nocreate = (long)bpf_sk_storage_get(&sk_st, sk, 0, 0);
	sk_bad_flags = (long)bpf_sk_storage_get(&sk_st, sk, &init, 2);
	v = bpf_sk_storage_get(&sk_st, sk, &init, BPF_SK_STORAGE_GET_F_CREATE);
	sk_created = v != 0;
	if (!v)
		return 0;
	sk_init_a = v->a;
	sk_init_b = v->b;
	v->b += 100;
	w = bpf_sk_storage_get(&sk_st, sk, 0, 0);
	sk_again_same = w == v;
	if (w)
		sk_after_write = w->b;
	sk_del = bpf_sk_storage_delete(&sk_st, sk);
	sk_del_again = bpf_sk_storage_delete(&sk_st, sk);
	sk_get_after_del = (long)bpf_sk_storage_get(&sk_st, sk, 0, 0);
	v = bpf_sk_storage_get(&sk_st, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (v)
		sk_zero_create_a = v->a + 1;
	return 0;
}

/* ---- CGROUP_STORAGE / PERCPU_CGROUP_STORAGE in a cgroup_skb test run ---- */

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, __u64);
} cg_st SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, __u64);
} pcg_st SEC(".maps");

__u64 cg_seen, pcg_seen, cg_runs;

SEC("cgroup_skb/egress")
int cg_storage(struct __sk_buff *skb)
{
	__u64 *p = bpf_get_local_storage(&cg_st, 0);
	__u64 *q = bpf_get_local_storage(&pcg_st, 0);

	cg_seen = *p;
	*p += 1;
	pcg_seen = *q;
	*q += 10;
	cg_runs++;
	return 1;
}

/* ---- STACK_TRACE ---- */

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8 * sizeof(__u64));
} stacks SEC(".maps");

__s64 st_bad_flags, st_skip_all, st_same, st_stack_bad_flags, st_stack_size_bad, st_stack_skip_all;
__s64 st_ids[2];

/* Results independent of the kernel's stack: bad flags, skipping 255 frames. */
SEC("raw_tp")
int stack_errnos(void *ctx)
{
	__u64 buf[4];
	int i;

	st_bad_flags = bpf_get_stackid(ctx, &stacks, 1 << 12);
	st_skip_all = bpf_get_stackid(ctx, &stacks, 0xff);
	/* Both iterations have the same stack (same call site, same callers): an
	 * open-coded iterator, which clang cannot unroll into two call sites. */
	bpf_for(i, 0, 2)
		st_ids[i & 1] = bpf_get_stackid(ctx, &stacks, 0);
	st_same = st_ids[0] == st_ids[1];
	/* the ids themselves depend on the kernel's stack: keep their signs */
	st_ids[0] = st_ids[0] < 0 ? st_ids[0] : 1;
	st_ids[1] = st_ids[1] < 0 ? st_ids[1] : 1;
	st_stack_bad_flags = bpf_get_stack(ctx, buf, sizeof(buf), 1 << 9);
	st_stack_size_bad = bpf_get_stack(ctx, buf, 12, 0);
	st_stack_skip_all = bpf_get_stack(ctx, buf, sizeof(buf), 0xff);
	return 0;
}

__s64 st_id_main, st_id_sub, st_id_sub_skip1, st_id_user, st_get_len, st_get_user;
__u64 st_buf[4];

static __noinline int stack_sub(void *ctx)
{
	st_id_sub = bpf_get_stackid(ctx, &stacks, 0);
	st_id_sub_skip1 = bpf_get_stackid(ctx, &stacks, 1);
	st_get_len = bpf_get_stack(ctx, st_buf, sizeof(st_buf), 0);
	return 0;
}

SEC("raw_tp")
int stack_ids(void *ctx)
{
	st_id_main = bpf_get_stackid(ctx, &stacks, 0);
	st_id_user = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	st_get_user = bpf_get_stack(ctx, st_buf, sizeof(st_buf), BPF_F_USER_STACK);
	stack_sub(ctx);
	return 0;
}

/* ---- CGROUP_ARRAY ---- */

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cg_arr SEC(".maps");

__s64 cga_task0, cga_task1, cga_task_big, cga_skb0, cga_skb1, cga_skb_big;

SEC("tc")
int cgroup_array(struct __sk_buff *skb)
{
	cga_task0 = bpf_current_task_under_cgroup(&cg_arr, 0);
	cga_task1 = bpf_current_task_under_cgroup(&cg_arr, 1);
	cga_task_big = bpf_current_task_under_cgroup(&cg_arr, 2);
	cga_skb0 = bpf_skb_under_cgroup(skb, &cg_arr, 0);
	cga_skb1 = bpf_skb_under_cgroup(skb, &cg_arr, 1);
	cga_skb_big = bpf_skb_under_cgroup(skb, &cg_arr, 2);
	return 0;
}

char _license[] SEC("license") = "GPL";
