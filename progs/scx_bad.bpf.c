// SPDX-License-Identifier: GPL-2.0
/*
 * scx_bad.bpf.c - small cpu-form schedulers (struct sched_ext_ops), each
 * breaking exactly one sched_ext rule, for the host's error tests. Every map
 * is in .struct_ops.link; each program is referenced by exactly one member
 * of one map, and every map has its own exit program recording the exit
 * (scx.h: exit_kind, exit_cpu, exit_code, exit_reason, exit_msg in .data).
 *
 * Loading the whole object the way libbpf does (every map created, every
 * referenced program loaded) fails on bad_kfunc_enqueue, as the kernel's
 * verifier would refuse it. A host attaching one map turns the autoload of
 * the other maps' programs off (bpf_program__set_autoload).
 *
 * Maps (map name, ops name): members -> programs; the rule broken and what
 * the 7.2 kernel reports:
 *
 *  bad_kfunc_ops ("bad_kfunc"): select_cpu -> bad_kfunc_select_cpu (returns
 *    prev_cpu), enqueue -> bad_kfunc_enqueue, exit -> bad_kfunc_exit.
 *    bad_kfunc_enqueue calls scx_bpf_dsq_move_to_local___v2 (SCX_DSQ_GLOBAL,
 *    0), a DISPATCH-only kfunc, from ops.enqueue (unconditionally), then
 *    inserts p into SCX_DSQ_GLOBAL. Load error: "calling kernel function
 *    scx_bpf_dsq_move_to_local___v2 is not allowed".
 *
 *  bad_dsq_ops ("bad_dsq"): select_cpu -> bad_dsq_select_cpu (returns
 *    prev_cpu, so every wakeup reaches enqueue), enqueue -> bad_dsq_enqueue,
 *    exit -> bad_dsq_exit. No init: DSQ 0x1234 is never created, and
 *    bad_dsq_enqueue inserts p into it (SCX_SLICE_DFL, enq_flags). Runtime
 *    error (SCX_EXIT_ERROR): "non-existent DSQ 0x1234".
 *
 *  bad_cpu_ops ("bad_cpu"): select_cpu -> bad_cpu_select_cpu (returns 999),
 *    exit -> bad_cpu_exit; no enqueue (tasks go to the global DSQ). Runtime
 *    error on the first wakeup of a task allowed on more than one CPU:
 *    "invalid CPU 999 from ops.select_cpu()".
 *
 *  stall_ops ("stall"), timeout_ms = 1000: select_cpu -> stall_select_cpu
 *    (returns prev_cpu), enqueue -> stall_enqueue (insert into user DSQ
 *    STALL_DSQ = 7, SCX_SLICE_DFL), dispatch -> stall_dispatch (only counts
 *    nr_stall_dispatch, never moves a task), init -> stall_init (sleepable,
 *    creates DSQ 7, returns the result), exit -> stall_exit. Enqueued tasks
 *    never run: the watchdog exits with SCX_EXIT_ERROR_STALL, reason
 *    "runnable task stall", after about 1 s.
 *
 *  error_ops ("error"): enqueue -> error_enqueue, exit -> error_exit.
 *    error_enqueue: nr_error_enqueues++; if the new count >= error_after
 *    (.rodata, default 5) it calls scx_fail("error_ops: enqueue %llu reached
 *    the limit %llu", count, error_after); then inserts p into
 *    SCX_DSQ_GLOBAL (SCX_SLICE_DFL, enq_flags). Exit kind
 *    SCX_EXIT_ERROR_BPF, reason "scx_bpf_error", msg
 *    "progs/scx_bad.bpf.c:<line>: error_ops: enqueue 5 reached the limit 5"
 *    with the defaults.
 *
 *  init_fail_ops ("init_fail"): init -> init_fail_init (sleepable, returns
 *    -12), exit -> init_fail_exit. The enable aborts with SCX_EXIT_ERROR,
 *    msg "ops.init() failed (-12)"; ops.exit still runs.
 *
 * .rodata: error_after (u64, 5). .bss: nr_error_enqueues,
 * nr_stall_dispatch, nr_bad_dsq_enqueues (u64).
 */
