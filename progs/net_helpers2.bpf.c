// SPDX-License-Identifier: MIT
/*
 * net_helpers2.bpf.c - more packet-helper paths for BPF_PROG_TEST_RUN (spec program-types
 * §4.3-§4.6), checked against the kernel by scripts/kernel-oracle/cases/net_helpers2.py.
 *
 *   tc_room   - bpf_skb_adjust_room with the encap / decap / GSO / checksum flags and its
 *               refusals; skb->mark (set through ctx_in) selects the operation.
 *   tc_csum   - a fixed sequence of bpf_csum_level calls (INC / DEC / RESET / QUERY / bad).
 *   tc_proto  - bpf_skb_change_proto IPv6 -> IPv4 (and back) and its refusals; skb->mark
 *               selects the operation.
 *   xdp_redir - bpf_redirect_map on CPUMAP, XSKMAP, DEVMAP and DEVMAP_HASH (broadcast,
 *               exclude-ingress), selected by packet byte 14.
 * Every result goes into .bss; the test harness zeroes .bss before each run.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define ENCAP4 BPF_F_ADJ_ROOM_ENCAP_L3_IPV4
#define ENCAP6 BPF_F_ADJ_ROOM_ENCAP_L3_IPV6
#define GRE BPF_F_ADJ_ROOM_ENCAP_L4_GRE
#define UDP BPF_F_ADJ_ROOM_ENCAP_L4_UDP
#define L2ETH BPF_F_ADJ_ROOM_ENCAP_L2_ETH
#define L2(n) BPF_F_ADJ_ROOM_ENCAP_L2(n)
#define NOCSUM BPF_F_ADJ_ROOM_NO_CSUM_RESET
#define FIXGSO BPF_F_ADJ_ROOM_FIXED_GSO
/* BPF_F_ADJ_ROOM_DECAP_L3_IPV4/6 (bits 7 and 8): newer than the system's linux/bpf.h */
#define DECAP4 (1ULL << 7)
#define DECAP6 (1ULL << 8)
#define MAC BPF_ADJ_ROOM_MAC
#define NET BPF_ADJ_ROOM_NET

/* ---------------- tc_room ---------------- */
struct {
	__u32 op, pad0;
	__s64 ret, ret2, ret3;
	__s64 lvl_before, lvl_after;  /* csum_level QUERY before / after the operation */
	__u32 len, pkt_len, protocol, pad1;
	__s64 rel_net, rel_mac;       /* skb_load_bytes_relative from the network / MAC header */
	__u8 net4[4];                 /* the first 4 bytes at the network header afterwards */
	__u8 mac_proto[2], pad2[2];   /* bytes 12-13 from the MAC header */
} tr;

