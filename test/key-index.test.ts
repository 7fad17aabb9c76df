// The program-side lookup of HASH maps with keys of at most 8 bytes goes through an open-addressing
// index that mirrors the map's table (src/maps/key-index.ts): after any mix of inserts, updates,
// deletes and LRU evictions, lookupElemAt (the engines' path) answers as lookupElem (the table).
import assert from 'node:assert/strict';
import { out, toU64 } from '../src/int64.js';
import { KeyIndex } from '../src/maps/key-index.js';
import { createMap } from '../src/maps/map.js';
import { AddressSpace } from '../src/memory.js';
import {
  BPF_ANY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_HASH,
} from '../src/uapi.js';

/** xorshift32, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

describe('KeyIndex: the HASH maps\' program-side lookup index', () => {
  it('finds what was set and not deleted, through growth and backward-shift deletes', () => {
    for (const keySize of [1, 3, 4, 8]) {
      const index = new KeyIndex<string>(keySize, 2, true);
      const ref = new Map<string, number>();
      const rnd = rng(keySize);
      const keyOf = (n: number) => Uint8Array.from({ length: keySize }, (_, i) => (n * 0x9e3779b1) >>> (i * 4) & 0xff);
      for (let step = 0; step < 20000; step++) {
        const n = rnd() % 700, key = keyOf(n), name = key.join(',');
        if (rnd() % 3 === 0) { index.delete(key); ref.delete(name); } else { index.set(key, [n, n + 1], [-1, -2], name); ref.set(name, n); }
        // Probe at an offset, as lookups read the key in place in program memory.
        const buf = new Uint8Array(keySize + 5);
        buf.set(key, 5);
        const at = index.find(buf, 5);
        assert.equal(at >= 0, ref.has(name), `key ${name} after step ${step}`);
        if (at >= 0) {
          assert.deepEqual([...index.entries.subarray(at + 2, at + 6)], [n, -1, n + 1, -2]);
          assert.equal(index.item(at), name);
        }
      }
      for (const name of ref.keys()) assert.ok(index.find(Uint8Array.from(name.split(',').map(Number)), 0) >= 0, `key ${name} lost`);
    }
  });

  for (const [what, type, keySize] of [
    ['HASH, u32 keys', BPF_MAP_TYPE_HASH, 4], ['HASH, 6-byte keys', BPF_MAP_TYPE_HASH, 6], ['HASH, 12-byte keys (no index)', BPF_MAP_TYPE_HASH, 12],
    ['PERCPU_HASH', BPF_MAP_TYPE_PERCPU_HASH, 8], ['LRU_HASH', BPF_MAP_TYPE_LRU_HASH, 4], ['LRU_PERCPU_HASH', BPF_MAP_TYPE_LRU_PERCPU_HASH, 2],
  ] as const) {
    it(`${what}: lookupElemAt agrees with lookupElem`, () => {
      const nrCpus = 2;
      const m = createMap({ name: 'h', type, keySize, valueSize: 8, maxEntries: 128, flags: 0, mapExtra: 0n }, new AddressSpace(), { nrCpus });
      const rnd = rng(type * 31 + keySize);
      for (let step = 0; step < 3000; step++) {
        const key = Uint8Array.from({ length: keySize }, (_, i) => (i === 0 ? rnd() % 160 : 7 * i));
        const op = rnd() % 4;
        // Program-side calls, which give errnos (a full HASH refuses inserts: E2BIG; an LRU evicts).
        if (op === 0) m.deleteElem(key);
        else m.updateElem(key, new Uint8Array(8), BPF_ANY, rnd() % nrCpus);
        for (let k = 0; k < 160; k += 7) {
          const probe = Uint8Array.from({ length: keySize }, (_, i) => (i === 0 ? k : 7 * i));
          const cpu = k % nrCpus;
          const lo = m.lookupElemAt(probe, 0, cpu);
          assert.equal(toU64(lo, out.hi), m.lookupElem(probe, cpu), `key ${k} after step ${step}`);
        }
      }
    });
  }
});
