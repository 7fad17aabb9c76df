// SPDX-License-Identifier: GPL-2.0
/*
 * globals.bpf.c - global data of every kind (built as globals.bpf.o, -mcpu=v4,
 * and globals.v3.bpf.o, -mcpu=v3; same expected results for both).
 *
 * Sections: .data (ints, an array, a struct, sized types, a pointer),
 * .bss (incl. the static `hidden_total`, relocated against the .bss section
 * symbol), .rodata (`const volatile limit`, bpf_printk formats),
 * .rodata.str1.1 (the "hello" literal), .data.custom, and the function-scope
 * static `loop_sum.runs` (.data, BTF VAR 'loop_sum.runs', static linkage).
 *
 * Run the three SEC("syscall") programs once each, in this order, on a fresh
 * load, no ctx. `limit` keeps its default 10.
 *
 *  # | program     | return value
 * ---+-------------+-----------------------------------------------
 *  1 | read_sized  | -305 (test-run retval u32 0xfffffecf = 4294966991)
 *  2 | loop_sum    | 129
 *  3 | mutate      | 32
 *
 * Final globals after 1-3:
 *   .data:
 *     data_int       = 5                      (unchanged)
 *     data_arr[4]    = {11, 2, 3, 4}
 *     data_pair      = {.a = 21, .b = -101}
 *     v_s8  (s8)     = 126    (-5 - 125 = -130 wraps)
 *     v_u8  (u8)     = 4      (250 + 10 = 260 wraps)
 *     v_s16 (s16)    = 5536   (-300 * 200 = -60000 wraps)
 *     v_u16 (u16)    = 464    (65000 + 1000 = 66000 wraps)
 *     v_s32 (s32)    = 70000
 *     v_u32 (u32)    = 205032704   (4000000000 + 500000000 wraps)
 *     v_s64 (s64)    = -2500000000
 *     v_u64 (u64)    = 3333333333
 *     greeting       = 0  (pointer initialised through .rel.data, which
 *                         libbpf ignores: the map holds the raw section
 *                         bytes = the REL implicit addend, here 0 since
 *                         "hello" is at offset 0 of .rodata.str1.1)
 *     loop_sum.runs  = 101 (function-scope static, initial 100)
 *   .bss:
 *     counter        = 3
 *     sum_signed     = -5000070305   (-5 + -300 + -70000 + -5000000000)
 *     sum_unsigned   = 14000065250   (250 + 65000 + 4000000000 + 10000000000)
 *     greeting_val   = 0             (value of greeting read by program 1)
 *     loop_total     = 129
 *     loop_runs      = 101
 *     hidden_total   = 15  (static, .bss+off via section symbol)
 *     hidden_copy    = 15
 *   .rodata:
 *     limit          = 10  (const volatile; the host may rewrite it before
 *                           load. loop_sum returns sum_{i<min(limit,64)}
 *                           data_arr[i&3]*(i+1) over the initial array
 *                           {1,2,3,4}: limit 0 -> 0, 4 -> 30, 10 -> 129)
 *   .data.custom:
 *     custom_var     = 104 (99 + data_int)
 *     custom_u64     = 0x1122334455667777
 *
 * Trace output (bpf_trace_printk, message text only):
 *   program 2: "loop_sum 129 runs 101\n"
 *   program 3: "mutate\n"
 */
#include "bpfrun.h"

/* .data */
int data_int = 5;
int data_arr[4] = {1, 2, 3, 4};
struct pair {
	int a;
	long long b;
};
struct pair data_pair = {7, -100};

signed char v_s8 = -5;
unsigned char v_u8 = 250;
short v_s16 = -300;
unsigned short v_u16 = 65000;
int v_s32 = -70000;
unsigned int v_u32 = 4000000000U;
long long v_s64 = -5000000000LL;
unsigned long long v_u64 = 10000000000ULL;

const char *greeting = "hello";

/* .bss */
int counter;
long long sum_signed;
unsigned long long sum_unsigned;
unsigned long long greeting_val;
int loop_total;
int loop_runs;
int hidden_copy;
static int hidden_total;

/* .rodata */
const volatile int limit = 10;

/* .data.custom */
int custom_var SEC(".data.custom") = 99;
unsigned long long custom_u64 SEC(".data.custom") = 0x1122334455667788ULL;

SEC("syscall")
int read_sized(void *ctx)
{
	sum_signed = (long long)v_s8 + v_s16 + v_s32 + v_s64;
	sum_unsigned = (unsigned long long)v_u8 + v_u16 + v_u32 + v_u64;
	greeting_val = (unsigned long long)greeting;
	counter++;
	return v_s8 + v_s16;
}

SEC("syscall")
int loop_sum(void *ctx)
{
	static int runs = 100;
	int total = 0;

	/* data-dependent body: data_arr is writable .data, so clang cannot
	 * fold the loop into a closed form (spec elf-loading §3.3 #14) */
	for (int i = 0; i < limit && i < 64; i++)
		total += data_arr[i & 3] * (i + 1);

	runs++;
	loop_total = total;
	loop_runs = runs;
	bpf_printk("loop_sum %d runs %d\n", total, runs);
	counter++;
	return total;
}

SEC("syscall")
int mutate(void *ctx)
{
	data_arr[0] += 10;
	data_pair.a = data_pair.a * 3;
	data_pair.b -= 1;
	custom_var += data_int;
	custom_u64 ^= 0xff;
	hidden_total += data_arr[0] + data_arr[3];
	hidden_copy = hidden_total;

	v_s8 -= 125;
	v_u8 += 10;
	v_s16 *= 200;
	v_u16 += 1000;
	v_s32 = -v_s32;
	v_u32 += 500000000U;
	v_s64 >>= 1;
	v_u64 /= 3;

	counter++;
	bpf_printk("mutate\n");
	return data_arr[0] + data_pair.a;
}

char LICENSE[] SEC("license") = "GPL";
