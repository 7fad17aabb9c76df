# SPDX-License-Identifier: MIT
"""Cases for progs/net_tc.bpf.o (tc / sched_cls test runs, spec §1.4, §2.2, §4.2-§4.8)."""
import struct
from _common import C
from packets import (pkt_udp4, pkt_tcp4, pkt_udp6, pkt_arp, pkt_vlan_udp4, pkt_short_ipv4,
                     pkt_eth_only, pkt_big, eth, skb_ctx, MAC_BCAST, MAC_MCAST, MAC_ZERO)

UDP = pkt_udp4(payload=b"hello")  # 47 bytes
FULL_CTX = skb_ctx(mark=5, priority=6, ingress_ifindex=9, ifindex=1, cb0=1, cb1=2, cb2=3, cb3=4, cb4=5,
                   tstamp=123456789, wire_len=100, gso_segs=3, gso_size=1400, hwtstamp=987654321)


def rs(op, arg=0, base=None):
    """A frame whose last two bytes select tc_resize's operation and argument."""
    if base is None:
        return pkt_udp4(payload=b"payload" + bytes([op, arg]))
    return base + bytes([op, arg])


def rs_v6(op, arg=0):
    return pkt_udp6(payload=b"payload" + bytes([op, arg]))


def rs_vlan(op, arg=0):
    return pkt_vlan_udp4(payload=b"payload" + bytes([op, arg]))


F = "tc_fields"
R = "tc_resize"

