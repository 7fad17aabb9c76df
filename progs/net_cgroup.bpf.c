// SPDX-License-Identifier: MIT
/*
 * net_cgroup.bpf.c - cgroup_skb programs for BPF_PROG_TEST_RUN (spec program-types §1.4,
 * §2.2, §2.5). The program sees the packet from the network header on; the test run's
 * dummy socket is skb->sk.
 *
 *   cg_fields - ingress: the cgroup_skb socket fields of __sk_buff (family, IPs, ports),
 *               lengths, protocol, and the same data through skb->sk (NULL-checked); returns 1.
 *   cg_egress - egress: returns 3 for UDP, 1 for TCP, 2 for ICMP, 0 otherwise (by the IPv4
 *               protocol byte, read with direct packet access).
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__u32 family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4];
	__u32 remote_port, local_port, pkt_len, len, protocol, pkt_type, ifindex;
	__u32 has_sk, sk_family, sk_src_ip4, sk_dst_ip4, sk_state, sk_bound_dev_if;
	__s32 sk_rx_queue_mapping;
	__u32 sk_src_ip6[4], sk_dst_ip6[4];
	__u32 sk_src_port, sk_dst_port;
	__u32 fullsock, fs_type, fs_protocol, fs_mark, fs_priority;
} cf;

SEC("cgroup_skb/ingress")
int cg_fields(struct __sk_buff *skb)
{
	struct bpf_sock *sk;

	cf.family = skb->family;
	cf.remote_ip4 = skb->remote_ip4;
	cf.local_ip4 = skb->local_ip4;
	cf.remote_ip6[0] = skb->remote_ip6[0];
	cf.remote_ip6[1] = skb->remote_ip6[1];
	cf.remote_ip6[2] = skb->remote_ip6[2];
	cf.remote_ip6[3] = skb->remote_ip6[3];
	cf.local_ip6[0] = skb->local_ip6[0];
	cf.local_ip6[1] = skb->local_ip6[1];
	cf.local_ip6[2] = skb->local_ip6[2];
	cf.local_ip6[3] = skb->local_ip6[3];
	cf.remote_port = skb->remote_port;
	cf.local_port = skb->local_port;
	cf.pkt_len = (__u32)(skb->data_end - skb->data);
	cf.len = skb->len;
	cf.protocol = skb->protocol;
	cf.pkt_type = skb->pkt_type;
	cf.ifindex = skb->ifindex;

	sk = skb->sk;
	if (!sk)
		return 1;
	cf.has_sk = 1;
	cf.sk_family = sk->family;
	cf.sk_src_ip4 = sk->src_ip4;
	cf.sk_dst_ip4 = sk->dst_ip4;
	cf.sk_state = sk->state;
	cf.sk_bound_dev_if = sk->bound_dev_if;
	cf.sk_rx_queue_mapping = sk->rx_queue_mapping;
	cf.sk_src_ip6[0] = sk->src_ip6[0];
	cf.sk_src_ip6[3] = sk->src_ip6[3];
	cf.sk_dst_ip6[0] = sk->dst_ip6[0];
	cf.sk_dst_ip6[3] = sk->dst_ip6[3];
	cf.sk_src_port = sk->src_port;
	cf.sk_dst_port = sk->dst_port;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	cf.fullsock = 1;
	cf.fs_type = sk->type;
	cf.fs_protocol = sk->protocol;
	cf.fs_mark = sk->mark;
	cf.fs_priority = sk->priority;
	return 1;
}

struct {
	__u32 proto;
	__u32 verdict;
} ce;

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *iph = data;
	int v;

	if (skb->protocol != bpf_htons(ETH_P_IP) || (void *)(iph + 1) > data_end)
		return 0;
	ce.proto = iph->protocol;
	switch (iph->protocol) {
	case IPPROTO_UDP: v = 3; break;
	case IPPROTO_TCP: v = 1; break;
	case IPPROTO_ICMP: v = 2; break;
	default: v = 0; break;
	}
	ce.verdict = v;
	return v;
}
