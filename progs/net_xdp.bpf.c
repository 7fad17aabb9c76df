// SPDX-License-Identifier: MIT
/*
 * net_xdp.bpf.c - XDP programs for BPF_PROG_TEST_RUN (spec program-types §1.5, §2.3, §4.1, §4.6).
 *
 *   xdp_fields   - the xdp_md fields (lengths, metadata length, ingress_ifindex,
 *                  rx_queue_index, bpf_xdp_get_buff_len) and an Ethernet/IPv4/UDP
 *                  parse with bounds checks choosing PASS / DROP / TX (UDP port 7 echoes).
 *   xdp_adjust   - bpf_xdp_adjust_head / adjust_tail / adjust_meta. Packet byte 14 selects
 *                  the operation, bytes 15-16 (big-endian, signed) the delta.
 *   xdp_bytes    - bpf_xdp_load_bytes / bpf_xdp_store_bytes (offsets from packet bytes 14-17,
 *                  plus a failing call), bpf_csum_diff with several shapes and a seed.
 *   xdp_redirect - bpf_redirect / bpf_redirect_map verdicts, selected by packet byte 14.
 *   xdp_lb       - Ethernet/IPv4/UDP parse and a hash lookup on the UDP destination port
 *                  that increments a counter: PASS on hit, DROP on miss.
 * Every result goes into .bss; the test harness zeroes .bss before each run.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* ---------------- xdp_fields ---------------- */
struct {
	__u32 len;       /* data_end - data */
	__u32 metalen;   /* data - data_meta */
	__u32 ifindex;
	__u32 rxq;
	__u64 buff_len;  /* bpf_xdp_get_buff_len */
	__u32 reason;    /* which branch of the parser decided */
	__u32 saddr, daddr;
	__u16 dport;
	__u8 proto;
	__u8 pad;
} xf;

SEC("xdp")
int xdp_fields(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct udphdr *udp;

	xf.len = data_end - data;
	xf.metalen = data - meta;
	xf.ifindex = ctx->ingress_ifindex;
	xf.rxq = ctx->rx_queue_index;
	xf.buff_len = bpf_xdp_get_buff_len(ctx);

	if ((void *)(eth + 1) > data_end) {
		xf.reason = 1; /* not even an Ethernet header in the linear part */
		return XDP_ABORTED;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		xf.reason = 2;
		return XDP_PASS;
	}
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end) {
		xf.reason = 3;
		return XDP_DROP;
	}
	xf.saddr = iph->saddr;
	xf.daddr = iph->daddr;
	xf.proto = iph->protocol;
	if (iph->protocol != IPPROTO_UDP) {
		xf.reason = 4;
		return XDP_PASS;
	}
	if (iph->ihl != 5) {
		xf.reason = 5;
		return XDP_DROP;
	}
	udp = (void *)(iph + 1);
	if ((void *)(udp + 1) > data_end) {
		xf.reason = 6;
		return XDP_DROP;
	}
	xf.dport = bpf_ntohs(udp->dest);
	if (udp->dest == bpf_htons(7)) {
		/* echo: swap the MAC addresses and send back */
		__u8 tmp[ETH_ALEN];

		__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
		xf.reason = 7;
		return XDP_TX;
	}
	xf.reason = 8;
	return XDP_PASS;
}

