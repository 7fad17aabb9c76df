# SPDX-License-Identifier: MIT
"""Cases for progs/net_helpers2.bpf.o: bpf_skb_adjust_room flags, bpf_csum_level,
bpf_skb_change_proto, bpf_redirect_map on CPUMAP / XSKMAP / DEVMAP / DEVMAP_HASH
(spec program-types §4.3-§4.6)."""
import os
import socket
import struct
from _common import C
from packets import eth, ipv4, ipv6, udp4, udp6, pkt_udp4, pkt_udp6, pkt_arp, skb_ctx

UDP4 = pkt_udp4(payload=b"hello")  # 47 bytes
UDP6 = pkt_udp6(payload=b"hello")  # 67 bytes
IN4_6 = eth() + ipv4(41, ipv6(17, udp6(1234, 5678, b"hello")))                 # IPv6 in IPv4
IN6_4 = eth(etype=0x86DD) + ipv6(4, ipv4(17, udp4(1234, 5678, b"hello")))       # IPv4 in IPv6
COMPLETE = 4  # BPF_F_TEST_SKB_CHECKSUM_COMPLETE


def room(name, mark, desc, pkt=UDP4, **kw):
    ctx = skb_ctx(mark=mark, **kw.pop("ctx", {}))
    return C("room_" + name, f"mark {mark}: {desc}", "tc_room", pkt, ctx_in=ctx, ctx_size_out=192, **kw)


def proto(name, mark, desc, pkt=UDP6, **kw):
    return C("proto_" + name, f"mark {mark}: {desc}", "tc_proto", pkt, ctx_in=skb_ctx(mark=mark),
             ctx_size_out=192, **kw)


def xdp(sel):
    return eth() + bytes([sel]) + bytes(32)


CPU_VAL = struct.pack("<Ii", 192, 0)   # struct bpf_cpumap_val: qsize 192, no program
DEV_LO = struct.pack("<Ii", 1, 0)      # struct bpf_devmap_val: ifindex 1 (lo), no program
K = lambda k: struct.pack("<I", k)     # noqa: E731
FILLED = {"cpu_map": [(K(0), CPU_VAL)], "xsk_map": [], "dev_map": [(K(1), DEV_LO), (K(3), DEV_LO)],
          "dev_hash": [(K(7), struct.pack("<I", 1))]}
# An XSKMAP slot holds an AF_XDP socket fd. xsk_map_update_elem wants a socket with an RX ring
# (xs->rx), not a bound one: socket(AF_XDP, SOCK_RAW) + setsockopt(SOL_XDP, XDP_RX_RING, 64).
# It is made when the oracle loads these cases and duplicated onto fd 100, which stays open for
# the whole process (whatever happens to this module) and keeps the recording deterministic;
# the recorded value is that fd number (any non-zero u32 is a filled slot for bpfrun).
XSK_FD = 100
with socket.socket(44, socket.SOCK_RAW, 0) as _xsk:  # AF_XDP
    _xsk.setsockopt(283, 2, 64)                       # SOL_XDP, XDP_RX_RING
    os.dup2(_xsk.fileno(), XSK_FD)
XSK_FILLED = dict(FILLED, xsk_map=[(K(0), K(XSK_FD))])
EMPTY = {"cpu_map": [], "xsk_map": [], "dev_map": [], "dev_hash": []}


def redir(name, sel, desc, maps):
    return C("redir_" + name, f"byte 14 = {sel}: {desc}", "xdp_redir", xdp(sel), maps=maps)


