// SPDX-License-Identifier: MIT
/*
 * net_redirect.bpf.c - the tc redirect helpers beyond bpf_redirect (spec program-types §4.6),
 * for BPF_PROG_TEST_RUN. A test run never sends: the verdict is reported as retval, and
 * bpf_clone_redirect really clones (bpfrun records the clone).
 *
 *   tc_redirect_peer  - bpf_redirect_peer / bpf_redirect_neigh verdicts, selected by skb->mark:
 *                        0 peer(1, 0) = 7          1 peer(1, 1) = TC_ACT_SHOT (2)
 *                        2 neigh(1, NULL, 0, 0) = 7  3 neigh(1, &v4 nh, 20, 0) = 7
 *                        4 neigh(1, &nh, 8, 0) = 2   5 neigh(1, NULL, 0, 1) = 2
 *                        6 neigh(1, &v6 nh, 20, 0) = 7
 *   tc_clone          - bpf_clone_redirect's return values into .bss: bad flags (EINVAL),
 *                        an unknown device (EINVAL), lo egress and lo ingress (0); then the
 *                        packet's first byte is rewritten, so a clone made before shows the old
 *                        byte. Returns TC_ACT_OK.
 */
#include "bpfrun.h"
#include <linux/pkt_cls.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int tc_redirect_peer(struct __sk_buff *skb)
{
	struct bpf_redir_neigh nh = { .nh_family = 2 /* AF_INET */, .ipv4_nh = 0x0100000a };
	struct bpf_redir_neigh nh6 = { .nh_family = 10 /* AF_INET6 */ };

	nh6.ipv6_nh[0] = 0xb80d0120; /* 2001:db8::1 */
	nh6.ipv6_nh[3] = 0x01000000;
	switch (skb->mark) {
	case 0: return bpf_redirect_peer(1, 0);
	case 1: return bpf_redirect_peer(1, 1);
	case 2: return bpf_redirect_neigh(1, NULL, 0, 0);
	case 3: return bpf_redirect_neigh(1, &nh, sizeof(nh), 0);
	case 4: return bpf_redirect_neigh(1, &nh, 8, 0);
	case 5: return bpf_redirect_neigh(1, NULL, 0, 1);
	default: return bpf_redirect_neigh(1, &nh6, sizeof(nh6), 0);
	}
}

struct {
	__s64 bad_flags, no_dev, egress, ingress;
} tcl;

SEC("tc")
int tc_clone(struct __sk_buff *skb)
{
	void *data, *data_end;

	tcl.bad_flags = bpf_clone_redirect(skb, 1, 2);
	tcl.no_dev = bpf_clone_redirect(skb, 12345, 0);
	tcl.egress = bpf_clone_redirect(skb, 1, 0);
	/* The helper may change the layout: the packet pointers are read again. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + 1 > data_end)
		return TC_ACT_SHOT;
	*(__u8 *)data = 0xee;
	tcl.ingress = bpf_clone_redirect(skb, 1, BPF_F_INGRESS);
	return TC_ACT_OK;
}
