// SPDX-License-Identifier: MIT
/*
 * iter_strtox.bpf.c - the bits iterator kfuncs (bpf_iter_bits_new/next/destroy) and the
 * bpf_strtol / bpf_strtoul helpers (kernel/bpf/helpers.c), as raw tracepoints so that
 * BPF_PROG_TEST_RUN can run them with arguments.
 *
 *   bits_iter - iterates the set bits of words[0 .. args[0]) (args[0] words of the .data array
 *               below; 0 gives -EINVAL, 512 -E2BIG); bi.count, bi.sum of the bit numbers,
 *               bi.first and bi.last, bi.ret = bpf_iter_bits_new's result.
 *   strtox    - parses the .data string selected by args[0] with flags args[1]; st.l_ret and
 *               st.l (bpf_strtol), st.ul_ret and st.ul (bpf_strtoul).
 */
#include "bpfrun.h"

char LICENSE[] SEC("license") = "GPL";

struct bpf_iter_bits___local {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

extern int bpf_iter_bits_new(struct bpf_iter_bits___local *it, const __u64 *unsafe_ptr__ign, __u32 nr_words) __ksym;
extern int *bpf_iter_bits_next(struct bpf_iter_bits___local *it) __ksym;
extern void bpf_iter_bits_destroy(struct bpf_iter_bits___local *it) __ksym;

__u64 words[4] = { 0x8000000000000011ull, 0, 0x2, 0x8000000000000000ull };

struct {
	__s64 ret;
	__u64 count, sum;
	__s64 first, last;
} bi;

SEC("raw_tp/sys_enter")
int bits_iter(struct bpf_raw_tracepoint_args *ctx)
{
	struct bpf_iter_bits___local it;
	__u32 n = ctx->args[0];
	int *bit;

	bi.first = -1;
	bi.ret = bpf_iter_bits_new(&it, words, n);
	while ((bit = bpf_iter_bits_next(&it))) {
		if (bi.first < 0)
			bi.first = *bit;
		bi.last = *bit;
		bi.count++;
		bi.sum += *bit;
	}
	bpf_iter_bits_destroy(&it);
	return 0;
}

char strs[8][24] = {
	"  -1234xyz", "0x1f", "0777", "18446744073709551615", "18446744073709551616",
	"-9223372036854775808", "   ", "  +5",
};

struct {
	__s64 l_ret, l, ul_ret;
	__u64 ul;
} st;

SEC("raw_tp/sys_enter")
int strtox(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = ctx->args[0] & 7;
	__u64 flags = ctx->args[1];
	long l;
	unsigned long ul;

	st.l_ret = bpf_strtol(strs[k], sizeof(strs[k]), flags, &l);
	st.l = l;
	st.ul_ret = bpf_strtoul(strs[k], sizeof(strs[k]), flags, &ul);
	st.ul = ul;
	return 0;
}
