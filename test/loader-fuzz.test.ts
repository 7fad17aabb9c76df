// Bounded fuzzing of the whole loader on real objects: truncations, byte flips and word
// overwrites must end in a typed BpfError (or load and run within a budget) — never a raw
// JS exception. Seeded, so a failure names the case that reproduces it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError } from '../src/errors.js';
import { openObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';

const PROGS = join(PROJECT_ROOT, 'progs');
const CASES_PER_OBJECT = 120;

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

function mutate(bytes: Uint8Array, rand: () => number): { data: Uint8Array; what: string } {
  const pick = (n: number) => Math.floor(rand() * n);
  const kind = pick(3);
  if (kind === 0) {
    const len = pick(bytes.length);
    return { data: bytes.slice(0, len), what: `truncate to ${len}` };
  }
  const data = bytes.slice();
  if (kind === 1) {
    const flips: number[] = [];
    for (let k = 0; k < 1 + pick(8); k++) { const at = pick(data.length); data[at] ^= 1 << pick(8); flips.push(at); }
    return { data, what: `flip bits at ${flips.join(',')}` };
  }
  const at = pick(Math.max(1, data.length - 4));
  new DataView(data.buffer).setUint32(at, Math.floor(rand() * 4294967296), true);
  return { data, what: `overwrite word at ${at}` };
}

describe('loader fuzz (mutated real objects)', () => {
  const objects = readdirSync(PROGS).filter((f) => f.endsWith('.o')).sort();

  it('has objects to fuzz', () => assert.ok(objects.length >= 5));

  for (const file of objects) {
    it(`${file}: ${CASES_PER_OBJECT} mutations end in a BpfError or a clean run`, () => {
      const original = new Uint8Array(readFileSync(join(PROGS, file))); // a copy: Buffer.slice shares memory
      const rand = rng(file.length * 7919 + original.length);
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
});
