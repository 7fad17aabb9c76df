// SPDX-License-Identifier: MIT
/*
 * may_goto.bpf.c - an endless can_loop loop, which x86-64's timed may_goto ends after 250 ms
 * with "ERROR: Timeout detected for may_goto instruction" and a stack dump on the program's
 * stderr (spec maps-and-kernel-objects §6.6, kernel-arena-streams §4.7).
 *
 *   spin_main - calls spin() in a subprogram; spin() loops while can_loop and returns its
 *               iteration count: with bpfrun's virtual clock (100 ns per may_goto) the frame's
 *               count (0xffff) is refilled 39 times, the 40th check reports the timeout, so
 *               spin() returns 40 * 65535 = 2621400. The stack dump shows spin, then spin_main.
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

__u64 spins;

static __attribute__((noinline)) __u64 spin(void)
{
	__u64 i = 0;

	while (can_loop)
		i++;
	return i;
}

SEC("syscall")
int spin_main(void *ctx)
{
	spins = spin();
	return 0;
}
