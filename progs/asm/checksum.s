# Sum of the 32-bit little-endian words of the input memory, through a local function.
# Run: npx bpfrun exec progs/asm/checksum.s --mem 0100000002000000ffffffff
  mov %r6, %r1
  mov %r7, %r1
  add %r7, %r2
  mov %r0, 0
next:
  jge %r6, %r7, done
  ldxw %r1, [%r6]
  call local add_word
  add %r6, 4
  ja next
done:
  exit
add_word:
  add %r0, %r1
  exit
