// SPDX-License-Identifier: GPL-2.0
/*
 * isa.bpf.c - instruction-set corners (built as isa.bpf.o, -mcpu=v4, and
 * isa.v3.bpf.o, -mcpu=v3). Every input is a writable .data global, so clang
 * cannot constant-fold the operations.
 *
 * v4 emits: sdiv/smod (off=1), sign-extending loads (LDX MEMSX), movsx
 * (MOV off=8/16/32), bswap16/32/64 (ALU64|END), ST immediate stores.
 * v3 emits: no signed division (the sdiv/smod block is compiled out, see
 * below), u8/u16/u32 loads + shift pairs instead of LDSX/MOVSX, be16/32/64
 * (ALU|END|TO_BE, a swap on little-endian) instead of bswap.
 * Both: 32-bit ALU (w regs), atomics with and without fetch, xchg, cmpxchg.
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program | return value
 * ---+---------+-------------
 *  1 | divs    | 14  (udiv64)
 *  2 | mods    | 2   (umod64)
 *  3 | sext    | -127 (out_movsx8; retval u32 0xffffff81)
 *  4 | bswap   | 13330 (0x3412)
 *  5 | alu32   | 1   (r_add32)
 *  6 | atomics | 12  (final cas64)
 *
 * Final globals:
 *  1 divs, 2 mods (.bss) - unsigned, both builds:
 *     udiv64 = 14, umod64 = 2, udiv32 = 14, umod32 = 2   (100 / 7)
 *     udiv64_0 = 0, umod64_0 = 100, udiv32_0 = 0, umod32_0 = 100
 *       (BPF: x / 0 = 0, x % 0 = x)
 *   signed, v4 build only (sdiv_done = smod_done = 1); in the v3 build
 *   they all stay 0, including sdiv_done and smod_done:
 *     sdiv64 = -3, smod64 = -2          (-17 / 5, -17 % 5: truncation)
 *     sdiv64_n = 3, smod64_n = -2       (-17 / -5, -17 % -5)
 *     sdiv32 = -3, smod32 = -2
 *     sdiv64_min = INT64_MIN (0x8000000000000000), smod64_min = 0
 *       (INT64_MIN / -1 and % -1)
 *     sdiv32_min = INT32_MIN (-2147483648), smod32_min = 0
 *     sdiv64_0 = 0, smod64_0 = -17      (signed x / 0 = 0, x % 0 = x)
 *     sdiv32_0 = 0, smod32_0 = -17
 *  3 sext (.bss):
 *     out_s8 = -2, out_s16 = -1000, out_s32 = -100000   (sign-extending loads)
 *     out_movsx8 = -127   ((s8)(0x1ff80 + 1) = (s8)0x81)
 *     out_movsx16 = -32767 ((s16)(0x18000 + 1) = (s16)0x8001)
 *     out_movsx32 = -15   ((s32)(0x12345678fffffff0 + 1))
 *  4 bswap (.bss):
 *     r_bswap16 = 0x3412, r_bswap32 = 0x78563412,
 *     r_bswap64 = 0x0807060504030201
 *  5 alu32 (.bss):
 *     r_add32 = 1 (0xffffffff + 2), r_sub32 = 3 (2 - 0xffffffff),
 *     r_mul32 = 0 (0x10000 * 0x10000), r_shl32 = 0x80000000 (1 << 31),
 *     r_ashr32 = -16 (-256 >> 4), r_lshr32 = 0x0ffffff0 ((u32)-256 >> 4),
 *     r_neg32 = -2, r_xor32 = 0xfffeffff, r_zext = 1 (u64 of the 32-bit sum)
 *  6 atomics - fetched old values (.bss) and final .data values:
 *     r_fadd64 = 10, r_fadd32 = 10
 *     atom64 = 115 (10 + 5 + 100), atom32 = 12 (10 + 5 - 3)
 *     r_for64 = 0x0f, r_fand64 = 0xff, r_fxor64 = 0x3c, bits64 = 0xc3
 *     r_for32 = 0x0f, r_fand32 = 0xff, r_fxor32 = 0x3c, bits32 = 0xc3
 *     nf64 = 0x103 (0x100 |= 1 -> 0x101, &= 0x1f1 -> 0x101, ^= 0x2 -> 0x103;
 *                   atomic or/and/xor without fetch)
 *     nf32 = 0x103 (the same, 32-bit)
 *     r_xchg64 = 5, xchg64 = 77; r_xchg32 = 5, xchg32 = 77
 *     r_cas64_hit = 3, r_cas64_miss = 9, r_cas64_bool = 1, cas64 = 12
 *     r_cas32_hit = 3, r_cas32_miss = 9, cas32 = 9
 */
#include "bpfrun.h"

/* ---- inputs (.data) ---- */
unsigned long long ua = 100, ub = 7, zero64 = 0;
unsigned int uia = 100, uib = 7, zero32 = 0;
long long sa = -17, sb = 5, sneg = -5, smin = (-9223372036854775807LL - 1), sm1 = -1;
int ia = -17, ib = 5, imin = (-2147483647 - 1), im1 = -1;

signed char s8v = -2;
short s16v = -1000;
int s32v = -100000;
unsigned int mix = 0x1ff80, mix16 = 0x18000;
unsigned long long big = 0x12345678fffffff0ULL;

unsigned short h16 = 0x1234;
unsigned int h32 = 0x12345678;
unsigned long long h64 = 0x0102030405060708ULL;

unsigned int a32 = 0xffffffff, b32 = 2, c32 = 0x10000, sh32 = 31;
int n32 = -256;

