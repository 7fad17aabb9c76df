// SPDX-License-Identifier: GPL-2.0
/*
 * scx_usersched.bpf.c - bpfrun's test of a scheduler whose decisions are made
 * in user space (sched-ext.md §6.8), in the shape of scx_userland so that the
 * host's co-simulated user-space loop (src/sched/userland.ts) drives it.
 *
 * Map: userland_ops (.struct_ops.link, sched_ext_ops), name "usersched".
 * .rodata: usersched_pid (the user-space scheduler task) and num_possible_cpus,
 *          which the loader sets.
 * .bss: nr_queued, nr_scheduled (written by user space), usersched_needed,
 *       nr_user_enqueues, nr_dispatched_pids.
 *  - us_enqueue(p): the user-space scheduler itself is kept (not inserted:
 *    dispatch inserts it when needed); any other task is pushed on the
 *    QUEUE `enqueued` as {pid, se.sum_exec_runtime, scx.weight} and
 *    usersched_needed is set.
 *  - us_dispatch: if usersched_needed, clear it and insert the user-space
 *    scheduler into SCX_DSQ_GLOBAL; then pop every pid of the QUEUE
 *    `dispatched` and insert that task into SCX_DSQ_GLOBAL.
 *  - us_update_idle(cpu, idle): going idle with work pending in user space
 *    sets usersched_needed and kicks the CPU.
 */
#include "scx.h"

struct enqueued_task {
	s32 pid;
	u64 sum_exec_runtime;
	u64 weight;
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, struct enqueued_task);
} enqueued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, s32);
} dispatched SEC(".maps");

const volatile s32 usersched_pid;
const volatile u32 num_possible_cpus;

u64 nr_queued, nr_scheduled, usersched_needed, nr_user_enqueues, nr_dispatched_pids;

void SCX_OP(us_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct enqueued_task t = {};

	if (p->pid == usersched_pid)
		return;
	t.pid = p->pid;
	t.sum_exec_runtime = p->se.sum_exec_runtime;
	t.weight = p->scx.weight;
	if (bpf_map_push_elem(&enqueued, &t, 0)) {
		scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
		return;
	}
	__sync_fetch_and_add(&nr_user_enqueues, 1);
	__sync_fetch_and_add(&nr_queued, 1);
	usersched_needed = 1;
}

void SCX_OP(us_dispatch, s32 cpu, struct task_struct *prev)
{
	struct task_struct *p;
	s32 pid;

	if (usersched_needed) {
		usersched_needed = 0;
		p = bpf_task_from_pid(usersched_pid);
		if (p) {
			scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
			bpf_task_release(p);
		}
	}
	bpf_repeat(64) {
		if (bpf_map_pop_elem(&dispatched, &pid))
			break;
		p = bpf_task_from_pid(pid);
		if (!p)
			continue;
		__sync_fetch_and_add(&nr_dispatched_pids, 1);
		scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, 0);
		bpf_task_release(p);
	}
}

void SCX_OP(us_update_idle, s32 cpu, bool idle)
{
	if (idle && (nr_queued || nr_scheduled)) {
		usersched_needed = 1;
		scx_bpf_kick_cpu(cpu, 0);
	}
}

void SCX_OP(us_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops userland_ops = {
	.enqueue = (void *)us_enqueue,
	.dispatch = (void *)us_dispatch,
	.update_idle = (void *)us_update_idle,
	.exit = (void *)us_exit,
	.flags = SCX_OPS_KEEP_BUILTIN_IDLE,
	.name = "usersched",
};

char LICENSE[] SEC("license") = "GPL";
