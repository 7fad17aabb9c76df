// SPDX-License-Identifier: MIT
/*
 * net_tc.bpf.c - tc (sched_cls) programs for BPF_PROG_TEST_RUN (spec program-types §1.4,
 * §2.2, §4.2-§4.6, §4.8).
 *
 *   tc_fields   - reads every __sk_buff field tc may read into .bss, then writes mark,
 *                 priority, cb[], tc_index, tc_classid, queue_mapping and tstamp.
 *   tc_narrow   - 1- and 2-byte context loads of len, pkt_type and protocol at every
 *                 offset (exact widths forced with inline asm).
 *   tc_helpers  - skb_load_bytes (in and out of range), skb_store_bytes, l3/l4_csum_replace
 *                 after rewriting the IPv4 source address, csum_diff, get_hash_recalc,
 *                 set_hash, csum_update, csum_level, skb_load_bytes_relative.
 *   tc_resize   - resizing helpers. The operation is selected by the LAST TWO bytes of the
 *                 packet: byte len-2 = operation, byte len-1 = argument (works for any frame).
 *   tc_redirect - bpf_redirect verdicts, selected by skb->mark (set through ctx_in).
 *   tc_tunnel   - bpf_skb_get_tunnel_key before and after bpf_skb_set_tunnel_key.
 */
#include "bpfrun.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* ---------------- tc_fields ---------------- */
struct {
	__u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
	__u32 priority, ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid;
	__u32 pkt_len;   /* data_end - data */
	__u32 meta_eq;   /* data_meta == data */
	__u32 napi_id, wire_len, gso_segs, gso_size;
	__u64 tstamp, hwtstamp;
} tf;

SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	tf.len = skb->len;
	tf.pkt_type = skb->pkt_type;
	tf.mark = skb->mark;
	tf.queue_mapping = skb->queue_mapping;
	tf.protocol = skb->protocol;
	tf.vlan_present = skb->vlan_present;
	tf.vlan_tci = skb->vlan_tci;
	tf.vlan_proto = skb->vlan_proto;
	tf.priority = skb->priority;
	tf.ingress_ifindex = skb->ingress_ifindex;
	tf.ifindex = skb->ifindex;
	tf.tc_index = skb->tc_index;
	tf.cb[0] = skb->cb[0];
	tf.cb[1] = skb->cb[1];
	tf.cb[2] = skb->cb[2];
	tf.cb[3] = skb->cb[3];
	tf.cb[4] = skb->cb[4];
	tf.hash = skb->hash;
	tf.tc_classid = skb->tc_classid;
	tf.pkt_len = (__u32)(skb->data_end - skb->data);
	tf.meta_eq = skb->data_meta == skb->data;
	tf.napi_id = skb->napi_id;
	tf.wire_len = skb->wire_len;
	tf.gso_segs = skb->gso_segs;
	tf.gso_size = skb->gso_size;
	tf.tstamp = skb->tstamp;
	tf.hwtstamp = skb->hwtstamp;

	skb->mark = tf.mark ^ 0x11223344;
	skb->priority = tf.priority + 7;
	skb->cb[0] = 0x100 + tf.cb[0];
	skb->cb[1] = 0x101;
	skb->cb[2] = 0x102;
	skb->cb[3] = 0x103;
	skb->cb[4] = 0x104;
	skb->tc_index = 0x55;
	skb->tc_classid = 0x66;
	skb->queue_mapping = 3;
	skb->tstamp = tf.tstamp + 1000;
	return TC_ACT_OK;
}

/* ---------------- tc_narrow ---------------- */
#define LD8(dst, off) asm volatile("%0 = *(u8 *)(%1 + " #off ")" : "=r"(dst) : "r"(skb))
#define LD16(dst, off) asm volatile("%0 = *(u16 *)(%1 + " #off ")" : "=r"(dst) : "r"(skb))

struct {
	__u64 len_b[4], len_h[2];      /* offsets 0..3 / 0, 2 */
	__u64 type_b[4], type_h[2];    /* offsets 4..7 / 4, 6 */
	__u64 proto_b[4], proto_h[2];  /* offsets 16..19 / 16, 18 */
	__u64 len_w, type_w, proto_w;  /* full 4-byte loads for reference */
} tn;

