/* SPDX-License-Identifier: MIT */
/*
 * scx.h - bpfrun's own BPF-side header for sched_ext schedulers (the test
 * schedulers progs/scx_*.bpf.c). Written for this project against the Linux
 * 7.2 interface described in spec sched-ext.md; it is not a copy of the
 * kernel's tools/sched_ext headers and uses its own wrapper names.
 *
 * Contents:
 *  - kernel structs the schedulers read (task_struct, sched_ext_entity,
 *    cpumask, scx_exit_info, scx_init_task_args, scx_exit_task_args,
 *    scx_cmask), each with preserve_access_index, so that every field
 *    access is a CO-RE relocation resolved by name against the host's kernel
 *    BTF. Only the members used here are declared; order is irrelevant.
 *  - struct sched_ext_ops (cpu form, 472 bytes) and struct sched_ext_ops_cid
 *    (cid form, 456 bytes) with every member in the 7.2 order and types
 *    (CONFIG_EXT_GROUP_SCHED=y layout, spec §1.2).
 *  - 7.2 constants as plain macros (DSQ ids, slices, ENQ/DEQ/KICK/OPS flags,
 *    exit kinds, SCX_PICK_IDLE_CORE).
 *  - kfunc externs with the BPF-visible 7.2 prototypes (spec §3.1), and
 *    inline wrappers: scx_insert(), scx_insert_vtime(), scx_move_to_local().
 *  - scx_fail(fmt, args...) / scx_quit(code, fmt, args...): pack up to 12
 *    arguments into a u64 array and call scx_bpf_error_bstr /
 *    scx_bpf_exit_bstr; the message gets a "<file>:<line>: " prefix.
 *  - SCX_OP(name, args...) / SCX_OP_SLEEPABLE(name, args...): a program in
 *    SEC("struct_ops/name") / SEC("struct_ops.s/name") taking
 *    `unsigned long long *ctx`, with typed arguments (libbpf's BPF_PROG).
 *  - the exit recorder: .data globals exit_kind, exit_cpu, exit_code,
 *    exit_reason[128], exit_msg[1024], filled by scx_record_exit(ei) (call it
 *    from ops.exit). exit_kind is written last, with a compare-and-swap from
 *    0, so a host polling it sees the other fields complete.
 */
#ifndef __BPFRUN_SCX_H__
#define __BPFRUN_SCX_H__

#include "bpfrun.h"
#include <stdbool.h>
#include <bpf/bpf_tracing.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;

/* ------------------------------------------------------------------ */
/* Kernel objects, relocated by name (CO-RE)                            */
/* ------------------------------------------------------------------ */
#define __scx_kernel __attribute__((preserve_access_index))

struct cpumask {
	unsigned long bits[128];
} __scx_kernel;

struct sched_entity {
	u64 sum_exec_runtime;
} __scx_kernel;

struct sched_ext_entity {
	u32 flags;
	u32 weight;
	u64 tid;
	u64 slice;
	u64 dsq_vtime;
	bool disallow;
} __scx_kernel;

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	unsigned int flags;
	int nr_cpus_allowed;
	const struct cpumask *cpus_ptr;
	struct sched_entity se;
	struct sched_ext_entity scx;
} __scx_kernel;

/*
 * The kernel's `kind` is an enum scx_exit_kind, and a CO-RE field relocation
 * needs an enum on both sides (an int would not match). Its values are the
 * SCX_EXIT_* macros below; the one enumerator only gives the type a body.
 */
enum scx_exit_kind {
	__scx_exit_kind_any = 0,
};

/* 7.2 member order (kernel/sched/ext/internal.h); CO-RE matches names. */
struct scx_exit_info {
	enum scx_exit_kind kind;
	s32 exit_cpu;
	s64 exit_code;
	u64 flags;
	const char *reason;
	unsigned long *bt;
	u32 bt_len;
	char *msg;
	char *dump;
} __scx_kernel;

struct scx_init_task_args {
	bool fork;
	struct cgroup *cgroup;
} __scx_kernel;

