/**
 * Checks that every CO-RE relocation of the sched_ext objects scripts/sched-ext/build.sh makes
 * resolves against the simulated kernel's BTF (src/kernel/kernel-btf.ts): opens each
 * OBJDIR/*.bpf.o with openObject, relocates it with relocateCore against the simulated BTF as
 * a load with `btf: 'simulated'` does (every program counted as autoloaded, so no record is
 * skipped for a program left off), and prints per object the relocations, how many resolved,
 * and each poisoned one spelled out as libbpf logs it. Exit status 1 if any is poisoned or fails.
 *
 *   node dist/scripts/sched-ext/check-core.js [OBJDIR]     (default /tmp/bpfrun-scx/obj)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { kernelBtf } from '../../src/kernel/kernel-btf.js';
import { relocateCore } from '../../src/loader/core.js';
import { openObject } from '../../src/object.js';

const dir = process.argv[2] ?? '/tmp/bpfrun-scx/obj';
const files = readdirSync(dir).filter((f) => f.endsWith('.bpf.o')).sort();
if (files.length === 0) {
  process.stderr.write(`check-core: no *.bpf.o in ${dir}\n`);
  process.exit(2);
}
let bad = 0;
for (const file of files) {
  const obj = openObject(join(dir, file));
  const spec = obj.spec;
  let total = 0;
  for (const records of spec.btfExt?.coreRelos.values() ?? []) total += records.length;
  // Records inside some program's code (a record in a .text function no program calls is skipped, as by libbpf).
  const placed = new Set<string>();
  for (const [section, records] of spec.btfExt?.coreRelos ?? []) {
    records.forEach((relo, index) => {
      const slot = relo.insnOff / 8;
      const inProgram = spec.programs.some((p) => p.functions.some((f) =>
        f.section === section && slot >= f.sectionSlot && slot < f.sectionSlot + f.length));
      if (inProgram) placed.add(`${section}#${index}`);
    });
  }
  try {
    const out = relocateCore(spec, kernelBtf().btf, new Set(spec.programs.map((p) => p.name)));
    const poisoned = new Map<string, { relocation: string; programs: string[] }>();
    for (const p of out.programs) {
      for (const poison of p.corePoisons?.values() ?? []) {
        const key = `${poison.section}#${poison.index}`;
        const e = poisoned.get(key) ?? { relocation: poison.relocation, programs: [] };
        if (!e.programs.includes(p.name)) e.programs.push(p.name);
        poisoned.set(key, e);
      }
    }
    const skipped = total - placed.size;
    console.log(`${file}: ${total} relocations, ${placed.size - poisoned.size} resolved, ${poisoned.size} poisoned` +
      (skipped ? `, ${skipped} in no program (skipped)` : ''));
    for (const [key, e] of poisoned) console.log(`  poisoned ${key}: ${e.relocation} (in ${e.programs.join(', ')})`);
    bad += poisoned.size;
  } catch (e) {
    bad++;
    console.log(`${file}: ${total} relocations, FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
}
process.exit(bad ? 1 : 0);
