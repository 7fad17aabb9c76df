// The batch commands (BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH, DELETE_BATCH)
// on the host API: lookupBatch, lookupAndDeleteBatch, updateBatch, deleteBatch (src/maps/batch.ts).
// - The kernel's answers are replayed from test/data/kernel-syscall/batch.json, recorded on
//   Linux 6.18 by scripts/kernel-oracle/batch_syscall.py (errnos, counts, cursors, values; hash
//   maps walk buckets in the kernel and insertion order here, so their keys are compared as the
//   set a whole walk returned).
// - BPF_F_CPU / BPF_F_ALL_CPUS are new in 7.x (not in the recording): from kernel/bpf/syscall.c
//   and bpf_map_check_op_flags.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MapError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { BPF_F_ALL_CPUS, BPF_F_CPU, MapBatchError, type BatchLookupResult } from '../src/maps/batch.js';
import { createMap, type BpfMap } from '../src/maps/map.js';
import type { MapInMap } from '../src/maps/map-in-map.js';
import type { MapSpec } from '../src/maps/types.js';
import {
  BPF_F_LOCK, BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF, BPF_NOEXIST, errnoName,
} from '../src/uapi.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const u64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
const num = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length).getUint32(0, true);

function errnoNumber(name: string): number {
  for (let n = 1; n < 1000; n++) if (errnoName(n) === name) return n;
  throw new Error(`unknown errno ${name}`);
}

/** The errno (0 for success) and, for a MapBatchError, the count it reports. */
function outcome(fn: () => unknown): { errno: number; count?: number } {
  try {
    fn();
    return { errno: 0 };
  } catch (e) {
    if (e instanceof MapBatchError) return { errno: errnoNumber(e.errno), count: e.count };
    if (e instanceof MapError) return { errno: errnoNumber(e.errno) };
    throw e;
  }
}

function make(type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0, nrCpus = 2): BpfMap {
  const spec: MapSpec = { name: 'm', type, keySize, valueSize, maxEntries, flags, mapExtra: 0n };
  return createMap(spec, new AddressSpace(), { nrCpus });
}

/** Every element through lookup batches of `count`, following the cursors. */
function walkAll(m: BpfMap, count: number, del = false): { keys: number[]; calls: BatchLookupResult[] } {
  const keys: number[] = [];
  const calls: BatchLookupResult[] = [];
  let inBatch: Uint8Array | undefined;
  for (let i = 0; i < 100; i++) {
    const r = del ? m.lookupAndDeleteBatch({ count, inBatch }) : m.lookupBatch({ count, inBatch });
    calls.push(r);
    keys.push(...r.keys.map(num));
    if (r.done) return { keys, calls };
    inBatch = r.outBatch;
  }
  throw new Error('the walk did not end');
}

interface Step {
  readonly op: string;
  readonly map: string;
  readonly errno: number;
  readonly type?: number; readonly key_size?: number; readonly value_size?: number; readonly max_entries?: number;
  readonly flags: number;
  readonly key?: string; readonly value?: string;
  readonly in_batch?: string | null; readonly count?: number; readonly elem_flags?: number; readonly count_out?: number;
  readonly out_batch?: string | null; readonly keys?: string[]; readonly values?: string[];
}

const HASHES = new Set([BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]);

