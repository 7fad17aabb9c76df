// Maps shaped before load, as a loader does it: libbpf's bpf_map__set_* setters and elements
// written between creation and the first run (BpfObject.setMapAttributes / addMapEntries, and
// the CLI's --map, --map-entry, --map-entries). --kconfig: test/kconfig.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { LoadError, MapError } from '../src/errors.js';
import { openObject } from '../src/object.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const MAPS = join(PROJECT_ROOT, 'progs', 'maps.bpf.o');
const XDP = join(PROJECT_ROOT, 'progs', 'net_xdp.bpf.o');
const E2BIG = -7n;

const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const u64 = (n: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n, true); return b; };
/** r_hash_ins[4] and r_hash_full, as use_hash left them. */
function hashResults(obj: ReturnType<ReturnType<typeof openObject>['load']>): bigint[] {
  const ins = obj.global('r_hash_ins').bytes;
  const v = new DataView(ins.buffer, ins.byteOffset);
  return [0, 1, 2, 3].map((k) => v.getBigInt64(8 * k, true)).concat(obj.global('r_hash_full').value!);
}

for (const engine of ENGINES) {
  describe(`maps shaped before load [${engine}]`, () => {
    it('max_entries set before load is the size the program meets', () => {
      const as = openObject(MAPS).load({ engine });
      as.program('use_hash').run();
      assert.deepEqual(hashResults(as), [0n, 0n, 0n, 0n, E2BIG], 'as compiled: 4 entries');
      const opened = openObject(MAPS);
      opened.setMapAttributes('hash', { maxEntries: 8 });
      assert.equal(opened.mapDefinition('hash').maxEntries, 8);
      const bigger = opened.load({ engine });
      assert.equal(bigger.map('hash').spec.maxEntries, 8);
      bigger.program('use_hash').run();
      assert.deepEqual(hashResults(bigger), [0n, 0n, 0n, 0n, 0n]);
    });

    it('elements added before load are there when the first program runs', () => {
      const opened = openObject(MAPS);
      const val = new Uint8Array(16); // struct val {u64 count, sum}
      val.set(u64(99n), 0);
      opened.addMapEntries('hash', [[u32(9), val]]);
      const obj = opened.load({ engine });
      obj.program('use_hash').run();
      // key 9 takes a slot: the fourth insert finds the map full.
      assert.deepEqual(hashResults(obj).slice(0, 4), [0n, 0n, 0n, E2BIG]);
      assert.equal(obj.global('r_hash_exist_missing').value, 0n, 'key 9 exists, so BPF_EXIST succeeds');
    });

    it('a per-CPU map takes one value for every CPU', () => {
      const opened = openObject(MAPS);
      opened.addMapEntries('pcpu_hash', [[u32(5), u64(77n)]]);
      const obj = opened.load({ engine, nrCpus: 3 });
      const v = obj.map('pcpu_hash').lookup(u32(5))!;
      assert.equal(v.length, 24);
      assert.deepEqual([0, 8, 16].map((o) => new DataView(v.buffer).getBigUint64(o, true)), [77n, 77n, 77n]);
    });
  });
}