SEC("tc")
int tc_narrow(struct __sk_buff *skb)
{
	__u64 v;

	LD8(v, 0); tn.len_b[0] = v;
	LD8(v, 1); tn.len_b[1] = v;
	LD8(v, 2); tn.len_b[2] = v;
	LD8(v, 3); tn.len_b[3] = v;
	LD16(v, 0); tn.len_h[0] = v;
	LD16(v, 2); tn.len_h[1] = v;
	LD8(v, 4); tn.type_b[0] = v;
	LD8(v, 5); tn.type_b[1] = v;
	LD8(v, 6); tn.type_b[2] = v;
	LD8(v, 7); tn.type_b[3] = v;
	LD16(v, 4); tn.type_h[0] = v;
	LD16(v, 6); tn.type_h[1] = v;
	LD8(v, 16); tn.proto_b[0] = v;
	LD8(v, 17); tn.proto_b[1] = v;
	LD8(v, 18); tn.proto_b[2] = v;
	LD8(v, 19); tn.proto_b[3] = v;
	LD16(v, 16); tn.proto_h[0] = v;
	LD16(v, 18); tn.proto_h[1] = v;
	tn.len_w = skb->len;
	tn.type_w = skb->pkt_type;
	tn.proto_w = skb->protocol;
	return TC_ACT_OK;
}

/* ---------------- tc_helpers ---------------- */
#define IP_SADDR_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define UDP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, check))

struct {
	__s64 ld_ok, ld_bad, st_mac, ld_saddr, st_saddr, l3, l4, csum_diff;
	__s64 hash_nonzero;  /* get_hash_recalc() != 0 (the value itself is boot-random) */
	__s64 hash_matches;  /* skb->hash == that value */
	__s64 set_hash, hash_after_set, skb_hash_after_set;
	__s64 csum_update, csum_level;
	__s64 rel_mac, rel_net, rel_bad;
	__u8 eth[14];
	__u8 tail[8];        /* prefilled 0xAA, out-of-range load: zero-filled */
	__u8 old_saddr[4];
	__u8 mac_hdr[6];
	__u8 net_hdr[4];
	__u8 rel_bad_buf[4]; /* prefilled 0xAA */
	__u8 pad[2];
} th;

SEC("tc")
int tc_helpers(struct __sk_buff *skb)
{
	__u8 newmac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	__be32 newaddr = bpf_htonl(0x0a090807); /* 10.9.8.7 */
	__be32 oldaddr;
	__u32 h;

	th.ld_ok = bpf_skb_load_bytes(skb, 0, th.eth, 14);
	__builtin_memset(th.tail, 0xAA, 8);
	th.ld_bad = bpf_skb_load_bytes(skb, skb->len - 4, th.tail, 8);
	th.st_mac = bpf_skb_store_bytes(skb, 0, newmac, 6, 0);

	th.ld_saddr = bpf_skb_load_bytes(skb, IP_SADDR_OFF, &oldaddr, 4);
	__builtin_memcpy(th.old_saddr, &oldaddr, 4);
	th.st_saddr = bpf_skb_store_bytes(skb, IP_SADDR_OFF, &newaddr, 4, BPF_F_RECOMPUTE_CSUM);
	th.l3 = bpf_l3_csum_replace(skb, IP_CSUM_OFF, oldaddr, newaddr, 4);
	th.l4 = bpf_l4_csum_replace(skb, UDP_CSUM_OFF, oldaddr, newaddr, BPF_F_PSEUDO_HDR | 4);
	th.csum_diff = bpf_csum_diff(&oldaddr, 4, &newaddr, 4, 0);

	h = bpf_get_hash_recalc(skb);
	th.hash_nonzero = h != 0;
	th.hash_matches = skb->hash == h;
	th.set_hash = bpf_set_hash(skb, 0xabcdef01);
	th.hash_after_set = bpf_get_hash_recalc(skb);
	th.skb_hash_after_set = skb->hash;

	th.csum_update = bpf_csum_update(skb, 0x1234);
	th.csum_level = bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY);

	th.rel_mac = bpf_skb_load_bytes_relative(skb, 0, th.mac_hdr, 6, BPF_HDR_START_MAC);
	th.rel_net = bpf_skb_load_bytes_relative(skb, 12, th.net_hdr, 4, BPF_HDR_START_NET);
	__builtin_memset(th.rel_bad_buf, 0xAA, 4);
	th.rel_bad = bpf_skb_load_bytes_relative(skb, 4000, th.rel_bad_buf, 4, BPF_HDR_START_NET);
	return TC_ACT_OK;
}

/* ---------------- tc_resize ---------------- */
struct {
	__u32 op, arg;
	__s64 ret, ret2;
	__u32 len, pkt_len, protocol, pkt_type;
	__u32 vlan_present, vlan_tci, vlan_proto, pad;
} tr;

