// SPDX-License-Identifier: GPL-2.0
/*
 * stack_addr.bpf.c - a program that keeps the address of one of its stack slots in a global.
 * A stack address is the program's, not the engine's: every engine runs a program on the same
 * stack, so `frame_addr` is the same value on all of them (test/engines-agree.test.ts compares
 * every global of every object across the engines).
 *
 *  # | program       | return value | frame_addr
 * ---+---------------+--------------+-------------------------------------------
 *  1 | stack_address | 0            | an address in the stack window 0xffffc900...
 */
#include "bpfrun.h"

__u64 frame_addr;

SEC("syscall")
int stack_address(void *ctx)
{
	volatile __u64 slot = 1;

	frame_addr = (__u64)&slot;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
