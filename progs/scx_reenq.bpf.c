// SPDX-License-Identifier: GPL-2.0
/*
 * scx_reenq.bpf.c - bpfrun's test of scx_bpf_dsq_reenq (sched-ext.md §3.2,
 * §4.3): a FIFO scheduler that, every `reenq_every`-th dispatch call (.rodata,
 * default 4), asks for the whole user DSQ SHARED (0) to be re-enqueued.
 *
 * Map: reenq_ops (.struct_ops.link, sched_ext_ops), name "reenq".
 *  - reenq_enqueue(p, enq_flags): counts nr_enqueued; with SCX_ENQ_REENQ in
 *    enq_flags also nr_reenq, and nr_reason_kfunc when p->scx.flags carries
 *    the reason SCX_TASK_REENQ_KFUNC (0x1000, bits 12-13); then inserts p
 *    into SHARED (FIFO, SCX_SLICE_DFL).
 *  - reenq_dispatch(cpu, prev): nr_dispatch_calls++; every reenq_every-th
 *    call, nr_reenq_calls++ and scx_bpf_dsq_reenq(SHARED, 0) (deferred: the
 *    kernel re-enqueues after the op); then move_to_local(SHARED).
 *  - reenq_init (sleepable): creates SHARED. reenq_exit: the exit record.
 */
#include "scx.h"

#define SHARED 0
#define SCX_TASK_REENQ_KFUNC 0x1000
#define SCX_TASK_REENQ_REASON_MASK 0x3000

extern void scx_bpf_dsq_reenq(u64 dsq_id, u64 reenq_flags) __ksym;

const volatile u32 reenq_every = 4;

u64 nr_enqueued, nr_reenq, nr_reason_kfunc, nr_dispatch_calls, nr_reenq_calls;

void SCX_OP(reenq_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&nr_enqueued, 1);
	if (enq_flags & SCX_ENQ_REENQ) {
		__sync_fetch_and_add(&nr_reenq, 1);
		if ((p->scx.flags & SCX_TASK_REENQ_REASON_MASK) == SCX_TASK_REENQ_KFUNC)
			__sync_fetch_and_add(&nr_reason_kfunc, 1);
	}
	scx_insert(p, SHARED, SCX_SLICE_DFL, enq_flags & ~SCX_ENQ_REENQ);
}

void SCX_OP(reenq_dispatch, s32 cpu, struct task_struct *prev)
{
	u64 n = __sync_fetch_and_add(&nr_dispatch_calls, 1) + 1;

	if (reenq_every && n % reenq_every == 0) {
		__sync_fetch_and_add(&nr_reenq_calls, 1);
		scx_bpf_dsq_reenq(SHARED, 0);
	}
	scx_move_to_local(SHARED);
}

s32 SCX_OP_SLEEPABLE(reenq_init)
{
	return scx_bpf_create_dsq(SHARED, -1);
}

void SCX_OP(reenq_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops reenq_ops = {
	.enqueue = (void *)reenq_enqueue,
	.dispatch = (void *)reenq_dispatch,
	.init = (void *)reenq_init,
	.exit = (void *)reenq_exit,
	.name = "reenq",
};

char LICENSE[] SEC("license") = "GPL";
