# fib(90) = 2880067194370816120, iteratively. Run: npx bpfrun exec progs/asm/fib.s
  mov %r0, 0
  mov %r1, 1
  mov %r3, 90
loop:
  mov %r2, %r0
  add %r2, %r1
  mov %r0, %r1
  mov %r1, %r2
  sub %r3, 1
  jne %r3, 0, loop
  exit
