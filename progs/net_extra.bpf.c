// SPDX-License-Identifier: MIT
/*
 * net_extra.bpf.c - more helpers of packet programs, for BPF_PROG_TEST_RUN.
 *
 *   tc_mtu, xdp_mtu   - bpf_check_mtu with the ctl map's ifindex, *mtu_len, len_diff, flags.
 *   tc_ecn, cg_ecn    - bpf_skb_ecn_set_ce; the packet shows the change.
 *   tc_ecn_clone      - bpf_skb_ecn_set_ce after bpf_clone_redirect to lo (flags from mark).
 *   tc_ids, cg_ids, sock_ids, xdp_ids
 *                     - numa node, cgroup classid, skb cgroup id, socket and netns cookies,
 *                       jiffies64. What differs between machines (ids, cookies, jiffies) goes
 *                       to .bss only as a property (non-zero, stable, increasing); the raw
 *                       values go to the `raw` array map, which the kernel oracle ignores.
 *   tc_lookup, xdp_lookup, cg_lookup
 *                     - bpf_sk_lookup_tcp/udp and bpf_skc_lookup_tcp with good and bad tuple
 *                       sizes, flags and netns ids, on tuples nothing listens on: 1 per NULL.
 *   tc_foreach, xdp_foreach
 *                     - bpf_for_each_map_elem over an ARRAY and a HASH: counts, sums, an early
 *                       stop (array only: hash order is the kernel's bucket order), values
 *                       written through the callback's pointer, flags != 0. The array is
 *                       filled by the program; the hash comes from the case.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef BPF_F_CURRENT_NETNS
#define BPF_F_CURRENT_NETNS (-1L)
#endif

/*
 * What a case changes, in a HASH map (key 0; absent = all zero) rather than in .bss, whose
 * name libbpf 1.1 truncates ("net_extr.bss") where bpfrun does not.
 */
struct ctl {
	__u32 ifindex;    /* bpf_check_mtu */
	__u32 mtu_in;
	__s32 len_diff;
	__u32 stop_key;   /* bpf_for_each_map_elem: the array callback returns 1 at this key */
	__u64 flags;      /* bpf_check_mtu */
	__u64 bad_flags;  /* bpf_for_each_map_elem: flags of one more call */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctl);
} ctl SEC(".maps");

static __always_inline struct ctl get_ctl(void)
{
	__u32 k = 0;
	struct ctl *c = bpf_map_lookup_elem(&ctl, &k);
	struct ctl zero = {};

	return c ? *c : zero;
}

/* ---------------- bpf_check_mtu ---------------- */

struct {
	__s64 ret;
	__u32 mtu_out;
	__u32 pad;
} mtu_res;

SEC("tc")
int tc_mtu(struct __sk_buff *skb)
{
	struct ctl c = get_ctl();
	__u32 mtu = c.mtu_in;

	mtu_res.ret = bpf_check_mtu(skb, c.ifindex, &mtu, c.len_diff, c.flags);
	mtu_res.mtu_out = mtu;
	return TC_ACT_OK;
}

SEC("xdp")
int xdp_mtu(struct xdp_md *xdp)
{
	struct ctl c = get_ctl();
	__u32 mtu = c.mtu_in;

	mtu_res.ret = bpf_check_mtu(xdp, c.ifindex, &mtu, c.len_diff, c.flags);
	mtu_res.mtu_out = mtu;
	return XDP_PASS;
}

/* ---------------- bpf_skb_ecn_set_ce ---------------- */
__s64 ecn_ret[2];

SEC("tc")
int tc_ecn(struct __sk_buff *skb)
{
	ecn_ret[0] = bpf_skb_ecn_set_ce(skb);
	ecn_ret[1] = bpf_skb_ecn_set_ce(skb); /* CE already: 1 for IPv4 and IPv6 */
	return TC_ACT_OK;
}

/* After bpf_clone_redirect (to lo, egress and ingress): is the skb still a writable one? */
SEC("tc")
int tc_ecn_clone(struct __sk_buff *skb)
{
	ecn_ret[0] = bpf_clone_redirect(skb, 1, skb->mark);
	ecn_ret[1] = bpf_skb_ecn_set_ce(skb);
	return TC_ACT_OK;
}

SEC("cgroup_skb/egress")
int cg_ecn(struct __sk_buff *skb)
{
	ecn_ret[0] = bpf_skb_ecn_set_ce(skb);
	ecn_ret[1] = bpf_skb_ecn_set_ce(skb);
	return 1;
}

/* ---------------- ids, cookies, jiffies ---------------- */
struct ids {
	__u64 numa;
	__u64 classid;
	__u64 cgroup_nonzero;
	__u64 cookie_nonzero;
	__u64 cookie_stable;     /* a second call gives the same cookie */
	__u64 netns_nonzero;
	__u64 netns_stable;      /* bpf_get_netns_cookie(NULL) is the skb's netns (init_net) */
	__u64 jiffies_nonzero;
	__u64 jiffies_monotonic;
};
struct ids ids;

