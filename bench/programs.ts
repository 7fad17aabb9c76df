/**
 * Compute-heavy benchmark programs, in the conformance assembler dialect. Each runs with
 * r1 = input memory and r2 = its length, and returns a checksum that `expect` pins (computed
 * here in TypeScript), so a benchmark that computes the wrong thing fails instead of reporting
 * a figure. Each has a C twin in bench/native/NAME.c (same algorithm, same input) that
 * `npm run bench` compiles with gcc -O2 to give the native baseline.
 */
export interface BenchProgram {
  readonly name: string;
  readonly what: string;
  readonly asm: string;
  /** Input memory. */
  readonly mem: () => Uint8Array;
  /** r0 the program must return. */
  readonly expect: bigint;
  /**
   * The C twin's scalar parameter (loop count, passes), given on its command line so gcc
   * cannot fold it; the BPF program has it as a constant.
   */
  readonly param: number;
}

const N_FIB = 2_000_000;
const SIEVE = 1 << 16;
const CRC_BYTES = 1 << 16;
const SORT_N = 512;
const MIX_BYTES = 1 << 16;
const MIX_PASSES = 16;
const MIX_MUL = 0x9e3779b97f4a7c15n;
const MIX_SEED = 0x243f6a8885a308d3n;

/** (a) r0 = fib(N_FIB) mod 2^64, iteratively: 64-bit add/mov and a counted loop. */
const fib = `
  mov %r0, 0
  mov %r1, 1
  lddw %r3, ${N_FIB}
loop:
  mov %r2, %r0
  add %r2, %r1
  mov %r0, %r1
  mov %r1, %r2
  sub %r3, 1
  jne %r3, 0, loop
  exit`;

/** (b) Bitwise CRC-32 (reflected, poly 0xEDB88320) of the input: 32-bit ALU, byte loads. */
const crc32 = `
  mov32 %r0, -1
  mov %r3, %r1
  mov %r4, %r1
  add %r4, %r2
byte:
  ldxb %r5, [%r3]
  xor32 %r0, %r5
  mov %r6, 8
bit:
  mov32 %r7, %r0
  and32 %r7, 1
  neg32 %r7
  and32 %r7, 0xedb88320
  rsh32 %r0, 1
  xor32 %r0, %r7
  sub %r6, 1
  jne %r6, 0, bit
  add %r3, 1
  jlt %r3, %r4, byte
  xor32 %r0, -1
  exit`;

/** (c) Insertion sort of the input's u32s in place; r0 = sum of a[i] * (i + 1). */
const sort = `
  mov %r6, 4
outer:
  jge %r6, %r2, sorted
  mov %r3, %r1
  add %r3, %r6
  ldxw %r4, [%r3]
  mov %r7, %r6
inner:
  jeq %r7, 0, place
  mov %r3, %r1
  add %r3, %r7
  ldxw %r5, [%r3-4]
  jle %r5, %r4, place
  stxw [%r3], %r5
  sub %r7, 4
  ja inner
place:
  mov %r3, %r1
  add %r3, %r7
  stxw [%r3], %r4
  add %r6, 4
  ja outer
sorted:
  mov %r0, 0
  mov %r6, 0
  mov %r7, 1
sum:
  jge %r6, %r2, done
  mov %r3, %r1
  add %r3, %r6
  ldxw %r4, [%r3]
  mul %r4, %r7
  add %r0, %r4
  add %r7, 1
  add %r6, 4
  ja sum
done:
  exit`;

/** (d) Sieve of Eratosthenes over the input buffer (one byte per number); r0 = primes below SIEVE. */
const sieve = `
  mov %r6, %r1
  mov %r7, %r2
  mov %r3, 2
outer:
  mov %r4, %r3
  mul %r4, %r3
  jge %r4, %r7, count
  mov %r5, %r6
  add %r5, %r3
  ldxb %r0, [%r5]
  jne %r0, 0, next
inner:
  mov %r5, %r6
  add %r5, %r4
  stb [%r5], 1
  add %r4, %r3
  jlt %r4, %r7, inner
next:
  add %r3, 1
  ja outer
count:
  mov %r0, 0
  mov %r3, 2
c:
  mov %r5, %r6
  add %r5, %r3
  ldxb %r4, [%r5]
  jne %r4, 0, skip
  add %r0, 1
skip:
  add %r3, 1
  jlt %r3, %r7, c
  exit`;

