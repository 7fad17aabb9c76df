/* SPDX-License-Identifier: MIT */
/*
 * bpfrun.h - the project's BPF-side header for the test programs in progs/.
 *
 * It includes Debian bookworm's <linux/bpf.h> (linux-libc-dev 6.1) and
 * <bpf/bpf_helpers.h> (libbpf-dev 1.1.2) and supplies what those lack
 * (spec elf-loading.md §3.1): arena map type/flags, __ulong, __arena,
 * __arg_*, cast_kern/cast_user, can_loop/cond_break, bpf_iter_num +
 * bpf_for/bpf_repeat, bpf_ksym_exists, arena kfuncs, stream printk,
 * bpf_rb_root/bpf_rb_node, __contains, private(), the object and rbtree kfuncs.
 * Every definition is guarded so that a newer system header that already
 * has it wins (or at least does not clash).
 *
 * Build: clang-19 -g -O2 -target bpf -mcpu=v4 -D__TARGET_ARCH_x86
 *        -I/usr/include/x86_64-linux-gnu -Iprogs/include -c x.bpf.c
 */
#ifndef __BPFRUN_H__
#define __BPFRUN_H__

#include <linux/types.h>
#include <linux/version.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* ------------------------------------------------------------------ */
/* UAPI constants missing from linux-libc-dev 6.1 (elf-loading §3.1,   */
/* kernel-arena-streams §1.1, §1.6, §8). The UAPI has them as enum      */
/* members, so a #define after the include is harmless if present.     */
/* ------------------------------------------------------------------ */
#ifndef BPF_MAP_TYPE_CGRP_STORAGE
#define BPF_MAP_TYPE_CGRP_STORAGE 32
#endif
#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33 /* kernel-arena-streams §1.1 */
#endif
#ifndef BPF_F_SEGV_ON_FAULT
#define BPF_F_SEGV_ON_FAULT (1U << 17) /* user faults SIGSEGV instead of allocating */
#endif
#ifndef BPF_F_NO_USER_CONV
#define BPF_F_NO_USER_CONV (1U << 18) /* cast_user becomes a plain 32-bit mov */
#endif
#ifndef BPF_ADDR_SPACE_CAST
#define BPF_ADDR_SPACE_CAST 1 /* insn.off of 0xbf addr_space_cast (§1.6) */
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0 /* may_goto = BPF_JMP|BPF_JCOND (0xe5) */
#define BPF_MAY_GOTO 0
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80 /* sign-extending load mode (cpu v4) */
#endif

/* Stream ids (kernel enum bpf_stream_id, kernel-arena-streams §4.1). */
#ifndef BPF_STDOUT
#define BPF_STDOUT 1
#endif
#ifndef BPF_STDERR
#define BPF_STDERR 2
#endif

#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE (-1) /* bpf_arena_common.h */
#endif
#ifndef __PAGE_SIZE
#define __PAGE_SIZE 4096 /* vmlinux.h enum on x86-64 */
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE __PAGE_SIZE
#endif

/* ------------------------------------------------------------------ */
/* libbpf >= 1.2 / 1.4 macros missing from libbpf-dev 1.1.2 (§3.1)     */
/* ------------------------------------------------------------------ */

/* map_extra etc. wider than 32 bits: a one-value enum, emitted as ENUM64
 * in BTF when val > 32 bits (elf-loading §2.4). libbpf >= 1.4.0. */
#ifndef __ulong
/* two-level concat so that __COUNTER__ is expanded (unique enumerators) */
#define ___bpfrun_concat2(a, b) a##b
#define ___bpfrun_concat(a, b) ___bpfrun_concat2(a, b)
#define __ulong(name, val) enum { ___bpfrun_concat(__unique_value, __COUNTER__) = val } name
#endif

#ifndef __kptr_untrusted
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#endif

/* Global-subprogram argument tags: BTF DECL_TAG "arg:..." (elf-loading §2.1). */
#ifndef __arg_ctx
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#endif
#ifndef __arg_nonnull
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
#endif
#ifndef __arg_nullable
#define __arg_nullable __attribute__((btf_decl_tag("arg:nullable")))
#endif
#ifndef __arg_trusted
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
#endif
#ifndef __arg_untrusted
#define __arg_untrusted __attribute__((btf_decl_tag("arg:untrusted")))
#endif
#ifndef __arg_arena
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#endif

