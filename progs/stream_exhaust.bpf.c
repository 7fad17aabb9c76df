// SPDX-License-Identifier: GPL-2.0
/*
 * stream_exhaust.bpf.c - a BPF stream filled to capacity, as the kernel
 * selftest stream_exhaust (progs/stream.c), and the admission rule at the
 * boundary. Spec: kernel-arena-streams.md §4.1, §4.2 (stream.c
 * bpf_stream_consume_capacity).
 *
 * Capacity: BPF_STREAM_MAX_CAPACITY = 100000 bytes per stream. A push of
 * len bytes: if the stored total >= 100000 -> -ENOSPC; else total += len,
 * and if the new total >= 100000 it is undone -> -ENOSPC (-28). A stream
 * therefore holds at most 99 999 bytes. Streams belong to each program:
 * every program here starts with empty stdout and stderr. Nothing reads the
 * streams while the programs run, so no capacity is released.
 *
 * MSG54 = 54 x 'a' (no format directives; 54 bytes are pushed).
 * 1851 * 54 = 99 954 < 100 000; 1852 * 54 = 100 008 >= 100 000.
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program          | return value
 * ---+------------------+-------------
 *  1 | stream_exhaust   | 0  (the first -ENOSPC came with 99 954 bytes stored)
 *  2 | stream_boundary  | 0  (number of failed checks)
 *  3 | stream_fresh     | 0  (bpf_stream_printk's result)
 *
 * 1 stream_exhaust (bpf_repeat, as the selftest): prints MSG54 to BPF_STDOUT
 *   until the first error.
 *   .bss: ex_msgs = 1851 (successful prints), ex_size = 99954 (bytes
 *   stored), ex_err = -28 (-ENOSPC, the 1852nd print), ex_calls = 1852,
 *   ex_after = -28 (one more MSG54: still full).
 *   stdout = 1851 x MSG54 (99 954 bytes, no newlines); stderr empty.
 * 2 stream_boundary (can_loop): fills its own stdout the same way
 *   (bd_msgs = 1851, bd_err = -28), then:
 *     bd_r46 = -28   46 bytes: 99 954 + 46 = 100 000 >= cap, rejected
 *     bd_r45 = 0     45 bytes: 99 999 stored
 *     bd_r1  = -28   1 byte: 100 000 >= cap, rejected
 *     bd_r0  = 0     "" (0 bytes): 99 999 < cap, then 99 999 + 0 < cap:
 *                    accepted (an empty element)
 *     bd_err1 = 0    stderr is a separate stream: "stderr still works\n"
 *     bd_out = -28   stdout still full afterwards
 *   stdout = 1851 x MSG54 + 45 x 'b' (99 999 bytes);
 *   stderr = "stderr still works\n".
 * 3 stream_fresh: fr_out = 0; stdout = "fresh 3\n" (a different program,
 *   its own empty stream); stderr empty.
 */
#include "bpfrun.h"

#define ENOSPC 28
#define MAX_LOOPS (8 * 1024 * 1024) /* BPF_MAX_LOOPS */

#define MSG54 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MSG46 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MSG45 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

_Static_assert(sizeof(MSG54) - 1 == 54, "MSG54 is 54 bytes");
_Static_assert(sizeof(MSG46) - 1 == 46, "MSG46 is 46 bytes");
_Static_assert(sizeof(MSG45) - 1 == 45, "MSG45 is 45 bytes");

int ex_msgs, ex_size, ex_calls;
long ex_err = 1, ex_after = 1;

int bd_msgs;
long bd_err = 1, bd_r46 = 1, bd_r45 = 1, bd_r1 = 1, bd_r0 = 1, bd_err1 = 1, bd_out = 1;

long fr_out = 1;

SEC("syscall")
int stream_exhaust(void *ctx)
{
	long r;

	bpf_repeat(MAX_LOOPS) {
		ex_calls++;
		r = bpf_stream_printk(BPF_STDOUT, MSG54);
		if (r) {
			ex_err = r;
			break;
		}
		ex_msgs++;
		ex_size += sizeof(MSG54) - 1;
	}
	ex_after = bpf_stream_printk(BPF_STDOUT, MSG54);
	return ex_err == -ENOSPC && ex_size == 99954 ? 0 : 1;
}

SEC("syscall")
int stream_boundary(void *ctx)
{
	int failed = 0;
	long r;

	while (can_loop) {
		r = bpf_stream_printk(BPF_STDOUT, MSG54);
		if (r) {
			bd_err = r;
			break;
		}
		bd_msgs++;
	}
	bd_r46 = bpf_stream_printk(BPF_STDOUT, MSG46);
	bd_r45 = bpf_stream_printk(BPF_STDOUT, MSG45);
	bd_r1 = bpf_stream_printk(BPF_STDOUT, "c");
	bd_r0 = bpf_stream_printk(BPF_STDOUT, "");
	bd_err1 = bpf_stream_printk(BPF_STDERR, "stderr still works\n");
	bd_out = bpf_stream_printk(BPF_STDOUT, "x");

	if (bd_msgs != 1851 || bd_err != -ENOSPC)
		failed++;
	if (bd_r46 != -ENOSPC || bd_r45 != 0 || bd_r1 != -ENOSPC || bd_r0 != 0)
		failed++;
	if (bd_err1 != 0 || bd_out != -ENOSPC)
		failed++;
	return failed;
}

SEC("syscall")
int stream_fresh(void *ctx)
{
	fr_out = bpf_stream_printk(BPF_STDOUT, "fresh %d\n", 3);
	return fr_out;
}

char LICENSE[] SEC("license") = "GPL";
