// SPDX-License-Identifier: GPL-2.0
/*
 * scx_cidq.bpf.c - bpfrun's cid-form test scheduler: one shared FIFO, and
 * wakeup placement from per-task cid masks and its own idle tracking, all
 * kept in a BPF arena (struct sched_ext_ops_cid).
 *
 * Maps:
 *  - arena: BPF_MAP_TYPE_ARENA, BPF_F_MMAPABLE, 64 pages, no fixed address.
 *  - cidq_ops (.struct_ops.link, type sched_ext_ops_cid), name "cidq",
 *    flags 0, timeout_ms 0. Members -> programs:
 *      select_cid  -> cidq_select_cid   enqueue   -> cidq_enqueue
 *      dispatch    -> cidq_dispatch     set_cmask -> cidq_set_cmask
 *      update_idle -> cidq_update_idle  init      -> cidq_init (sleepable)
 *      exit        -> cidq_exit
 *
 * Arena globals (.addr_space.1):
 *   slots (struct cidq_slot __arena *, the pages init allocated),
 *   idle_cids (u64[4]: bit c = cid c idle, cids 0..255),
 *   a_set_cmask, a_enqueued, a_dispatched, a_idle_picks (u64 counters).
 * .bss: nr_set_cmask, nr_enqueued, nr_dispatched, nr_idle_picks,
 *   nr_idle_updates (u64), init_pages_ok (u32: 1 once init got its pages).
 * .data: the scx.h exit record.
 *
 * Per-task data: CIDQ_SLOTS (256) slots of struct cidq_slot in arena pages
 * (256 * 64 bytes = 4 pages), slot = pid % 256. A slot holds the pid it was
 * last written for, the cmask window (base, nr_cids) and up to
 * CIDQ_WORDS (5) words of bits, laid out exactly as struct scx_cmask's bits
 * (bits[0] covers the 64-cid word containing base).
 *
 * Behaviour:
 *  - cidq_init: create user DSQ 0 (scx_bpf_create_dsq(0, -1)); allocate
 *    4 arena pages (bpf_arena_alloc_pages(&arena, NULL, 4, NUMA_NO_NODE, 0))
 *    into `slots`; -ENOMEM (-12) if that fails, else the create result.
 *  - cidq_set_cmask(p, cmask): the cmask argument is an arena offset; cast
 *    to an arena pointer, copy base, nr_cids and min(alloc_words, 5) words of
 *    bits into slot pid % 256, set the slot's pid; nr_set_cmask++ and
 *    a_set_cmask++.
 *  - cidq_update_idle(cid, idle): set (idle) or clear (busy) bit cid of
 *    idle_cids; cids >= 256 are ignored. nr_idle_updates++.
 *  - cidq_select_cid(p, prev_cid, wake_flags): if p's slot holds p's pid,
 *    walk the window's cids in increasing order and return the first one
 *    whose cmask bit and idle_cids bit are both set, clearing that idle bit
 *    (a claim, so two wakeups do not pick the same cid); nr_idle_picks++ and
 *    a_idle_picks++. Otherwise return prev_cid. Never inserts.
 *  - cidq_enqueue(p, enq_flags): insert into user DSQ 0 with SCX_SLICE_DFL
 *    and enq_flags; nr_enqueued++, a_enqueued++.
 *  - cidq_dispatch(cid, prev): move_to_local(0); if it moved a task,
 *    nr_dispatched++, a_dispatched++.
 *  - cidq_exit(ei): scx_record_exit(ei).
 */
#include "scx.h"

#define CIDQ_DSQ	0
#define CIDQ_MAX_CIDS	256
#define CIDQ_WORDS	(CIDQ_MAX_CIDS / 64 + 1)
#define CIDQ_SLOTS	256
#define CIDQ_PAGES	4
#define ENOMEM		12

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
} arena SEC(".maps");

struct cidq_slot {
	u32 pid;
	u32 base;
	u32 nr_cids;
	u32 nr_words;
	u64 bits[CIDQ_WORDS];
	u64 pad[1];
};
_Static_assert(sizeof(struct cidq_slot) * CIDQ_SLOTS == CIDQ_PAGES * __PAGE_SIZE,
	       "slots fill the pages");

struct cidq_slot __arena *__arena slots;
u64 __arena idle_cids[CIDQ_MAX_CIDS / 64];
u64 __arena a_set_cmask, a_enqueued, a_dispatched, a_idle_picks;

