// SPDX-License-Identifier: GPL-2.0
/*
 * kfunc_refs.bpf.c - kfunc flags (test/kfunc.test.ts): references from a KF_ACQUIRE kfunc that
 * a KF_RELEASE kfunc must take back before the program exits, and a non-sleepable (tc) program
 * calling a kfunc the runtime may flag KF_SLEEPABLE. The kfuncs are the test's, in TypeScript:
 *   bpfrun_test_acquire(key) -> a kernel pointer (NULL for key 0), bpfrun_test_release(ptr),
 *   bpfrun_test_sleepy(x) -> x + 1.
 *
 * Expected (syscall programs, fresh load):
 *   refs_balanced -> 0 (acquire, release); refs_null -> 0 (a NULL reference needs no release);
 *   refs_leak -> "Unreleased reference id=2 alloc_insn=<the second acquire call>";
 *   refs_double_release -> "release kernel function bpfrun_test_release expects refcounted ...".
 * With bpfrun_test_sleepy flagged sleepable the load fails: "program must be sleepable to call
 * sleepable kfunc bpfrun_test_sleepy" naming tc_sleepy.
 */
#include "bpfrun.h"

struct thing;

extern struct thing *bpfrun_test_acquire(__u64 key) __ksym;
extern void bpfrun_test_release(struct thing *t) __ksym;
extern __u64 bpfrun_test_sleepy(__u64 x) __ksym;

SEC("syscall")
int refs_balanced(void *ctx)
{
	struct thing *t = bpfrun_test_acquire(1);

	if (!t)
		return 1;
	bpfrun_test_release(t);
	return 0;
}

SEC("syscall")
int refs_null(void *ctx)
{
	struct thing *t = bpfrun_test_acquire(0);

	if (t)
		bpfrun_test_release(t);
	return 0;
}

SEC("syscall")
int refs_leak(void *ctx)
{
	struct thing *a = bpfrun_test_acquire(2);
	struct thing *b = bpfrun_test_acquire(3);

	if (!a || !b)
		return 1;
	bpfrun_test_release(a);
	return 0;	/* b is never released */
}

SEC("syscall")
int refs_double_release(void *ctx)
{
	struct thing *t = bpfrun_test_acquire(4);

	if (!t)
		return 1;
	bpfrun_test_release(t);
	bpfrun_test_release(t);
	return 0;
}

SEC("tc")
int tc_sleepy(struct __sk_buff *skb)
{
	return bpfrun_test_sleepy(1);
}

char _license[] SEC("license") = "GPL";