struct scx_exit_task_args {
	bool cancelled;
} __scx_kernel;

/*
 * The cid mask handed to ops.set_cmask (spec §5.4): an arena object whose
 * bits[0] covers the 64-cid word that contains `base`.
 */
struct scx_cmask {
	u32 base;
	u32 nr_cids;
	u32 alloc_words;
	u64 bits[];
} __scx_kernel;

/* A cgroup as the schedulers read it: its kernfs node's id is the cgroup id. */
struct kernfs_node {
	u64 id;
} __scx_kernel;

struct cgroup {
	struct kernfs_node *kn;
	int level;
} __scx_kernel;

/* ops.cgroup_init's arguments: cpu.weight and cpu.max (spec §2.5). */
struct scx_cgroup_init_args {
	u32 weight;
	u64 bw_period_us;
	u64 bw_quota_us;
	u64 bw_burst_us;
} __scx_kernel;

/* Only pointed to by the ops tables. */
struct scx_dump_ctx;
struct scx_sub_attach_args;
struct scx_sub_detach_args;
struct scx_cpu_acquire_args;
struct scx_cpu_release_args;

/* Argument block of __scx_bpf_dsq_insert_vtime (kernel/sched/ext/ext.c). */
struct scx_bpf_dsq_insert_vtime_args {
	u64 dsq_id;
	u64 slice;
	u64 vtime;
	u64 enq_flags;
};

/* ------------------------------------------------------------------ */
/* The two struct_ops types (spec §1.1-§1.3)                            */
/* ------------------------------------------------------------------ */
#define SCX_OPS_NAME_LEN 128

struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dequeue)(struct task_struct *p, u64 deq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*tick)(struct task_struct *p);
	void (*runnable)(struct task_struct *p, u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	void (*quiescent)(struct task_struct *p, u64 deq_flags);
	bool (*yield)(struct task_struct *from, struct task_struct *to);
	bool (*core_sched_before)(struct task_struct *a, struct task_struct *b);
	void (*set_weight)(struct task_struct *p, u32 weight);
	void (*set_cpumask)(struct task_struct *p, const struct cpumask *cpumask);
	void (*update_idle)(s32 cpu, bool idle);
	s32 (*init_task)(struct task_struct *p, struct scx_init_task_args *args);
	void (*exit_task)(struct task_struct *p, struct scx_exit_task_args *args);
	void (*enable)(struct task_struct *p);
	void (*disable)(struct task_struct *p);
	void (*dump)(struct scx_dump_ctx *ctx);
	void (*dump_cpu)(struct scx_dump_ctx *ctx, s32 cpu, bool idle);
	void (*dump_task)(struct scx_dump_ctx *ctx, struct task_struct *p);
	s32 (*cgroup_init)(struct cgroup *cgrp, struct scx_cgroup_init_args *args);
	void (*cgroup_exit)(struct cgroup *cgrp);
	s32 (*cgroup_prep_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_cancel_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_set_weight)(struct cgroup *cgrp, u32 weight);
	void (*cgroup_set_bandwidth)(struct cgroup *cgrp, u64 period_us, u64 quota_us, u64 burst_us);
	void (*cgroup_set_idle)(struct cgroup *cgrp, bool idle);
	s32 (*sub_attach)(struct scx_sub_attach_args *args);
	void (*sub_detach)(struct scx_sub_detach_args *args);
	void (*cpu_online)(s32 cpu);
	void (*cpu_offline)(s32 cpu);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	u32 dispatch_max_batch;
	u64 flags;
	u32 timeout_ms;
	u32 exit_dump_len;
	u64 hotplug_seq;
	u64 sub_cgroup_id;
	char name[SCX_OPS_NAME_LEN];
	void *priv;
	void (*cpu_acquire)(s32 cpu, struct scx_cpu_acquire_args *args);
	void (*cpu_release)(s32 cpu, struct scx_cpu_release_args *args);
};

