// SPDX-License-Identifier: GPL-2.0
/*
 * scx_cgroups.bpf.c - bpfrun's test of the sched host's cgroups (sched-ext.md
 * §2.2 step 12, §2.4, §2.9): a FIFO scheduler that records what the cgroup
 * ops and kfuncs show it.
 *
 * Map: cgroups_ops (.struct_ops.link, sched_ext_ops), name "cgroups".
 *  - cg_init (sleepable; cgroup_init): in call order, the cgroup's id
 *    (cgrp->kn->id), level and args->weight into init_ids/init_levels/
 *    init_weights[nr_cg_init++] (at most 8).
 *  - cg_exit (cgroup_exit): the id into exit_ids[nr_cg_exit++].
 *  - cg_enqueue: for the task, scx_bpf_task_cgroup(p): its id, and the id of
 *    its level-1 ancestor (bpf_cgroup_ancestor(cg, 1), 0 for the root), into
 *    the HASH task_cgroup: pid -> { id, ancestor1 }; then FIFO into DSQ 0.
 *  - cg_dispatch: move_to_local(0). cg_init_ops (init, sleepable): creates
 *    DSQ 0 and checks bpf_cgroup_from_id(1) is level 0 (else error).
 */
#include "scx.h"

#define SHARED 0
#define MAX_CG 8

struct cg_seen {
	u64 id;
	u64 ancestor1;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, s32);
	__type(value, struct cg_seen);
} task_cgroup SEC(".maps");

u64 init_ids[MAX_CG], init_levels[MAX_CG], init_weights[MAX_CG], exit_ids[MAX_CG];
u32 nr_cg_init, nr_cg_exit;

s32 SCX_OP_SLEEPABLE(cg_init, struct cgroup *cgrp, struct scx_cgroup_init_args *args)
{
	u32 i = nr_cg_init;

	if (i < MAX_CG) {
		init_ids[i] = cgrp->kn->id;
		init_levels[i] = cgrp->level;
		init_weights[i] = args->weight;
	}
	nr_cg_init = i + 1;
	return 0;
}

void SCX_OP_SLEEPABLE(cg_exit, struct cgroup *cgrp)
{
	u32 i = nr_cg_exit;

	if (i < MAX_CG)
		exit_ids[i] = cgrp->kn->id;
	nr_cg_exit = i + 1;
}

void SCX_OP(cg_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct cg_seen seen = {};
	struct cgroup *cg, *up;
	s32 pid = p->pid;

	cg = scx_bpf_task_cgroup(p);
	seen.id = cg->kn->id;
	up = bpf_cgroup_ancestor(cg, 1);
	if (up) {
		seen.ancestor1 = up->kn->id;
		bpf_cgroup_release(up);
	}
	bpf_cgroup_release(cg);
	bpf_map_update_elem(&task_cgroup, &pid, &seen, BPF_ANY);
	scx_insert(p, SHARED, SCX_SLICE_DFL, enq_flags);
}

void SCX_OP(cg_dispatch, s32 cpu, struct task_struct *prev)
{
	scx_move_to_local(SHARED);
}

s32 SCX_OP_SLEEPABLE(cg_init_ops)
{
	struct cgroup *root = bpf_cgroup_from_id(1);

	if (!root)
		return -2;
	if (root->level != 0)
		scx_fail("root cgroup at level %d", root->level);
	bpf_cgroup_release(root);
	return scx_bpf_create_dsq(SHARED, -1);
}

void SCX_OP(cg_exit_ops, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops cgroups_ops = {
	.enqueue = (void *)cg_enqueue,
	.dispatch = (void *)cg_dispatch,
	.cgroup_init = (void *)cg_init,
	.cgroup_exit = (void *)cg_exit,
	.init = (void *)cg_init_ops,
	.exit = (void *)cg_exit_ops,
	.name = "cgroups",
};

char LICENSE[] SEC("license") = "GPL";