unsigned long long atom64 = 10, bits64 = 0x0f, nf64 = 0x100, xchg64 = 5, cas64 = 3;
unsigned int atom32 = 10, bits32 = 0x0f, nf32 = 0x100, xchg32 = 5, cas32 = 3;

/* ---- results (.bss) ---- */
unsigned long long udiv64, umod64, udiv64_0, umod64_0;
unsigned int udiv32, umod32, udiv32_0, umod32_0;
int sdiv_done, smod_done;
long long sdiv64, smod64, sdiv64_n, smod64_n, sdiv64_min, smod64_min, sdiv64_0, smod64_0;
int sdiv32, smod32, sdiv32_min, smod32_min, sdiv32_0, smod32_0;

long long out_s8, out_s16, out_s32, out_movsx8, out_movsx16, out_movsx32;

unsigned long long r_bswap16, r_bswap32, r_bswap64;

unsigned int r_add32, r_sub32, r_mul32, r_shl32, r_lshr32, r_xor32;
int r_ashr32, r_neg32;
unsigned long long r_zext;

unsigned long long r_fadd64, r_for64, r_fand64, r_fxor64, r_xchg64, r_cas64_hit, r_cas64_miss;
unsigned int r_fadd32, r_for32, r_fand32, r_fxor32, r_xchg32, r_cas32_hit, r_cas32_miss;
int r_cas64_bool;

/* Divisions and remainders are in separate programs: computing both from
 * the same operands lets clang derive x % y as x - (x / y) * y, and then no
 * mod instruction would be emitted. */
SEC("syscall")
int divs(void *ctx)
{
	udiv64 = ua / ub;
	udiv32 = uia / uib;
	udiv64_0 = ua / zero64;
	udiv32_0 = uia / zero32;
#if defined(__BPF_FEATURE_SDIV_SMOD)
	sdiv64 = sa / sb;
	sdiv64_n = sa / sneg;
	sdiv32 = ia / ib;
	sdiv64_min = smin / sm1;
	sdiv32_min = imin / im1;
	sdiv64_0 = sa / (long long)zero64;
	sdiv32_0 = ia / (int)zero32;
	sdiv_done = 1;
#endif
	return udiv64;
}

SEC("syscall")
int mods(void *ctx)
{
	umod64 = ua % ub;
	umod32 = uia % uib;
	umod64_0 = ua % zero64;
	umod32_0 = uia % zero32;
#if defined(__BPF_FEATURE_SDIV_SMOD)
	smod64 = sa % sb;
	smod64_n = sa % sneg;
	smod32 = ia % ib;
	smod64_min = smin % sm1;
	smod32_min = imin % im1;
	smod64_0 = sa % (long long)zero64;
	smod32_0 = ia % (int)zero32;
	smod_done = 1;
#endif
	return umod64;
}

SEC("syscall")
int sext(void *ctx)
{
	out_s8 = s8v;
	out_s16 = s16v;
	out_s32 = s32v;
	out_movsx8 = (signed char)(mix + 1);
	out_movsx16 = (short)(mix16 + 1);
	out_movsx32 = (int)(big + 1);
	return out_movsx8;
}

SEC("syscall")
int bswap(void *ctx)
{
	r_bswap16 = __builtin_bswap16(h16);
	r_bswap32 = __builtin_bswap32(h32);
	r_bswap64 = __builtin_bswap64(h64);
	return r_bswap16;
}

SEC("syscall")
int alu32(void *ctx)
{
	r_add32 = a32 + b32;
	r_sub32 = b32 - a32;
	r_mul32 = c32 * c32;
	r_shl32 = 1U << sh32;
	r_ashr32 = n32 >> 4;
	r_lshr32 = (unsigned int)n32 >> 4;
	r_neg32 = -(int)b32;
	r_xor32 = a32 ^ c32;
	r_zext = (unsigned long long)(a32 + b32);
	return r_add32;
}

SEC("syscall")
int atomics(void *ctx)
{
	r_fadd64 = __sync_fetch_and_add(&atom64, 5);
	__sync_fetch_and_add(&atom64, 100);
	r_fadd32 = __sync_fetch_and_add(&atom32, 5);
	__sync_fetch_and_sub(&atom32, 3);

	r_for64 = __sync_fetch_and_or(&bits64, 0xf0);
	r_fand64 = __sync_fetch_and_and(&bits64, 0x3c);
	r_fxor64 = __sync_fetch_and_xor(&bits64, 0xff);
	r_for32 = __sync_fetch_and_or(&bits32, 0xf0);
	r_fand32 = __sync_fetch_and_and(&bits32, 0x3c);
	r_fxor32 = __sync_fetch_and_xor(&bits32, 0xff);

	/* results unused: atomic or/and/xor without BPF_FETCH */
	__sync_fetch_and_or(&nf64, 1);
	__sync_fetch_and_and(&nf64, 0x1f1);
	__sync_fetch_and_xor(&nf64, 0x2);
	__sync_fetch_and_or(&nf32, 1);
	__sync_fetch_and_and(&nf32, 0x1f1);
	__sync_fetch_and_xor(&nf32, 0x2);

	r_xchg64 = __sync_lock_test_and_set(&xchg64, 77);
	r_xchg32 = __sync_lock_test_and_set(&xchg32, 77);

	r_cas64_hit = __sync_val_compare_and_swap(&cas64, 3, 9);
	r_cas64_miss = __sync_val_compare_and_swap(&cas64, 3, 11);
	r_cas64_bool = __sync_bool_compare_and_swap(&cas64, 9, 12);
	r_cas32_hit = __sync_val_compare_and_swap(&cas32, 3, 9);
	r_cas32_miss = __sync_val_compare_and_swap(&cas32, 3, 11);
	return cas64;
}

char LICENSE[] SEC("license") = "GPL";
