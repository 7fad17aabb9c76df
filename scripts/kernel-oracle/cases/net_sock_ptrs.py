# SPDX-License-Identifier: MIT
"""Cases for progs/net_sock_ptrs.bpf.o (bpf_tcp_sock, bpf_get_listener_sock on the dummy socket)."""
from _common import C
from packets import pkt_udp4, pkt_tcp4

CASES = [
    C("udp4", "IPv4/UDP: the dummy socket is neither TCP nor listening: both NULL", "sock_ptrs", pkt_udp4(payload=b"hello")),
    C("tcp4", "IPv4/TCP: the socket is still the dummy one: both NULL", "sock_ptrs", pkt_tcp4()),
]
