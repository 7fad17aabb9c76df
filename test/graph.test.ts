// BPF allocated objects, red-black trees and bpf_kptr_xchg (src/helpers/graph.ts) on
// progs/graph.bpf.o, on every engine. The values asserted are the ones Linux 6.18 gave
// (test/data/kernel/graph.json, which test/kernel-testrun.test.ts also replays byte for byte).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { RuntimeError } from '../src/errors.js';
import { createGraphKfuncs } from '../src/helpers/graph.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { loadObject, type LoadedObject } from '../src/object.js';
import type { CallContext } from '../src/runtime.js';
import { loadEvery } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const OBJ = join(PROJECT_ROOT, 'progs', 'graph.bpf.o');

const g = (obj: LoadedObject, name: string): bigint => {
  const v = obj.global(name).value;
  assert.notEqual(v, undefined, `${name} is an integer`);
  return v!;
};

/** An array of `long`s, as signed numbers. */
const longs = (obj: LoadedObject, name: string): number[] => {
  const b = obj.global(name).bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
};

const run = (obj: LoadedObject, name: string): number => obj.program(name).testRun({}).retval;

/** Keys (i * 5) & 7 for i = 0..15, sorted by key, then by insertion number. */
const SEQS = Array.from({ length: 16 }, (_, i) => i).sort((a, b) => ((a * 5) & 7) - ((b * 5) & 7) || a - b);

for (const engine of ENGINES) {
  describe(`BPF objects and rbtrees [${engine}]`, () => {
    let obj: LoadedObject;
    beforeEach(() => { obj = loadObject(OBJ, { engine }); });

    it('rbtree_order pops 16 nodes by key, equal keys in insertion order, then finds the tree empty', () => {
      for (let round = 0; round < 2; round++) {
        assert.equal(run(obj, 'rbtree_order'), 16);
        assert.deepEqual(longs(obj, 'keys_seen'), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
        assert.deepEqual(longs(obj, 'seqs_seen'), SEQS);
        assert.deepEqual(SEQS, [0, 8, 5, 13, 2, 10, 7, 15, 4, 12, 1, 9, 6, 14, 3, 11]);
        assert.equal(g(obj, 'add_sum'), 0n, 'bpf_rbtree_add returns 0');
        assert.equal(g(obj, 'empty_after'), 1n);
      }
    });

    it('rbtree_nulls: first on an empty tree, remove of an unadded node or of a node in another tree are NULL', () => {
      assert.equal(run(obj, 'rbtree_nulls'), 0);
      assert.equal(g(obj, 'null_first_empty'), 1n);
      assert.equal(g(obj, 'null_unadded'), 1n);
      assert.equal(g(obj, 'null_other_tree'), 1n);
      assert.equal(g(obj, 'other_first_key'), 7n, 'the node is still in groot2');
      assert.equal(g(obj, 'other_removed_key'), 7n, 'and removed from there');
    });

    it('kptr_swap: the ARRAY value\'s __kptr starts NULL, gives the node back, then is NULL again', () => {
      assert.equal(run(obj, 'kptr_swap'), 0);
      assert.equal(g(obj, 'xchg_first_null'), 1n);
      assert.equal(g(obj, 'xchg_back_key'), 42n);
      assert.equal(g(obj, 'xchg_last_null'), 1n);
    });

    it('kptr_stash: a node stashed in a HASH value survives the run and comes back in the next', () => {
      assert.deepEqual([run(obj, 'kptr_stash'), run(obj, 'kptr_stash'), run(obj, 'kptr_stash')], [0, 101, 102]);
      assert.equal(g(obj, 'stash_gen'), 103n);
    });

    it('obj_sizes: a 4088-byte object is allocated, an empty struct gives NULL', () => {
      assert.equal(run(obj, 'obj_sizes'), 0);
      assert.equal(g(obj, 'new_4088'), 1n);
      assert.equal(g(obj, 'new_empty'), 0n);
    });

    it('bpf_obj_drop of a pointer bpf_obj_new did not return, or of a dropped object, is a RuntimeError naming the call', () => {
      const every = loadEvery(OBJ, { engine });
      for (const [prog, reason] of [['bad_drop', /is not an object bpf_obj_new allocated/], ['bad_double_drop', /or it was dropped/]] as const) {
        assert.throws(() => every.program(prog).testRun({}), (e: unknown) => {
          assert.ok(e instanceof RuntimeError, `${prog}: expected RuntimeError, got ${String(e)}`);
          assert.match(e.message, /bpf_obj_drop/);
          assert.match(e.message, reason);
          return true;
        });
      }
    });
  });
}

describe('graph kfuncs on their own', () => {
  /** A CallContext with these arguments, enough for the natives that do not call back. */
  const call = (kernel: SimKernel, ...args: bigint[]): CallContext => ({
    index: 7,
    memory: kernel.memory,
    arg: (n) => args[n - 1] ?? 0n,
    argLo: (n) => Number(BigInt.asUintN(32, args[n - 1] ?? 0n)),
    argHi: (n) => Number((args[n - 1] ?? 0n) >> 32n),
    stop: () => { throw new Error('no stop'); },
    callFunction: () => { throw new Error('no callbacks'); },
    tailCall: () => false,
    frames: () => [],
  });

  it('bpf_obj_drop of a pointer not from bpf_obj_new throws a RuntimeError naming bpf_obj_drop at the call', () => {
    const kernel = new SimKernel();
    const kf = createGraphKfuncs(kernel, (id) => (id === 5 ? 24 : undefined));
    const p = BigInt(kf.get('bpf_obj_new_impl')!(call(kernel, 5n, 0n)) as bigint);
    assert.notEqual(p, 0n);
    const drop = kf.get('bpf_obj_drop_impl')!;
    for (const bad of [p + 8n, 0x1234n]) {
      assert.throws(() => drop(call(kernel, bad, 0n)), (e: unknown) => {
        assert.ok(e instanceof RuntimeError);
        assert.equal(e.index, 7);
        assert.match(e.message, new RegExp(`bpf_obj_drop: 0x${bad.toString(16)} is not an object bpf_obj_new allocated`));
        return true;
      });
    }
    drop(call(kernel, p, 0n));
    assert.throws(() => drop(call(kernel, p, 0n)), /bpf_obj_drop: .* \(or it was dropped\)/);
  });

  it('bpf_obj_new of a type id that is not a struct is a RuntimeError; 0 and too-large sizes are NULL', () => {
    const kernel = new SimKernel();
    const sizes = new Map([[1, 0], [2, 4088], [3, 4089]]);
    const kf = createGraphKfuncs(kernel, (id) => sizes.get(id));
    const obNew = kf.get('bpf_obj_new_impl')!;
    assert.throws(() => obNew(call(kernel, 9n, 0n)), (e: unknown) => e instanceof RuntimeError && /bpf_obj_new: type id 9/.test(e.message));
    assert.equal(obNew(call(kernel, 1n, 0n)), 0n);
    assert.notEqual(obNew(call(kernel, 2n, 0n)), 0n);
    assert.equal(obNew(call(kernel, 3n, 0n)), 0n);
  });
});