/* raw[0] cgroup id, raw[1] socket cookie, raw[2] netns cookie, raw[3] jiffies64 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} raw SEC(".maps");

static __always_inline void put_raw(__u32 k, __u64 v)
{
	bpf_map_update_elem(&raw, &k, &v, BPF_ANY);
}

static __always_inline void jiffies(void)
{
	__u64 j1 = bpf_jiffies64(), j2 = bpf_jiffies64();

	ids.jiffies_nonzero = j1 != 0;
	ids.jiffies_monotonic = j2 >= j1;
	put_raw(3, j1);
}

static __always_inline void skb_ids(struct __sk_buff *skb, int with_cgroup_id)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u64 netns = bpf_get_netns_cookie(skb);

	ids.numa = bpf_get_numa_node_id();
	ids.classid = bpf_get_cgroup_classid(skb);
	ids.cookie_nonzero = cookie != 0;
	ids.cookie_stable = bpf_get_socket_cookie(skb) == cookie;
	ids.netns_nonzero = netns != 0;
	ids.netns_stable = bpf_get_netns_cookie(NULL) == netns;
	put_raw(1, cookie);
	put_raw(2, netns);
	if (with_cgroup_id) {
		__u64 cg = bpf_skb_cgroup_id(skb);

		ids.cgroup_nonzero = cg != 0;
		put_raw(0, cg);
	}
	jiffies();
}

SEC("tc")
int tc_ids(struct __sk_buff *skb)
{
	skb_ids(skb, 1);
	return TC_ACT_OK;
}

SEC("cgroup_skb/ingress")
int cg_ids(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u64 netns = bpf_get_netns_cookie(skb);
	__u64 cg = bpf_skb_cgroup_id(skb);

	ids.numa = bpf_get_numa_node_id();
	ids.classid = bpf_get_cgroup_classid(skb); /* the task's (bpf_get_cgroup_classid_curr) */
	ids.cookie_nonzero = cookie != 0;
	ids.cookie_stable = bpf_get_socket_cookie(skb) == cookie;
	ids.netns_nonzero = netns != 0;
	ids.netns_stable = bpf_get_netns_cookie(NULL) == netns;
	ids.cgroup_nonzero = cg != 0;
	put_raw(0, cg);
	put_raw(1, cookie);
	put_raw(2, netns);
	jiffies();
	return 1;
}

SEC("socket")
int sock_ids(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u64 netns = bpf_get_netns_cookie(skb);

	ids.numa = bpf_get_numa_node_id();
	ids.cookie_nonzero = cookie != 0;
	ids.cookie_stable = bpf_get_socket_cookie(skb) == cookie;
	ids.netns_nonzero = netns != 0;
	ids.netns_stable = bpf_get_netns_cookie(NULL) == netns;
	put_raw(1, cookie);
	put_raw(2, netns);
	jiffies();
	return skb->len;
}

SEC("xdp")
int xdp_ids(struct xdp_md *xdp)
{
	ids.numa = bpf_get_numa_node_id();
	ids.classid = bpf_get_cgroup_classid((void *)xdp); /* bpf_get_cgroup_classid_curr: no argument used */
	jiffies();
	return XDP_PASS;
}

/* ---------------- socket lookups ---------------- */
/* found[k] = 1 when lookup k returned a socket (then released), 0 for NULL; 10 lookups. */
__u64 found[10];

#define LOOKUP(k, call)                                 \
	do {                                            \
		struct bpf_sock *sk = (call);           \
		found[k] = sk != 0;                     \
		if (sk)                                 \
			bpf_sk_release(sk);             \
	} while (0)

