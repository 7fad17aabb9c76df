// SPDX-License-Identifier: GPL-2.0
/*
 * scx_noarena.bpf.c - a minimal cid-form scheduler (struct
 * sched_ext_ops_cid) with no BPF arena map anywhere in the object. The 7.2
 * kernel refuses to register it (spec sched-ext.md §5.2): the attach itself
 * fails with -EINVAL and the log line "sched_ext: cid-form scheduler must
 * use a BPF arena map"; no ops is called.
 *
 * Map: noarena_ops (.struct_ops.link, type sched_ext_ops_cid), name
 * "noarena", flags 0. Members -> programs:
 *   enqueue -> noarena_enqueue: insert p into SCX_DSQ_GLOBAL with
 *              SCX_SLICE_DFL and enq_flags; nr_enqueued++ (.bss u64).
 *   exit    -> noarena_exit: scx_record_exit(ei) (scx.h .data record).
 */
#include "scx.h"

u64 nr_enqueued;

void SCX_OP(noarena_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&nr_enqueued, 1);
	scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(noarena_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops_cid noarena_ops = {
	.enqueue = (void *)noarena_enqueue,
	.exit = (void *)noarena_exit,
	.name = "noarena",
};

char LICENSE[] SEC("license") = "GPL";
