// SPDX-License-Identifier: MIT
/*
 * net_fib.bpf.c - bpf_fib_lookup (#69) from XDP and tc over the simulated FIB (spec
 * program-types §4.7), the way forwarding programs use it (samples/bpf/xdp_fwd_kern.c).
 *
 *   xdp_fib - parses Ethernet + IPv4 / IPv6 (ports of UDP/TCP), fills struct bpf_fib_lookup
 *             (ifindex: the ingress device; tot_len: the IP length), calls bpf_fib_lookup.
 *             SUCCESS: rewrites the MACs and returns bpf_redirect(egress) (XDP_REDIRECT);
 *             a positive code: XDP_PASS; an errno: XDP_ABORTED; not IP: XDP_PASS.
 *   tc_fib  - the same for tc (ifindex: skb->ifindex): SUCCESS rewrites the MACs and returns
 *             TC_ACT_REDIRECT; a positive code: TC_ACT_OK; an errno: TC_ACT_SHOT.
 *
 * `ctl` (in .bss, set by the test) changes the call: flags, ifindex, tbid, mark, family,
 * a short plen (32), tot_len 0. `res` gets the helper's return value and the whole params
 * struct after the call.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

struct {
	__u32 flags;
	__u32 ifindex;     /* non-zero: the lookup's ifindex instead of the packet's device */
	__u32 tbid;        /* with DIRECT | TBID */
	__u32 mark;        /* with MARK */
	__u32 family;      /* non-zero: the lookup's family instead of the packet's */
	__u32 short_plen;  /* non-zero: plen 32 (EINVAL) */
	__u32 no_tot_len;  /* non-zero: tot_len 0 */
} ctl;

struct {
	__s64 rc;
	__u32 parsed;      /* 4 or 6: the packet's IP version; 0: not parsed, no call */
	__u32 pad;
	struct bpf_fib_lookup params;
} res;

/* Fills `p` from the packet; 0 when the packet is not Ethernet + IPv4/IPv6. */
static __always_inline int fill(void *data, void *data_end, struct bpf_fib_lookup *p, __u32 ifindex)
{
	struct ethhdr *eth = data;
	struct udphdr *l4 = 0;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return 0;
		p->family = AF_INET;
		p->tos = iph->tos;
		p->l4_protocol = iph->protocol;
		p->tot_len = bpf_ntohs(iph->tot_len);
		p->ipv4_src = iph->saddr;
		p->ipv4_dst = iph->daddr;
		if (iph->ihl == 5)
			l4 = (void *)(iph + 1);
		res.parsed = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return 0;
		p->family = AF_INET6;
		p->flowinfo = *(__be32 *)ip6h & bpf_htonl(0x0FFFFFFF);
		p->l4_protocol = ip6h->nexthdr;
		p->tot_len = bpf_ntohs(ip6h->payload_len);
		__builtin_memcpy(p->ipv6_src, &ip6h->saddr, 16);
		__builtin_memcpy(p->ipv6_dst, &ip6h->daddr, 16);
		l4 = (void *)(ip6h + 1);
		res.parsed = 6;
	} else {
		return 0;
	}
	if (l4 && (p->l4_protocol == IPPROTO_UDP || p->l4_protocol == IPPROTO_TCP) && (void *)(l4 + 1) <= data_end) {
		p->sport = l4->source;
		p->dport = l4->dest;
	}
	p->ifindex = ctl.ifindex ? ctl.ifindex : ifindex;
	if (ctl.family)
		p->family = ctl.family;
	if (ctl.no_tot_len)
		p->tot_len = 0;
	if (ctl.tbid)
		p->tbid = ctl.tbid;
	if (ctl.mark)
		*(__u32 *)p->smac = ctl.mark; /* 7.2's `mark` shares the bytes of smac[0..3] */
	return 1;
}

static __always_inline long lookup(void *ctx, struct bpf_fib_lookup *p)
{
	long rc;

	if (ctl.short_plen)
		rc = bpf_fib_lookup(ctx, p, 32, ctl.flags);
	else
		rc = bpf_fib_lookup(ctx, p, sizeof(*p), ctl.flags);
	res.rc = rc;
	__builtin_memcpy(&res.params, p, sizeof(*p));
	return rc;
}

SEC("xdp")
int xdp_fib(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup p = {};
	struct ethhdr *eth = data;
	long rc;

	if (!fill(data, data_end, &p, ctx->ingress_ifindex))
		return XDP_PASS;
	rc = lookup(ctx, &p);
	if (rc < 0)
		return XDP_ABORTED;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, p.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p.smac, ETH_ALEN);
	return bpf_redirect(p.ifindex, 0);
}

SEC("tc")
int tc_fib(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bpf_fib_lookup p = {};
	struct ethhdr *eth = data;
	long rc;

	if (!fill(data, data_end, &p, skb->ifindex))
		return TC_ACT_OK;
	rc = lookup(skb, &p);
	if (rc < 0)
		return TC_ACT_SHOT;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	__builtin_memcpy(eth->h_dest, p.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p.smac, ETH_ALEN);
	return bpf_redirect(p.ifindex, 0);
}
