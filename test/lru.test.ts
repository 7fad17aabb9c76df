// LRU_HASH / LRU_PERCPU_HASH evict as the kernel does (bpf_lru_list.c; spec maps-and-kernel-objects
// §2.16): every row of the spec's worked-examples table, through the host API and, for the
// rows with program lookups, through progs/lru.bpf.o on both engines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { MapError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { HashMap } from '../src/maps/hash.js';
import { createMap } from '../src/maps/map.js';
import type { MapSpec } from '../src/maps/types.js';
import type { LoadedObject } from '../src/object.js';
import {
  BPF_ANY, BPF_EXIST, BPF_F_NO_COMMON_LRU, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_NOEXIST,
  errnoName,
} from '../src/uapi.js';
import { loadEvery } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const asU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);

function lruMap(maxEntries: number, nrCpus = 2, flags = 0, type = BPF_MAP_TYPE_LRU_HASH, valueSize = 4): HashMap {
  const spec: MapSpec = { name: 'lru', type, keySize: 4, valueSize, maxEntries, flags, mapExtra: 0n };
  return createMap(spec, new AddressSpace(), { nrCpus }) as HashMap;
}

/** The keys present, sorted. */
const keys = (m: { entries(): IterableIterator<[Uint8Array, Uint8Array]> }) =>
  [...m.entries()].map(([k]) => asU32(k)).sort((a, b) => a - b);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function insert(m: HashMap, ...ks: number[]): void {
  for (const k of ks) m.update(u32(k), u32(k * 10), BPF_ANY);
}

const errnoOf = (f: () => void): string => {
  try { f(); } catch (e) { if (e instanceof MapError) return e.errno; throw e; }
  return '0';
};

