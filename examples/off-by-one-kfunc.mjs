// A kfunc in JavaScript with an off-by-one: it writes len + 1 bytes. When the buffer ends at the
// end of an allocation, the extra byte faults on the next (unallocated) arena page; the kernel's
// recovery installs the scratch page and reports the violation on the program's stderr.
// Run: npx bpfrun run progs/example_off_by_one.bpf.o --kfuncs examples/off-by-one-kfunc.mjs
import { defineKfunc } from 'bpfrun';

export default defineKfunc({
  name: 'bpfrun_example_fill_bytes',
  args: ['arena', 'scalar', 'scalar'], // void *buf__arena, __u32 len, __u8 value
  ret: 'scalar',
  impl({ args: [buf, len, value], kernel }) {
    const bytes = new Uint8Array(Number(len.value) + 1).fill(Number(value.value)); // the bug: + 1
    kernel.write(buf.address, bytes);
    return 0;
  },
});
