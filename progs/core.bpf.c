// SPDX-License-Identifier: MIT
/*
 * core.bpf.c - CO-RE relocations of every kind (spec maps-and-kernel-objects §4), against
 * locally defined flavoured types, so that tests can build target BTFs with other layouts
 * (test/core.test.ts, test/btf-builder.ts).
 *
 * `thing` is the "kernel object": 64 bytes the host fills before load; `out` receives what the
 * programs read. Without a target BTF (bpfrun's default today) relocations resolve against the
 * object's own BTF, i.e. as compiled:
 *   read_fields:  out.x = thing.x (offset 4), out.flags (8), out.small (u16 at 12),
 *                 out.bits_a (signed 3 bits), out.bits_b (5 bits), x_off 4, x_size 4,
 *                 has_maybe 1, maybe (u64 at 16), name_off 24, has_old_x 1 and old_x = thing's
 *                 first int (against its own BTF, core_thing___old matches itself),
 *                 probed = BPF_CORE_READ(t, x)
 *   read_types:   thing_exists 1, thing_size 32, thing_matches 1, mode_b_exists 1, mode_b 2,
 *                 missing_exists 1 (local), id_local = id_kernel (the object's own id)
 *   read_maybe:   returns thing.maybe, unguarded (poisoned when the target lacks it)
 *   read_mode_c:  returns MODE_C's value (3), unguarded (a mov, poisoned when missing)
 *   read_big:     out.big = CORE_BIG (0x100000002, an ld_imm64, both halves poisoned when missing)
 *   task_offsets: task_struct's pid, tgid, comm offsets and size (0, 4, 8, 24 locally; on
 *                 Linux 6.18's vmlinux BTF 1264, 1268, 1752, 3264)
 */
#include "bpfrun.h"
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct core_thing___v1 {
	int pad;
	int x;
	unsigned int flags;
	unsigned short small;
	int bits_a : 3;
	unsigned int bits_b : 5;
	unsigned long long maybe;
	char name[8];
} __attribute__((preserve_access_index));

/* A field renamed in "older kernels": only this flavour has old_x. */
struct core_thing___old {
	int old_x;
} __attribute__((preserve_access_index));

enum core_mode___v1 { CORE_MODE_A = 1, CORE_MODE_B = 2, CORE_MODE_C = 3 };

/* A 64-bit enumerator: its value relocation is an ld_imm64. */
enum core_big___v1 { CORE_BIG = 0x100000002ULL };

struct core_missing { int z; } __attribute__((preserve_access_index));

/* The real kernel's task_struct, as far as task_offsets needs it. */
struct task_struct___bpfrun {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

unsigned char thing[64];

struct {
	int x;
	unsigned int flags;
	unsigned int small;
	int bits_a;
	unsigned int bits_b;
	unsigned int x_off, x_size, has_maybe, name_off, has_old_x;
	unsigned long long maybe;
	int old_x;
	int probed;
	unsigned int thing_exists, thing_size, thing_matches, mode_b_exists, missing_exists;
	unsigned long long mode_b;
	unsigned int id_local, id_kernel;
	unsigned long long big;
	unsigned int pid_off, tgid_off, comm_off, task_size;
} out;

SEC("syscall")
int read_fields(void *ctx)
{
	struct core_thing___v1 *t = (void *)thing;

	out.x = t->x;
	out.flags = t->flags;
	out.small = t->small;
	out.bits_a = BPF_CORE_READ_BITFIELD(t, bits_a);
	out.bits_b = BPF_CORE_READ_BITFIELD(t, bits_b);
	out.x_off = bpf_core_field_offset(t->x);
	out.x_size = bpf_core_field_size(t->x);
	out.has_maybe = bpf_core_field_exists(t->maybe);
	if (bpf_core_field_exists(t->maybe))
		out.maybe = t->maybe;
	out.name_off = bpf_core_field_offset(t->name);
	out.has_old_x = bpf_core_field_exists(((struct core_thing___old *)t)->old_x);
	if (bpf_core_field_exists(((struct core_thing___old *)t)->old_x))
		out.old_x = ((struct core_thing___old *)t)->old_x;
	out.probed = BPF_CORE_READ(t, x);
	return 0;
}

SEC("syscall")
int read_types(void *ctx)
{
	out.thing_exists = bpf_core_type_exists(struct core_thing___v1);
	out.thing_size = bpf_core_type_size(struct core_thing___v1);
	out.thing_matches = bpf_core_type_matches(struct core_thing___v1);
	out.mode_b_exists = bpf_core_enum_value_exists(enum core_mode___v1, CORE_MODE_B);
	if (bpf_core_enum_value_exists(enum core_mode___v1, CORE_MODE_B))
		out.mode_b = bpf_core_enum_value(enum core_mode___v1, CORE_MODE_B);
	out.missing_exists = bpf_core_type_exists(struct core_missing);
	out.id_local = bpf_core_type_id_local(struct core_thing___v1);
	out.id_kernel = bpf_core_type_id_kernel(struct core_thing___v1);
	return 0;
}

SEC("syscall")
int read_maybe(void *ctx)
{
	struct core_thing___v1 *t = (void *)thing;

	return t->maybe;
}

SEC("syscall")
int read_mode_c(void *ctx)
{
	return bpf_core_enum_value(enum core_mode___v1, CORE_MODE_C);
}

SEC("syscall")
int read_big(void *ctx)
{
	out.big = bpf_core_enum_value(enum core_big___v1, CORE_BIG);
	return 0;
}

SEC("syscall")
int task_offsets(void *ctx)
{
	out.pid_off = bpf_core_field_offset(struct task_struct___bpfrun, pid);
	out.tgid_off = bpf_core_field_offset(struct task_struct___bpfrun, tgid);
	out.comm_off = bpf_core_field_offset(struct task_struct___bpfrun, comm);
	out.task_size = bpf_core_type_size(struct task_struct___bpfrun);
	return 0;
}