SEC("tc")
int tc_room(struct __sk_buff *skb)
{
	long ret = 0, ret2 = 0, ret3 = 0;

	tr.op = skb->mark;
	switch (skb->mark) {
	case 1: /* IPv4 + GRE outer headers after the MAC header; a second encap: EALREADY */
		ret = bpf_skb_adjust_room(skb, 24, MAC, ENCAP4 | GRE);
		ret2 = bpf_skb_adjust_room(skb, 24, MAC, ENCAP4 | GRE);
		break;
	case 2: /* IPv6 + UDP outer headers: protocol becomes IPv6; then +4 NET: after 40 bytes */
		ret = bpf_skb_adjust_room(skb, 48, MAC, ENCAP6 | UDP);
		ret2 = bpf_skb_adjust_room(skb, 4, NET, 0);
		break;
	case 3: /* IPv4 + UDP + inner Ethernet */
		ret = bpf_skb_adjust_room(skb, 42, MAC, ENCAP4 | UDP | L2ETH | L2(14));
		break;
	case 4: ret = bpf_skb_adjust_room(skb, 34, MAC, ENCAP4 | L2ETH | L2(10)); break; /* L2 < 14 */
	case 5: ret = bpf_skb_adjust_room(skb, 24, MAC, ENCAP4 | L2(30)); break;         /* L2 > len */
	case 6: ret = bpf_skb_adjust_room(skb, 40, MAC, ENCAP4 | ENCAP6); break;
	case 7: ret = bpf_skb_adjust_room(skb, 32, MAC, ENCAP4 | GRE | UDP); break;
	case 8: ret = bpf_skb_adjust_room(skb, 8, NET, GRE | UDP | L2ETH | L2(3)); break; /* no L3: no encap */
	case 9: ret = bpf_skb_adjust_room(skb, -4, NET, ENCAP4); break;                  /* encap flag, shrink */
	case 10: ret = bpf_skb_adjust_room(skb, -20, MAC, DECAP6); break;                /* 6in4 -> IPv6 */
	case 11: ret = bpf_skb_adjust_room(skb, -40, MAC, DECAP4); break;                /* 4in6 -> IPv4 */
	case 12: ret = bpf_skb_adjust_room(skb, 8, MAC, DECAP4); break;                  /* decap on grow */
	case 13: ret = bpf_skb_adjust_room(skb, -20, MAC, DECAP4 | DECAP6); break;
	case 14: ret = bpf_skb_adjust_room(skb, -20, MAC, DECAP6); break;                /* leaves < 40 */
	case 15: ret = bpf_skb_adjust_room(skb, 8, NET, FIXGSO); break;
	case 16: /* two INCs, then adjust_room with NO_CSUM_RESET keeps level 1 */
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		tr.lvl_before = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
		ret = bpf_skb_adjust_room(skb, 8, NET, NOCSUM);
		ret2 = bpf_skb_adjust_room(skb, -4, NET, NOCSUM | FIXGSO);
		break;
	case 17: /* the same without NO_CSUM_RESET: CHECKSUM_NONE again */
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		tr.lvl_before = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
		ret = bpf_skb_adjust_room(skb, 8, NET, 0);
		break;
	case 18: /* a failing call does not reset */
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		tr.lvl_before = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
		ret = bpf_skb_adjust_room(skb, 8, MAC, ENCAP4 | ENCAP6);
		break;
	case 19: ret = bpf_skb_adjust_room(skb, 8, NET, 1ULL << 9); break;               /* unknown flag */
	case 20: ret = bpf_skb_adjust_room(skb, 0x1000, NET, 0); break;                  /* EFAULT */
	case 21: ret = bpf_skb_adjust_room(skb, -0x1000, NET, 0); break;                 /* EFAULT */
	case 22: ret = bpf_skb_adjust_room(skb, 0xfff, MAC, 0); break;                   /* largest */
	case 23: ret = bpf_skb_adjust_room(skb, -(int)(skb->len - 14), MAC, 0); break;    /* all of L3 */
	case 24: /* encap IPv4 on IPv6, then skb_change_tail: EINVAL below the outer transport, else ENOTSUPP */
		ret = bpf_skb_adjust_room(skb, 28, MAC, ENCAP4 | UDP);
		ret2 = bpf_skb_change_tail(skb, 30, 0);
		ret3 = bpf_skb_change_tail(skb, skb->len + 4, 0);
		break;
	case 25: /* encap without an L4 flag: the transport header stays on the inner one */
		ret = bpf_skb_adjust_room(skb, 20, MAC, ENCAP4);
		ret2 = bpf_skb_change_tail(skb, 50, 0);
		break;
	case 26: ret = bpf_skb_adjust_room(skb, 0, NET, ENCAP4); break;                  /* zero-length encap */
	case 27: ret = bpf_skb_adjust_room(skb, -8, NET, DECAP4); break;                 /* decap in NET mode */
	case 28: ret = bpf_skb_adjust_room(skb, 48, NET, ENCAP6 | GRE | NOCSUM | FIXGSO); break;
	default: return 99;
	}
	tr.ret = ret;
	tr.ret2 = ret2;
	tr.ret3 = ret3;
	tr.lvl_after = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	tr.len = skb->len;
	tr.pkt_len = (__u32)(skb->data_end - skb->data);
	tr.protocol = skb->protocol;
	tr.rel_net = bpf_skb_load_bytes_relative(skb, 0, tr.net4, 4, BPF_HDR_START_NET);
	tr.rel_mac = bpf_skb_load_bytes_relative(skb, 12, tr.mac_proto, 2, BPF_HDR_START_MAC);
	return TC_ACT_OK;
}

/* ---------------- tc_csum ---------------- */
__s64 cl[20];

SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	cl[0] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[1] = bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	cl[2] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[3] = bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	cl[4] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	cl[5] = bpf_csum_level(skb, BPF_CSUM_LEVEL_INC); /* stays at 3 */
	cl[6] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[7] = bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC);
	cl[8] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[9] = bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	cl[10] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[11] = bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
	cl[12] = bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC); /* level 0: back to CHECKSUM_NONE */
	cl[13] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[14] = bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC); /* on CHECKSUM_NONE: nothing */
	cl[15] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	cl[16] = bpf_csum_level(skb, 4);
	cl[17] = bpf_csum_level(skb, 1ULL << 32);
	cl[18] = bpf_csum_level(skb, BPF_CSUM_LEVEL_INC | (1ULL << 40));
	cl[19] = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	return TC_ACT_OK;
}

