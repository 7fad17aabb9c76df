/**
 * Writes the simulated kernel's BTF (src/kernel/kernel-btf.ts) to a file, as raw BTF — what a
 * kernel exposes at /sys/kernel/btf/vmlinux — so bpftool can dump it
 * (`bpftool btf dump file OUT format c`). A developer tool for scripts/sched-ext/build.sh.
 *
 *   node dist/scripts/sched-ext/write-kernel-btf.js OUT
 */
import { writeFileSync } from 'node:fs';
import { kernelBtf } from '../../src/kernel/kernel-btf.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: write-kernel-btf.js OUT\n');
  process.exit(2);
}
writeFileSync(out, kernelBtf().bytes);
