// SPDX-License-Identifier: GPL-2.0
/*
 * kfuncs.bpf.c - kfunc calls: the bpf_iter_num_* iterator directly and via
 * bpf_for, and a __weak kfunc that does not exist.
 *
 * In the .o every kfunc call is `call -1` (src_reg 1) + R_BPF_64_32 against
 * an undefined symbol; `bpf_ksym_exists(f)` is an ld_imm64 + R_BPF_64_64
 * against the undefined weak symbol (0 when the kfunc is missing).
 *
 * Input (.data): n_end = 7.
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | section  | program      | return value
 * ---+----------+--------------+--------------------------------------------
 *  1 | syscall  | iter_direct  | 20
 *  2 | syscall  | iter_for     | 91
 *  3 | syscall  | weak_check   | 7  (the bpf_ksym_exists branch is not taken)
 *  4 | ?syscall | call_missing | fails: calls the missing weak kfunc
 *                               'bpf_definitely_missing_kfunc' reachably
 *
 * Program 4 is in SEC("?syscall") (not auto-loaded), so that the object
 * still loads in the kernel: with it, libbpf's poisoned call
 * (call 2002000000 + extern index) is reachable and the verifier rejects
 * the program; libbpf rewrites the log to
 *   "<insn>: <invalid kfunc call>\n"
 *   "kfunc 'bpf_definitely_missing_kfunc' is referenced but wasn't resolved"
 * bpfrun: loading or running call_missing must fail with an error that
 * names 'bpf_definitely_missing_kfunc'. It changes no global.
 *
 * Final globals (.bss) after programs 1-3:
 *   iter_new_ret = 0, iter_sum = 20 (2+3+4+5+6), iter_count = 5
 *   iter_bad_ret = -22 (bpf_iter_num_new(start 7 > end 2) = -EINVAL),
 *   iter_bad_count = 0 (bpf_iter_num_next returns NULL at once)
 *   for_sum = 91 (sum of i*i, i = 0..6), for_count = 7
 *   present_iter = 1 (bpf_ksym_exists(bpf_iter_num_new))
 *   present_missing = 0 (bpf_ksym_exists(bpf_definitely_missing_kfunc))
 *   weak_addr = 0 (address of the missing weak kfunc)
 *   weak_called = 0, weak_absent = 1
 */
#include "bpfrun.h"

extern int bpf_definitely_missing_kfunc(int x) __ksym __weak;

int n_end = 7;

int iter_new_ret, iter_sum, iter_count, iter_bad_ret, iter_bad_count;
int for_sum, for_count;
int present_iter, present_missing;
__u64 weak_addr;
int weak_called, weak_absent;

SEC("syscall")
int iter_direct(void *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0, cnt = 0;

	iter_new_ret = bpf_iter_num_new(&it, 2, n_end);
	while ((v = bpf_iter_num_next(&it))) {
		sum += *v;
		cnt++;
	}
	bpf_iter_num_destroy(&it);
	iter_sum = sum;
	iter_count = cnt;

	iter_bad_ret = bpf_iter_num_new(&it, n_end, 2);
	cnt = 0;
	while ((v = bpf_iter_num_next(&it)))
		cnt++;
	bpf_iter_num_destroy(&it);
	iter_bad_count = cnt;
	return sum;
}

SEC("syscall")
int iter_for(void *ctx)
{
	int i, sum = 0, cnt = 0;

	bpf_for(i, 0, n_end) {
		sum += i * i;
		cnt++;
	}
	for_sum = sum;
	for_count = cnt;
	return sum;
}

SEC("syscall")
int weak_check(void *ctx)
{
	present_iter = bpf_ksym_exists(bpf_iter_num_new);
	present_missing = bpf_ksym_exists(bpf_definitely_missing_kfunc);
	weak_addr = (__u64)(unsigned long)&bpf_definitely_missing_kfunc;
	if (bpf_ksym_exists(bpf_definitely_missing_kfunc)) {
		/* dead in the kernel: the ld_imm64 above resolves to 0 */
		weak_called = 1;
		return bpf_definitely_missing_kfunc(1);
	}
	weak_absent = 1;
	return 7;
}

SEC("?syscall")
int call_missing(void *ctx)
{
	return bpf_definitely_missing_kfunc(3);
}

char LICENSE[] SEC("license") = "GPL";