describe('LRU maps: the kernel\'s eviction (spec §2.16)', () => {
  describe('the worked examples (host API; P = 2 unless stated, CPU 0)', () => {
    it('4, P 2 (T = 1): insert 1…6 leaves {3,4,5,6}', () => {
      const m = lruMap(4);
      assert.equal(m.lruLists?.targetFree, 1);
      insert(m, 1, 2, 3, 4, 5, 6);
      assert.deepEqual(keys(m), [3, 4, 5, 6]);
    });

    it('4, P 2: insert 1…4, program lookup 1, insert 5 → {1,3,4,5}, insert 6 → {1,4,5,6}', () => {
      const m = lruMap(4);
      insert(m, 1, 2, 3, 4);
      assert.notEqual(m.lookupElem(u32(1), 0), 0n);
      insert(m, 5);
      assert.deepEqual(keys(m), [1, 3, 4, 5]);
      insert(m, 6);
      assert.deepEqual(keys(m), [1, 4, 5, 6]);
    });

    it('4, P 2: a syscall lookup does not set ref (key 1 goes first)', () => {
      const m = lruMap(4);
      insert(m, 1, 2, 3, 4);
      assert.deepEqual(m.lookup(u32(1)), u32(10));
      insert(m, 5);
      assert.deepEqual(keys(m), [2, 3, 4, 5]);
    });

    it('8, P 2 (T = 2): insert 1…8, insert 9 evicts two keys at once → {3…9}', () => {
      const m = lruMap(8);
      assert.equal(m.lruLists?.targetFree, 2);
      insert(m, ...range(1, 8));
      assert.deepEqual(keys(m), range(1, 8));
      insert(m, 9);
      assert.deepEqual(keys(m), range(3, 9));
    });

    it('8, P 2: insert 1…8, NOEXIST 1 → 0, EXIST 2 → ENOENT → {1,3…8}', () => {
      const m = lruMap(8);
      insert(m, ...range(1, 8));
      assert.equal(errnoOf(() => m.update(u32(1), u32(11), BPF_NOEXIST)), '0', 'key 1 was evicted first');
      assert.equal(errnoOf(() => m.update(u32(2), u32(22), BPF_EXIST)), 'ENOENT');
      assert.deepEqual(keys(m), [1, ...range(3, 8)]);
      assert.deepEqual(m.lookup(u32(1)), u32(11));
    });

    it('8, P 2, BPF_F_NO_COMMON_LRU: insert 1…5 on CPU 0 → {5} (4 nodes per CPU, shrink target 4)', () => {
      const m = lruMap(8, 2, BPF_F_NO_COMMON_LRU);
      insert(m, 1, 2, 3, 4);
      assert.deepEqual(keys(m), [1, 2, 3, 4]);
      insert(m, 5);
      assert.deepEqual(keys(m), [5]);
    });

    it('BPF_F_NO_COMMON_LRU rounds max_entries up to a multiple of P (3 → 4 with P = 2)', () => {
      assert.equal(lruMap(3, 2, BPF_F_NO_COMMON_LRU).maxEntries, 4);
    });

    it('4, P 1 (T = 2): insert 1…5 → {3,4,5}', () => {
      const m = lruMap(4, 1);
      assert.equal(m.lruLists?.targetFree, 2);
      insert(m, ...range(1, 5));
      assert.deepEqual(keys(m), [3, 4, 5]);
    });

    it('4, P 1: insert 1…4, program lookups 1 and 2, insert 5 → {1,2,5}', () => {
      const m = lruMap(4, 1);
      insert(m, 1, 2, 3, 4);
      m.lookupElem(u32(1), 0);
      m.lookupElem(u32(2), 0);
      insert(m, 5);
      assert.deepEqual(keys(m), [1, 2, 5]);
    });
  });

  describe('other rules', () => {
    it('a failed update can still evict; no E2BIG ever', () => {
      const m = lruMap(8);
      insert(m, ...range(1, 8));
      assert.equal(errnoOf(() => m.update(u32(5), u32(0), BPF_NOEXIST)), 'EEXIST');
      assert.deepEqual(keys(m), range(3, 8), 'keys 1 and 2 evicted by the failed update');
    });

    it('a replacing update moves the element to a new node (new value address); on a full map it can evict the key itself', () => {
      const m = lruMap(4);
      insert(m, 1, 2, 3);
      const before = m.lookupElem(u32(1), 0);
      m.update(u32(1), u32(11), BPF_EXIST); // takes the last FREE node: nothing evicted
      assert.notEqual(m.lookupElem(u32(1), 0), before);
      assert.deepEqual(m.lookup(u32(1)), u32(11));
      assert.deepEqual(keys(m), [1, 2, 3]);
      const full = lruMap(4);
      insert(full, 1, 2, 3, 4);
      assert.equal(errnoOf(() => full.update(u32(1), u32(11), BPF_EXIST)), 'ENOENT', 'key 1 was evicted for the node');
      assert.deepEqual(keys(full), [2, 3, 4]);
    });

    it('delete returns the node; a later insert reuses it without evicting', () => {
      const m = lruMap(4);
      insert(m, 1, 2, 3, 4);
      m.delete(u32(3));
      insert(m, 5);
      assert.deepEqual(keys(m), [1, 2, 4, 5]);
    });

    it('LRU_PERCPU_HASH: replacing updates are in place and BPF_EXIST takes no node', () => {
      const m = lruMap(4, 2, 0, BPF_MAP_TYPE_LRU_PERCPU_HASH);
      const v = (x: number) => { const b = new Uint8Array(16); b.set(u32(x), 0); b.set(u32(x), 8); return b; };
      for (const k of [1, 2, 3, 4]) m.update(u32(k), v(k));
      const a = m.lookupElem(u32(4), 0);
      m.update(u32(4), v(44), BPF_EXIST);
      assert.equal(m.lookupElem(u32(4), 0), a);
      assert.deepEqual(keys(m), [1, 2, 3, 4], 'BPF_EXIST evicted nothing');
      m.update(u32(5), v(5));
      assert.deepEqual(keys(m), [2, 3, 4, 5]);
    });

    it('stealing: with the global lists empty, a node is taken from another CPU\'s PENDING list', () => {
      // P = 3, max 2, T = 1: CPUs 1 and 2 take the two nodes; CPU 0 finds nothing to refill or
      // shrink and steals CPU 1's oldest pending node (key 1), walking from its next_steal (0).
      const m = lruMap(2, 3);
      assert.equal(m.updateElem(u32(1), u32(1), BPF_ANY, 1), 0);
      assert.equal(m.updateElem(u32(2), u32(2), BPF_ANY, 2), 0);
      assert.equal(m.updateElem(u32(3), u32(3), BPF_ANY, 0), 0);
      assert.deepEqual(keys(m), [2, 3]);
      // Now CPU 0 flushes its own pending key 3 to INACTIVE and shrinks it.
      assert.equal(m.updateElem(u32(4), u32(4), BPF_ANY, 0), 0);
      assert.deepEqual(keys(m), [2, 4]);
    });
  });

  for (const engine of ENGINES) {
    describe(`progs/lru.bpf.o: program lookups set ref [${engine}]`, () => {
      const load = (nrCpus?: number) => loadEvery(join(PROJECT_ROOT, 'progs', 'lru.bpf.o'), { engine, ...(nrCpus ? { nrCpus } : {}) });
      const run = (obj: LoadedObject, prog: 'lookup' | 'update', key: number, flags = BPF_ANY) => {
        obj.setGlobal('key', key);
        obj.setGlobal('val', key * 10);
        obj.setGlobal('flags', flags);
        return BigInt.asIntN(32, obj.program(prog).run().retval);
      };

      it('4, P 2: update 1…4, lookup 1, update 5 → {1,3,4,5}, update 6 → {1,4,5,6}', () => {
        const obj = load();
        for (const k of [1, 2, 3, 4]) assert.equal(run(obj, 'update', k), 0n);
        assert.equal(run(obj, 'lookup', 1), 10n);
        assert.equal(run(obj, 'update', 5), 0n);
        assert.deepEqual(keys(obj.map('lru')), [1, 3, 4, 5]);
        assert.equal(run(obj, 'update', 6), 0n);
        assert.deepEqual(keys(obj.map('lru')), [1, 4, 5, 6]);
      });

      it('4, P 1: update 1…4, lookups 1 and 2, update 5 → {1,2,5}', () => {
        const obj = load(1);
        for (const k of [1, 2, 3, 4]) assert.equal(run(obj, 'update', k), 0n);
        assert.equal(run(obj, 'lookup', 1), 10n);
        assert.equal(run(obj, 'lookup', 2), 20n);
        assert.equal(run(obj, 'update', 5), 0n);
        assert.deepEqual(keys(obj.map('lru')), [1, 2, 5]);
        assert.equal(run(obj, 'lookup', 3), -1n);
        assert.equal(obj.global('found').value, 0n);
      });

      it('4, P 2: NOEXIST on a present key can succeed (host inserts, program update)', () => {
        const obj = load();
        const m = obj.map('lru');
        for (const k of [1, 2, 3, 4]) m.update(u32(k), u32(k * 10));
        // T = 1: the update evicts key 1 (the oldest) to get its node, then inserts key 1.
        assert.equal(run(obj, 'update', 1, BPF_NOEXIST), 0n);
        assert.deepEqual(keys(m), [1, 2, 3, 4]);
        assert.deepEqual(m.lookup(u32(1)), u32(10));
      });
    });
  }

  // Traces recorded on Linux 6.18 (2 possible CPUs) by scripts/kernel-oracle/lru_syscall.py:
  // syscall updates, lookups and deletes and program lookups (a SEC("syscall")-type program run
  // with BPF_PROG_TEST_RUN), each pinned to CPU 0 or 1; the keys present after every step.
  describe('replays the kernel\'s traces (test/data/kernel-syscall/lru.json)', () => {
    interface Step { op: 'update' | 'lookup' | 'prog_lookup' | 'delete'; cpu: number; key: number; flags?: number;
      errno: number; found?: number; keys: number[] }
    interface Trace { name: string; type: number; max_entries: number; flags: number; max_entries_info: number; steps: Step[] }
    const data = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'data', 'kernel-syscall', 'lru.json'), 'utf8')) as
      { kernel: string; possible_cpus: string; traces: Trace[] };
    const nrCpus = Number(data.possible_cpus.split('-').pop()) + 1;

    it('was recorded with 2 possible CPUs (bpfrun\'s default)', () => assert.equal(nrCpus, 2));

    for (const t of data.traces) {
      it(`${t.name}: ${t.steps.length} steps, max_entries ${t.max_entries}${t.flags ? ' BPF_F_NO_COMMON_LRU' : ''}`, () => {
        const m = lruMap(t.max_entries, nrCpus, t.flags, t.type, 8);
        assert.equal(m.maxEntries, t.max_entries_info);
        const vsize = t.type === BPF_MAP_TYPE_LRU_PERCPU_HASH ? 8 * nrCpus : 8;
        t.steps.forEach((s, i) => {
          const where = `${t.name} step ${i}: ${s.op} ${s.key} on CPU ${s.cpu}`;
          m.hostCpu = s.cpu;
          const value = new Uint8Array(vsize);
          for (let off = 0; off < vsize; off += 8) new DataView(value.buffer).setBigUint64(off, BigInt(s.key * 10), true);
          const want = s.errno === 0 ? '0' : errnoName(s.errno);
          if (s.op === 'update') assert.equal(errnoOf(() => m.update(u32(s.key), value, s.flags)), want, where);
          else if (s.op === 'delete') assert.equal(errnoOf(() => m.delete(u32(s.key))), want, where);
          else if (s.op === 'lookup') assert.equal(m.lookup(u32(s.key)) === undefined ? 'ENOENT' : '0', want, where);
          else assert.equal(m.lookupElem(u32(s.key), s.cpu) !== 0n ? 1 : 0, s.found, where);
          assert.deepEqual(keys(m), s.keys, where);
        });
      });
    }
  });
});