CASES = [
    # ---- tc_fields
    C("fields_udp4_noctx", "IPv4/UDP without any ctx: wire_len 0, ingress_ifindex 0, ifindex 1", F, UDP),
    C("fields_udp4_ctx_zero", "all-zero ctx in and out: wire_len = len; ctx_out shows the program's writes", F,
      UDP, ctx_in=skb_ctx(), ctx_size_out=192),
    C("fields_ctx_out_only", "no ctx_in, 192-byte ctx_out: like an all-zero ctx", F, UDP, ctx_size_out=192),
    C("fields_ctx_full", "ctx mark/priority/ingress_ifindex/ifindex 1/cb/tstamp/wire_len/gso_segs/gso_size/"
      "hwtstamp set: all reach the program; ctx_out", F, UDP, ctx_in=FULL_CTX, ctx_size_out=192),
    C("fields_ctx_repeat3", "full ctx, repeat 3: mark toggles 3 times, cb[0] += 0x300, tstamp += 3000", F, UDP,
      ctx_in=FULL_CTX, ctx_size_out=192, repeat=3),
    C("fields_ctx_len", "ctx len != 0: EINVAL", F, UDP, ctx_in=skb_ctx(len=47), ctx_size_out=192),
    C("fields_ctx_hash", "ctx hash != 0: EINVAL", F, UDP, ctx_in=skb_ctx(hash=1), ctx_size_out=192),
    C("fields_ctx_tc_index", "ctx tc_index != 0: EINVAL", F, UDP, ctx_in=skb_ctx(tc_index=1), ctx_size_out=192),
    C("fields_ctx_protocol", "ctx protocol != 0: EINVAL", F, UDP, ctx_in=skb_ctx(protocol=8), ctx_size_out=192),
    C("fields_ctx_napi_id", "ctx napi_id != 0: EINVAL", F, UDP, ctx_in=skb_ctx(napi_id=1), ctx_size_out=192),
    C("fields_ctx_data", "ctx data != 0: EINVAL", F, UDP, ctx_in=skb_ctx(data=1), ctx_size_out=192),
    C("fields_ctx_data_end_big", "ctx data_end 48 > data_size_in 47: EINVAL", F, UDP,
      ctx_in=skb_ctx(data_end=48), ctx_size_out=192),
    C("fields_ctx_data_end_20", "ctx data_end 20: 7.2: 20 linear bytes, rest in a fragment; 6.18: EINVAL", F,
      UDP, ctx_in=skb_ctx(data_end=20), ctx_size_out=192),
    C("fields_ctx_data_end_47", "ctx data_end 47 = data_size_in: 7.2 accepts (all linear); 6.18: EINVAL", F, UDP,
      ctx_in=skb_ctx(data_end=47), ctx_size_out=192),
    C("fields_ctx_data_end_5", "ctx data_end 5: 7.2 raises the linear length to 14; 6.18: EINVAL", F, UDP,
      ctx_in=skb_ctx(data_end=5), ctx_size_out=192),
    C("fields_ctx_ifindex_missing", "ctx ifindex 9999: ENODEV", F, UDP, ctx_in=skb_ctx(ifindex=9999),
      ctx_size_out=192),
    C("fields_ctx_wire_len_small", "ctx wire_len 10 < len 47: EINVAL", F, UDP, ctx_in=skb_ctx(wire_len=10),
      ctx_size_out=192),
    C("fields_ctx_wire_len_max", "ctx wire_len 65536: accepted", F, UDP, ctx_in=skb_ctx(wire_len=65536),
      ctx_size_out=192),
    C("fields_ctx_wire_len_big", "ctx wire_len 65537: EINVAL", F, UDP, ctx_in=skb_ctx(wire_len=65537),
      ctx_size_out=192),
    C("fields_ctx_gso_segs_big", "ctx gso_segs 65536: EINVAL", F, UDP, ctx_in=skb_ctx(gso_segs=65536),
      ctx_size_out=192),
    C("fields_ctx_gso_size_wide", "ctx gso_size 0x12345678: program reads the low 16 bits", F, UDP,
      ctx_in=skb_ctx(gso_size=0x12345678), ctx_size_out=192),
    C("fields_ctx_small_out", "ctx_out capacity 100: ENOSPC, 100 bytes of ctx", F, UDP, ctx_in=FULL_CTX,
      ctx_size_out=100),
    C("fields_enospc", "data_size_out 20: ENOSPC, ctx_out not written", F, UDP, ctx_in=FULL_CTX,
      ctx_size_out=192, data_size_out=20),
    C("fields_ctx_in_long_nonzero", "ctx_in 200 bytes with a non-zero byte beyond 192: E2BIG", F, UDP,
      ctx_in=FULL_CTX + b"\x01" + bytes(7), ctx_size_out=192),
    C("fields_pkt_host", "destination MAC 00:..:00 (lo's address): pkt_type 0", F, pkt_udp4(dst=MAC_ZERO)),
    C("fields_pkt_bcast", "broadcast destination: pkt_type on lo", F, pkt_udp4(dst=MAC_BCAST)),
    C("fields_pkt_mcast", "multicast destination: pkt_type 2", F, pkt_udp4(dst=MAC_MCAST)),
    C("fields_tcp4", "IPv4/TCP frame", F, pkt_tcp4()),
    C("fields_udp6", "IPv6/UDP frame: protocol 0x86dd", F, pkt_udp6()),
    C("fields_arp", "ARP frame: protocol 0x0806", F, pkt_arp()),
    C("fields_vlan", "802.1Q frame: protocol 0x8100, vlan_present 0 (tag stays in the packet)", F,
      pkt_vlan_udp4()),
    C("fields_8023_raw", "802.3 length 0x0040 with FF FF payload: protocol ETH_P_802_3 (0x0001)", F,
      eth(etype=0x0040) + b"\xff\xff" + bytes(20)),
    C("fields_8023_llc", "802.3 length 0x0040 with LLC payload: protocol ETH_P_802_2 (0x0004)", F,
      eth(etype=0x0040) + b"\xaa\xaa\x03" + bytes(19)),
    C("fields_short_ipv4", "IPv4 frame with 10 bytes of L3: EINVAL", F, pkt_short_ipv4()),
    C("fields_short_ipv6", "IPv6 frame with 20 bytes of L3: EINVAL", F, eth(etype=0x86DD) + bytes(20)),
    C("fields_13_bytes", "13-byte frame: EINVAL", F, pkt_eth_only()[:13]),
    C("fields_eth_only", "14-byte frame of type 0x88B5", F, pkt_eth_only()),
    C("fields_big_3600", "3600-byte frame: all linear (limit 3712)", F, pkt_big(3600)),
    C("fields_big_3712", "3712-byte frame: the largest linear skb (4096 - 64 - 320)", F, pkt_big(3712)),
    C("fields_big_3713", "3713-byte frame: 7.2 puts 1 byte in a fragment; 6.18 refuses it", F, pkt_big(3713)),
    C("fields_big_8000", "8000-byte frame: 7.2: 3712 linear + fragments; 6.18 refuses it", F, pkt_big(8000)),
    C("fields_csum_complete", "flags BPF_F_TEST_SKB_CHECKSUM_COMPLETE, packet unchanged", F, UDP, flags=4),
    C("fields_bad_flags", "flags 1: EINVAL for skb programs", F, UDP, flags=1),
    C("fields_repeat_noctx", "repeat 4 without ctx", F, UDP, repeat=4),
    # ---- tc_narrow
    C("narrow_udp4", "narrow loads of len/pkt_type/protocol, IPv4, otherhost", "tc_narrow", UDP),
    C("narrow_arp_mcast", "narrow loads, ARP broadcast frame", "tc_narrow", pkt_arp()),
    C("narrow_udp6_mcast", "narrow loads, IPv6 to a multicast MAC",
      "tc_narrow", eth(dst=MAC_MCAST, etype=0x86DD) + pkt_udp6()[14:]),
    C("narrow_big", "narrow loads of a 8000-byte len (0x1f40)", "tc_narrow", pkt_big(8000)),
    # ---- tc_helpers
    C("helpers_udp4", "byte/checksum/hash helpers on IPv4/UDP; source rewritten to 10.9.8.7", "tc_helpers",
      pkt_udp4(payload=b"hello world")),
    C("helpers_udp4_csum_complete", "same with BPF_F_TEST_SKB_CHECKSUM_COMPLETE: csum_update works; the "
      "final checksum check decides the errno", "tc_helpers", pkt_udp4(payload=b"hello world"), flags=4),
    C("helpers_udp4_fragmented", "ctx data_end 20: on 7.2 loads reach into the fragment, relative "
      "loads are linear-only; 6.18 refuses the ctx (EINVAL)", "tc_helpers", pkt_udp4(payload=b"hello world"), ctx_in=skb_ctx(data_end=20),
      ctx_size_out=192),
    C("helpers_eth_only", "14-byte frame: most helpers fail", "tc_helpers", pkt_eth_only()),
    # ---- tc_resize (selector: last two bytes)
    C("resize_tail_grow", "skb_change_tail(len + 20)", R, rs(1, 20)),
    C("resize_tail_shrink", "skb_change_tail(len - 5) (removes the selector bytes too)", R, rs(2, 5)),
    C("resize_tail_shrink_below_l3", "skb_change_tail(len - 40): below the network header, EINVAL", R,
      rs(2, 40)),
    C("resize_tail_gso", "skb_change_tail(len + 20) with ctx gso_size 1000", R, rs(1, 20),
      ctx_in=skb_ctx(gso_size=1000), ctx_size_out=192),
    C("resize_change_head", "skb_change_head(8): 8 zero bytes in front", R, rs(3, 8)),
    C("resize_change_head_bad_flags", "skb_change_head(8, flags 1): EINVAL", R, rs(20, 8)),
    C("resize_room_net_grow", "skb_adjust_room(+8, NET): 8 zero bytes after the IPv4 header", R, rs(4, 8)),
    C("resize_room_net_shrink", "skb_adjust_room(-4, NET): 4 bytes removed after the IPv4 header", R, rs(5, 4)),
    C("resize_room_mac_grow", "skb_adjust_room(+8, MAC): 8 zero bytes after the Ethernet header", R, rs(6, 8)),
    C("resize_room_mac_shrink", "skb_adjust_room(-4, MAC)", R, rs(7, 4)),
    C("resize_room_mac_shrink_too_much", "skb_adjust_room(-30, MAC) on a 37-byte IPv4 packet: ENOTSUPP", R,
      rs(7, 30)),
    C("resize_room_bad_flags", "skb_adjust_room(+8, NET, 1<<20): EINVAL", R, rs(15, 8)),
    C("resize_room_bad_mode", "skb_adjust_room(+8, mode 2): ENOTSUPP", R, rs(17, 8)),
    C("resize_room_arp", "skb_adjust_room(+8, NET) on ARP: ENOTSUPP", R, rs(4, 8, base=pkt_arp())),
    C("resize_room_v6_grow", "skb_adjust_room(+8, NET) on IPv6: after 40 bytes", R, rs_v6(4, 8)),
    C("resize_room_gso_grow", "skb_adjust_room(+8, NET) with ctx gso_size 1000 (non-TCP GSO)", R, rs(4, 8),
      ctx_in=skb_ctx(gso_size=1000), ctx_size_out=192),
    C("resize_vlan_push", "skb_vlan_push(0x8100, 0x123): metadata only, packet unchanged", R, rs(8)),
    C("resize_vlan_push2", "two pushes: the first tag is written into the packet", R, rs(9)),
    C("resize_vlan_pop_untagged", "skb_vlan_pop on an untagged frame: 0, no change", R, rs(10)),
    C("resize_vlan_pop_tagged", "skb_vlan_pop on an 802.1Q frame: tag removed from the packet", R, rs_vlan(10)),
    C("resize_vlan_push_pop", "push then pop: back to the start", R, rs(11)),
    C("resize_vlan_push_oddproto", "skb_vlan_push(0x1234): proto replaced by 0x8100", R, rs(18)),
    C("resize_change_proto_v6", "skb_change_proto(IPv6) on IPv4: 20 zero bytes after the MAC header", R, rs(12)),
    C("resize_change_proto_v6_on_v6", "skb_change_proto(IPv6) on IPv6: ENOTSUPP", R, rs_v6(12)),
    C("resize_change_proto_v4_on_v4", "skb_change_proto(IPv4) on IPv4: ENOTSUPP", R, rs(19)),
    C("resize_change_type_1", "skb_change_type(1): pkt_type 1", R, rs(13, 1)),
    C("resize_change_type_4", "skb_change_type(4): EINVAL", R, rs(13, 4)),
    C("resize_pull_fragmented", "ctx data_end 14, skb_pull_data(40): 7.2 grows the linear part to 40; 6.18 refuses the ctx (EINVAL)", R, rs(14, 40),
      ctx_in=skb_ctx(data_end=14), ctx_size_out=192),
    C("resize_pull_zero", "ctx data_end 14, skb_pull_data(0): 'current linear length' on 7.2; 6.18 refuses the ctx (EINVAL)", R, rs(14, 0),
      ctx_in=skb_ctx(data_end=14), ctx_size_out=192),
    C("resize_pull_linear", "skb_pull_data(40) on a linear 51-byte frame: 0, nothing changes", R, rs(14, 40)),
    C("resize_pull_too_much", "skb_pull_data(200) on a 51-byte frame: ENOMEM", R, rs(14, 200)),
    C("resize_tail_bad_flags", "skb_change_tail(len, flags 1): EINVAL", R, rs(16)),
    C("resize_repeat_head", "repeat 3 of skb_change_head(4): the selector stays at the end, +12", R, rs(3, 4),
      repeat=3),
    C("resize_unknown_op", "operation 99: the program returns 99", R, rs(99)),
    # ---- tc_redirect
    C("redirect_ok", "mark 0: bpf_redirect(1, 0) = TC_ACT_REDIRECT (7)", "tc_redirect", UDP,
      ctx_in=skb_ctx(mark=0), ctx_size_out=192),
    C("redirect_bad_flags", "mark 1: bpf_redirect(1, 2) = TC_ACT_SHOT (2)", "tc_redirect", UDP,
      ctx_in=skb_ctx(mark=1), ctx_size_out=192),
    C("redirect_ingress", "mark 2: bpf_redirect(1, BPF_F_INGRESS) = 7", "tc_redirect", UDP,
      ctx_in=skb_ctx(mark=2), ctx_size_out=192),
    C("redirect_unknown_dev", "mark 3: bpf_redirect(12345, 0) = 7 (target not checked)", "tc_redirect", UDP,
      ctx_in=skb_ctx(mark=3), ctx_size_out=192),
    # ---- tc_tunnel
    C("tunnel_udp4", "get_tunnel_key before set (EINVAL, zero-filled), set (bad flags, v4 label, ok), "
      "get (remote/local swapped), get with TUNINFO_IPV6 (EPROTO)", "tc_tunnel", UDP),
]
