// SPDX-License-Identifier: MIT
/*
 * net_sock_ptrs.bpf.c - bpf_tcp_sock and bpf_get_listener_sock on a test run's socket (the
 * dummy socket skb test runs attach: not TCP, not listening), spec program-types §1.4.1 step 6.
 *
 *   sock_ptrs - sp.has_sk = skb->sk != NULL; sp.tcp_null = bpf_tcp_sock(sk) == NULL;
 *               sp.listener_null = bpf_get_listener_sock(sk) == NULL. Returns TC_ACT_OK.
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__u32 has_sk, tcp_null, listener_null;
} sp;

SEC("tc")
int sock_ptrs(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	sp.has_sk = 1;
	sp.tcp_null = bpf_tcp_sock(sk) == NULL;
	sp.listener_null = bpf_get_listener_sock(sk) == NULL;
	return 0;
}
