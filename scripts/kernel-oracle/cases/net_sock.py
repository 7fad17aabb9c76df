# SPDX-License-Identifier: MIT
"""Cases for progs/net_sock.bpf.o (socket filter test runs, spec §1.4, §3.2)."""
from _common import C
from packets import (pkt_udp4, pkt_tcp4, pkt_udp6, pkt_arp, pkt_vlan_udp4, pkt_short_ipv4,
                     pkt_eth_only, pkt_big, eth, ipv4, udp4, skb_ctx, MAC_BCAST, MAC_ZERO)

UDP = pkt_udp4(payload=b"hello")  # 47 bytes

CASES = [
    C("ldabs_udp4", "LD_ABS/LD_IND on IPv4/UDP (payload long enough for the word at 60)", "sock_ldabs",
      pkt_udp4(payload=bytes(range(40)))),
    C("ldabs_udp4_short_far", "IPv4/UDP of 33 L3 bytes: the word at 60 is out of range, R0 = 0, step 8",
      "sock_ldabs", UDP),
    C("ldabs_tcp4", "LD_ABS on IPv4/TCP", "sock_ldabs", pkt_tcp4(payload=bytes(30))),
    C("ldabs_ipv4_options", "IPv4 with 4 bytes of options: LD_IND uses ihl*4 = 24", "sock_ldabs",
      eth() + ipv4(17, udp4(1111, 2222, bytes(40)), options=b"\x01\x01\x01\x00")),
    C("ldabs_eth_only_short", "a 14-byte non-IP frame: no L3 bytes, the first LD_ABS fails, R0 = 0, step 0",
      "sock_ldabs", pkt_eth_only()),
    C("ldabs_short_l3", "non-IP frame with 12 L3 bytes: the word at 12 fails, step 2", "sock_ldabs",
      pkt_eth_only() + bytes(range(0x45, 0x45 + 12))),
    C("ldabs_arp", "ARP frame (28 L3 bytes)", "sock_ldabs", pkt_arp()),
    C("ldabs_vlan", "802.1Q frame: offset 0 is the byte after the Ethernet header (the TCI)", "sock_ldabs",
      pkt_vlan_udp4(payload=bytes(40))),
    C("ldabs_udp6", "IPv6 frame", "sock_ldabs", pkt_udp6(payload=bytes(20))),
    C("fields_udp4", "socket filter fields on IPv4/UDP without ctx; returns len 33; data_out has 14 zero "
      "bytes in front", "sock_fields", UDP),
    C("fields_udp4_ctx", "with ctx mark 7, priority 8, cb[0] 9, ingress_ifindex 3: cb writes in ctx_out",
      "sock_fields", UDP, ctx_in=skb_ctx(mark=7, priority=8, cb0=9, ingress_ifindex=3), ctx_size_out=192),
    C("fields_udp4_host", "destination MAC 00:..:00: pkt_type 0", "sock_fields", pkt_udp4(dst=MAC_ZERO)),
    C("fields_udp4_bcast", "broadcast destination MAC", "sock_fields", pkt_udp4(dst=MAC_BCAST)),
    C("fields_udp6", "IPv6: returns 0", "sock_fields", pkt_udp6()),
    C("fields_arp", "ARP: returns 0; load of 20 bytes from a 28-byte ARP body", "sock_fields", pkt_arp()),
    C("fields_eth_only", "14-byte frame: len 0, load fails (EFAULT)", "sock_fields", pkt_eth_only()),
    C("fields_short_ipv4", "IPv4 frame with 10 bytes of L3: EINVAL", "sock_fields", pkt_short_ipv4()),
    C("fields_13_bytes", "13-byte frame: EINVAL", "sock_fields", pkt_eth_only()[:13]),
    C("fields_big_3600", "3600-byte frame: len 3586", "sock_fields", pkt_big(3600)),
    C("fields_big_3713", "3713-byte frame: 6.18 refuses skb test runs above 3712 bytes (7.2 fragments)",
      "sock_fields", pkt_big(3713)),
    C("fields_repeat", "repeat 3 with ctx: cb[0] = len each time", "sock_fields", UDP, ctx_in=skb_ctx(),
      ctx_size_out=192, repeat=3),
    C("fields_enospc", "data_size_out 20 < 47: ENOSPC; 20 bytes (14 zeros + 6 of IP)", "sock_fields", UDP,
      data_size_out=20),
    C("fields_ctx_len", "ctx len != 0: EINVAL", "sock_fields", UDP, ctx_in=skb_ctx(len=1), ctx_size_out=192),
    C("fields_csum_complete", "flags CHECKSUM_COMPLETE on a socket filter", "sock_fields", UDP, flags=4),
]
