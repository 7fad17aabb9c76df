// SPDX-License-Identifier: GPL-2.0
/*
 * kobjects.bpf.c - kernel objects behind pointers (spec maps-and-kernel-objects §3, §5.3):
 * fields of the maps' kernel structs read through &map, the current task_struct, and the
 * per-CPU typed ksym bpf_prog_active through bpf_this_cpu_ptr / bpf_per_cpu_ptr.
 *
 * The kernel structs are declared here as vmlinux.h would (preserve_access_index), padded to
 * the x86-64 offsets of Linux 6.18 (the test machine) and of bpfrun's simulated kernel BTF,
 * so the field offsets are right with or without CO-RE relocation.
 *
 * Run once each, fresh load, no ctx (all SEC("syscall")), results in .bss:
 *
 *  program       | return | globals
 * ---------------+--------+-------------------------------------------------------------
 *  array_fields  | 1      | arr[] = map_type 2, key_size 4, value_size 12, max_entries 5,
 *                |        |   map_flags 0, elem_size 16, index_mask 7; arr_id > 0
 *  hash_fields   | 1      | htab[] = map_type 1, key_size 4, value_size 8, max_entries 6,
 *                |        |   n_buckets 8, elem_size 64
 *  arena_fields  | 1      | vm_start = the arena's user_vm_start, vm_end = start + 2 pages,
 *                |        |   arena_pages = 2
 *  prog_active   | 1      | active_this = *bpf_this_cpu_ptr(&bpf_prog_active) (0 in a
 *                |        |   syscall program's test run), per_cpu_0_ok = 1,
 *                |        |   per_cpu_far_null = 1 (cpu 100000 -> NULL)
 *  current_task  | 7      | bit 0: task->pid and ->tgid agree with bpf_get_current_pid_tgid,
 *                |        | bit 1: task->comm with bpf_get_current_comm,
 *                |        | bit 2: task->cred->uid/gid with bpf_get_current_uid_gid;
 *                |        | task_pid, task_tgid, task_uid, task_comm[16] copied out
 */
#include "bpfrun.h"

struct bpf_map {
	char __pad0[64];
	enum bpf_map_type map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u64 map_extra;
	__u32 map_flags;
	__u32 id;
	char __pad1[40];
	char name[16];
	char __pad2[144];
} __attribute__((preserve_access_index));

struct bpf_array {
	struct bpf_map map;
	__u32 elem_size;
	__u32 index_mask;
} __attribute__((preserve_access_index));

struct bpf_htab {
	struct bpf_map map;
	char __pad0[528];
	__u32 n_buckets;
	__u32 elem_size;
} __attribute__((preserve_access_index));

struct bpf_arena {
	struct bpf_map map;
	__u64 user_vm_start;
	__u64 user_vm_end;
} __attribute__((preserve_access_index));

typedef struct { __u32 val; } kuid_t;
typedef struct { __u32 val; } kgid_t;

struct cred {
	long usage;
	kuid_t uid;
	kgid_t gid;
} __attribute__((preserve_access_index));

struct task_struct {
	char __pad0[1264];
	int pid;
	int tgid;
	char __pad1[464];
	const struct cred *cred;
	char __pad2[8];
	char comm[16];
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, char[12]);
} array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 6);
	__type(key, __u32);
	__type(value, __u64);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2);
} arena SEC(".maps");

extern const int bpf_prog_active __ksym;

__u32 arr[7], arr_id;
__u32 htab[6];
__u64 vm_start, vm_end, arena_pages;
int active_this, per_cpu_0_ok, per_cpu_far_null;
int task_pid, task_tgid, task_uid;
char task_comm[16];

SEC("syscall")
int array_fields(void *ctx)
{
	struct bpf_array *a = (void *)&array_map;

	arr[0] = a->map.map_type;
	arr[1] = a->map.key_size;
	arr[2] = a->map.value_size;
	arr[3] = a->map.max_entries;
	arr[4] = a->map.map_flags;
	arr[5] = a->elem_size;
	arr[6] = a->index_mask;
	arr_id = a->map.id;
	return 1;
}

SEC("syscall")
int hash_fields(void *ctx)
{
	struct bpf_htab *h = (void *)&hash_map;

	htab[0] = h->map.map_type;
	htab[1] = h->map.key_size;
	htab[2] = h->map.value_size;
	htab[3] = h->map.max_entries;
	htab[4] = h->n_buckets;
	htab[5] = h->elem_size;
	return 1;
}

SEC("syscall")
int arena_fields(void *ctx)
{
	struct bpf_arena *ar = (void *)&arena;

	vm_start = ar->user_vm_start;
	vm_end = ar->user_vm_end;
	arena_pages = ar->map.max_entries;
	return 1;
}

SEC("syscall")
int prog_active(void *ctx)
{
	const int *p = bpf_this_cpu_ptr(&bpf_prog_active);

	active_this = *p;
	per_cpu_0_ok = bpf_per_cpu_ptr(&bpf_prog_active, 0) != 0;
	per_cpu_far_null = bpf_per_cpu_ptr(&bpf_prog_active, 100000) == 0;
	return 1;
}

SEC("syscall")
int current_task(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	char comm[16] = {};
	int ok = 0, same = 1;

	bpf_get_current_comm(comm, sizeof(comm));
	if (t->pid == (__u32)pid_tgid && t->tgid == (pid_tgid >> 32))
		ok |= 1;
	for (int i = 0; i < 16; i++) {
		task_comm[i] = t->comm[i];
		if (t->comm[i] != comm[i])
			same = 0;
	}
	if (same)
		ok |= 2;
	if (t->cred->uid.val == (__u32)uid_gid && t->cred->gid.val == (uid_gid >> 32))
		ok |= 4;
	task_pid = t->pid;
	task_tgid = t->tgid;
	task_uid = t->cred->uid.val;
	return ok;
}

char LICENSE[] SEC("license") = "GPL";