CASES = [
    # ---- bpf_skb_adjust_room flags
    room("encap_gre4", 1, "+24 MAC ENCAP_L3_IPV4|L4_GRE: 24 zero bytes after the MAC header; again: EALREADY"),
    room("encap_gre4_complete", 1, "same with CHECKSUM_COMPLETE (zero bytes leave csum as it is)",
         flags=COMPLETE),
    room("encap_udp6", 2, "+48 MAC ENCAP_L3_IPV6|L4_UDP on IPv4: protocol IPv6; then +4 NET lands 40 "
         "bytes after the MAC header"),
    room("encap_l2eth", 3, "+42 MAC ENCAP_L3_IPV4|L4_UDP|L2_ETH|L2(14)"),
    room("encap_l2eth_short", 4, "ENCAP_L2_ETH with L2(10) < ETH_HLEN: EINVAL"),
    room("encap_l2_too_long", 5, "ENCAP_L2(30) > len_diff 24: EINVAL"),
    room("encap_both_l3", 6, "ENCAP_L3_IPV4|IPV6: EINVAL"),
    room("encap_gre_and_udp", 7, "ENCAP_L3_IPV4|L4_GRE|L4_UDP: EINVAL"),
    room("l4_flags_no_l3", 8, "+8 NET with GRE|UDP|L2_ETH|L2(3) but no L3 flag: no encapsulation, 0"),
    room("encap_on_shrink", 9, "-4 NET with ENCAP_L3_IPV4: EINVAL (shrink allows FIXED_GSO, DECAP, NO_CSUM_RESET)"),
    room("decap6", 10, "-20 MAC DECAP_L3_IPV6 on IPv6-in-IPv4: outer header removed, protocol IPv6", pkt=IN4_6),
    room("decap6_complete", 10, "same with CHECKSUM_COMPLETE (the removed bytes leave skb->csum)", pkt=IN4_6,
         flags=COMPLETE),
    room("decap4", 11, "-40 MAC DECAP_L3_IPV4 on IPv4-in-IPv6: protocol IPv4", pkt=IN6_4),
    room("decap4_complete", 11, "same with CHECKSUM_COMPLETE: the removed IPv6 header leaves skb->csum "
         "(skb_postpull_rcsum)", pkt=IN6_4, flags=COMPLETE),
    room("decap_on_grow", 12, "+8 MAC DECAP_L3_IPV4: EINVAL"),
    room("decap_both", 13, "-20 MAC DECAP_L3_IPV4|IPV6: EINVAL", pkt=IN4_6),
    room("decap6_too_short", 14, "-20 MAC DECAP_L3_IPV6 on a 33-byte IPv4 packet: fewer than 40 left, ENOTSUPP"),
    room("fixed_gso", 15, "+8 NET FIXED_GSO without GSO: 0"),
    room("fixed_gso_gso", 15, "+8 NET FIXED_GSO with ctx gso_size 1000 (no gso_type, not UDP_L4): ENOTSUPP",
         ctx={"gso_size": 1000}),
    room("no_csum_reset", 16, "csum_level INC x2, +8 NET NO_CSUM_RESET, -4 NET NO_CSUM_RESET|FIXED_GSO: level "
         "stays 1"),
    room("no_csum_reset_complete", 16, "same with CHECKSUM_COMPLETE: INC does nothing, QUERY EACCES",
         flags=COMPLETE),
    room("csum_reset", 17, "csum_level INC x2, +8 NET: CHECKSUM_UNNECESSARY reset (QUERY EACCES)"),
    room("failed_no_reset", 18, "csum_level INC, a refused adjust_room: the level stays"),
    room("unknown_flag", 19, "flag 1<<9: EINVAL"),
    room("grow_0x1000", 20, "+0x1000: EFAULT"),
    room("shrink_0x1000", 21, "-0x1000: EFAULT"),
    room("grow_0xfff", 22, "+0xfff MAC: 0, 4142-byte packet"),
    room("shrink_all_l3", 23, "-(len - 14) MAC: len_diff = the L3 length, ENOTSUPP"),
    room("encap4_on_v6_tail", 24, "+28 MAC ENCAP_L3_IPV4|L4_UDP on IPv6: protocol IPv4; change_tail(30) "
         "below the outer transport header: EINVAL; change_tail(len + 4) on an encapsulated skb: ENOTSUPP",
         pkt=UDP6),
    room("encap4_tail", 25, "+20 MAC ENCAP_L3_IPV4 (no L4 flag), then change_tail(50): ENOTSUPP"),
    room("encap_zero", 26, "+0 NET ENCAP_L3_IPV4: 0, encapsulated, nothing inserted"),
    room("decap4_net", 27, "-8 NET DECAP_L3_IPV4: 8 bytes after the IPv4 header removed"),
    room("decap4_net_complete", 27, "same with CHECKSUM_COMPLETE", flags=COMPLETE),
    room("decap4_net_gso", 27, "same with ctx gso_size 1000 (not TCP, not UDP_L4): ENOTSUPP",
         ctx={"gso_size": 1000}),
    room("encap_arp", 1, "ENCAP_L3_IPV4|L4_GRE on ARP: ENOTSUPP (protocol checked first)", pkt=pkt_arp()),
    room("encap6_gre_net", 28, "+48 NET ENCAP_L3_IPV6|L4_GRE|NO_CSUM_RESET|FIXED_GSO: after the IPv4 header"),
    room("unknown_op", 0, "the program returns 99"),
    # ---- bpf_csum_level
    C("csum_level_none", "INC/DEC/RESET/QUERY sequence from CHECKSUM_NONE; levels 4 and 1<<32: EINVAL; "
      "INC | 1<<40: EINVAL", "tc_csum", UDP4),
    C("csum_level_complete", "the same sequence on CHECKSUM_COMPLETE: QUERY EACCES, INC/DEC do nothing, "
      "RESET 0", "tc_csum", UDP4, flags=COMPLETE),
    # ---- bpf_skb_change_proto
    proto("v6_to_v4", 1, "set_hash, csum_level INC, change_proto(IPv4) on IPv6: 20 bytes removed after the "
          "MAC header, hash 0, level kept"),
    proto("v6_to_v4_complete", 1, "same with CHECKSUM_COMPLETE", flags=COMPLETE),
    proto("v6_v4_v6", 2, "IPv6 -> IPv4 -> IPv6: 20 zero bytes back"),
    proto("v6_flags", 3, "change_proto(IPv4, flags 1): EINVAL"),
    proto("v4_flags_high", 4, "change_proto(IPv6, flags 1<<33) on IPv4: EINVAL", pkt=UDP4),
    proto("v6_to_arp", 5, "change_proto(ARP) on IPv6: ENOTSUPP"),
    proto("v4_to_v6_hash", 6, "set_hash, change_proto(IPv6) on IPv4: hash cleared", pkt=UDP4),
    proto("v6_to_v4_room", 7, "IPv6 -> IPv4, then adjust_room +4 NET: after 14 + 20 bytes"),
    proto("v6_to_v4_twice", 8, "IPv6 -> IPv4 twice: the second ENOTSUPP; then IPv4 -> IPv6"),
    proto("v4_to_v4", 8, "change_proto(IPv4) on IPv4: ENOTSUPP twice, then IPv4 -> IPv6", pkt=UDP4),
    # ---- bpf_redirect_map: CPUMAP, XSKMAP, DEVMAP, DEVMAP_HASH
    redir("cpumap_hit", 0, "cpumap key 0 (qsize 192): XDP_REDIRECT", FILLED),
    redir("cpumap_miss", 0, "cpumap key 0 empty, flags 0: XDP_ABORTED (0)", EMPTY),
    redir("cpumap_miss_pass", 1, "cpumap key 1 empty, flags 2: XDP_PASS", FILLED),
    redir("cpumap_oob", 2, "cpumap key 8 >= max_entries, flags 1: XDP_DROP", FILLED),
    redir("cpumap_bad_flags", 3, "cpumap flags 4: XDP_ABORTED", FILLED),
    redir("cpumap_broadcast", 4, "cpumap BPF_F_BROADCAST: not allowed, XDP_ABORTED", FILLED),
    redir("xskmap_miss_tx", 5, "xskmap key 0 empty, flags 3: XDP_TX", EMPTY),
    redir("xskmap_hit", 5, "xskmap key 0 holds an AF_XDP socket, flags 3: XDP_REDIRECT", XSK_FILLED),
    redir("xskmap_hit_bad_flags", 7, "xskmap key 0 filled, BPF_F_BROADCAST|2: XDP_ABORTED before the lookup",
          XSK_FILLED),
    redir("xskmap_oob", 6, "xskmap key 9 >= max_entries, flags 1: XDP_DROP", EMPTY),
    redir("xskmap_broadcast", 7, "xskmap BPF_F_BROADCAST|2: XDP_ABORTED", EMPTY),
    redir("devmap_bcast_empty", 8, "devmap BPF_F_BROADCAST on an empty map: XDP_REDIRECT (no lookup needed)",
          EMPTY),
    redir("devmap_bcast_excl", 9, "devmap key 7 (out of range) BROADCAST|EXCLUDE_INGRESS|1: XDP_REDIRECT",
          FILLED),
    redir("devmap_excl_hit", 10, "devmap key 3 EXCLUDE_INGRESS|2 without BROADCAST: a lookup, hit",
          FILLED),
    redir("devmap_excl_miss", 10, "devmap key 3 EXCLUDE_INGRESS|2 on an empty map: XDP_PASS", EMPTY),
    redir("devmap_bcast_bad", 11, "devmap BROADCAST|0x20: XDP_ABORTED", FILLED),
    redir("devhash_bcast", 12, "devmap_hash key 7 BROADCAST|EXCLUDE_INGRESS|1, empty: XDP_REDIRECT", EMPTY),
    redir("devhash_hit", 13, "devmap_hash key 7 -> lo, flags 2: XDP_REDIRECT", FILLED),
    redir("devhash_miss", 13, "devmap_hash key 7 empty, flags 2: XDP_PASS", EMPTY),
    redir("devhash_other_key", 14, "devmap_hash key 0x12345 missing, flags 3: XDP_TX", FILLED),
    redir("devmap_hit", 15, "devmap key 1 -> lo, flags 0: XDP_REDIRECT", FILLED),
    redir("hit_then_miss", 16, "devmap hit, then cpumap miss with flags 1: XDP_DROP", FILLED),
    redir("devhash_key_u32", 17, "devmap_hash key 7 | 1<<32: the key is truncated to u32, a hit", FILLED),
]
