// SPDX-License-Identifier: GPL-2.0
/*
 * helpers.bpf.c - plain helper calls and their exact results.
 *
 * Inputs (.data): src_buf[16] = "bpfrun!" (7 chars + NUL, rest 0),
 * name[8] = "bpf" (rest 0). Formats and strncmp operands live in .rodata.
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program     | return value
 * ---+-------------+-------------
 *  1 | basics      | 0   (the CPU id; bpfrun runs on CPU 0)
 *  2 | probe_read  | 8   (r_probe_str)
 *  3 | strings     | 20  (r_snprintf)
 *  4 | printk_calls| 29  (r_vprintk5)
 *
 * Final globals (.bss):
 *   1 basics:
 *     cpu_id   = 0 (bpfrun; any CPU id on a real kernel)
 *     pid_tgid = bpf_get_current_pid_tgid(): (tgid << 32) | pid of the
 *                calling task; nonzero in the kernel (value host-defined
 *                in bpfrun); pid = low 32 bits, tgid = high 32 bits
 *     t1, t2   = two bpf_ktime_get_ns() reads; nonzero, ktime_ok = 1
 *                (t2 >= t1)
 *     rnd      = bpf_get_prandom_u32(): any value
 *   2 probe_read:
 *     r_probe = 0, read_out[8] = "bpfrun!\0"
 *     r_probe_str = 8 (bytes incl. NUL), read_str_out[16] = "bpfrun!\0"
 *                   followed by 8 zero bytes (stack buffer zeroed first;
 *                   the helper does not touch bytes past the NUL)
 *     r_probe_str_trunc = 4 (size 4), read_trunc_out[8] = "bpf\0" + 4 zeros
 *     r_probe_null = -34 (-ERANGE: x86-64's copy_from_kernel_nofault
 *                    rejects user addresses such as NULL; the helper zeroes
 *                    the buffer), read_null_out[8] = 8 zero bytes
 *   3 strings:
 *     r_snprintf = 20 (19 chars + 1), snp_out[32] = "v=-5 u=7 x=ff s=bpf\0"
 *                  (bytes 20..31 zero)
 *     r_snprintf_trunc = 20 (the full length + 1, output truncated),
 *                  snp_trunc[8] = "v=-5 u=\0"
 *     r_strncmp_lt = -1 ("bpf" vs "bpg"; Linux strncmp returns -1/0/1)
 *     r_strncmp_eq = 0  ("bpf" vs "bpf")
 *     r_strncmp_gt = 1  ("bpf" vs "bpa")
 *   4 printk_calls: each return = length of the formatted message (no NUL)
 *     r_printk0  = 6   trace: "hello\n"
 *     r_printk1  = 6   trace: "one 1\n"
 *     r_printk2  = 11  trace: "two -2 bpf\n"
 *     r_printk3  = 15  trace: "three 3 beef Z\n"
 *     r_vprintk4 = 13  trace: "four 1 2 3 4\n"               (bpf_trace_vprintk)
 *     r_vprintk5 = 29  trace: "five -1 2 ab -5000000000 bpf\n" (bpf_trace_vprintk)
 *   The trace lines appear in this order; programs 0-3 args use
 *   bpf_trace_printk (helper 6), 4+ args bpf_trace_vprintk (helper 177).
 */
#include "bpfrun.h"

char src_buf[16] = "bpfrun!";
char name[8] = "bpf";

__u32 cpu_id;
__u64 pid_tgid;
__u32 pid, tgid;
__u64 t1, t2;
int ktime_ok;
__u32 rnd;

long r_probe, r_probe_str, r_probe_str_trunc, r_probe_null;
char read_out[8], read_str_out[16], read_trunc_out[8], read_null_out[8];

long r_snprintf, r_snprintf_trunc;
char snp_out[32], snp_trunc[8];
long r_strncmp_lt, r_strncmp_eq, r_strncmp_gt;

long r_printk0, r_printk1, r_printk2, r_printk3, r_vprintk4, r_vprintk5;

static const char cmp_lt[] = "bpg";
static const char cmp_eq[] = "bpf";
static const char cmp_gt[] = "bpa";

SEC("syscall")
int basics(void *ctx)
{
	cpu_id = bpf_get_smp_processor_id();
	pid_tgid = bpf_get_current_pid_tgid();
	pid = (__u32)pid_tgid;
	tgid = pid_tgid >> 32;
	t1 = bpf_ktime_get_ns();
	t2 = bpf_ktime_get_ns();
	ktime_ok = t2 >= t1;
	rnd = bpf_get_prandom_u32();
	return cpu_id;
}

SEC("syscall")
int probe_read(void *ctx)
{
	char dst[8];
	char dst2[16] = {};
	char dst3[8] = {};
	char dst4[8];

	r_probe = bpf_probe_read_kernel(dst, sizeof(dst), src_buf);
	__builtin_memcpy(read_out, dst, sizeof(dst));

	r_probe_str = bpf_probe_read_kernel_str(dst2, sizeof(dst2), src_buf);
	__builtin_memcpy(read_str_out, dst2, sizeof(dst2));

	r_probe_str_trunc = bpf_probe_read_kernel_str(dst3, 4, src_buf);
	__builtin_memcpy(read_trunc_out, dst3, sizeof(dst3));

	r_probe_null = bpf_probe_read_kernel(dst4, sizeof(dst4), NULL);
	__builtin_memcpy(read_null_out, dst4, sizeof(dst4));
	return r_probe_str;
}

SEC("syscall")
int strings(void *ctx)
{
	r_snprintf = BPF_SNPRINTF(snp_out, sizeof(snp_out), "v=%d u=%u x=%x s=%s",
				  -5, 7, 255, name);
	r_snprintf_trunc = BPF_SNPRINTF(snp_trunc, sizeof(snp_trunc), "v=%d u=%u x=%x s=%s",
					-5, 7, 255, name);
	r_strncmp_lt = bpf_strncmp(name, sizeof(name), cmp_lt);
	r_strncmp_eq = bpf_strncmp(name, sizeof(name), cmp_eq);
	r_strncmp_gt = bpf_strncmp(name, sizeof(name), cmp_gt);
	return r_snprintf;
}

SEC("syscall")
int printk_calls(void *ctx)
{
	r_printk0 = bpf_printk("hello\n");
	r_printk1 = bpf_printk("one %d\n", 1);
	r_printk2 = bpf_printk("two %d %s\n", -2, name);
	r_printk3 = bpf_printk("three %u %x %c\n", 3, 0xbeef, 'Z');
	r_vprintk4 = bpf_printk("four %d %d %d %d\n", 1, 2, 3, 4);
	r_vprintk5 = bpf_printk("five %d %u %x %lld %s\n", -1, 2, 0xab, -5000000000LL, name);
	return r_vprintk5;
}

char LICENSE[] SEC("license") = "GPL";
