// SPDX-License-Identifier: MIT
/*
 * throw.bpf.c - bpf_throw (kernel/bpf/helpers.c) with the default exception callback, which
 * returns the cookie (kernel/bpf/fixups.c), so the program's r0 is the cookie.
 *
 *   throw_deep   - throws 7 from a subprogram two calls down when args... (ctx NULL): retval 7,
 *                  after_throw stays 0 (nothing after the throw runs).
 *   no_throw     - the same path without throwing: retval 1, after_throw 1.
 *   own_callback - names its own exception callback (exception_callback: decl tag): refused at
 *                  load by bpfrun, which does not support them (SEC("?syscall"): not autoloaded).
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

extern void bpf_throw(__u64 cookie) __ksym;

int after_throw;

static __attribute__((noinline)) int inner(int go)
{
	if (go)
		bpf_throw(7);
	return 1;
}

static __attribute__((noinline)) int outer(int go)
{
	int r = inner(go);

	after_throw = 1;
	return r;
}

volatile int go_flag = 1;

SEC("syscall")
int throw_deep(void *ctx)
{
	return outer(go_flag);
}

SEC("syscall")
int no_throw(void *ctx)
{
	return outer(0);
}

__attribute__((noinline)) int my_cb(__u64 cookie)
{
	return cookie + 1;
}

__attribute__((btf_decl_tag("exception_callback:my_cb")))
SEC("?syscall")
int own_callback(void *ctx)
{
	bpf_throw(3);
	return 0;
}
