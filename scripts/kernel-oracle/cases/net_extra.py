# SPDX-License-Identifier: MIT
"""Cases for progs/net_extra.bpf.o: bpf_check_mtu, bpf_skb_ecn_set_ce, the id / cookie /
jiffies helpers (as properties only: the raw values differ between machines), the socket
lookups (on tuples nothing listens on) and bpf_for_each_map_elem.

Every case of a program that reads the `ctl` map sets it (maps persist between cases).
Devices: only lo (ifindex 1, MTU 65536, hard_header_len 14) and an ifindex that does not exist
(4242) are used, since the host's other devices are not bpfrun's default FIB.
"""
import struct
from _common import C
from packets import eth, ipv4, udp4, udp6, pkt_udp4, pkt_udp6, pkt_arp, skb_ctx, IP6_SRC, IP6_DST


UDP = pkt_udp4(payload=b"hello")  # 47 bytes
UDP6 = pkt_udp6(payload=b"hello")


def ctl(ifindex=0, mtu_in=0, len_diff=0, stop_key=0, flags=0, bad_flags=0):
    """The `ctl` hash map's only entry (struct ctl in progs/net_extra.bpf.c)."""
    return [(b"\0" * 4, struct.pack("<IIiIQQ", ifindex, mtu_in, len_diff, stop_key, flags, bad_flags))]


def mtu(ifindex=0, mtu_in=0, len_diff=0, flags=0):
    return {"ctl": ctl(ifindex=ifindex, mtu_in=mtu_in, len_diff=len_diff, flags=flags)}


def fe(stop_key=8, bad_flags=0, hash_entries=()):
    return {"ctl": ctl(stop_key=stop_key, bad_flags=bad_flags),
            "hash": [(struct.pack("<I", k), struct.pack("<Q", v)) for k, v in hash_entries]}


def udp4_tos(tos):
    return eth() + ipv4(17, udp4(1234, 5678, b"hello"), tos=tos)


def udp6_tclass(tc):
    payload = udp6(1234, 5678, b"hello")
    return eth(etype=0x86DD) + struct.pack("!IHBB", (6 << 28) | (tc << 20) | 0x12345, len(payload), 17, 64) + \
        IP6_SRC + IP6_DST + payload


def vlan_udp4(tci, tos):
    return eth(etype=0x8100) + struct.pack("!HH", tci, 0x0800) + ipv4(17, udp4(1234, 5678, b"hello"), tos=tos)


HASH5 = [(1, 100), (2, 200), (7, 700), (40, 4000), (1000, 5)]

