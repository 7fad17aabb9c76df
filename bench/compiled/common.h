/*
 * Shared by the compiled benchmarks (bench/compiled/NAME.h): the integer types, for both the
 * BPF programs (progs/bench_NAME.bpf.c, clang -target bpf: <linux/types.h> through bpfrun.h)
 * and their native twins (bench/native/cNAME.c, gcc -O2: <stdint.h>), and the loop caps that
 * keep every loop bounded by a constant, as the kernel verifier wants.
 */
#ifndef BENCH_COMPILED_COMMON_H
#define BENCH_COMPILED_COMMON_H

#ifdef __bpf__
typedef __u8 uint8_t;
typedef __u16 uint16_t;
typedef __u32 uint32_t;
typedef __u64 uint64_t;
#else
#include <stdint.h>
#endif

/* Loop caps: far above what the benchmarks use, there only to bound every loop. */
#define BENCH_MAX_BYTES (1ULL << 26)
#define BENCH_MAX_ITERS (1ULL << 32)

/* Little-endian loads at any byte offset (the BPF target and x86-64 are both little-endian). */
static inline uint16_t bench_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t bench_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