#define LOOKUPS(ctx)                                                                              \
	do {                                                                                      \
		struct bpf_sock_tuple t4 = {}, t6 = {};                                           \
		t4.ipv4.saddr = bpf_htonl(0xc0000201); /* 192.0.2.1:1 -> 192.0.2.2:9 */           \
		t4.ipv4.daddr = bpf_htonl(0xc0000202);                                            \
		t4.ipv4.sport = bpf_htons(1);                                                     \
		t4.ipv4.dport = bpf_htons(9);                                                     \
		t6.ipv6.saddr[0] = bpf_htonl(0x20010db8); /* 2001:db8::1:1 -> 2001:db8::2:9 */     \
		t6.ipv6.saddr[3] = bpf_htonl(1);                                                  \
		t6.ipv6.daddr[0] = bpf_htonl(0x20010db8);                                         \
		t6.ipv6.daddr[3] = bpf_htonl(2);                                                  \
		t6.ipv6.sport = bpf_htons(1);                                                     \
		t6.ipv6.dport = bpf_htons(9);                                                     \
		LOOKUP(0, bpf_sk_lookup_tcp(ctx, &t4, sizeof(t4.ipv4), BPF_F_CURRENT_NETNS, 0));   \
		LOOKUP(1, bpf_sk_lookup_udp(ctx, &t4, sizeof(t4.ipv4), BPF_F_CURRENT_NETNS, 0));   \
		LOOKUP(2, bpf_skc_lookup_tcp(ctx, &t4, sizeof(t4.ipv4), BPF_F_CURRENT_NETNS, 0));  \
		LOOKUP(3, bpf_sk_lookup_tcp(ctx, &t6, sizeof(t6.ipv6), BPF_F_CURRENT_NETNS, 0));   \
		LOOKUP(4, bpf_sk_lookup_udp(ctx, &t6, sizeof(t6.ipv6), BPF_F_CURRENT_NETNS, 0));   \
		LOOKUP(5, bpf_sk_lookup_tcp(ctx, &t4, 13, BPF_F_CURRENT_NETNS, 0));                \
		LOOKUP(6, bpf_sk_lookup_udp(ctx, &t4, sizeof(t4.ipv4), BPF_F_CURRENT_NETNS, 1));   \
		LOOKUP(7, bpf_sk_lookup_tcp(ctx, &t4, sizeof(t4.ipv4), 0x7fffffff, 0));            \
		LOOKUP(8, bpf_skc_lookup_tcp(ctx, &t4, sizeof(t4.ipv4), 0x80000000, 0));           \
		LOOKUP(9, bpf_sk_lookup_tcp(ctx, &t4, 0, BPF_F_CURRENT_NETNS, 0));                 \
	} while (0)

SEC("tc")
int tc_lookup(struct __sk_buff *skb)
{
	LOOKUPS(skb);
	return TC_ACT_OK;
}

SEC("cgroup_skb/ingress")
int cg_lookup(struct __sk_buff *skb)
{
	LOOKUPS(skb);
	return 1;
}

SEC("xdp")
int xdp_lookup(struct xdp_md *xdp)
{
	LOOKUPS(xdp);
	return XDP_PASS;
}

/* ---------------- bpf_for_each_map_elem ---------------- */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__s64 arr_n, arr_n2, hash_n, hash_n2, bad_n;
	__u64 arr_keys, arr_vals, arr_vals2, hash_keys, hash_vals, hash_vals2;
	__u64 arr_last;   /* key of the last element the array callback saw */
} fe;

struct cb_ctx {
	__u64 keys, vals;
	__u32 last, stop;
};

static long arr_cb(void *map, __u32 *key, __u64 *val, struct cb_ctx *c)
{
	c->keys += *key;
	c->vals += *val;
	c->last = *key;
	*val += 100 + *key; /* written through the callback's value pointer */
	return *key == c->stop;
}

static long hash_cb(void *map, __u32 *key, __u64 *val, struct cb_ctx *c)
{
	c->keys += *key;
	c->vals += *val;
	*val *= 2;
	return 0;
}

static long sum_cb(void *map, __u32 *key, __u64 *val, struct cb_ctx *c)
{
	c->vals += *val;
	return 0;
}

static __always_inline void foreach(void)
{
	struct ctl k = get_ctl();
	struct cb_ctx c = { .stop = k.stop_key };

	/* arr[i] = 10 * (i + 1): every case starts from the same array. */
#pragma clang loop unroll(full)
	for (__u32 i = 0; i < 8; i++) {
		__u32 k = i;
		__u64 v = 10 * (i + 1);

		bpf_map_update_elem(&arr, &k, &v, BPF_ANY);
	}
	fe.arr_n = bpf_for_each_map_elem(&arr, arr_cb, &c, 0);
	fe.arr_keys = c.keys;
	fe.arr_vals = c.vals;
	fe.arr_last = c.last;
	c.vals = 0;
	fe.arr_n2 = bpf_for_each_map_elem(&arr, sum_cb, &c, 0);
	fe.arr_vals2 = c.vals;

	c.keys = c.vals = 0;
	fe.hash_n = bpf_for_each_map_elem(&hash, hash_cb, &c, 0);
	fe.hash_keys = c.keys;
	fe.hash_vals = c.vals;
	c.vals = 0;
	fe.hash_n2 = bpf_for_each_map_elem(&hash, sum_cb, &c, 0);
	fe.hash_vals2 = c.vals;

	fe.bad_n = bpf_for_each_map_elem(&arr, sum_cb, &c, k.bad_flags);
}

SEC("tc")
int tc_foreach(struct __sk_buff *skb)
{
	foreach();
	return TC_ACT_OK;
}

SEC("xdp")
int xdp_foreach(struct xdp_md *xdp)
{
	foreach();
	return XDP_PASS;
}