/* Weak ksym existence test (libbpf >= 1.2). A missing weak kfunc's
 * ld_imm64 resolves to 0, so the guarded branch is dead. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({                                                 \
	_Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); \
	!!sym;                                                                  \
})
#endif

/* ------------------------------------------------------------------ */
/* Arena pointers (kernel-arena-streams §1.6, §7.3 bpf_arena_common.h). */
/* clang 19 defines __BPF_FEATURE_ADDR_SPACE_CAST for every -mcpu        */
/* (elf-loading §3.1), so the compiler inserts the casts itself.        */
/* ------------------------------------------------------------------ */
#define bpf_addr_space_cast(var, dst_as, src_as)                \
	asm volatile(".byte 0xBF;                               \
		     .ifc %[reg], r0;                           \
		     .byte 0x00;                                \
		     .endif;                                    \
		     .ifc %[reg], r1;                           \
		     .byte 0x11;                                \
		     .endif;                                    \
		     .ifc %[reg], r2;                           \
		     .byte 0x22;                                \
		     .endif;                                    \
		     .ifc %[reg], r3;                           \
		     .byte 0x33;                                \
		     .endif;                                    \
		     .ifc %[reg], r4;                           \
		     .byte 0x44;                                \
		     .endif;                                    \
		     .ifc %[reg], r5;                           \
		     .byte 0x55;                                \
		     .endif;                                    \
		     .ifc %[reg], r6;                           \
		     .byte 0x66;                                \
		     .endif;                                    \
		     .ifc %[reg], r7;                           \
		     .byte 0x77;                                \
		     .endif;                                    \
		     .ifc %[reg], r8;                           \
		     .byte 0x88;                                \
		     .endif;                                    \
		     .ifc %[reg], r9;                           \
		     .byte 0x99;                                \
		     .endif;                                    \
		     .short %[off];                             \
		     .long %[as]"                               \
		     : [reg] "+r"(var)                          \
		     : [off] "i"(BPF_ADDR_SPACE_CAST),          \
		       [as] "i"(((dst_as) << 16) | (src_as)))

#if defined(__BPF_FEATURE_ADDR_SPACE_CAST) && !defined(BPF_ARENA_FORCE_ASM)
#ifndef __arena
#define __arena __attribute__((address_space(1)))
#endif
#ifndef __arena_global
#define __arena_global __attribute__((address_space(1)))
#endif
#define cast_kern(ptr) /* nop: the compiler emits addr_space_cast(p, 0, 1) */
#define cast_user(ptr) /* nop: the compiler emits addr_space_cast(p, 1, 0) */
#else
#ifndef __arena
#define __arena
#endif
#ifndef __arena_global
#define __arena_global SEC(".addr_space.1")
#endif
#define cast_kern(ptr) bpf_addr_space_cast(ptr, 0, 1)
#define cast_user(ptr) bpf_addr_space_cast(ptr, 1, 0)
#endif

/* Arena kfuncs (kernel-arena-streams §2). Weak, as in bpf_arena_common.h. */
extern void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
					   int node_id, __u64 flags) __ksym __weak;
extern void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;
extern int bpf_arena_reserve_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;

/* ------------------------------------------------------------------ */
/* may_goto loops: can_loop / cond_break (selftests bpf_experimental.h) */
/* clang 19 defines __BPF_FEATURE_MAY_GOTO from -mcpu=v2 (§3.1).        */
/* ------------------------------------------------------------------ */
#ifndef can_loop
#ifdef __BPF_FEATURE_MAY_GOTO
#define can_loop                                        \
	({ __label__ l_break, l_continue;               \
	_Bool ret = 1;                                  \
	asm volatile goto("may_goto %l[l_break]"        \
		      :::: l_break);                    \
	goto l_continue;                                \
	l_break: ret = 0;                               \
	l_continue:;                                    \
	ret;                                            \
	})

#define __cond_break(expr)                              \
	({ __label__ l_break, l_continue;               \
	asm volatile goto("may_goto %l[l_break]"        \
		      :::: l_break);                    \
	goto l_continue;                                \
	l_break: expr;                                  \
	l_continue:;                                    \
	})
#else
#define can_loop                                        \
	({ __label__ l_break, l_continue;               \
	_Bool ret = 1;                                  \
	asm volatile goto("1:.byte 0xe5;                \
		      .byte 0;                          \
		      .long ((%l[l_break] - 1b - 8) / 8) & 0xffff; \
		      .short 0"                         \
		      :::: l_break);                    \
	goto l_continue;                                \
	l_break: ret = 0;                               \
	l_continue:;                                    \
	ret;                                            \
	})

#define __cond_break(expr)                              \
	({ __label__ l_break, l_continue;               \
	asm volatile goto("1:.byte 0xe5;                \
		      .byte 0;                          \
		      .long ((%l[l_break] - 1b - 8) / 8) & 0xffff; \
		      .short 0"                         \
		      :::: l_break);                    \
	goto l_continue;                                \
	l_break: expr;                                  \
	l_continue:;                                    \
	})
#endif /* __BPF_FEATURE_MAY_GOTO */
#define cond_break __cond_break(break)
#define cond_break_label(label) __cond_break(goto label)
#endif /* can_loop */