CASES = [
    # ---- bpf_check_mtu, tc
    C("tc_mtu_lo", "tc, ifindex 0 (lo): SUCCESS, mtu 65536", "tc_mtu", UDP, maps=mtu()),
    C("tc_mtu_lo_by_index", "tc, ifindex 1: SUCCESS", "tc_mtu", UDP, maps=mtu(ifindex=1)),
    C("tc_mtu_nodev", "tc, unknown ifindex: ENODEV, mtu_len untouched", "tc_mtu", UDP, maps=mtu(ifindex=4242, mtu_in=77)),
    C("tc_mtu_l3_fits", "tc, *mtu_len 65536 (L3): 65550 <= dev_len: SUCCESS", "tc_mtu", UDP, maps=mtu(mtu_in=65536)),
    C("tc_mtu_l3_over", "tc, *mtu_len 65537: FRAG_NEEDED", "tc_mtu", UDP, maps=mtu(mtu_in=65537)),
    C("tc_mtu_len_diff_over", "tc, len_diff 65504: 47 + 65504 > 65550: FRAG_NEEDED", "tc_mtu", UDP,
      maps=mtu(len_diff=65504)),
    C("tc_mtu_len_diff_edge", "tc, len_diff 65503: exactly dev_len: SUCCESS", "tc_mtu", UDP, maps=mtu(len_diff=65503)),
    C("tc_mtu_len_diff_neg", "tc, *mtu_len 70000, len_diff -5000: SUCCESS", "tc_mtu", UDP,
      maps=mtu(mtu_in=70000, len_diff=-5000)),
    C("tc_mtu_wrap", "tc, *mtu_len 0xffffffff: + 14 wraps to 13: SUCCESS", "tc_mtu", UDP, maps=mtu(mtu_in=0xFFFFFFFF)),
    C("tc_mtu_negative", "tc, *mtu_len 0x80000000: negative as int: SUCCESS", "tc_mtu", UDP, maps=mtu(mtu_in=0x80000000)),
    C("tc_mtu_gso", "tc, gso_size set, *mtu_len 70000: over, but GSO: SUCCESS", "tc_mtu", UDP,
      ctx_in=skb_ctx(gso_segs=1, gso_size=1400), maps=mtu(mtu_in=70000)),
    C("tc_mtu_segs", "tc, BPF_MTU_CHK_SEGS on a small packet: SUCCESS", "tc_mtu", UDP, maps=mtu(flags=1)),
    C("tc_mtu_segs_mtu_len", "tc, SEGS with *mtu_len: EINVAL, mtu_len untouched", "tc_mtu", UDP, maps=mtu(flags=1, mtu_in=1500)),
    C("tc_mtu_segs_len_diff", "tc, SEGS with len_diff: EINVAL", "tc_mtu", UDP, maps=mtu(flags=1, len_diff=1)),
    C("tc_mtu_bad_flag", "tc, flag 2: EINVAL", "tc_mtu", UDP, maps=mtu(flags=2)),
    C("tc_mtu_bad_flag_high", "tc, flag bit 32: EINVAL", "tc_mtu", UDP, maps=mtu(flags=1 << 32)),
    C("tc_mtu_bad_flag_nodev", "tc, bad flag and unknown ifindex: EINVAL first", "tc_mtu", UDP,
      maps=mtu(ifindex=4242, flags=4)),
    # ---- bpf_check_mtu, XDP
    C("xdp_mtu_lo", "XDP, ifindex 0 (lo): SUCCESS, mtu 65536", "xdp_mtu", UDP, maps=mtu()),
    C("xdp_mtu_nodev", "XDP, unknown ifindex: ENODEV", "xdp_mtu", UDP, maps=mtu(ifindex=4242)),
    C("xdp_mtu_l3_over", "XDP, *mtu_len 65537: FRAG_NEEDED", "xdp_mtu", UDP, maps=mtu(mtu_in=65537)),
    C("xdp_mtu_l3_edge", "XDP, *mtu_len 65536: SUCCESS", "xdp_mtu", UDP, maps=mtu(mtu_in=65536, ifindex=1)),
    C("xdp_mtu_len_diff", "XDP, len_diff 65504: FRAG_NEEDED", "xdp_mtu", UDP, maps=mtu(len_diff=65504)),
    C("xdp_mtu_len_diff_neg", "XDP, *mtu_len 65600, len_diff -100: SUCCESS", "xdp_mtu", UDP,
      maps=mtu(mtu_in=65600, len_diff=-100)),
    C("xdp_mtu_segs", "XDP, BPF_MTU_CHK_SEGS: EINVAL (no flags at all)", "xdp_mtu", UDP, maps=mtu(flags=1)),
    # ---- bpf_skb_ecn_set_ce
    C("tc_ecn_not_ect", "IPv4 Not-ECT: 0, 0, packet unchanged", "tc_ecn", udp4_tos(0)),
    C("tc_ecn_ect1", "IPv4 ECT(1): CE set, checksum fixed; then 1 (already CE)", "tc_ecn", udp4_tos(1)),
    C("tc_ecn_ect0", "IPv4 ECT(0): CE set, checksum fixed", "tc_ecn", udp4_tos(2)),
    C("tc_ecn_ce", "IPv4 CE: 1, 1, unchanged", "tc_ecn", udp4_tos(3)),
    C("tc_ecn_dscp_ect0", "IPv4 DSCP 46 + ECT(0)", "tc_ecn", udp4_tos(0xBA)),
    C("tc_ecn_v6_not_ect", "IPv6 Not-ECT: 0", "tc_ecn", udp6_tclass(0xB8)),
    C("tc_ecn_v6_ect0", "IPv6 ECT(0), flow label kept", "tc_ecn", udp6_tclass(0xBA)),
    C("tc_ecn_v6_ect1_csum", "IPv6 ECT(1), CHECKSUM_COMPLETE", "tc_ecn", udp6_tclass(0x01), flags=4),
    C("tc_ecn_arp", "ARP: 0", "tc_ecn", pkt_arp()),
    C("tc_ecn_vlan_quirk", "802.1Q, TCI 0x0066: the inner type is IPv4, but the network header is the "
      "tag, whose low TCI byte reads as ECT(0)", "tc_ecn", vlan_udp4(0x0066, 0)),
    C("tc_ecn_vlan_not_ect", "802.1Q, TCI 0x0064, inner ECT(0): the tag's byte is Not-ECT: 0", "tc_ecn",
      vlan_udp4(0x0064, 2)),
    C("tc_ecn_after_clone", "bpf_clone_redirect(lo, egress), then ECT(0) -> CE", "tc_ecn_clone", udp4_tos(2)),
    C("tc_ecn_after_clone_ingress", "bpf_clone_redirect(lo, BPF_F_INGRESS), then ECT(0) -> CE", "tc_ecn_clone",
      udp4_tos(2), ctx_in=skb_ctx(mark=1)),
    C("cg_ecn_ect0", "cgroup_skb IPv4 ECT(0)", "cg_ecn", udp4_tos(2)),
    C("cg_ecn_v6_ect1", "cgroup_skb IPv6 ECT(1)", "cg_ecn", udp6_tclass(0x01)),
    C("cg_ecn_not_ect", "cgroup_skb IPv4 Not-ECT", "cg_ecn", udp4_tos(0x10)),
    # ---- ids, cookies, jiffies (properties)
    C("tc_ids", "tc: numa 0, classid 0, cgroup id / cookies / jiffies non-zero and stable", "tc_ids", UDP),
    C("tc_ids_repeat", "tc, repeat 3", "tc_ids", UDP6, repeat=3),
    C("cg_ids", "cgroup_skb: the same", "cg_ids", UDP),
    C("sock_ids", "socket filter: numa, cookies, jiffies", "sock_ids", UDP),
    C("xdp_ids", "XDP: numa 0, classid 0 (the task's), jiffies", "xdp_ids", UDP),
    # ---- socket lookups
    C("tc_lookup", "tc: every lookup NULL (nothing listens; bad sizes, flags, netns ids)", "tc_lookup", UDP),
    C("cg_lookup", "cgroup_skb: every lookup NULL", "cg_lookup", UDP),
    C("xdp_lookup", "XDP: every lookup NULL", "xdp_lookup", UDP),
    # ---- bpf_for_each_map_elem
    C("tc_foreach_all", "array (8) and hash (5) walked whole; values written through the pointer", "tc_foreach",
      UDP, maps=fe(hash_entries=HASH5)),
    C("tc_foreach_stop3", "the array callback stops at key 3: 4 visited", "tc_foreach", UDP,
      maps=fe(stop_key=3, hash_entries=HASH5)),
    C("tc_foreach_stop0", "stop at key 0: 1 visited; empty hash: 0", "tc_foreach", UDP, maps=fe(stop_key=0)),
    C("tc_foreach_flags", "flags 1: EINVAL", "tc_foreach", UDP, maps=fe(bad_flags=1, hash_entries=HASH5[:2])),
    C("tc_foreach_flags_high", "flags bit 40: EINVAL", "tc_foreach", UDP, maps=fe(bad_flags=1 << 40)),
    C("xdp_foreach", "XDP: stop at key 7", "xdp_foreach", UDP, maps=fe(stop_key=7, hash_entries=HASH5[1:])),
]
