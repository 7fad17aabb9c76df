// SPDX-License-Identifier: GPL-2.0
/*
 * extern_missing.bpf.c - externs resolved per program (spec maps-and-kernel-objects §5.4):
 * one program calls a strong kfunc no kernel has, another a strong typed ksym no kernel has,
 * a third uses neither.
 *
 * libbpf fails the whole object on a strong extern it cannot resolve, so this object never
 * loads in a real kernel. bpfrun fails only the programs that reference the extern, with
 * libbpf's message:
 *
 *  program      | bpfrun
 * --------------+------------------------------------------------------------------------
 *  uses_kfunc   | load fails: extern (func ksym) 'bpfrun_missing_kfunc': not found in
 *               |   kernel or module BTFs
 *  uses_ksym    | load fails: extern (var ksym) 'bpfrun_missing_var': not found in kernel BTF
 *  plain        | loads (setAutoload off for the two above), returns 3
 */
#include "bpfrun.h"

extern int bpfrun_missing_kfunc(int x) __ksym;
extern const int bpfrun_missing_var __ksym;

SEC("syscall")
int uses_kfunc(void *ctx)
{
	return bpfrun_missing_kfunc(1);
}

SEC("syscall")
int uses_ksym(void *ctx)
{
	const int *p = bpf_this_cpu_ptr(&bpfrun_missing_var);

	return *p;
}

SEC("syscall")
int plain(void *ctx)
{
	return 3;
}

char LICENSE[] SEC("license") = "GPL";