/** (e) Multiply/rotate hash of the input's u64 words, MIX_PASSES passes: h = rotl(h ^ w, 27) * C. */
const mixhash = `
  lddw %r0, 0x${MIX_SEED.toString(16)}
  lddw %r6, 0x${MIX_MUL.toString(16)}
  mov %r8, ${MIX_PASSES}
pass:
  mov %r3, %r1
  mov %r4, %r1
  add %r4, %r2
word:
  ldxdw %r5, [%r3]
  xor %r0, %r5
  mov %r7, %r0
  lsh %r0, 27
  rsh %r7, 37
  or %r0, %r7
  mul %r0, %r6
  add %r3, 8
  jlt %r3, %r4, word
  sub %r8, 1
  jne %r8, 0, pass
  exit`;

const M64 = (1n << 64n) - 1n;

function fibRef(n: number): bigint {
  let a = 0n, b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, BigInt.asUintN(64, a + b)];
  return a;
}
/** Deterministic pseudo-random bytes (xorshift32), the same every run. */
function noise(len: number, seed: number): Uint8Array {
  const mem = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    mem[i] = x & 0xff;
  }
  return mem;
}
function crcRef(mem: Uint8Array): bigint {
  let crc = 0xffffffff;
  for (const b of mem) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return BigInt((~crc) >>> 0);
}
function sortRef(mem: Uint8Array): bigint {
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const a = Array.from({ length: mem.length / 4 }, (_, i) => view.getUint32(4 * i, true)).sort((x, y) => x - y);
  return a.reduce((sum, v, i) => BigInt.asUintN(64, sum + BigInt(v) * BigInt(i + 1)), 0n);
}
function primesBelow(n: number): bigint {
  const composite = new Uint8Array(n);
  let count = 0n;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return count;
}
function mixRef(mem: Uint8Array): bigint {
  const view = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  let h = MIX_SEED;
  for (let pass = 0; pass < MIX_PASSES; pass++) {
    for (let o = 0; o < mem.length; o += 8) {
      h ^= view.getBigUint64(o, true);
      h = ((h << 27n) | (h >> 37n)) & M64;
      h = (h * MIX_MUL) & M64;
    }
  }
  return h;
}

const crcInput = () => noise(CRC_BYTES, 0x12345678);
const sortInput = () => noise(4 * SORT_N, 0x9abcdef1);
const mixInput = () => noise(MIX_BYTES, 0x2468ace1);

export const PROGRAMS: readonly BenchProgram[] = [
  { name: 'fib', what: `fib(${N_FIB}) mod 2^64, 64-bit add loop`, asm: fib, mem: () => new Uint8Array(0), expect: fibRef(N_FIB), param: N_FIB },
  { name: 'crc32', what: `bitwise CRC-32 of ${CRC_BYTES} bytes, 32-bit ALU`, asm: crc32, mem: crcInput, expect: crcRef(crcInput()), param: 0 },
  { name: 'sort', what: `insertion sort of ${SORT_N} u32 in place`, asm: sort, mem: sortInput, expect: sortRef(sortInput()), param: 0 },
  { name: 'sieve', what: `prime sieve to ${SIEVE}, byte loads/stores`, asm: sieve, mem: () => new Uint8Array(SIEVE), expect: primesBelow(SIEVE), param: 0 },
  { name: 'mixhash', what: `mul/rotate hash of ${MIX_BYTES} bytes x${MIX_PASSES}, 64-bit`, asm: mixhash, mem: mixInput, expect: mixRef(mixInput()), param: MIX_PASSES },
];