describe('maps shaped before load: the rules', () => {
  it('a ring buffer size is rounded up to a power-of-2 number of pages, as libbpf does', () => {
    const opened = openObject(MAPS);
    opened.setMapAttributes('rb', { maxEntries: 5000 });
    assert.equal(opened.mapDefinition('rb').maxEntries, 8192);
    opened.setMapAttributes('rb', { maxEntries: 16384 });
    assert.equal(opened.mapDefinition('rb').maxEntries, 16384);
    assert.equal(opened.load().map('rb').spec.maxEntries, 16384);
  });

  it('the kernel checks the result at load: a HASH with max_entries 0 is EINVAL', () => {
    const opened = openObject(MAPS);
    opened.setMapAttributes('hash', { maxEntries: 0 });
    assert.throws(() => opened.load(), (e: unknown) => e instanceof MapError && e.map === 'hash' && e.errno === 'EINVAL');
  });

  it('refuses global data sections, unknown maps and values out of range, naming the map', () => {
    const opened = openObject(MAPS);
    assert.throws(() => opened.setMapAttributes('maps.bss', { maxEntries: 2 }), (e: unknown) => e instanceof LoadError && /map maps\.bss: a global data section/.test(e.message));
    assert.throws(() => opened.addMapEntries('maps.rodata', []), LoadError);
    assert.throws(() => opened.setMapAttributes('nope', { maxEntries: 2 }), /map nope: no such map \(have: jmp_table, arr, /);
    assert.throws(() => opened.setMapAttributes('hash', { maxEntries: -1 }), /map hash: max_entries must be an integer in 0\.\.4294967295, got -1/);
    assert.throws(() => opened.setMapAttributes('hash', { valueSize: 1.5 }), /value_size must be an integer/);
  });

  it('an element the kernel would refuse is a load error naming the map and the element', () => {
    const opened = openObject(MAPS);
    opened.addMapEntries('arr', [[u32(0), u64(1n)], [u32(7), u64(2n)]]);
    assert.throws(() => opened.load(), (e: unknown) => e instanceof LoadError && /^map arr element 1: .*E2BIG/.test(e.message));
    const wrongSize = openObject(MAPS);
    wrongSize.addMapEntries('lru', [[u32(1), u64(1n)]]);
    assert.throws(() => wrongSize.load(), /map lru element 0: .*value must be 4 bytes, got 8/);
  });
});

describe('bpfrun: --map, --map-entry, --map-entries', () => {
  const frame = (dport: number) => {
    const udp = '04d2' + dport.toString(16).padStart(4, '0') + '000d0000' + '68656c6c6f';
    return '020000000002020000000001' + '0800' + '4500002112340000401100000a0000010a000002' + udp;
  };

  it('an element given on the command line turns the xdp_lb miss into a hit', () => {
    const miss = bpfrun(['test-run', XDP, '--prog', 'xdp_lb', '--data-hex', frame(5678)]);
    assert.match(miss.stdout, /retval 1 \(XDP_DROP\)/);
    const hit = bpfrun(['test-run', XDP, '--prog', 'xdp_lb', '--data-hex', frame(5678), '--map-entry', 'lb_ports:2e16=0500000000000000']);
    assert.equal(hit.status, 0, hit.stderr);
    assert.match(hit.stdout, /retval 2 \(XDP_PASS\)/);
  });

  it('a JSON file of elements, keys and values as numbers or hex bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfrun-maps-'));
    const file = join(dir, 'ports.json');
    writeFileSync(file, JSON.stringify([{ key: 5678, value: 1 }, { key: '5000', value: '0200000000000000' }]));
    const r = bpfrun(['test-run', XDP, '--prog', 'xdp_lb', '--data-hex', frame(5678), '--map-entries', `lb_ports=${file}`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).verdict, 'XDP_PASS');
    writeFileSync(file, JSON.stringify([{ key: 70000, value: 1 }]));
    const bad = bpfrun(['test-run', XDP, '--prog', 'xdp_lb', '--data-hex', frame(5678), '--map-entries', `lb_ports=${file}`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ports\.json: element 0 key: expected hex bytes or an unsigned integer that fits 2 bytes, got 70000/);
  });

  it('--map NAME.FIELD=N resizes a map; bad forms are usage errors', () => {
    const small = bpfrun(['run', MAPS, '--prog', 'use_hash', '--map', 'hash.max_entries=8', '--json']);
    assert.equal(small.status, 0, small.stderr);
    assert.equal(JSON.parse(small.stdout).globals.r_hash_full.value, '0');
    const badField = bpfrun(['run', MAPS, '--map', 'hash.size=8']);
    assert.equal(badField.status, 2);
    assert.match(badField.stderr, /--map hash\.size=8: unknown field 'size' \(max_entries, key_size, value_size, map_flags, numa_node, map_extra\)/);
    const badMap = bpfrun(['run', MAPS, '--map', 'nope.max_entries=8']);
    assert.equal(badMap.status, 1);
    assert.match(badMap.stderr, /map nope: no such map/);
  });
});