describe('map batch operations', () => {
  describe('replayed from Linux 6.18 (test/data/kernel-syscall/batch.json)', () => {
    const rec = JSON.parse(readFileSync(new URL('../../test/data/kernel-syscall/batch.json', import.meta.url), 'utf8')) as
      { kernel: string; ncpus: number; steps: Step[] };

    it(`matches every step the kernel (${rec.kernel}) answered`, () => {
      const memory = new AddressSpace();
      const maps = new Map<string, BpfMap>();
      const lastOut = new Map<string, Uint8Array | undefined>();
      /** Hash walks: the key=value pairs since the walk started from NULL, ours and the kernel's. */
      const walks = new Map<string, { ours: string[]; kernel: string[] }>();
      const mismatches: string[] = [];
      // A lookup_and_delete walk that stops early removes what its order met first: the kernel's
      // bucket order there, insertion order here. When such a walk is over, the replay puts our
      // map in step with the kernel's (re-inserting what only we deleted, deleting what only it did).
      const pending = new Map<string, { ours: Map<string, Uint8Array>; kernel: Set<string> }>();
      const reconcile = (name: string) => {
        const p = pending.get(name);
        if (!p) return;
        pending.delete(name);
        const m = maps.get(name)!;
        for (const [k, v] of p.ours) if (!p.kernel.has(k)) m.update(bytes(k), v);
        for (const k of p.kernel) if (!p.ours.has(k)) m.delete(bytes(k));
      };
      rec.steps.forEach((s, i) => {
        const where = `step ${i} ${s.op} ${s.map}${s.in_batch !== undefined ? ` in ${s.in_batch}` : ''} count ${s.count ?? ''} elem_flags ${s.elem_flags ?? ''} flags ${s.flags}`;
        const check = (what: string, got: unknown, want: unknown) => {
          if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${where}: ${what} ${JSON.stringify(got)}, kernel ${JSON.stringify(want)}`);
        };
        if (s.op === 'create') {
          const spec: MapSpec = { name: s.map, type: s.type!, keySize: s.key_size!, valueSize: s.value_size!, maxEntries: s.max_entries!, flags: s.flags, mapExtra: 0n };
          let made: BpfMap | undefined;
          check('create errno', outcome(() => { made = createMap(spec, memory, { nrCpus: rec.ncpus }); }).errno, s.errno);
          if (made) maps.set(s.map, made);
          return;
        }
        const m = maps.get(s.map)!;
        if (!(s.op === 'lookup_and_delete_batch' && s.in_batch === 'prev')) reconcile(s.map);
        if (s.op === 'update') {
          check('errno', outcome(() => m.update(bytes(s.key!), bytes(s.value!), s.flags)).errno, s.errno);
          return;
        }
        // A MapBatchError reports the count the kernel wrote; an early MapError leaves it as passed in.
        const countAfterError = (o: { errno: number; count?: number }) => o.count ?? s.count;
        if (s.op === 'update_batch' || s.op === 'delete_batch') {
          const keys = s.keys!.map(bytes);
          let done = 0;
          const o = outcome(() => {
            done = s.op === 'update_batch'
              ? m.updateBatch(keys, s.values!.map(bytes), { count: s.count, elemFlags: s.elem_flags, flags: s.flags })
              : m.deleteBatch(keys, { count: s.count, elemFlags: s.elem_flags, flags: s.flags });
          });
          check('errno', o.errno, s.errno);
          check('count', o.errno ? countAfterError(o) : done, s.count_out);
          return;
        }
        const del = s.op === 'lookup_and_delete_batch';
        const inBatch = s.in_batch === null ? undefined : s.in_batch === 'prev' ? lastOut.get(s.map) : bytes(s.in_batch!);
        let r: BatchLookupResult | undefined;
        const o = outcome(() => {
          const opts = { count: s.count!, inBatch, elemFlags: s.elem_flags, flags: s.flags };
          r = del ? m.lookupAndDeleteBatch(opts) : m.lookupBatch(opts);
        });
        if (!r) {
          check('errno', o.errno, s.errno);
          check('count', countAfterError(o), s.count_out);
          return;
        }
        check('errno', r.done ? 2 : 0, s.errno);
        check('count', r.count, s.count_out);
        const written = r.outBatch !== inBatch;
        const hash = HASHES.has(m.type);
        if (hash) {
          // An explicit cursor means a bucket to the kernel and a position here: only errno and count compare.
          if (s.in_batch === null || s.in_batch === 'prev') check('out_batch written', written, s.out_batch !== null);
          if (s.in_batch === null) walks.set(s.map, { ours: [], kernel: [] });
          const w = walks.get(s.map);
          if (w) {
            r.keys.forEach((k, j) => w.ours.push(`${hex(k)}=${hex(r!.values[j])}`));
            s.keys!.forEach((k, j) => w.kernel.push(`${k}=${s.values![j]}`));
            if (r.done) check('elements of the walk', [...w.ours].sort(), [...w.kernel].sort());
          }
          if (del) {
            const p = pending.get(s.map) ?? { ours: new Map<string, Uint8Array>(), kernel: new Set<string>() };
            pending.set(s.map, p);
            r.keys.forEach((k, j) => p.ours.set(hex(k), r!.values[j]));
            s.keys!.forEach((k) => p.kernel.add(k));
            if (r.done) reconcile(s.map);
          }
        } else {
          check('out_batch', written ? hex(r.outBatch!) : null, s.out_batch);
          check('keys', r.keys.map(hex), s.keys);
          check('values', r.values.map(hex), s.values);
        }
        lastOut.set(s.map, written ? r.outBatch : inBatch ?? lastOut.get(s.map));
      });
      assert.deepEqual(mismatches, []);
      assert.ok(rec.steps.length > 150);
    });
  });

  describe('ARRAY and PERCPU_ARRAY: lookup and update; no delete', () => {
    it('updates in order and stops at the first failure with the count done', () => {
      const m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
      assert.equal(m.updateBatch([u32(0), u32(1), u32(2), u32(3)], [u64(10), u64(11), u64(12), u64(13)]), 4);
      const e = assert.throws(() => m.updateBatch([u32(1), u32(9), u32(2)], [u64(21), u64(29), u64(22)]),
        (err: unknown) => err instanceof MapBatchError && err.errno === 'E2BIG' && err.count === 1);
      void e;
      assert.equal(hex(m.lookup(u32(1))!), hex(u64(21)));
      assert.equal(hex(m.lookup(u32(2))!), hex(u64(12)));
      // BPF_NOEXIST / BPF_EXIST are not batch elem_flags.
      assert.deepEqual(outcome(() => m.updateBatch([u32(0)], [u64(1)], { elemFlags: BPF_NOEXIST })), { errno: 22 });
    });

    it('lookups walk keys with the last key as the cursor; ENOENT ends with a partial count', () => {
      const m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 5);
      m.updateBatch([0, 1, 2, 3, 4].map(u32), [0, 1, 2, 3, 4].map((i) => u64(100 + i)));
      const a = m.lookupBatch({ count: 2 });
      assert.deepEqual([a.count, a.done, a.keys.map(num), hex(a.outBatch!)], [2, false, [0, 1], hex(u32(1))]);
      assert.equal(hex(a.values[1]), hex(u64(101)));
      const b = m.lookupBatch({ count: 2, inBatch: a.outBatch });
      const c = m.lookupBatch({ count: 2, inBatch: b.outBatch });
      assert.deepEqual([c.count, c.done, c.keys.map(num)], [1, true, [4]]);
      const d = m.lookupBatch({ count: 2, inBatch: c.outBatch });
      assert.deepEqual([d.count, d.done], [0, true]);
      assert.equal(d.outBatch, c.outBatch, 'out_batch is left alone when nothing was returned');
      // count 0: nothing happens, not even the end.
      const z = m.lookupBatch({ count: 0, inBatch: c.outBatch });
      assert.deepEqual([z.count, z.done], [0, false]);
    });

    it('has no delete batches (ENOTSUPP)', () => {
      const m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 2);
      assert.deepEqual(outcome(() => m.deleteBatch([u32(0)])), { errno: 524 });
      assert.deepEqual(outcome(() => m.lookupAndDeleteBatch({ count: 1 })), { errno: 524 });
    });

    it('PERCPU_ARRAY: every CPU value 8-aligned, or one CPU with BPF_F_CPU (7.x)', () => {
      const m = make(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2, 0, 3);
      const v = (base: number) => { const b = new Uint8Array(24); for (let c = 0; c < 3; c++) b.set(u32(base + c), c * 8); return b; };
      m.updateBatch([u32(0), u32(1)], [v(10), v(20)]);
      const r = m.lookupBatch({ count: 5 });
      assert.deepEqual([r.count, r.done, hex(r.values[1])], [2, true, hex(v(20))]);
      const one = m.lookupBatch({ count: 5, elemFlags: BPF_F_CPU + 2 * 2 ** 32 });
      assert.deepEqual(one.values.map(num), [12, 22]);
      assert.equal(one.values[0].length, 4);
      m.updateBatch([u32(1)], [u32(7)], { elemFlags: BigInt(BPF_F_CPU) | (1n << 32n) });
      assert.equal(hex(m.lookup(u32(1))!), hex(Uint8Array.from([...u32(20), 0, 0, 0, 0, ...u32(7), 0, 0, 0, 0, ...u32(22), 0, 0, 0, 0])));
      m.updateBatch([u32(0)], [u32(9)], { elemFlags: BPF_F_ALL_CPUS });
      assert.equal(hex(m.lookup(u32(0))!), hex(Uint8Array.from([9, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0])));
      assert.deepEqual(outcome(() => m.lookupBatch({ count: 1, elemFlags: BPF_F_CPU + 3 * 2 ** 32 })), { errno: 34 });
      assert.deepEqual(outcome(() => m.updateBatch([u32(0)], [u32(1)], { elemFlags: BPF_F_CPU | BPF_F_ALL_CPUS })), { errno: 22 });
      assert.deepEqual(outcome(() => make(BPF_MAP_TYPE_ARRAY, 4, 4, 2).lookupBatch({ count: 1, elemFlags: BPF_F_CPU })), { errno: 22 });
      assert.deepEqual(outcome(() => m.lookupBatch({ count: 1, elemFlags: 2 ** 32 })), { errno: 22 });
    });
  });

  describe('the hash family: all four, in insertion order with position cursors', () => {
    for (const [name, type] of [['HASH', BPF_MAP_TYPE_HASH], ['PERCPU_HASH', BPF_MAP_TYPE_PERCPU_HASH],
      ['LRU_HASH', BPF_MAP_TYPE_LRU_HASH], ['LRU_PERCPU_HASH', BPF_MAP_TYPE_LRU_PERCPU_HASH]] as const) {
      it(`${name}: walks, partial ends, lookup_and_delete, delete with a partial count`, () => {
        const m = make(type, 4, 4, 16);
        const vsize = m.hostValueSize;
        const val = (k: number) => { const b = new Uint8Array(vsize); for (let o = 0; o < vsize; o += 8) b.set(u32(k * 10 + o), o); return b; };
        const keys = [5, 3, 9, 1, 7];
        assert.equal(m.updateBatch(keys.map(u32), keys.map(val)), 5);
        assert.deepEqual(walkAll(m, 2).keys, keys, 'the order of get_next_key');
        const full = m.lookupBatch({ count: 5 });
        assert.deepEqual([full.count, full.done], [5, true], 'the last element ends the walk even when count is exactly filled');
        assert.deepEqual(full.values.map(hex), keys.map((k) => hex(val(k))));
        const empty = m.lookupBatch({ count: 3, inBatch: full.outBatch });
        assert.deepEqual([empty.count, empty.done, empty.outBatch], [0, true, full.outBatch]);

        // The cursor survives deletions; elements inserted later come after it.
        const a = m.lookupBatch({ count: 2 });
        m.delete(u32(9));
        m.update(u32(42), val(42));
        const rest = walkAll(m, 2);
        assert.deepEqual(walkAll(m, 10).keys, [5, 3, 1, 7, 42]);
        const b = m.lookupBatch({ count: 10, inBatch: a.outBatch });
        assert.deepEqual(b.keys.map(num), [1, 7, 42]);
        void rest;

        // lookup_and_delete returns and removes.
        const got = walkAll(m, 2, true).keys;
        assert.deepEqual(got, [5, 3, 1, 7, 42]);
        assert.equal(m.nextKey(undefined), undefined);
        const none = m.lookupAndDeleteBatch({ count: 4 });
        assert.deepEqual([none.count, none.done], [0, true]);

        m.updateBatch([1, 2, 3].map(u32), [1, 2, 3].map(val));
        assert.throws(() => m.deleteBatch([u32(1), u32(8), u32(3)]),
          (e: unknown) => e instanceof MapBatchError && e.errno === 'ENOENT' && e.count === 1);
        assert.deepEqual(walkAll(m, 4).keys, [2, 3]);
        assert.equal(m.deleteBatch([u32(2)], { count: 0 }), 0);
        assert.equal(m.deleteBatch([u32(2), u32(3)], { flags: 7 }), 2, 'delete ignores the batch flags');
      });
    }

    it('rejects batch flags, BPF_F_LOCK without a spin lock, and BPF_F_CPU on lookup_and_delete', () => {
      const h = make(BPF_MAP_TYPE_HASH, 4, 4, 4);
      h.update(u32(1), u32(1));
      assert.deepEqual(outcome(() => h.lookupBatch({ count: 1, flags: 1 })), { errno: 22 });
      assert.deepEqual(outcome(() => h.lookupBatch({ count: 0, flags: 1 })), { errno: 22 });
      assert.deepEqual(outcome(() => h.lookupBatch({ count: 1, elemFlags: BPF_F_LOCK })), { errno: 22 });
      assert.deepEqual(outcome(() => h.deleteBatch([u32(1)], { elemFlags: BPF_F_LOCK })), { errno: 22 });
      assert.deepEqual(outcome(() => h.lookupBatch({ count: 1, elemFlags: BPF_F_CPU })), { errno: 22 });
      const p = make(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 4);
      p.update(u32(1), Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
      assert.deepEqual(p.lookupBatch({ count: 1, elemFlags: BPF_F_CPU + 2 ** 32 }).values.map(num), [2]);
      assert.deepEqual(outcome(() => p.lookupAndDeleteBatch({ count: 1, elemFlags: BPF_F_CPU })), { errno: 22 });
      // A cursor past the end: ENOENT at once.
      const r = h.lookupBatch({ count: 1, inBatch: u32(0xffffffff) });
      assert.deepEqual([r.count, r.done], [0, true]);
    });

    it('LRU_HASH: an update batch past max_entries evicts instead of failing', () => {
      const m = make(BPF_MAP_TYPE_LRU_HASH, 4, 8, 4);
      const keys = [1, 2, 3, 4, 5, 6];
      assert.equal(m.updateBatch(keys.map(u32), keys.map(u64)), 6);
      const all = m.lookupBatch({ count: 10 });
      assert.deepEqual([all.count, all.done], [4, true]);
      for (let i = 0; i < all.count; i++) assert.equal(hex(all.values[i]), hex(u64(num(all.keys[i]))));
      assert.ok(all.keys.map(num).includes(6), 'the last insert is never the one evicted');
      const gone = m.lookupAndDeleteBatch({ count: 10 });
      assert.deepEqual([gone.count, gone.done], [4, true]);
      assert.equal(m.nextKey(undefined), undefined);
    });

    it('HASH: a full map stops an update batch with E2BIG and the count done', () => {
      const m = make(BPF_MAP_TYPE_HASH, 4, 8, 2);
      assert.throws(() => m.updateBatch([1, 2, 3].map(u32), [1, 2, 3].map(u64)),
        (e: unknown) => e instanceof MapBatchError && e.errno === 'E2BIG' && e.count === 2);
    });
  });

  describe('other types', () => {
    it('LPM_TRIE: lookup, update and delete; no lookup_and_delete', () => {
      const m = make(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 8, BPF_F_NO_PREALLOC);
      const k = (plen: number, ...b: number[]) => Uint8Array.from([...u32(plen), ...b]);
      assert.equal(m.updateBatch([k(16, 10, 1, 0, 0), k(8, 10, 0, 0, 0)], [u32(1), u32(2)]), 2);
      const r = m.lookupBatch({ count: 10 });
      assert.deepEqual([r.count, r.done], [2, true]);
      assert.deepEqual(outcome(() => m.lookupAndDeleteBatch({ count: 1 })), { errno: 524 });
      assert.equal(m.deleteBatch([k(8, 10, 0, 0, 0)]), 1);
    });

    it('ARRAY_OF_MAPS (lookup, update) and HASH_OF_MAPS (all four) exchange inner map ids', () => {
      const memory = new AddressSpace();
      const tmpl: MapSpec = { name: 't', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2, flags: 0, mapExtra: 0n };
      const aom = createMap({ ...tmpl, name: 'aom', type: BPF_MAP_TYPE_ARRAY_OF_MAPS, valueSize: 4, maxEntries: 3, innerMap: tmpl }, memory, { nrCpus: 2 }) as MapInMap;
      const hom = createMap({ ...tmpl, name: 'hom', type: BPF_MAP_TYPE_HASH_OF_MAPS, valueSize: 4, maxEntries: 4, innerMap: tmpl }, memory, { nrCpus: 2 }) as MapInMap;
      const inner = createMap({ ...tmpl, name: 'a' }, memory, { nrCpus: 2 });
      aom.setInner(u32(0), inner);
      const id = aom.lookup(u32(0))!;
      // ARRAY_OF_MAPS: empty slots are skipped (ENOENT from the copy), the walk ends with ENOENT.
      assert.equal(aom.updateBatch([u32(2)], [id]), 1);
      const a = aom.lookupBatch({ count: 5 });
      assert.deepEqual([a.keys.map(num), a.values.map(hex), a.done], [[0, 2], [hex(id), hex(id)], true]);
      assert.deepEqual(outcome(() => aom.deleteBatch([u32(0)])), { errno: 524 });
      assert.deepEqual(outcome(() => aom.updateBatch([u32(1)], [u32(999)])), { errno: 9, count: 0 });
      // HASH_OF_MAPS: the hash walk (ids from hom's own registry).
      hom.setInner(u32(99), inner);
      const hid = hom.lookup(u32(99))!;
      hom.delete(u32(99));
      assert.equal(hom.updateBatch([u32(7), u32(3), u32(5)], [hid, hid, hid]), 3);
      const w = walkAll(hom, 2);
      assert.deepEqual(w.keys, [7, 3, 5]);
      assert.equal(hex(w.calls[0].values[0]), hex(hid));
      hom.delete(u32(7));
      hom.update(u32(7), hid);
      assert.deepEqual(walkAll(hom, 1).keys, [3, 5, 7]);
      assert.deepEqual(walkAll(hom, 2, true).keys, [3, 5, 7]);
      assert.equal(hom.size, 0);
    });

    it('QUEUE, BLOOM_FILTER, RINGBUF: ENOTSUPP for all four', () => {
      for (const m of [make(BPF_MAP_TYPE_QUEUE, 0, 4, 4), make(BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 4), make(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096)]) {
        assert.deepEqual(outcome(() => m.lookupBatch({ count: 1 })), { errno: 524 });
        assert.deepEqual(outcome(() => m.lookupAndDeleteBatch({ count: 1 })), { errno: 524 });
        assert.deepEqual(outcome(() => m.updateBatch([new Uint8Array(0)], [u32(1)])), { errno: 524 });
        assert.deepEqual(outcome(() => m.deleteBatch([new Uint8Array(0)])), { errno: 524 });
      }
    });

    it('a frozen map refuses the writing batches (EPERM) before anything else', () => {
      const m = make(BPF_MAP_TYPE_ARRAY, 4, 8, 2);
      m.freeze();
      assert.deepEqual(outcome(() => m.updateBatch([u32(0)], [u64(1)])), { errno: 1 });
      assert.deepEqual(outcome(() => m.deleteBatch([u32(0)])), { errno: 1 }, 'EPERM before ENOTSUPP');
      assert.equal(m.lookupBatch({ count: 2 }).count, 2);
    });
  });
});
