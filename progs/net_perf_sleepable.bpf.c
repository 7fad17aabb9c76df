// SPDX-License-Identifier: MIT
/*
 * net_perf_sleepable.bpf.c - a SEC("syscall") program (sleepable) using a PERF_EVENT_ARRAY:
 * the verifier refuses it at load, "Sleepable programs can only use array, hash, ringbuf and
 * local storage maps" (check_map_prog_compatibility; spec maps-and-kernel-objects §2.9).
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("syscall")
int sys_output(void *ctx)
{
	__u32 v = 1;

	return bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &v, sizeof(v));
}
