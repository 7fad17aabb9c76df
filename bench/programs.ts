/**
 * Compute-heavy benchmark programs, in the conformance assembler dialect. Each runs with
 * r1 = input memory and r2 = its length, and returns a checksum that `expect` pins, so a
 * benchmark that computes the wrong thing fails instead of reporting a figure.
 */
export interface BenchProgram {
  readonly name: string;
  readonly what: string;
  readonly asm: string;
  /** Input memory. */
  readonly mem: () => Uint8Array;
  /** r0 the program must return. */
  readonly expect: bigint;
}

const N_FIB = 2_000_000;
const SIEVE = 1 << 16;
const HASH_BYTES = 1 << 16;
const DIGITS_N = 200_000;

/** r0 = fib(N_FIB) mod 2^64, iteratively: 64-bit add/mov and a counted loop. */
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

/** Sieve of Eratosthenes over the input buffer (one byte per number); r0 = primes below SIEVE. */
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

/** FNV-1a 64 over the input, 8 passes: byte loads, xor and 64-bit multiply. */
const fnv = `
  lddw %r0, 0xcbf29ce484222325
  lddw %r6, 0x100000001b3
  mov %r8, 8
pass:
  mov %r3, %r1
  mov %r4, %r1
  add %r4, %r2
byte:
  ldxb %r5, [%r3]
  xor %r0, %r5
  mul %r0, %r6
  add %r3, 1
  jlt %r3, %r4, byte
  sub %r8, 1
  jne %r8, 0, pass
  exit`;

/** Sum of the decimal digits of 1..DIGITS_N: 64-bit division and modulo by a constant. */
const digits = `
  mov %r0, 0
  mov %r6, 1
num:
  mov %r3, %r6
digit:
  mov %r4, %r3
  mod %r4, 10
  add %r0, %r4
  div %r3, 10
  jne %r3, 0, digit
  add %r6, 1
  jle %r6, ${DIGITS_N}, num
  exit`;

function fibRef(n: number): bigint {
  let a = 0n, b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, BigInt.asUintN(64, a + b)];
  return a;
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
function hashInput(): Uint8Array {
  const mem = new Uint8Array(HASH_BYTES);
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 31 + (i >> 8)) & 0xff;
  return mem;
}
function fnvRef(mem: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (let pass = 0; pass < 8; pass++) {
    for (const b of mem) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  }
  return h;
}
function digitsRef(n: number): bigint {
  let sum = 0;
  for (let i = 1; i <= n; i++) for (let x = i; x > 0; x = Math.floor(x / 10)) sum += x % 10;
  return BigInt(sum);
}

export const PROGRAMS: readonly BenchProgram[] = [
  { name: 'fib', what: `fib(${N_FIB}) mod 2^64, 64-bit add loop`, asm: fib, mem: () => new Uint8Array(0), expect: fibRef(N_FIB) },
  { name: 'sieve', what: `prime sieve to ${SIEVE}, byte loads/stores`, asm: sieve, mem: () => new Uint8Array(SIEVE), expect: primesBelow(SIEVE) },
  { name: 'fnv1a', what: `FNV-1a 64 over ${HASH_BYTES} bytes x8, 64-bit mul`, asm: fnv, mem: hashInput, expect: fnvRef(hashInput()) },
  { name: 'digits', what: `digit sums of 1..${DIGITS_N}, 64-bit div/mod`, asm: digits, mem: () => new Uint8Array(0), expect: digitsRef(DIGITS_N) },
];
