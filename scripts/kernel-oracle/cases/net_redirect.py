# SPDX-License-Identifier: MIT
"""Cases for progs/net_redirect.bpf.o (tc redirect helpers beyond bpf_redirect, spec §4.6)."""
from _common import C
from packets import pkt_udp4, skb_ctx

UDP = pkt_udp4(payload=b"hello")  # 47 bytes
P = "tc_redirect_peer"

CASES = [
    C("peer_ok", "mark 0: bpf_redirect_peer(1, 0) = TC_ACT_REDIRECT (7)", P, UDP, ctx_in=skb_ctx(mark=0)),
    C("peer_bad_flags", "mark 1: bpf_redirect_peer(1, 1) = TC_ACT_SHOT (2)", P, UDP, ctx_in=skb_ctx(mark=1)),
    C("neigh_no_params", "mark 2: bpf_redirect_neigh(1, NULL, 0, 0) = 7", P, UDP, ctx_in=skb_ctx(mark=2)),
    C("neigh_v4", "mark 3: bpf_redirect_neigh(1, v4 next hop, 20, 0) = 7", P, UDP, ctx_in=skb_ctx(mark=3)),
    C("neigh_short_plen", "mark 4: bpf_redirect_neigh with plen 8 = TC_ACT_SHOT (2)", P, UDP, ctx_in=skb_ctx(mark=4)),
    C("neigh_bad_flags", "mark 5: bpf_redirect_neigh(1, NULL, 0, 1) = 2", P, UDP, ctx_in=skb_ctx(mark=5)),
    C("neigh_v6", "mark 6: bpf_redirect_neigh(1, v6 next hop, 20, 0) = 7", P, UDP, ctx_in=skb_ctx(mark=6)),
    C("clone", "bpf_clone_redirect: bad flags EINVAL, unknown device EINVAL, lo egress 0, lo ingress 0; "
      "data_out has the program's write", "tc_clone", UDP),
    C("clone_gso", "ctx gso_size 1400 (no gso_type): bad flags EINVAL, then EBADMSG for the rest",
      "tc_clone", UDP, ctx_in=skb_ctx(gso_size=1400, gso_segs=1)),
]
