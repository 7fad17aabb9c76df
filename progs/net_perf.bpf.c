// SPDX-License-Identifier: MIT
/*
 * net_perf.bpf.c - bpf_perf_event_output into a PERF_EVENT_ARRAY (spec program-types §4.9,
 * maps-and-kernel-objects §2.9).
 *
 *   xdp_perf     - XDP: a 12-byte struct (magic, packet length, a counter) plus `ctxlen`
 *                  packet bytes (BPF_F_CTXLEN_MASK) into the current CPU's slot.
 *   tc_perf      - tc: the same with skb->len.
 *   tp_sizes     - raw_tp: three samples of 10, 12 and 13 bytes (raw sizes 12, 12, 20).
 *   tp_flags     - raw_tp: one output with `flags` (index bits) and `size` from .bss,
 *                  result in `ret`; the error paths (bad flags, index >= max_entries, another
 *                  CPU's slot, an empty slot) come from the host's choice of flags.
 *   tp_fill      - raw_tp: `count` outputs of `size` bytes; counts successes and ENOSPC.
 * The tracing programs are raw tracepoints, not SEC("syscall"): syscall programs are sleepable
 * and the verifier refuses a PERF_EVENT_ARRAY in a sleepable program (net_perf_sleepable.bpf.c).
 * `ctxlen` selects how many packet bytes are appended (it may exceed the packet: EFAULT);
 * `ret` holds the helper's last result.
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 0); /* libbpf: one slot per possible CPU */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} events4 SEC(".maps");

struct sample {
	__u32 magic;
	__u32 len;
	__u32 seq;
};

__u64 ctxlen;
__u64 flags;
__u64 size;
__u32 count;
long ret;
__u32 ok;
__u32 nospc;
__u32 seq;
__u8 buf[256];

SEC("xdp")
int xdp_perf(struct xdp_md *ctx)
{
	struct sample s = {
		.magic = 0x58445021, /* "!PDX" */
		.len = ctx->data_end - ctx->data,
		.seq = ++seq,
	};

	ret = bpf_perf_event_output(ctx, &events, (ctxlen << 32) | BPF_F_CURRENT_CPU, &s, sizeof(s));
	return XDP_PASS;
}

SEC("tc")
int tc_perf(struct __sk_buff *skb)
{
	struct sample s = {
		.magic = 0x43540021,
		.len = skb->len,
		.seq = ++seq,
	};

	ret = bpf_perf_event_output(skb, &events, (ctxlen << 32) | BPF_F_CURRENT_CPU, &s, sizeof(s));
	return 0; /* TC_ACT_OK */
}

SEC("raw_tp/sys_enter")
int tp_sizes(void *ctx)
{
	__u8 b[13];
	long r = 0;

	for (int i = 0; i < 13; i++)
		b[i] = i + 1;
	r |= bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, b, 10);
	r |= bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, b, 12);
	r |= bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, b, 13);
	ret = r;
	return 0;
}

SEC("raw_tp/sys_enter")
int tp_flags(void *ctx)
{
	__u64 n = size;

	if (n > sizeof(buf))
		n = sizeof(buf);
	buf[0] = 0xab;
	ret = bpf_perf_event_output(ctx, &events4, flags, buf, n);
	return 0;
}

SEC("raw_tp/sys_enter")
int tp_fill(void *ctx)
{
	__u64 n = size;
	long r;

	if (n > sizeof(buf))
		n = sizeof(buf);
	for (__u32 i = 0; i < count && i < 1000; i++) {
		buf[0] = i;
		r = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, buf, n);
		if (r == 0)
			ok++;
		else if (r == -28)
			nospc++;
		ret = r;
	}
	return 0;
}