/* ---------------- xdp_adjust ---------------- */
struct {
	__s32 op;
	__s32 delta;
	__s64 ret1;      /* first helper's return value */
	__s64 ret2;      /* second helper (op 4, 6) */
	__u32 len;       /* data_end - data afterwards */
	__u32 metalen;   /* data - data_meta afterwards */
	__u64 buff_len;  /* bpf_xdp_get_buff_len afterwards */
	__u32 runs;      /* incremented per run: shows repeat */
	__u32 wrote;     /* bytes written into the grown area */
} xa;

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	int op, delta;
	long ret = 0, ret2 = 0;

	xa.runs++;
	if (p + 17 > (__u8 *)data_end)
		return XDP_ABORTED;
	op = p[14];
	delta = (__s16)((p[15] << 8) | p[16]);
	xa.op = op;
	xa.delta = delta;

	switch (op) {
	case 1: /* head; mark the grown head with 0xAA 0xBB */
		ret = bpf_xdp_adjust_head(ctx, delta);
		if (ret == 0 && delta <= -2) {
			p = (void *)(long)ctx->data;
			if (p + 2 <= (__u8 *)(long)ctx->data_end) {
				p[0] = 0xAA;
				p[1] = 0xBB;
				xa.wrote = 2;
			}
		}
		break;
	case 2: /* tail; set the last byte of the grown tail to 0xCC (store_bytes) */
		ret = bpf_xdp_adjust_tail(ctx, delta);
		if (ret == 0 && delta > 0) {
			__u8 cc = 0xCC;

			if (bpf_xdp_store_bytes(ctx, bpf_xdp_get_buff_len(ctx) - 1, &cc, 1) == 0)
				xa.wrote = 1;
		}
		break;
	case 3: /* meta; fill the first 4 metadata bytes with 0xDD */
		ret = bpf_xdp_adjust_meta(ctx, delta);
		if (ret == 0) {
			__u8 *m = (void *)(long)ctx->data_meta;

			if (m + 4 <= (__u8 *)(long)ctx->data) {
				m[0] = m[1] = m[2] = m[3] = 0xDD;
				xa.wrote = 4;
			}
		}
		break;
	case 4: /* 8 bytes of metadata, then move the head: the metadata moves along */
		ret = bpf_xdp_adjust_meta(ctx, -8);
		if (ret == 0) {
			__u8 *m = (void *)(long)ctx->data_meta;

			if (m + 8 <= (__u8 *)(long)ctx->data) {
				__builtin_memset(m, 0xEE, 8);
				xa.wrote = 8;
			}
		}
		ret2 = bpf_xdp_adjust_head(ctx, delta);
		break;
	case 5: /* tail by delta * 16 (reaches the 3520-byte limit with a 16-bit delta) */
		ret = bpf_xdp_adjust_tail(ctx, delta * 16);
		break;
	case 6: /* head there and back again */
		ret = bpf_xdp_adjust_head(ctx, delta);
		ret2 = bpf_xdp_adjust_head(ctx, -delta);
		break;
	default:
		return XDP_DROP;
	}
	xa.ret1 = ret;
	xa.ret2 = ret2;
	xa.len = (__u32)(ctx->data_end - ctx->data);
	xa.metalen = (__u32)(ctx->data - ctx->data_meta);
	xa.buff_len = bpf_xdp_get_buff_len(ctx);
	return ret == 0 ? XDP_PASS : XDP_ABORTED;
}

/* ---------------- xdp_bytes ---------------- */
struct {
	__s64 ld_head;       /* load_bytes(0, 16) */
	__s64 ld_var;        /* load_bytes(offset from bytes 14-15, 8) */
	__s64 ld_big;        /* load_bytes(0x10000, 4): offset > 0xFFFF */
	__s64 st_var;        /* store_bytes(offset from bytes 16-17, 4) */
	__s64 ld_after;      /* load_bytes of the stored bytes */
	__u8 head[16];
	__u8 var[8];         /* prefilled with 0x5A: untouched on error */
	__u8 big[4];         /* prefilled with 0x5A */
	__u8 after[4];
	__u32 off_ld, off_st;
	__s64 diff_8_8;      /* csum_diff(head[0..8], head[8..16], seed 0) */
	__s64 diff_to_seed;  /* csum_diff(NULL, 0, head, 12, 0x12345678) */
	__s64 diff_from;     /* csum_diff(head, 4, NULL, 0, 0) */
	__s64 diff_none;     /* csum_diff(NULL, 0, NULL, 0, 0xdeadbeef) */
	__s64 diff_odd;      /* csum_diff(NULL, 0, head, 6, 0): not a multiple of 4 */
	__s64 diff_big;      /* csum_diff(blob, 264, blob, 264, 1): 528 bytes in total */
	__s64 diff_ones;     /* csum_diff(NULL, 0, ff ff ff ff, 4, 0) */
} xb;

