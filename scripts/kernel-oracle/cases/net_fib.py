# SPDX-License-Identifier: MIT
"""Cases for progs/net_fib.bpf.o (bpf_fib_lookup from XDP and tc, spec §4.7).

The host's network namespace stands for bpfrun's default FIB: lo only matters, forwarding off
(net.ipv{4,6}.conf.lo.forwarding = 0), so a lookup on lo answers FWD_DISABLED (5). `ctl` (the
first 28 bytes of .bss) changes the call: flags, ifindex, tbid, mark, family, short plen,
tot_len 0.
"""
import struct
from _common import C
from packets import eth, ipv6, pkt_udp4, pkt_udp6, udp6

BSS_SIZE = 112  # ctl (28 bytes), padding, res (80 bytes)


def ctl(flags=0, ifindex=0, tbid=0, mark=0, family=0, short_plen=0, no_tot_len=0):
    v = struct.pack("<7I", flags, ifindex, tbid, mark, family, short_plen, no_tot_len)
    return {"net_fib.bss": [(b"\0" * 4, v + b"\0" * (BSS_SIZE - len(v)))]}


UDP4 = pkt_udp4(payload=b"hello")
UDP6 = pkt_udp6(payload=b"hello")
LINK_LOCAL6 = eth(etype=0x86DD) + ipv6(17, udp6(1234, 5678, b"hi"), dst=bytes.fromhex("fe80000000000000000000000000000a"))
MCAST6 = eth(etype=0x86DD) + ipv6(17, udp6(1234, 5678, b"hi"), dst=bytes.fromhex("ff020000000000000000000000000001"))

CASES = [
    C("xdp_ipv4_default", "IPv4 lookup on lo, forwarding off: FWD_DISABLED", "xdp_fib", UDP4),
    C("xdp_ipv6_default", "IPv6 lookup on lo, forwarding off: FWD_DISABLED", "xdp_fib", UDP6),
    C("tc_ipv4_default", "tc IPv4 lookup on lo: FWD_DISABLED", "tc_fib", UDP4),
    C("tc_ipv6_default", "tc IPv6 lookup on lo: FWD_DISABLED", "tc_fib", UDP6),
    C("tc_ipv4_no_tot_len", "tc without tot_len: FWD_DISABLED, mtu_result untouched", "tc_fib", UDP4, maps=ctl(no_tot_len=1)),
    C("xdp_ipv6_link_local", "IPv6 link-local destination: NOT_FWDED before the device check", "xdp_fib", LINK_LOCAL6),
    C("xdp_ipv6_multicast_nodev", "IPv6 multicast destination, unknown ifindex: NOT_FWDED", "xdp_fib", MCAST6, maps=ctl(ifindex=4242)),
    C("xdp_bad_flags", "flag bit 64: EINVAL", "xdp_fib", UDP4, maps=ctl(flags=64)),
    C("tc_bad_flags_high", "flag bit 31: EINVAL", "tc_fib", UDP4, maps=ctl(flags=0x80000000)),
    C("xdp_short_plen", "plen 32: EINVAL", "xdp_fib", UDP4, maps=ctl(short_plen=1)),
    C("xdp_nodev", "unknown ifindex: ENODEV", "xdp_fib", UDP4, maps=ctl(ifindex=4242)),
    C("tc_ipv6_nodev", "IPv6, unknown ifindex: ENODEV", "tc_fib", UDP6, maps=ctl(ifindex=4242)),
    C("tc_family", "family 7: EAFNOSUPPORT", "tc_fib", UDP4, maps=ctl(family=7)),
    C("xdp_all_flags", "every valid flag on lo: FWD_DISABLED, tbid not zeroed yet", "xdp_fib", UDP4,
      maps=ctl(flags=63, tbid=4242, mark=7)),
]
