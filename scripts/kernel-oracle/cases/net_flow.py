# SPDX-License-Identifier: MIT
"""Cases for progs/net_flow.bpf.o (flow dissector test runs, spec §1.6, §2.4)."""
from _common import C
from packets import (pkt_udp4, pkt_tcp4, pkt_udp6, pkt_arp, pkt_vlan_udp4, pkt_short_ipv4,
                     pkt_eth_only, eth, ipv4, udp4, tcp4, flow_ctx)

UDP = pkt_udp4(payload=b"hello")
FRAG1 = eth() + ipv4(17, udp4(1234, 5678, bytes(16)), frag=0x2000)      # MF, offset 0
FRAG2 = eth() + ipv4(17, bytes(24), frag=0x0003)                        # offset 24
P = "flow_parse"

CASES = [
    C("parse_udp4", "IPv4/UDP: addr_proto 0x0800, ip_proto 17, ports, thoff 34", P, UDP, data_size_out=56),
    C("parse_tcp4", "IPv4/TCP", P, pkt_tcp4(), data_size_out=56),
    C("parse_udp6", "IPv6/UDP: addresses, thoff 54", P, pkt_udp6(), data_size_out=56),
    C("parse_udp6_label", "IPv6 with flow label 0x12345, no flags: label and ports", P,
      pkt_udp6(flow_label=0x12345), data_size_out=56),
    C("parse_udp6_label_stop", "IPv6 with flow label and STOP_AT_FLOW_LABEL (2): no ports; ctx_out echoes "
      "the flags", P, pkt_udp6(flow_label=0x12345), ctx_in=flow_ctx(flags=2), ctx_size_out=56,
      data_size_out=56),
    C("parse_vlan", "802.1Q + IPv4/UDP: nhoff 18", P, pkt_vlan_udp4(), data_size_out=56),
    C("parse_ipv4_options", "IPv4 with 8 bytes of options: thoff 42", P,
      eth() + ipv4(6, tcp4(80, 443, b""), options=bytes(8)), data_size_out=56),
    C("parse_frag_first", "first fragment, no flags: is_frag, is_first_frag, no ports", P, FRAG1,
      data_size_out=56),
    C("parse_frag_first_flag", "first fragment with PARSE_1ST_FRAG (1): ports", P, FRAG1,
      ctx_in=flow_ctx(flags=1), ctx_size_out=56, data_size_out=56),
    C("parse_frag_later", "later fragment: is_frag, no ports", P, FRAG2, data_size_out=56),
    C("parse_arp", "ARP: BPF_DROP (2)", P, pkt_arp(), data_size_out=56),
    C("parse_short_ipv4", "IPv4 type with 10 bytes: BPF_DROP, stage 3", P, pkt_short_ipv4(), data_size_out=56),
    C("parse_truncated_udp", "IPv4/UDP cut after 2 bytes of UDP: BPF_DROP, stage 10", P, UDP[:36],
      data_size_out=56),
    C("parse_eth_only", "14-byte frame", P, pkt_eth_only(0x0800), data_size_out=56),
    C("parse_13_bytes", "13 bytes: EINVAL", P, UDP[:13], data_size_out=56),
    C("parse_unlimited_out", "data_size_out 0 (no limit, 64 KiB buffer): 56 bytes", P, UDP),
    C("parse_small_out", "data_size_out 16: ENOSPC, 16 bytes of keys", P, UDP, data_size_out=16),
    C("parse_ctx_flags_unknown", "ctx flags 0x80 (not a defined bit): passed through", P, UDP,
      ctx_in=flow_ctx(flags=0x80), ctx_size_out=56, data_size_out=56),
    C("parse_ctx_nhoff", "ctx nhoff != 0: EINVAL (only flags may be set)", P, UDP,
      ctx_in=flow_ctx(nhoff=14), ctx_size_out=56, data_size_out=56),
    C("parse_repeat", "repeat 5: keys are re-zeroed each run", P, UDP, repeat=5, data_size_out=56),
    C("parse_bad_flags", "test-run flags 1: EINVAL", P, UDP, flags=1, data_size_out=56),
    C("parse_big", "4096-byte frame: accepted", P, pkt_udp4(payload=bytes(4096 - 42)), data_size_out=56),
    C("parse_too_big", "4097-byte frame: EINVAL", P, pkt_udp4(payload=bytes(4097 - 42)), data_size_out=56),
    C("loadbytes_udp4", "bpf_skb_load_bytes in a flow dissector test run: EFAULT, buffer zero-filled",
      "flow_loadbytes", UDP, data_size_out=56),
]