/* Identical to sched_ext_ops up to and including priv, minus the tail. */
struct sched_ext_ops_cid {
	s32 (*select_cid)(struct task_struct *p, s32 prev_cid, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dequeue)(struct task_struct *p, u64 deq_flags);
	void (*dispatch)(s32 cid, struct task_struct *prev);
	void (*tick)(struct task_struct *p);
	void (*runnable)(struct task_struct *p, u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	void (*quiescent)(struct task_struct *p, u64 deq_flags);
	bool (*yield)(struct task_struct *from, struct task_struct *to);
	bool (*core_sched_before)(struct task_struct *a, struct task_struct *b);
	void (*set_weight)(struct task_struct *p, u32 weight);
	void (*set_cmask)(struct task_struct *p, const struct scx_cmask *cmask);
	void (*update_idle)(s32 cid, bool idle);
	s32 (*init_task)(struct task_struct *p, struct scx_init_task_args *args);
	void (*exit_task)(struct task_struct *p, struct scx_exit_task_args *args);
	void (*enable)(struct task_struct *p);
	void (*disable)(struct task_struct *p);
	void (*dump)(struct scx_dump_ctx *ctx);
	void (*dump_cid)(struct scx_dump_ctx *ctx, s32 cid, bool idle);
	void (*dump_task)(struct scx_dump_ctx *ctx, struct task_struct *p);
	s32 (*cgroup_init)(struct cgroup *cgrp, struct scx_cgroup_init_args *args);
	void (*cgroup_exit)(struct cgroup *cgrp);
	s32 (*cgroup_prep_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_cancel_move)(struct task_struct *p, struct cgroup *from, struct cgroup *to);
	void (*cgroup_set_weight)(struct cgroup *cgrp, u32 weight);
	void (*cgroup_set_bandwidth)(struct cgroup *cgrp, u64 period_us, u64 quota_us, u64 burst_us);
	void (*cgroup_set_idle)(struct cgroup *cgrp, bool idle);
	s32 (*sub_attach)(struct scx_sub_attach_args *args);
	void (*sub_detach)(struct scx_sub_detach_args *args);
	void (*cid_online)(s32 cid);
	void (*cid_offline)(s32 cid);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	u32 dispatch_max_batch;
	u64 flags;
	u32 timeout_ms;
	u32 exit_dump_len;
	u64 hotplug_seq;
	u64 sub_cgroup_id;
	char name[SCX_OPS_NAME_LEN];
	void *priv;
};

/* ------------------------------------------------------------------ */
/* Constants (7.2 values: spec §1.8, §2.1, §2.7, §4.1, §4.8)           */
/* ------------------------------------------------------------------ */
#define SCX_DSQ_FLAG_BUILTIN	(1ULL << 63)
#define SCX_DSQ_FLAG_LOCAL_ON	(1ULL << 62)
#define SCX_DSQ_INVALID		(SCX_DSQ_FLAG_BUILTIN | 0)
#define SCX_DSQ_GLOBAL		(SCX_DSQ_FLAG_BUILTIN | 1)
#define SCX_DSQ_LOCAL		(SCX_DSQ_FLAG_BUILTIN | 2)
#define SCX_DSQ_LOCAL_ON	(SCX_DSQ_FLAG_BUILTIN | SCX_DSQ_FLAG_LOCAL_ON)
#define SCX_DSQ_LOCAL_CPU_MASK	0xffffffffULL

#define SCX_SLICE_DFL		20000000ULL	/* 20 ms */
#define SCX_SLICE_INF		(~0ULL)

#define SCX_ENQ_WAKEUP		(1ULL << 0)
#define SCX_ENQ_HEAD		(1ULL << 16)
#define SCX_ENQ_CPU_SELECTED	(1ULL << 20)
#define SCX_ENQ_PREEMPT		(1ULL << 32)
#define SCX_ENQ_IMMED		(1ULL << 33)
#define SCX_ENQ_REENQ		(1ULL << 40)
#define SCX_ENQ_LAST		(1ULL << 41)

#define SCX_DEQ_SLEEP		(1ULL << 0)
#define SCX_DEQ_CORE_SCHED_EXEC	(1ULL << 32)
#define SCX_DEQ_SCHED_CHANGE	(1ULL << 33)

#define SCX_KICK_IDLE		(1ULL << 0)
#define SCX_KICK_PREEMPT	(1ULL << 1)
#define SCX_KICK_WAIT		(1ULL << 2)

#define SCX_PICK_IDLE_CORE	(1ULL << 0)

#define SCX_OPS_KEEP_BUILTIN_IDLE	(1ULL << 0)
#define SCX_OPS_ENQ_LAST		(1ULL << 1)
#define SCX_OPS_ENQ_EXITING		(1ULL << 2)
#define SCX_OPS_SWITCH_PARTIAL		(1ULL << 3)
#define SCX_OPS_ENQ_MIGRATION_DISABLED	(1ULL << 4)
#define SCX_OPS_ALLOW_QUEUED_WAKEUP	(1ULL << 5)
#define SCX_OPS_BUILTIN_IDLE_PER_NODE	(1ULL << 6)
#define SCX_OPS_ALWAYS_ENQ_IMMED	(1ULL << 7)
#define SCX_OPS_TID_TO_TASK		(1ULL << 8)

#define SCX_EXIT_NONE		0
#define SCX_EXIT_DONE		1
#define SCX_EXIT_UNREG		64
#define SCX_EXIT_UNREG_BPF	65
#define SCX_EXIT_UNREG_KERN	66
#define SCX_EXIT_SYSRQ		67
#define SCX_EXIT_PARENT		68
#define SCX_EXIT_ERROR		1024
#define SCX_EXIT_ERROR_BPF	1025
#define SCX_EXIT_ERROR_STALL	1026

#define SCX_EXIT_MSG_LEN	1024
#define SCX_EXIT_REASON_LEN	128

/* ------------------------------------------------------------------ */
/* kfuncs: BPF-visible 7.2 prototypes (implicit aux dropped, spec §3.1) */
/* ------------------------------------------------------------------ */
/* A `___v2___bpfrun` extern resolves to the kernel's `..___v2` kfunc: libbpf looks a kfunc up by
 * its essential name, cut at the last `___` (spec §1.7). */
extern bool scx_bpf_dsq_insert___v2___bpfrun(struct task_struct *p, u64 dsq_id, u64 slice,
				    u64 enq_flags) __ksym;
extern bool __scx_bpf_dsq_insert_vtime(struct task_struct *p,
				       struct scx_bpf_dsq_insert_vtime_args *args) __ksym;
extern bool scx_bpf_dsq_move_to_local___v2___bpfrun(u64 dsq_id, u64 enq_flags) __ksym;
extern u32 scx_bpf_dispatch_nr_slots(void) __ksym;
extern s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
extern void scx_bpf_destroy_dsq(u64 dsq_id) __ksym;
extern s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
extern s32 scx_bpf_select_cpu_dfl(struct task_struct *p, s32 prev_cpu, u64 wake_flags,
				  bool *is_idle) __ksym;
extern void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
extern s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
extern bool scx_bpf_task_set_slice(struct task_struct *p, u64 slice) __ksym;
extern bool scx_bpf_task_set_dsq_vtime(struct task_struct *p, u64 vtime) __ksym;
extern u64 scx_bpf_now(void) __ksym;
extern void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data__sz) __ksym;
extern void scx_bpf_exit_bstr(s64 exit_code, char *fmt, unsigned long long *data,
			      u32 data__sz) __ksym;
