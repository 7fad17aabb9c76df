// SPDX-License-Identifier: MIT
/*
 * net_flow.bpf.c - flow dissector programs for BPF_PROG_TEST_RUN (spec program-types §1.6,
 * §2.4). In a test run skb->data is the Ethernet header, flow_keys->nhoff = 14 and
 * flow_keys->n_proto = the Ethernet type; there is no real skb behind the context.
 *
 *   flow_parse     - direct packet access from data + nhoff: one 802.1Q tag, IPv4 (with
 *                    options and fragments) or IPv6 (no extension headers), then TCP/UDP
 *                    ports. Fills addr_proto, ip_proto, n_proto, addresses, thoff, is_frag,
 *                    is_first_frag, sport, dport; honours the ctx flags PARSE_1ST_FRAG and
 *                    STOP_AT_FLOW_LABEL. Returns BPF_OK (0) or BPF_DROP (2).
 *   flow_loadbytes - bpf_skb_load_bytes, which fails in test runs (no skb): the return value
 *                    and the (zero-filled) buffer go into .bss.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct {
	__u32 stage;   /* how far the parser got */
	__u32 flags;   /* flow_keys->flags as seen */
	__u32 nhoff_in, thoff_in, n_proto_in;
} fp;

static __always_inline int parse_ports(struct __sk_buff *skb, struct bpf_flow_keys *k,
				       __u8 proto, __u16 thoff)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 *ports;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return BPF_OK;
	if (thoff > 1024)
		return BPF_DROP;
	ports = data + thoff;
	if ((void *)(ports + 2) > data_end) {
		fp.stage = 10;
		return BPF_DROP;
	}
	k->sport = ports[0];
	k->dport = ports[1];
	fp.stage = 11;
	return BPF_OK;
}

SEC("flow_dissector")
int flow_parse(struct __sk_buff *skb)
{
	struct bpf_flow_keys *k = skb->flow_keys;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 nhoff = k->nhoff;
	__be16 proto = k->n_proto;

	fp.flags = k->flags;
	fp.nhoff_in = k->nhoff;
	fp.thoff_in = k->thoff;
	fp.n_proto_in = k->n_proto;
	fp.stage = 1;
	if (nhoff > 64)
		return BPF_DROP;

	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__be16 *inner = data + nhoff + 2; /* TCI, then the encapsulated type */

		if ((void *)(inner + 1) > data_end)
			return BPF_DROP;
		proto = *inner;
		nhoff += 4;
		k->nhoff = nhoff;
		k->n_proto = proto;
		fp.stage = 2;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + nhoff;
		__u16 thoff;

		if ((void *)(iph + 1) > data_end || iph->ihl < 5) {
			fp.stage = 3;
			return BPF_DROP;
		}
		thoff = nhoff + iph->ihl * 4;
		k->addr_proto = ETH_P_IP;
		k->ip_proto = iph->protocol;
		k->ipv4_src = iph->saddr;
		k->ipv4_dst = iph->daddr;
		k->thoff = thoff;
		fp.stage = 4;
		if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
			k->is_frag = 1;
			if (iph->frag_off & bpf_htons(IP_OFFSET))
				return BPF_OK; /* a later fragment: no ports */
			k->is_first_frag = 1;
			if (!(k->flags & BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG))
				return BPF_OK;
		}
		return parse_ports(skb, k, iph->protocol, thoff);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + nhoff;
		__u32 label;

		if ((void *)(ip6 + 1) > data_end) {
			fp.stage = 5;
			return BPF_DROP;
		}
		k->addr_proto = ETH_P_IPV6;
		k->ip_proto = ip6->nexthdr;
		__builtin_memcpy(k->ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(k->ipv6_dst, &ip6->daddr, 16);
		k->thoff = nhoff + sizeof(*ip6);
		label = *(__be32 *)ip6 & bpf_htonl(0x000fffff);
		k->flow_label = label;
		fp.stage = 6;
		if (label && (k->flags & BPF_FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL))
			return BPF_OK;
		return parse_ports(skb, k, ip6->nexthdr, nhoff + sizeof(*ip6));
	}
	fp.stage = 9;
	return BPF_DROP;
}

struct {
	__s64 ret;
	__u8 buf[8]; /* prefilled with 0xAA */
} fl;

SEC("flow_dissector")
int flow_loadbytes(struct __sk_buff *skb)
{
	__builtin_memset(fl.buf, 0xAA, sizeof(fl.buf));
	fl.ret = bpf_skb_load_bytes(skb, 14, fl.buf, sizeof(fl.buf));
	return BPF_OK;
}
