# SPDX-License-Identifier: MIT
"""Packet and context builders for the kernel oracle cases (all deterministic)."""
import struct

MAC_DST = bytes.fromhex("020000000002")
MAC_SRC = bytes.fromhex("020000000001")
MAC_ZERO = bytes(6)          # lo's own address: pkt_type PACKET_HOST
MAC_BCAST = b"\xff" * 6
MAC_MCAST = bytes.fromhex("01005e000001")

IP_SRC = bytes([10, 0, 0, 1])
IP_DST = bytes([10, 0, 0, 2])
IP6_SRC = bytes.fromhex("fd000000000000000000000000000001")
IP6_DST = bytes.fromhex("fd000000000000000000000000000002")


def csum16(b: bytes) -> int:
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst=MAC_DST, src=MAC_SRC, etype=0x0800) -> bytes:
    return dst + src + struct.pack("!H", etype)


def ipv4(proto, payload: bytes, src=IP_SRC, dst=IP_DST, tos=0, ttl=64, frag=0, ident=0x1234, options=b"") -> bytes:
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, tos, ihl * 4 + len(payload), ident, frag,
                      ttl, proto, 0, src, dst) + options
    c = csum16(hdr)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def udp4(sport, dport, payload: bytes, src=IP_SRC, dst=IP_DST) -> bytes:
    ln = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, ln, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ln)
    c = csum16(pseudo + h + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, ln, c) + payload


def tcp4(sport, dport, payload: bytes, src=IP_SRC, dst=IP_DST, flags=0x02) -> bytes:
    h = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    c = csum16(pseudo + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def udp6(sport, dport, payload: bytes, src=IP6_SRC, dst=IP6_DST) -> bytes:
    ln = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, ln, 0)
    pseudo = src + dst + struct.pack("!IxxxB", ln, 17)
    c = csum16(pseudo + h + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, ln, c) + payload


def ipv6(nexthdr, payload: bytes, src=IP6_SRC, dst=IP6_DST, flow_label=0, hlim=64) -> bytes:
    return struct.pack("!IHBB", (6 << 28) | flow_label, len(payload), nexthdr, hlim) + src + dst + payload


def pkt_udp4(sport=1234, dport=5678, payload=b"", dst=MAC_DST, **kw) -> bytes:
    return eth(dst=dst) + ipv4(17, udp4(sport, dport, payload), **kw)


def pkt_tcp4(sport=1234, dport=80, payload=b"") -> bytes:
    return eth() + ipv4(6, tcp4(sport, dport, payload))


def pkt_udp6(sport=1234, dport=5678, payload=b"", flow_label=0) -> bytes:
    return eth(etype=0x86DD) + ipv6(17, udp6(sport, dport, payload), flow_label=flow_label)


def pkt_arp() -> bytes:
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_SRC, IP_SRC, bytes(6), IP_DST)
    return eth(dst=MAC_BCAST, etype=0x0806) + arp


def pkt_vlan_udp4(vid=100, payload=b"") -> bytes:
    return (MAC_DST + MAC_SRC + struct.pack("!HH", 0x8100, vid) + struct.pack("!H", 0x0800)
            + ipv4(17, udp4(1234, 5678, payload)))


def pkt_short_ipv4() -> bytes:
    """Ethernet header with type IPv4 but only 10 bytes of L3."""
    return eth() + bytes.fromhex("45000014000000004011")


def pkt_eth_only(etype=0x88B5) -> bytes:
    return eth(etype=etype)


def pkt_big(n=3600) -> bytes:
    """An n-byte IPv4/UDP frame whose payload is a counting pattern."""
    payload = bytes(i & 0xFF for i in range(n - 42))
    return pkt_udp4(payload=payload)


# ---------------------------------------------------------------- contexts

SKB_FIELDS = {  # __sk_buff offsets (spec §2.2)
    "len": (0, "I"), "pkt_type": (4, "I"), "mark": (8, "I"), "queue_mapping": (12, "I"),
    "protocol": (16, "I"), "priority": (32, "I"), "ingress_ifindex": (36, "I"), "ifindex": (40, "I"),
    "tc_index": (44, "I"), "cb0": (48, "I"), "cb1": (52, "I"), "cb2": (56, "I"), "cb3": (60, "I"),
    "cb4": (64, "I"), "hash": (68, "I"), "tc_classid": (72, "I"), "data": (76, "I"),
    "data_end": (80, "I"), "napi_id": (84, "I"), "data_meta": (140, "I"), "tstamp": (152, "Q"),
    "wire_len": (160, "I"), "gso_segs": (164, "I"), "gso_size": (176, "I"), "hwtstamp": (184, "Q"),
}


def skb_ctx(**kw) -> bytes:
    b = bytearray(192)
    for k, v in kw.items():
        off, fmt = SKB_FIELDS[k]
        struct.pack_into("<" + fmt, b, off, v)
    return bytes(b)


def xdp_ctx(data=0, data_end=0, data_meta=0, ingress_ifindex=0, rx_queue_index=0, egress_ifindex=0) -> bytes:
    return struct.pack("<6I", data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex)


def flow_ctx(flags=0, nhoff=0) -> bytes:
    b = bytearray(56)
    struct.pack_into("<H", b, 0, nhoff)
    struct.pack_into("<I", b, 48, flags)
    return bytes(b)


def u64s(*vals) -> bytes:
    return struct.pack("<%dQ" % len(vals), *vals)