u64 nr_set_cmask, nr_enqueued, nr_dispatched, nr_idle_picks, nr_idle_updates;
u32 init_pages_ok;

static __always_inline struct cidq_slot __arena *slot_of(struct task_struct *p)
{
	struct cidq_slot __arena *s = slots;

	if (!s)
		return NULL;
	return &s[(u32)p->pid % CIDQ_SLOTS];
}

s32 SCX_OP(cidq_select_cid, struct task_struct *p, s32 prev_cid, u64 wake_flags)
{
	struct cidq_slot __arena *s = slot_of(p);
	u32 first, n;
	int i;

	if (!s || s->pid != (u32)p->pid)
		return prev_cid;
	first = s->base & ~63u;
	n = s->nr_cids;
	if (n > CIDQ_MAX_CIDS)
		n = CIDQ_MAX_CIDS;
	bpf_for(i, 0, n) {
		u32 cid = s->base + i;
		u32 rel = cid - first;
		u64 bit = 1ULL << (cid & 63);

		if (cid >= CIDQ_MAX_CIDS || rel / 64 >= CIDQ_WORDS)
			break;
		if (!(s->bits[rel / 64] & (1ULL << (rel & 63))))
			continue;
		if (!(idle_cids[cid / 64] & bit))
			continue;
		idle_cids[cid / 64] &= ~bit;
		__sync_fetch_and_add(&nr_idle_picks, 1);
		a_idle_picks++;
		return cid;
	}
	return prev_cid;
}

void SCX_OP(cidq_enqueue, struct task_struct *p, u64 enq_flags)
{
	scx_insert(p, CIDQ_DSQ, SCX_SLICE_DFL, enq_flags);
	__sync_fetch_and_add(&nr_enqueued, 1);
	a_enqueued++;
}

void SCX_OP(cidq_dispatch, s32 cid, struct task_struct *prev)
{
	if (scx_move_to_local(CIDQ_DSQ)) {
		__sync_fetch_and_add(&nr_dispatched, 1);
		a_dispatched++;
	}
}

void SCX_OP(cidq_set_cmask, struct task_struct *p, const struct scx_cmask *cmask)
{
	struct scx_cmask __arena *m = (struct scx_cmask __arena *)(unsigned long)cmask;
	struct cidq_slot __arena *s = slot_of(p);
	u32 words;
	int i;

	if (!s)
		return;
	cast_kern(m);
	words = m->alloc_words;
	if (words > CIDQ_WORDS)
		words = CIDQ_WORDS;
	s->base = m->base;
	s->nr_cids = m->nr_cids;
	s->nr_words = words;
	bpf_for(i, 0, CIDQ_WORDS)
		s->bits[i] = i < words ? m->bits[i] : 0;
	s->pid = p->pid;
	__sync_fetch_and_add(&nr_set_cmask, 1);
	a_set_cmask++;
}

void SCX_OP(cidq_update_idle, s32 cid, bool idle)
{
	u64 bit;

	__sync_fetch_and_add(&nr_idle_updates, 1);
	if (cid < 0 || cid >= CIDQ_MAX_CIDS)
		return;
	bit = 1ULL << (cid & 63);
	if (idle)
		idle_cids[cid / 64] |= bit;
	else
		idle_cids[cid / 64] &= ~bit;
}

s32 SCX_OP_SLEEPABLE(cidq_init)
{
	struct cidq_slot __arena *s;
	s32 ret;

	ret = scx_bpf_create_dsq(CIDQ_DSQ, -1);
	s = bpf_arena_alloc_pages(&arena, NULL, CIDQ_PAGES, NUMA_NO_NODE, 0);
	if (!s)
		return -ENOMEM;
	slots = s;
	init_pages_ok = 1;
	return ret;
}

void SCX_OP(cidq_exit, struct scx_exit_info *ei)
{
	scx_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops_cid cidq_ops = {
	.select_cid = (void *)cidq_select_cid,
	.enqueue = (void *)cidq_enqueue,
	.dispatch = (void *)cidq_dispatch,
	.set_cmask = (void *)cidq_set_cmask,
	.update_idle = (void *)cidq_update_idle,
	.init = (void *)cidq_init,
	.exit = (void *)cidq_exit,
	.name = "cidq",
};

char LICENSE[] SEC("license") = "GPL";