/* ------------------------------------------------------------------ */
/* Numeric open-coded iterator (uapi struct since 6.4; libbpf >= 1.2)   */
/* A complete struct, not a FWD: libbpf rejects a FWD in a kfunc         */
/* prototype (elf-loading §3.2 kfunc.c).                                 */
/* ------------------------------------------------------------------ */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0) && !defined(BPFRUN_HAVE_BPF_ITER_NUM)
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));
#endif

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;

#ifndef bpf_for_each
#define bpf_for_each(type, cur, args...) for (                                          \
	struct bpf_iter_##type ___it __attribute__((aligned(8),                         \
						    cleanup(bpf_iter_##type##_destroy))), \
			       *___p __attribute__((unused)) = (                        \
				bpf_iter_##type##_new(&___it, ##args),                  \
				(void)bpf_iter_##type##_destroy, (void *)0);            \
	(((cur) = bpf_iter_##type##_next(&___it)));                                     \
)
#endif

#ifndef bpf_for
#define bpf_for(i, start, end) for (                                                    \
	struct bpf_iter_num ___it __attribute__((aligned(8),                            \
						 cleanup(bpf_iter_num_destroy))),       \
			    *___p __attribute__((unused)) = (                           \
				bpf_iter_num_new(&___it, (start), (end)),               \
				(void)bpf_iter_num_destroy, (void *)0);                 \
	({                                                                              \
		int *___t = bpf_iter_num_next(&___it);                                  \
		(___t && ((i) = *___t, (i) >= (start) && (i) < (end)));                 \
	});                                                                             \
)
#endif

#ifndef bpf_repeat
#define bpf_repeat(N) for (                                                             \
	struct bpf_iter_num ___it __attribute__((aligned(8),                            \
						 cleanup(bpf_iter_num_destroy))),       \
			    *___p __attribute__((unused)) = (                           \
				bpf_iter_num_new(&___it, 0, (N)),                       \
				(void)bpf_iter_num_destroy, (void *)0);                 \
	bpf_iter_num_next(&___it);                                                      \
)
#endif

/* ------------------------------------------------------------------ */
/* BPF streams (kernel-arena-streams §4.2).                             */
/* 6.18: bpf_stream_vprintk_impl(id, fmt, args, len, aux__prog=NULL).   */
/* 2026 (KF_IMPLICIT_ARGS): bpf_stream_vprintk(id, fmt, args, len).     */
/* Both are declared weak; bpf_stream_printk calls the newest one that  */
/* the kernel (or runtime) provides, the other call is dead code.       */
/* (6.17's 5-argument bpf_stream_vprintk is not supported.)             */
/* ------------------------------------------------------------------ */
extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args,
				   __u32 len__sz, void *aux__prog) __weak __ksym;
extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
			      __u32 len__sz) __weak __ksym;

#ifndef bpf_stream_printk
#define bpf_stream_printk(stream_id, fmt, args...)                                      \
({                                                                                      \
	static const char ___fmt[] = fmt;                                               \
	unsigned long long ___param[___bpf_narg(args)];                                 \
	_Pragma("GCC diagnostic push")                                                  \
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")                          \
	___bpf_fill(___param, args);                                                    \
	_Pragma("GCC diagnostic pop")                                                   \
	bpf_ksym_exists(bpf_stream_vprintk)                                             \
		? bpf_stream_vprintk(stream_id, ___fmt, ___param, sizeof(___param))     \
		: bpf_stream_vprintk_impl(stream_id, ___fmt, ___param,                  \
					  sizeof(___param), NULL);                      \
})
#endif

/* ------------------------------------------------------------------ */
/* BPF objects and red-black trees (kernel/bpf/helpers.c; selftests     */
/* bpf_experimental.h). linux-libc-dev 6.1 has no struct bpf_rb_root /   */
/* bpf_rb_node (UAPI since 6.2); the kernel checks their sizes in BTF.  */
/* 6.18 kfuncs: bpf_obj_new_impl / bpf_obj_drop_impl /                  */
/* bpf_rbtree_add_impl (meta__ign is NULL, the verifier fills it in).   */
/* A program using bpf_obj_new must include <bpf/bpf_core_read.h>.      */
/* ------------------------------------------------------------------ */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0) && !defined(BPFRUN_HAVE_BPF_RB_ROOT)
struct bpf_rb_root {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

struct bpf_rb_node {
	__u64 __opaque[4];
} __attribute__((aligned(8)));
#endif

#ifndef __contains
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#endif

/* A global in its own data section .data.<name>: a bpf_rb_root and the
 * bpf_spin_lock that guards it must share one (selftests' private()). */
#ifndef private
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#endif

extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta__ign) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       _Bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta__ign, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root,
					     struct bpf_rb_node *node) __ksym;

#ifndef bpf_obj_new
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#endif
#ifndef bpf_obj_drop
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#endif
#ifndef bpf_rbtree_add
#define bpf_rbtree_add(head, node, less) bpf_rbtree_add_impl(head, node, less, NULL, 0)
#endif

#endif /* __BPFRUN_H__ */
