// A kfunc in JavaScript that fills an arena-resident cpumask for the calling program, as
// sched_ext's ops.set_cmask() receives a cmask the kernel wrote through its kernel address.
// Run: npx bpfrun run progs/example_cpumask.bpf.o --kfuncs examples/cpumask-kfunc.mjs
import { defineKfunc } from 'bpfrun';

export default defineKfunc({
  name: 'bpfrun_example_fill_cpumask',
  args: ['arena', 'scalar'], // struct cmask *mask__arena, __u32 nr_cpus
  ret: 'scalar',
  impl({ args: [mask, nrCpus], kernel }) {
    // mask.address is kern_vm_start + lo32(pointer): kernel memory, through the simulated MMU.
    const n = Number(nrCpus.value);
    for (let word = 0; word < 4; word++) {
      let bits = 0n;
      for (let bit = 0; bit < 64; bit++) if (word * 64 + bit < n) bits |= 1n << BigInt(bit);
      kernel.writeU64(mask.address + BigInt(word * 8), bits);
    }
    return 0;
  },
});
