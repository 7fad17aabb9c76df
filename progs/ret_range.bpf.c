// SPDX-License-Identifier: MIT
/*
 * ret_range.bpf.c - return values against the type's range (spec program-types §5.1). Both
 * programs return skb->mark (set through ctx_in): the kernel's verifier, which cannot bound
 * the mark, refuses both at load; bpfrun, without the verifier's range analysis, refuses a
 * run that returns a value outside the range.
 *
 *   cg_in_mark  - cgroup_skb ingress: [0, 1]
 *   cg_out_mark - cgroup_skb egress: [0, 3]
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/ingress")
int cg_in_mark(struct __sk_buff *skb)
{
	return skb->mark;
}

SEC("cgroup_skb/egress")
int cg_out_mark(struct __sk_buff *skb)
{
	return skb->mark;
}
