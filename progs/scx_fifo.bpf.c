// SPDX-License-Identifier: GPL-2.0
/*
 * scx_fifo.bpf.c - bpfrun's test scheduler: one shared queue, FIFO or
 * weighted-vtime order (cpu form, struct sched_ext_ops).
 *
 * Map: fifo_ops (.struct_ops.link, type sched_ext_ops), name "fifo",
 * flags 0, timeout_ms 0 (kernel default 30 s), dispatch_max_batch 0.
 * Members -> programs:
 *   select_cpu -> fifo_select_cpu   enqueue  -> fifo_enqueue
 *   dispatch   -> fifo_dispatch     running  -> fifo_running
 *   stopping   -> fifo_stopping     enable   -> fifo_enable
 *   init       -> fifo_init (sleepable, struct_ops.s)
 *   exit       -> fifo_exit
 *
 * .rodata: vtime_mode (bool, default false = FIFO).
 * .bss:    nr_direct, nr_enqueued, nr_dispatched (u64 counters),
 *          vtime_now (u64, the global virtual clock).
 * .data:   the scx.h exit record (exit_kind, exit_cpu, exit_code,
 *          exit_reason, exit_msg).
 *
 * Behaviour:
 *  - fifo_init: scx_bpf_create_dsq(SHARED = 0, -1); returns its result.
 *  - fifo_select_cpu(p, prev_cpu, wake_flags): cpu = scx_bpf_select_cpu_dfl;
 *    if that claimed an idle CPU, insert p into SCX_DSQ_LOCAL with
 *    SCX_SLICE_DFL and flags 0 (so ops.enqueue is skipped) and nr_direct++.
 *    Returns cpu.
 *  - fifo_enqueue(p, enq_flags): nr_enqueued++; FIFO mode: insert into DSQ
 *    SHARED with SCX_SLICE_DFL and enq_flags. vtime mode: vt =
 *    p->scx.dsq_vtime, raised to vtime_now - SCX_SLICE_DFL if it is further
 *    behind (wrap-around compare), then vtime-insert into SHARED with
 *    SCX_SLICE_DFL, vt and enq_flags.
 *  - fifo_dispatch(cpu, prev): if scx_bpf_dsq_move_to_local___v2(SHARED, 0)
 *    returns true, nr_dispatched++.
 *  - fifo_running(p): vtime mode only: vtime_now = p->scx.dsq_vtime if that
 *    is ahead of vtime_now.
 *  - fifo_stopping(p, runnable): vtime mode only: dsq_vtime +=
 *    (SCX_SLICE_DFL - p->scx.slice) * 100 / p->scx.weight, written with
 *    scx_bpf_task_set_dsq_vtime.
 *  - fifo_enable(p): scx_bpf_task_set_dsq_vtime(p, vtime_now) (both modes).
 *  - fifo_exit(ei): scx_record_exit(ei).
 */
#include "scx.h"

#define SHARED 0

const volatile bool vtime_mode = false;

u64 nr_direct, nr_enqueued, nr_dispatched;
u64 vtime_now;

s32 SCX_OP(fifo_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
	if (idle) {
		scx_insert(p, SCX_DSQ_LOCAL, SCX_SLICE_DFL, 0);
		__sync_fetch_and_add(&nr_direct, 1);
	}
	return cpu;
}

void SCX_OP(fifo_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&nr_enqueued, 1);

	if (!vtime_mode) {
		scx_insert(p, SHARED, SCX_SLICE_DFL, enq_flags);
	} else {
		u64 vt = p->scx.dsq_vtime;
		u64 floor = vtime_now - SCX_SLICE_DFL;

		/* a sleeper gets back at most one slice of credit */
		if (scx_vtime_before(vt, floor))
			vt = floor;
		scx_insert_vtime(p, SHARED, SCX_SLICE_DFL, vt, enq_flags);
	}
}

void SCX_OP(fifo_dispatch, s32 cpu, struct task_struct *prev)
{
	if (scx_move_to_local(SHARED))
		__sync_fetch_and_add(&nr_dispatched, 1);
}

void SCX_OP(fifo_running, struct task_struct *p)
{
	if (!vtime_mode)
		return;
	if (scx_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
}

void SCX_OP(fifo_stopping, struct task_struct *p, bool runnable)
{
	u64 used;

	if (!vtime_mode)
		return;
	used = SCX_SLICE_DFL - p->scx.slice;
	scx_bpf_task_set_dsq_vtime(p, p->scx.dsq_vtime + used * 100 / p->scx.weight);
}

void SCX_OP(fifo_enable, struct task_struct *p)
{
	scx_bpf_task_set_dsq_vtime(p, vtime_now);
}

s32 SCX_OP_SLEEPABLE(fifo_init)
{
	return scx_bpf_create_dsq(SHARED, -1);
}

void SCX_OP(fifo_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops fifo_ops = {
	.select_cpu = (void *)fifo_select_cpu,
	.enqueue = (void *)fifo_enqueue,
	.dispatch = (void *)fifo_dispatch,
	.running = (void *)fifo_running,
	.stopping = (void *)fifo_stopping,
	.enable = (void *)fifo_enable,
	.init = (void *)fifo_init,
	.exit = (void *)fifo_exit,
	.name = "fifo",
};

char LICENSE[] SEC("license") = "GPL";
