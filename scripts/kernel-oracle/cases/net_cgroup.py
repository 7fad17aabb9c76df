# SPDX-License-Identifier: MIT
"""Cases for progs/net_cgroup.bpf.o (cgroup_skb test runs, spec §1.4, §2.2, §2.5)."""
from _common import C
from packets import (pkt_udp4, pkt_tcp4, pkt_udp6, pkt_arp, eth, ipv4, pkt_short_ipv4,
                     pkt_eth_only, skb_ctx)

UDP = pkt_udp4(payload=b"hello")
ICMP = eth() + ipv4(1, bytes.fromhex("0800f7ff00000000"))
GRE = eth() + ipv4(47, bytes(8))

CASES = [
    C("fields_udp4", "IPv4/UDP: family 2, local_ip4 = source, remote_ip4 = destination, sk state 7",
      "cg_fields", UDP),
    C("fields_tcp4", "IPv4/TCP", "cg_fields", pkt_tcp4()),
    C("fields_udp6", "IPv6/UDP: family 10, IPv6 addresses", "cg_fields", pkt_udp6()),
    C("fields_arp", "ARP: family 0", "cg_fields", pkt_arp()),
    C("fields_ctx", "with an all-zero ctx (ctx_out)", "cg_fields", UDP, ctx_in=skb_ctx(mark=1, priority=2),
      ctx_size_out=192),
    C("fields_short_ipv4", "IPv4 with 10 bytes of L3: EINVAL", "cg_fields", pkt_short_ipv4()),
    C("fields_eth_only", "14-byte frame: len 0", "cg_fields", pkt_eth_only()),
    C("egress_udp", "egress, UDP: returns 3", "cg_egress", UDP),
    C("egress_tcp", "egress, TCP: returns 1", "cg_egress", pkt_tcp4()),
    C("egress_icmp", "egress, ICMP: returns 2", "cg_egress", ICMP),
    C("egress_gre", "egress, protocol 47: returns 0", "cg_egress", GRE),
    C("egress_ipv6", "egress, IPv6: returns 0", "cg_egress", pkt_udp6()),
]