SEC("tc")
int tc_resize(struct __sk_buff *skb)
{
	__u8 sel[2];
	long ret = 0, ret2 = 0;
	__u32 arg;

	if (skb->len < 2 || bpf_skb_load_bytes(skb, skb->len - 2, sel, 2))
		return TC_ACT_SHOT;
	tr.op = sel[0];
	tr.arg = arg = sel[1];

	switch (sel[0]) {
	case 1: ret = bpf_skb_change_tail(skb, skb->len + arg, 0); break;
	case 2: ret = bpf_skb_change_tail(skb, skb->len - arg, 0); break;
	case 3: ret = bpf_skb_change_head(skb, arg, 0); break;
	case 4: ret = bpf_skb_adjust_room(skb, arg, BPF_ADJ_ROOM_NET, 0); break;
	case 5: ret = bpf_skb_adjust_room(skb, -(int)arg, BPF_ADJ_ROOM_NET, 0); break;
	case 6: ret = bpf_skb_adjust_room(skb, arg, BPF_ADJ_ROOM_MAC, 0); break;
	case 7: ret = bpf_skb_adjust_room(skb, -(int)arg, BPF_ADJ_ROOM_MAC, 0); break;
	case 8: ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x123); break;
	case 9: /* the second push moves the first tag into the packet */
		ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x123);
		ret2 = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), 0x456);
		break;
	case 10: ret = bpf_skb_vlan_pop(skb); break;
	case 11: /* push then pop */
		ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x123);
		ret2 = bpf_skb_vlan_pop(skb);
		break;
	case 12: ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0); break;
	case 13: ret = bpf_skb_change_type(skb, arg); break;
	case 14: ret = bpf_skb_pull_data(skb, arg); break;
	case 15: ret = bpf_skb_adjust_room(skb, arg, BPF_ADJ_ROOM_NET, 1ULL << 20); break; /* bad flags */
	case 16: ret = bpf_skb_change_tail(skb, skb->len, 1); break;                     /* bad flags */
	case 17: ret = bpf_skb_adjust_room(skb, arg, 2, 0); break;                       /* bad mode */
	case 18: ret = bpf_skb_vlan_push(skb, bpf_htons(0x1234), 0x789); break;          /* odd proto */
	case 19: ret = bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0); break;         /* v4 -> v4 */
	case 20: ret = bpf_skb_change_head(skb, arg, 1); break;                          /* bad flags */
	default: return 99;
	}
	tr.ret = ret;
	tr.ret2 = ret2;
	tr.len = skb->len;
	tr.pkt_len = (__u32)(skb->data_end - skb->data);
	tr.protocol = skb->protocol;
	tr.pkt_type = skb->pkt_type;
	tr.vlan_present = skb->vlan_present;
	tr.vlan_tci = skb->vlan_tci;
	tr.vlan_proto = skb->vlan_proto;
	return TC_ACT_OK;
}

/* ---------------- tc_redirect ---------------- */
SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	switch (skb->mark) {
	case 0: return bpf_redirect(1, 0);             /* TC_ACT_REDIRECT (7) */
	case 1: return bpf_redirect(1, 2);             /* bad flags: TC_ACT_SHOT (2) */
	case 2: return bpf_redirect(1, BPF_F_INGRESS); /* 7 */
	default: return bpf_redirect(12345, 0);        /* target not checked: 7 */
	}
}

/* ---------------- tc_tunnel ---------------- */
struct {
	__s64 get_before, set, get_after, get_v6, set_bad_flags, set_label_v4;
	struct bpf_tunnel_key before; /* prefilled 0xAA: zero-filled on error */
	struct bpf_tunnel_key after;
	struct bpf_tunnel_key v6;
} tt;

SEC("tc")
int tc_tunnel(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};

	__builtin_memset(&tt.before, 0xAA, sizeof(tt.before));
	tt.get_before = bpf_skb_get_tunnel_key(skb, &tt.before, sizeof(tt.before), 0);

	key.tunnel_id = 42;
	key.remote_ipv4 = 0x0a000001; /* host order */
	key.local_ipv4 = 0x0a000002;
	key.tunnel_tos = 3;
	key.tunnel_ttl = 64;
	tt.set_bad_flags = bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 1ULL << 10);
	key.tunnel_label = 5;
	tt.set_label_v4 = bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0);
	key.tunnel_label = 0;
	tt.set = bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0);
	tt.get_after = bpf_skb_get_tunnel_key(skb, &tt.after, sizeof(tt.after), 0);
	tt.get_v6 = bpf_skb_get_tunnel_key(skb, &tt.v6, sizeof(tt.v6), BPF_F_TUNINFO_IPV6);
	return TC_ACT_OK;
}