/* ---------------- tc_proto ---------------- */
struct {
	__u32 op, pad0;
	__s64 ret, ret2, ret3;
	__s64 lvl;                 /* csum_level QUERY at the end */
	__u32 len, pkt_len, protocol, hash;
	__s64 rel_net;
	__u8 net4[4], pad1[4];        /* the first 4 bytes at the network header afterwards */
} tp;

SEC("tc")
int tc_proto(struct __sk_buff *skb)
{
	long ret = 0, ret2 = 0, ret3 = 0;

	tp.op = skb->mark;
	switch (skb->mark) {
	case 1: /* 6 -> 4: 20 bytes removed after the MAC header; hash cleared; csum level kept */
		bpf_set_hash(skb, 0x1234);
		bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
		ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		break;
	case 2: /* 6 -> 4 -> 6 */
		ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		ret2 = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0);
		break;
	case 3: ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 1); break;          /* flags */
	case 4: ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 1ULL << 33); break;
	case 5: ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_ARP), 0); break;
	case 6: /* 4 -> 6 clears the hash too */
		bpf_set_hash(skb, 0x5678);
		ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0);
		break;
	case 7: /* 6 -> 4, then adjust_room NET uses the IPv4 header length */
		ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		ret2 = bpf_skb_adjust_room(skb, 4, NET, 0);
		break;
	case 8: /* 6 -> 4 twice: the second is ENOTSUPP; then back to 6 */
		ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		ret2 = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0);
		ret3 = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0);
		break;
	default: return 99;
	}
	tp.ret = ret;
	tp.ret2 = ret2;
	tp.ret3 = ret3;
	tp.lvl = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);
	tp.len = skb->len;
	tp.pkt_len = (__u32)(skb->data_end - skb->data);
	tp.protocol = skb->protocol;
	tp.hash = skb->hash;
	tp.rel_net = bpf_skb_load_bytes_relative(skb, 0, tp.net4, 4, BPF_HDR_START_NET);
	return TC_ACT_OK;
}

/* ---------------- xdp_redir ---------------- */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsk_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} dev_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} dev_hash SEC(".maps");

struct {
	__u32 sel, pad;
	__s64 ret, ret2;
} xr;

#define BCAST BPF_F_BROADCAST
#define EXCL BPF_F_EXCLUDE_INGRESS

SEC("xdp")
int xdp_redir(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	long ret, ret2 = 0;

	if (p + 15 > (__u8 *)(long)ctx->data_end)
		return XDP_ABORTED;
	xr.sel = p[14];
	switch (p[14]) {
	case 0: ret = bpf_redirect_map(&cpu_map, 0, 0); break;
	case 1: ret = bpf_redirect_map(&cpu_map, 1, 2); break;
	case 2: ret = bpf_redirect_map(&cpu_map, 8, 1); break;            /* key >= max_entries */
	case 3: ret = bpf_redirect_map(&cpu_map, 0, 4); break;            /* bad flags */
	case 4: ret = bpf_redirect_map(&cpu_map, 0, BCAST); break;        /* not for a CPUMAP */
	case 5: ret = bpf_redirect_map(&xsk_map, 0, 3); break;
	case 6: ret = bpf_redirect_map(&xsk_map, 9, 1); break;
	case 7: ret = bpf_redirect_map(&xsk_map, 0, BCAST | 2); break;    /* not for an XSKMAP */
	case 8: ret = bpf_redirect_map(&dev_map, 0, BCAST); break;        /* no lookup: REDIRECT */
	case 9: ret = bpf_redirect_map(&dev_map, 7, BCAST | EXCL | 1); break;
	case 10: ret = bpf_redirect_map(&dev_map, 3, EXCL | 2); break;    /* exclude alone: a lookup */
	case 11: ret = bpf_redirect_map(&dev_map, 0, BCAST | 0x20); break;
	case 12: ret = bpf_redirect_map(&dev_hash, 7, BCAST | EXCL | 1); break;
	case 13: ret = bpf_redirect_map(&dev_hash, 7, 2); break;
	case 14: ret = bpf_redirect_map(&dev_hash, 0x12345, 3); break;
	case 15: ret = bpf_redirect_map(&dev_map, 1, 0); break;
	case 16: /* a hit, then a miss: the last call decides */
		ret2 = bpf_redirect_map(&dev_map, 1, 0);
		ret = bpf_redirect_map(&cpu_map, 1, 1);
		break;
	case 17: ret = bpf_redirect_map(&dev_hash, 7 | (1ULL << 32), 2); break; /* key is a u32 */
	default: ret = 1000 + p[14]; break;
	}
	xr.ret = ret;
	xr.ret2 = ret2;
	return ret;
}