__u8 blob[264]; /* zero .bss block for the large csum_diff */

SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	__u8 sel[4] = {};
	__u8 val[4] = { 0xde, 0xad, 0xbe, 0xef };
	__u8 ones[4] = { 0xff, 0xff, 0xff, 0xff };
	__u8 *h = xb.head;

	xb.ld_head = bpf_xdp_load_bytes(ctx, 0, xb.head, 16);
	if (bpf_xdp_load_bytes(ctx, 14, sel, 4))
		return XDP_ABORTED;
	xb.off_ld = (sel[0] << 8) | sel[1];
	xb.off_st = (sel[2] << 8) | sel[3];
	__builtin_memset(xb.var, 0x5A, 8);
	__builtin_memset(xb.big, 0x5A, 4);
	xb.ld_var = bpf_xdp_load_bytes(ctx, xb.off_ld, xb.var, 8);
	xb.ld_big = bpf_xdp_load_bytes(ctx, 0x10000, xb.big, 4);
	xb.st_var = bpf_xdp_store_bytes(ctx, xb.off_st, val, 4);
	xb.ld_after = bpf_xdp_load_bytes(ctx, xb.off_st, xb.after, 4);

	xb.diff_8_8 = bpf_csum_diff((__be32 *)h, 8, (__be32 *)(h + 8), 8, 0);
	xb.diff_to_seed = bpf_csum_diff(NULL, 0, (__be32 *)h, 12, 0x12345678);
	xb.diff_from = bpf_csum_diff((__be32 *)h, 4, NULL, 0, 0);
	xb.diff_none = bpf_csum_diff(NULL, 0, NULL, 0, 0xdeadbeef);
	xb.diff_odd = bpf_csum_diff(NULL, 0, (__be32 *)h, 6, 0);
	xb.diff_big = bpf_csum_diff((__be32 *)blob, sizeof(blob), (__be32 *)blob, sizeof(blob), 1);
	xb.diff_ones = bpf_csum_diff(NULL, 0, (__be32 *)ones, 4, 0);
	return XDP_PASS;
}

/* ---------------- xdp_redirect ---------------- */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__u32 sel;
	__s64 ret;
} xr;

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	long ret;

	if (p + 15 > (__u8 *)(long)ctx->data_end)
		return XDP_ABORTED;
	xr.sel = p[14];
	switch (p[14]) {
	case 0: ret = bpf_redirect(1, 0); break;                /* XDP_REDIRECT */
	case 1: ret = bpf_redirect(1, 1); break;                /* flags != 0: XDP_ABORTED */
	case 2: ret = bpf_redirect_map(&tx_ports, 2, 2); break; /* empty slot: fallback PASS */
	case 3: ret = bpf_redirect_map(&tx_ports, 10, 1); break; /* key >= max_entries: DROP */
	case 4: ret = bpf_redirect_map(&tx_ports, 1, 0x20); break; /* bad flags: ABORTED */
	case 5: ret = bpf_redirect_map(&tx_ports, 0, 3); break; /* empty slot: fallback TX */
	default: ret = 1000 + p[14]; break;                     /* any value is reported */
	}
	xr.ret = ret;
	return ret;
}

/* ---------------- xdp_lb ---------------- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);   /* UDP destination port, host order */
	__type(value, __u64); /* packet counter */
} lb_ports SEC(".maps");

struct {
	__u32 hits, misses;
	__u16 port;
	__u16 pad;
	__u64 count; /* counter value after the increment */
} xl;

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);
	__u16 port;
	__u64 *cnt;

	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->protocol != IPPROTO_UDP)
		return XDP_DROP;
	port = bpf_ntohs(udp->dest);
	xl.port = port;
	cnt = bpf_map_lookup_elem(&lb_ports, &port);
	if (!cnt) {
		xl.misses++;
		return XDP_DROP;
	}
	xl.count = __sync_add_and_fetch(cnt, 1);
	xl.hits++;
	return XDP_PASS;
}
