# SPDX-License-Identifier: MIT
"""Cases for progs/net_xdp.bpf.o (XDP test runs, spec §1.5, §4.1, §4.6)."""
import struct
from _common import C
from packets import (pkt_udp4, pkt_tcp4, pkt_udp6, pkt_arp, pkt_vlan_udp4, pkt_short_ipv4,
                     pkt_eth_only, pkt_big, eth, xdp_ctx, MAC_BCAST, MAC_MCAST)

UDP = pkt_udp4(payload=b"hello")          # 47 bytes
BIG = pkt_big(3600)


def sel(op_bytes: bytes, n=64) -> bytes:
    """Ethernet header (type 0x88B5, local experimental) + selector bytes at 14 + zero padding."""
    f = eth(etype=0x88B5) + op_bytes
    return f + bytes(range(n - len(f))) if len(f) < n else f


def adj(op, delta, n=64):
    return sel(struct.pack("!Bh", op, delta), n)


def adj_big(op, delta, n=3600):
    f = bytearray(pkt_big(n))
    f[14:17] = struct.pack("!Bh", op, delta)
    return bytes(f)


def xb(off_ld, off_st, n=64):
    return sel(struct.pack("!HH", off_ld, off_st), n)


def xb_big(off_ld, off_st, n=3600):
    f = bytearray(pkt_big(n))
    f[14:18] = struct.pack("!HH", off_ld, off_st)
    return bytes(f)


def lin(pkt, **kw):
    """xdp_md with data_end = len(pkt) (the usual 'all linear' context)."""
    return xdp_ctx(data_end=len(pkt), **kw)


F = "xdp_fields"
REP = bytes([0xfc, 0x00, 0x01, 0xff]) * 16  # period 4: byte 14 stays op 1, delta -4 after each -4 move

