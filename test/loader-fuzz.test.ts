// Bounded fuzzing of the whole loader on real objects: truncations, byte flips and word
// overwrites must end in a typed BpfError (or load and run within a budget) — never a raw
// JS exception — and every engine must make the same of them, with the kfuncs the object needs
// given hostile behaviours (src/fuzz/objects.ts). Seeded, so a failure names the case.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError } from '../src/errors.js';
import { ENGINES } from '../src/engines.js';
import { Rng } from '../src/fuzz/generate.js';
import { checkObject, mutateObject as mutate } from '../src/fuzz/objects.js';
import { openObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';

const PROGS = join(PROJECT_ROOT, 'progs');
const CASES_PER_OBJECT = 120;
const AGREEMENT_CASES_PER_OBJECT = 15;

describe('loader fuzz (mutated real objects)', () => {
  const objects = readdirSync(PROGS).filter((f) => f.endsWith('.o')).sort();

  it('has objects to fuzz', () => assert.ok(objects.length >= 5));

  for (const file of objects) {
    it(`${file}: ${CASES_PER_OBJECT} mutations end in a BpfError or a clean run`, () => {
      const original = new Uint8Array(readFileSync(join(PROGS, file))); // a copy: Buffer.slice shares memory
      const rand = new Rng(file.length * 7919 + original.length);
      const outcomes = { rejected: 0, parsed: 0, loaded: 0, ran: 0 };
      for (let n = 0; n < CASES_PER_OBJECT; n++) {
        const { data, what } = mutate(original, rand);
        try {
          const opened = openObject(data, file);
          outcomes.parsed++;
          const loaded = opened.load();
          outcomes.loaded++;
          for (const p of loaded.programs) {
            try {
              p.run({ instructionBudget: 20_000 });
              outcomes.ran++;
            } catch (e) {
              if (!(e instanceof BpfError)) throw e;
            }
          }
        } catch (e) {
          if (!(e instanceof BpfError)) {
            assert.fail(`${file}, case ${n} (${what}): ${e instanceof Error ? e.stack : String(e)}`);
          }
          outcomes.rejected++;
        }
      }
      // Both paths must be exercised, or the test proves nothing about one of them.
      assert.ok(outcomes.rejected > 0 && outcomes.parsed > 0, JSON.stringify(outcomes));
    });
  }

  for (const file of objects) {
    it(`${file}: ${AGREEMENT_CASES_PER_OBJECT} mutations, hostile kfuncs: every engine agrees`, () => {
      const original = new Uint8Array(readFileSync(join(PROGS, file)));
      const rand = new Rng(file.length * 104729 + original.length);
      for (let n = 0; n < AGREEMENT_CASES_PER_OBJECT; n++) {
        const { data, what } = n === 0 ? { data: original, what: 'unmutated' } : mutate(original, rand);
        const d = checkObject(data, file, n, ENGINES);
        if (d) assert.fail(`${file}, case ${n} (${what}): ${d.engines.join(' vs ')}: ${d.what}`);
      }
    });
  }
});
