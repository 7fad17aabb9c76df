// SPDX-License-Identifier: MIT
/*
 * net_sock.bpf.c - socket filter programs for BPF_PROG_TEST_RUN (spec program-types §1.4,
 * §3.2). In a test run a socket filter sees the packet from the IPv4/IPv6 header on
 * (offset 0 = network header), the Ethernet header lies 14 bytes before it.
 *
 *   sock_ldabs  - LD_ABS / LD_IND (llvm.bpf.load.*): IPv4 protocol, saddr, UDP ports via the
 *                 header length, an SKF_NET_OFF- and an SKF_LL_OFF-relative byte. Each result
 *                 is stored in .bss with a step counter right after its load, so a failing
 *                 load (which ends the program with R0 = 0) shows how far it got.
 *   sock_fields - the __sk_buff fields a socket filter may read, cb[] writes and
 *                 bpf_skb_load_bytes of the IP header; returns skb->len for IPv4, else 0.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct {
	__u32 step;       /* number of loads completed */
	__u32 ver_ihl;    /* LD_ABS B 0 */
	__u32 proto;      /* LD_ABS B 9 */
	__u32 saddr;      /* LD_ABS W 12 (host order value) */
	__u32 sport;      /* LD_IND H ihl*4 + 0 */
	__u32 dport;      /* LD_IND H ihl*4 + 2 */
	__u32 net_ttl;    /* LD_ABS B SKF_NET_OFF + 8 */
	__u32 ll_type;    /* LD_ABS H SKF_LL_OFF + 12: the Ethernet type */
	__u32 ll_src0;    /* LD_ABS B SKF_LL_OFF + 6 */
	__u32 far;        /* LD_ABS W 60: beyond a short packet */
} sl;

SEC("socket")
int sock_ldabs(struct __sk_buff *skb)
{
	__u64 ihl4;

	sl.ver_ihl = load_byte(skb, 0);
	sl.step = 1;
	sl.proto = load_byte(skb, 9);
	sl.step = 2;
	sl.saddr = load_word(skb, 12);
	sl.step = 3;
	sl.net_ttl = load_byte(skb, SKF_NET_OFF + 8);
	sl.step = 4;
	sl.ll_type = load_half(skb, SKF_LL_OFF + 12);
	sl.step = 5;
	sl.ll_src0 = load_byte(skb, SKF_LL_OFF + 6);
	sl.step = 6;
	ihl4 = (sl.ver_ihl & 0xf) * 4;
	sl.sport = load_half(skb, ihl4);
	sl.step = 7;
	sl.dport = load_half(skb, ihl4 + 2);
	sl.step = 8;
	sl.far = load_word(skb, 60);
	sl.step = 9;
	return 0x1000 + sl.step;
}

struct {
	__u32 len, pkt_type, protocol, ifindex, ingress_ifindex, mark, priority, hash;
	__u32 queue_mapping, tc_index, vlan_present, napi_id, gso_segs, gso_size;
	__u32 cb0_in;
	__s32 ld_ret;
	__u8 iphdr[20];
} sf;

SEC("socket")
int sock_fields(struct __sk_buff *skb)
{
	sf.len = skb->len;
	sf.pkt_type = skb->pkt_type;
	sf.protocol = skb->protocol;
	sf.ifindex = skb->ifindex;
	sf.ingress_ifindex = skb->ingress_ifindex;
	sf.mark = skb->mark;
	sf.priority = skb->priority;
	sf.hash = skb->hash;
	sf.queue_mapping = skb->queue_mapping;
	sf.tc_index = skb->tc_index;
	sf.vlan_present = skb->vlan_present;
	sf.napi_id = skb->napi_id;
	sf.gso_segs = skb->gso_segs;
	sf.gso_size = skb->gso_size;
	sf.cb0_in = skb->cb[0];
	skb->cb[0] = skb->len;
	skb->cb[4] = 0x77;
	sf.ld_ret = bpf_skb_load_bytes(skb, 0, sf.iphdr, 20);
	return skb->protocol == bpf_htons(ETH_P_IP) ? skb->len : 0;
}