CASES = [
    # ---- xdp_fields: verdicts and fields without a ctx
    C("fields_udp4", "IPv4/UDP to port 5678, no ctx: PASS, reason 8; ifindex 1, rxq 0", F, UDP),
    C("fields_udp4_echo", "IPv4/UDP to port 7: MACs swapped, XDP_TX (3)", F, pkt_udp4(dport=7, payload=b"ping")),
    C("fields_tcp4", "IPv4/TCP: PASS with reason 4, protocol 6 recorded", F, pkt_tcp4()),
    C("fields_udp6", "IPv6/UDP: not IPv4, PASS reason 2", F, pkt_udp6()),
    C("fields_arp", "ARP broadcast frame: PASS reason 2", F, pkt_arp()),
    C("fields_vlan", "802.1Q-tagged frame: h_proto is 0x8100, PASS reason 2", F, pkt_vlan_udp4()),
    C("fields_short_ipv4", "Ethernet type IPv4 with 10 bytes of L3: DROP reason 3", F, pkt_short_ipv4()),
    C("fields_eth_only", "14-byte frame (minimum accepted): PASS reason 2, len 14", F, pkt_eth_only()),
    C("fields_bcast", "broadcast destination MAC is irrelevant to XDP: PASS reason 8", F,
      pkt_udp4(dst=MAC_BCAST)),
    C("fields_mcast", "multicast destination MAC UDP: PASS reason 8", F, pkt_udp4(dst=MAC_MCAST)),
    C("fields_13_bytes", "13-byte packet: EINVAL (< ETH_HLEN)", F, pkt_eth_only()[:13]),
    C("fields_big_3600", "3600-byte frame, no ctx: 3520 linear bytes + 80 in a fragment; buff_len 3600", F, BIG),
    C("fields_big_3520", "3520-byte frame, no ctx: exactly the linear maximum, no fragment", F, pkt_big(3520)),
    C("fields_big_3521", "3521-byte frame, no ctx: one byte in a fragment", F, pkt_big(3521)),
    C("fields_big_8000", "8000-byte frame, no ctx: linear 3520, fragments 4096 + 384", F, pkt_big(8000)),
    C("fields_big_enospc", "3600-byte frame, data_size_out 100: ENOSPC, 100 bytes copied, size 3600", F, BIG,
      data_size_out=100),
    C("fields_enospc_small", "47-byte frame, data_size_out 10: ENOSPC, 10 bytes copied", F, UDP, data_size_out=10),
    C("fields_exact_out", "47-byte frame, data_size_out 47: fits exactly", F, UDP, data_size_out=47),
    C("fields_repeat", "repeat 5, no packet change: same result as one run", F, UDP, repeat=5),
    C("fields_bad_flags", "flags = BPF_F_TEST_RUN_ON_CPU (1): EINVAL for XDP", F, UDP, flags=1),
    C("fields_live_with_out", "flags = BPF_F_TEST_XDP_LIVE_FRAMES with a data_out buffer: EINVAL", F, UDP,
      flags=2, ctx_in=lin(UDP), ctx_size_out=24),
    # ---- xdp_fields: contexts
    C("ctx_linear", "ctx data_end = size: all linear; ctx_out echoes data 0, data_end 47, ingress 0", F, UDP,
      ctx_in=lin(UDP), ctx_size_out=24),
    C("ctx_ingress_lo", "ctx ingress_ifindex 1, rx_queue_index 0: accepted", F, UDP,
      ctx_in=lin(UDP, ingress_ifindex=1), ctx_size_out=24),
    C("ctx_rxq1", "ctx ingress_ifindex 1, rx_queue_index 1 (lo has one queue): EINVAL", F, UDP,
      ctx_in=lin(UDP, ingress_ifindex=1, rx_queue_index=1), ctx_size_out=24),
    C("ctx_rxq_no_dev", "ctx rx_queue_index 1 without ingress_ifindex: EINVAL", F, UDP,
      ctx_in=lin(UDP, rx_queue_index=1), ctx_size_out=24),
    C("ctx_no_such_dev", "ctx ingress_ifindex 9999: ENODEV", F, UDP,
      ctx_in=lin(UDP, ingress_ifindex=9999), ctx_size_out=24),
    C("ctx_egress", "ctx egress_ifindex 1: EINVAL", F, UDP, ctx_in=lin(UDP, egress_ifindex=1), ctx_size_out=24),
    C("ctx_data_meta", "ctx data_meta != 0: EINVAL", F, UDP, ctx_in=lin(UDP, data_meta=4), ctx_size_out=24),
    C("ctx_data_end_big", "ctx data_end > data_size_in: EINVAL", F, UDP,
      ctx_in=xdp_ctx(data_end=len(UDP) + 1), ctx_size_out=24),
    C("ctx_data_end_short", "ctx data_end = 34 < size 47 (7.2: 34 linear + 13 in a fragment)", F, UDP,
      ctx_in=xdp_ctx(data_end=34), ctx_size_out=24),
    C("ctx_all_zero", "all-zero xdp_md (data_end 0): 7.2 puts everything in fragments", F, UDP,
      ctx_in=xdp_ctx(), ctx_size_out=24),
    C("ctx_out_only", "no ctx_in, ctx_out of 24 bytes: behaves as an all-zero ctx_in", F, UDP, ctx_size_out=24),
    C("ctx_small_out", "ctx_out capacity 8: ENOSPC for the ctx, data_out written", F, UDP,
      ctx_in=lin(UDP), ctx_size_out=8),
    C("ctx_in_short", "ctx_in of 8 bytes (data 0, data_end 47): rest zero", F, UDP,
      ctx_in=lin(UDP)[:8], ctx_size_out=24),
    C("ctx_in_long_zero", "ctx_in of 32 bytes, bytes 24.. zero: accepted", F, UDP,
      ctx_in=lin(UDP) + bytes(8), ctx_size_out=24),
    C("ctx_in_long_nonzero", "ctx_in of 32 bytes with a non-zero byte at 28: E2BIG", F, UDP,
      ctx_in=lin(UDP) + bytes(4) + b"\x01\0\0\0", ctx_size_out=24),
    C("ctx_meta4", "ctx data 4, data_end 51: 4 metadata bytes in front, metalen 4; data_out includes them", F,
      b"\x11\x22\x33\x44" + UDP, ctx_in=xdp_ctx(data=4, data_end=4 + len(UDP)), ctx_size_out=24),
    C("ctx_meta2", "ctx data 2 (metadata not a multiple of 4): EINVAL", F, b"\x11\x22" + UDP,
      ctx_in=xdp_ctx(data=2, data_end=2 + len(UDP)), ctx_size_out=24),
    C("ctx_meta216", "216 bytes of metadata: the maximum, accepted", F, bytes(216) + UDP,
      ctx_in=xdp_ctx(data=216, data_end=216 + len(UDP)), ctx_size_out=24),
    C("ctx_meta220", "220 bytes of metadata: EINVAL (> 216)", F, bytes(220) + UDP,
      ctx_in=xdp_ctx(data=220, data_end=220 + len(UDP)), ctx_size_out=24),
    C("ctx_meta_short_pkt", "4 metadata bytes + 12 packet bytes: EINVAL (packet < 14)", F, bytes(16),
      ctx_in=xdp_ctx(data=4, data_end=16), ctx_size_out=24),
    C("ctx_data_gt_end", "ctx data 8 > data_end 4: EINVAL", F, UDP, ctx_in=xdp_ctx(data=8, data_end=4),
      ctx_size_out=24),
    C("ctx_big_linear", "3600 bytes with ctx data_end 3600: linear clamped to 3520; ctx_out data_end 3520", F, BIG,
      ctx_in=lin(BIG), ctx_size_out=24),
    # ---- xdp_adjust
    C("adjust_head_grow8", "adjust_head(-8): 8 bytes in front, first two set to AA BB", "xdp_adjust", adj(1, -8)),
    C("adjust_head_grow216", "adjust_head(-216): the limit (256 - 40)", "xdp_adjust", adj(1, -216)),
    C("adjust_head_grow220", "adjust_head(-220): below hard_start + 40, EINVAL; ABORTED", "xdp_adjust",
      adj(1, -220)),
    C("adjust_head_shrink14", "adjust_head(+14): strips the Ethernet header", "xdp_adjust", adj(1, 14)),
    C("adjust_head_shrink50", "adjust_head(+50) on 64 bytes: exactly 14 left", "xdp_adjust", adj(1, 50)),
    C("adjust_head_shrink51", "adjust_head(+51) on 64 bytes: 13 left, EINVAL", "xdp_adjust", adj(1, 51)),
    C("adjust_head_ctx", "adjust_head(-8) with ctx: ctx_out data_end 72", "xdp_adjust", adj(1, -8),
      ctx_in=xdp_ctx(data_end=64), ctx_size_out=24),
    C("adjust_tail_grow10", "adjust_tail(+10): 10 zero bytes appended, last set to CC", "xdp_adjust", adj(2, 10)),
    C("adjust_tail_shrink10", "adjust_tail(-10)", "xdp_adjust", adj(2, -10)),
    C("adjust_tail_shrink51", "adjust_tail(-51) on 64 bytes: EINVAL", "xdp_adjust", adj(2, -51)),
    C("adjust_tail_to_3520", "adjust_tail(+216*16 = 3456) on 64 bytes: 3520, the linear maximum", "xdp_adjust",
      adj(5, 216)),
    C("adjust_tail_to_3536", "adjust_tail(+217*16) on 64 bytes: past hard_end, EINVAL", "xdp_adjust",
      adj(5, 217)),
    C("adjust_tail_frag_grow", "3600-byte frame (80-byte fragment), adjust_tail(+10): grows the fragment",
      "xdp_adjust", adj_big(2, 10)),
    C("adjust_tail_frag_shrink", "3600-byte frame, adjust_tail(-100): frees the fragment, trims linear by 20",
      "xdp_adjust", adj_big(2, -100)),
    C("adjust_tail_frag_grow_big", "3600-byte frame, adjust_tail(+4096) (op 5, delta 256 * 16): more than the fragment's tailroom, EINVAL",
      "xdp_adjust", adj_big(5, 256)),
    C("adjust_meta_grow8", "adjust_meta(-8): 8 metadata bytes, first 4 = DD; ctx_out data 8", "xdp_adjust",
      adj(3, -8), ctx_in=xdp_ctx(data_end=64), ctx_size_out=24),
    C("adjust_meta_grow6", "adjust_meta(-6): not a multiple of 4, EACCES", "xdp_adjust", adj(3, -6)),
    C("adjust_meta_plus4", "adjust_meta(+4) without metadata: past data, EINVAL", "xdp_adjust", adj(3, 4)),
    C("adjust_meta_grow216", "adjust_meta(-216): the maximum", "xdp_adjust", adj(3, -216)),
    C("adjust_meta_grow220", "adjust_meta(-220): EINVAL (below hard_start + 40)", "xdp_adjust", adj(3, -220)),
    C("adjust_meta_consume", "4 metadata bytes given, adjust_meta(+4) consumes them: ctx_out data 0",
      "xdp_adjust", b"\x01\x02\x03\x04" + adj(3, 4), ctx_in=xdp_ctx(data=4, data_end=68), ctx_size_out=24),
    C("adjust_meta_then_head", "adjust_meta(-8) then adjust_head(-4): the metadata moves with data",
      "xdp_adjust", adj(4, -4), ctx_in=xdp_ctx(data_end=64), ctx_size_out=24),
    C("adjust_meta_then_head_shrink", "adjust_meta(-8) then adjust_head(+6)", "xdp_adjust", adj(4, 6),
      ctx_in=xdp_ctx(data_end=64), ctx_size_out=24),
    C("adjust_head_roundtrip", "adjust_head(+20) then adjust_head(-20): same packet", "xdp_adjust", adj(6, 20)),
    C("adjust_repeat_head", "repeat 3 of adjust_head(-4) on a period-4 frame: grows by 12, runs = 3",
      "xdp_adjust", REP, repeat=3),
    C("adjust_repeat_enospc", "repeat 3 of adjust_head(-4), data_size_out 64: ENOSPC (76 bytes)", "xdp_adjust",
      REP, repeat=3, data_size_out=64),
    C("adjust_short", "15-byte frame: selector bytes missing, ABORTED (0)", "xdp_adjust", adj(1, 0)[:15]),
    # ---- xdp_bytes
    C("bytes_in_range", "load 8 at 20, store DEADBEEF at 30, csum_diff shapes", "xdp_bytes", xb(20, 30)),
    C("bytes_load_end", "load 8 at 56 (ends at 64): ok; store at 60: ok", "xdp_bytes", xb(56, 60)),
    C("bytes_out_of_range", "load 8 at 60 and store 4 at 61 on 64 bytes: EINVAL; var stays 5A", "xdp_bytes",
      xb(60, 61)),
    C("bytes_frag_span", "3600-byte frame: load 8 at 3516 spans linear/fragment, store at 3590 (fragment)",
      "xdp_bytes", xb_big(3516, 3590)),
    C("bytes_frag_end", "3600-byte frame: load 8 at 3596: EINVAL; store 4 at 3596: ok", "xdp_bytes",
      xb_big(3596, 3596)),
    C("bytes_all_zero_ctx", "all-zero ctx: load/store still reach the bytes", "xdp_bytes", xb(20, 30),
      ctx_in=xdp_ctx(), ctx_size_out=24),
    C("bytes_meta", "4 metadata bytes: offsets are relative to data, not data_meta", "xdp_bytes",
      b"\xa0\xa1\xa2\xa3" + xb(20, 30), ctx_in=xdp_ctx(data=4, data_end=68), ctx_size_out=24),
    # ---- xdp_redirect
    C("redirect_ifindex", "bpf_redirect(1, 0): XDP_REDIRECT (4)", "xdp_redirect", sel(b"\x00")),
    C("redirect_bad_flags", "bpf_redirect(1, 1): flags != 0, XDP_ABORTED (0)", "xdp_redirect", sel(b"\x01")),
    C("redirect_map_miss_pass", "redirect_map(devmap, 2, 2) on an empty slot: fallback XDP_PASS (2)",
      "xdp_redirect", sel(b"\x02")),
    C("redirect_map_oob_drop", "redirect_map(devmap, 10, 1): key >= max_entries, fallback XDP_DROP (1)",
      "xdp_redirect", sel(b"\x03")),
    C("redirect_map_bad_flags", "redirect_map(devmap, 1, 0x20): invalid flags, XDP_ABORTED (0)", "xdp_redirect",
      sel(b"\x04")),
    C("redirect_map_miss_tx", "redirect_map(devmap, 0, 3) on an empty slot: fallback XDP_TX (3)",
      "xdp_redirect", sel(b"\x05")),
    C("redirect_retval_1009", "the program returns 1009: reported as is", "xdp_redirect", sel(b"\x09")),
    # ---- xdp_lb
    C("lb_hit", "UDP dport 5678 in lb_ports (counter 41): PASS, counter 42", "xdp_lb", UDP,
      maps={"lb_ports": [(struct.pack("<H", 5678), struct.pack("<Q", 41))]}),
    C("lb_miss", "UDP dport 5678 not in lb_ports: DROP, misses 1", "xdp_lb", UDP,
      maps={"lb_ports": [(struct.pack("<H", 53), struct.pack("<Q", 0))]}),
    C("lb_repeat", "repeat 10 on a hit: counter 10, .bss hits 10", "xdp_lb", UDP, repeat=10,
      maps={"lb_ports": [(struct.pack("<H", 5678), struct.pack("<Q", 0))]}),
    C("lb_tcp", "TCP packet: DROP before the lookup", "xdp_lb", pkt_tcp4(),
      maps={"lb_ports": [(struct.pack("<H", 80), struct.pack("<Q", 0))]}),
    C("lb_short", "14-byte frame: DROP", "xdp_lb", pkt_eth_only(0x0800),
      maps={"lb_ports": []}),
]