extern u32 scx_bpf_nr_cpu_ids(void) __ksym;

/* cid kfuncs (spec §5.1) */
extern u32 scx_bpf_nr_cids(void) __ksym;
extern s32 scx_bpf_this_cid(void) __ksym;
extern s32 scx_bpf_task_cid(const struct task_struct *p) __ksym;
extern void scx_bpf_kick_cid(s32 cid, u64 flags) __ksym;
extern s32 scx_bpf_cid_to_cpu(s32 cid) __ksym;
extern s32 scx_bpf_cpu_to_cid(s32 cpu) __ksym;

/* generic task kfuncs */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern struct cgroup *scx_bpf_task_cgroup(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* ------------------------------------------------------------------ */
/* Wrappers                                                             */
/* ------------------------------------------------------------------ */

/* Insert p into dsq (FIFO). true unless the kernel ignored the insert. */
static __always_inline bool scx_insert(struct task_struct *p, u64 dsq, u64 slice, u64 flags)
{
	return scx_bpf_dsq_insert___v2___bpfrun(p, dsq, slice, flags);
}

/* Insert p into user DSQ dsq ordered by vtime (priority queue). */
static __always_inline bool scx_insert_vtime(struct task_struct *p, u64 dsq, u64 slice,
					     u64 vtime, u64 flags)
{
	struct scx_bpf_dsq_insert_vtime_args a = {
		.dsq_id = dsq,
		.slice = slice,
		.vtime = vtime,
		.enq_flags = flags,
	};

	return __scx_bpf_dsq_insert_vtime(p, &a);
}

/* From ops.dispatch: move the first runnable task of user DSQ dsq here. */
static __always_inline bool scx_move_to_local(u64 dsq)
{
	return scx_bpf_dsq_move_to_local___v2___bpfrun(dsq, 0);
}

/* Wrap-around vtime comparison: a is before b. */
static __always_inline bool scx_vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

#define ___scx_str2(x) #x
#define ___scx_str(x) ___scx_str2(x)

/*
 * Format a message with the kernel's bprintf rules and stop the scheduler:
 * scx_fail -> exit kind SCX_EXIT_ERROR_BPF ("scx_bpf_error"),
 * scx_quit -> exit kind SCX_EXIT_UNREG_BPF with exit code `code`.
 * The format string lives in .data: the kfunc takes a writable `char *`.
 */
#define ___scx_pack(fmt, args...)							\
	static char ___scx_fmt[] = __FILE__ ":" ___scx_str(__LINE__) ": " fmt;		\
	unsigned long long ___scx_args[___bpf_narg(args)];				\
	_Pragma("GCC diagnostic push")							\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")				\
	___bpf_fill(___scx_args, args);							\
	_Pragma("GCC diagnostic pop")

#define scx_fail(fmt, args...)								\
	({										\
		___scx_pack(fmt, ##args)						\
		scx_bpf_error_bstr(___scx_fmt, ___scx_args, sizeof(___scx_args));	\
	})

#define scx_quit(code, fmt, args...)							\
	({										\
		___scx_pack(fmt, ##args)						\
		scx_bpf_exit_bstr(code, ___scx_fmt, ___scx_args, sizeof(___scx_args));	\
	})

/* ------------------------------------------------------------------ */
/* Program macros                                                       */
/* ------------------------------------------------------------------ */
/* e.g.  s32 SCX_OP(my_select, struct task_struct *p, s32 prev, u64 wf) { ... } */
#define SCX_OP(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define SCX_OP_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

/* ------------------------------------------------------------------ */
/* Exit recorder (.data)                                                */
/* ------------------------------------------------------------------ */
int exit_kind SEC(".data") = 0;
s32 exit_cpu SEC(".data") = 0;
s64 exit_code SEC(".data") = 0;
char exit_reason[SCX_EXIT_REASON_LEN] SEC(".data") = "";
char exit_msg[SCX_EXIT_MSG_LEN] SEC(".data") = "";

static __always_inline void scx_record_exit(struct scx_exit_info *ei)
{
	bpf_probe_read_kernel_str(exit_reason, sizeof(exit_reason), ei->reason);
	bpf_probe_read_kernel_str(exit_msg, sizeof(exit_msg), ei->msg);
	exit_cpu = ei->exit_cpu;
	exit_code = ei->exit_code;
	__sync_val_compare_and_swap(&exit_kind, 0, ei->kind);
}

#endif /* __BPFRUN_SCX_H__ */
