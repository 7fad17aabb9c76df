// SPDX-License-Identifier: GPL-2.0
/*
 * spin.bpf.c - a loop that never ends. The kernel's verifier rejects it (an unbounded loop);
 * bpfrun has no verifier, so the run's instruction budget ends it with BudgetExceededError at
 * an instruction of the loop (bpfrun run: 100 000 000 by default, --budget N, --budget none).
 *
 * spin_forever counts its turns until `stop` becomes non-zero, which nothing does (clang keeps
 * the count in a register and would store it to `turns` only after the loop).
 */
#include "bpfrun.h"

volatile __u32 stop;
__u64 turns;

SEC("syscall")
int spin_forever(void *ctx)
{
	while (!stop)
		turns++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