#include "scx.h"

#define BAD_DSQ		0x1234
#define STALL_DSQ	7

const volatile u64 error_after = 5;

u64 nr_error_enqueues, nr_stall_dispatch, nr_bad_dsq_enqueues;

/* ---- bad_kfunc_ops: a DISPATCH kfunc from ops.enqueue ---- */

s32 SCX_OP(bad_kfunc_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void SCX_OP(bad_kfunc_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_bpf_dsq_move_to_local___v2___bpfrun(SCX_DSQ_GLOBAL, 0);
	scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(bad_kfunc_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_kfunc_ops = {
	.select_cpu = (void *)bad_kfunc_select_cpu,
	.enqueue = (void *)bad_kfunc_enqueue,
	.exit = (void *)bad_kfunc_exit,
	.name = "bad_kfunc",
};

/* ---- bad_dsq_ops: insert into a DSQ that was never created ---- */

s32 SCX_OP(bad_dsq_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void SCX_OP(bad_dsq_enqueue, struct task_struct *p, u64 enq_flags)
{
	__sync_fetch_and_add(&nr_bad_dsq_enqueues, 1);
	scx_insert(p, BAD_DSQ, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(bad_dsq_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_dsq_ops = {
	.select_cpu = (void *)bad_dsq_select_cpu,
	.enqueue = (void *)bad_dsq_enqueue,
	.exit = (void *)bad_dsq_exit,
	.name = "bad_dsq",
};

/* ---- bad_cpu_ops: select_cpu returns a CPU that does not exist ---- */

s32 SCX_OP(bad_cpu_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return 999;
}

void SCX_OP(bad_cpu_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops bad_cpu_ops = {
	.select_cpu = (void *)bad_cpu_select_cpu,
	.exit = (void *)bad_cpu_exit,
	.name = "bad_cpu",
};

/* ---- stall_ops: tasks queued on a DSQ nobody consumes ---- */

s32 SCX_OP(stall_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	return prev_cpu;
}

void SCX_OP(stall_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_insert(p, STALL_DSQ, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(stall_dispatch, s32 cpu, struct task_struct *prev)
{
	__sync_fetch_and_add(&nr_stall_dispatch, 1);
}

s32 SCX_OP_SLEEPABLE(stall_init)
{
	return scx_bpf_create_dsq(STALL_DSQ, -1);
}

void SCX_OP(stall_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops stall_ops = {
	.select_cpu = (void *)stall_select_cpu,
	.enqueue = (void *)stall_enqueue,
	.dispatch = (void *)stall_dispatch,
	.init = (void *)stall_init,
	.exit = (void *)stall_exit,
	.timeout_ms = 1000,
	.name = "stall",
};

/* ---- error_ops: scx_fail after error_after enqueues ---- */

void SCX_OP(error_enqueue, struct task_struct *p, u64 enq_flags)
{
	u64 n = __sync_add_and_fetch(&nr_error_enqueues, 1);

	if (n >= error_after)
		scx_fail("error_ops: enqueue %llu reached the limit %llu", n, error_after);
	scx_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(error_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops error_ops = {
	.enqueue = (void *)error_enqueue,
	.exit = (void *)error_exit,
	.name = "error",
};

/* ---- init_fail_ops: ops.init fails ---- */

s32 SCX_OP_SLEEPABLE(init_fail_init)
{
	return -12; /* -ENOMEM */
}

void SCX_OP(init_fail_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops init_fail_ops = {
	.init = (void *)init_fail_init,
	.exit = (void *)init_fail_exit,
	.name = "init_fail",
};

char LICENSE[] SEC("license") = "GPL";
