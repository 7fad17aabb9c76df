// PERF_EVENT_ARRAY and bpf_perf_event_output (spec program-types §4.9, maps-and-kernel-objects
// §2.9): the record a reader sees (header, raw_size rounding, zero padding, misc), the packet
// bytes BPF_F_CTXLEN_MASK appends (XDP and tc, across fragments), every errno in the kernel's
// order, a full ring (ENOSPC, then a LOST record), BPF_F_CURRENT_CPU on another CPU, the host's
// map operations, and the records in the CLI's reports and in the run record.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { MapError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { createMap } from '../src/maps/map.js';
import { PerfEventArrayMap, type PerfRecord } from '../src/maps/perf-event-array.js';
import type { MapSpec } from '../src/maps/types.js';
import { loadObject, type LoadedObject, type LoadOptions } from '../src/object.js';
import { decodeRecord, encodeRecord, formatInspect } from '../src/record.js';
import { runPrograms } from '../src/runs.js';
import {
  BPF_ANY, BPF_F_MMAPABLE, BPF_F_PRESERVE_ELEMS, BPF_F_RDONLY_PROG, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_NOEXIST,
} from '../src/uapi.js';
import { bpfrun, throwsLoad } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const OBJ = join(PROJECT_ROOT, 'progs', 'net_perf.bpf.o');
const EINVAL = -22n, EFAULT = -14n, E2BIG = -7n, ENOENT = -2n, EOPNOTSUPP = -95n, ENOSPC = -28n;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const u32le = (...words: number[]) => {
  const b = new Uint8Array(4 * words.length);
  words.forEach((w, i) => new DataView(b.buffer).setUint32(4 * i, w, true));
  return b;
};
/** The programs' `struct sample`: magic, length, seq. */
const sampleStruct = (magic: number, len: number, seq: number) => u32le(magic, len, seq);
const XDP_MAGIC = 0x58445021, TC_MAGIC = 0x43540021;
/** An Ethernet frame of `n` bytes, byte k = k mod 251. */
const frame = (n: number) => Uint8Array.from({ length: n }, (_, k) => k % 251);
const perf = (o: LoadedObject, name = 'events') => o.map(name) as PerfEventArrayMap;
const ret = (o: LoadedObject) => BigInt.asIntN(64, o.global('ret').value!);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
/** What a sample of `bytes` looks like to the reader: raw_size = round_up(n + 4, 8) - 4, zero padded. */
const padded = (bytes: Uint8Array) => {
  const out = new Uint8Array(Math.ceil((bytes.length + 4) / 8) * 8 - 4);
  out.set(bytes);
  return out;
};
const sample = (r: PerfRecord) => ({ cpu: r.cpu, slot: r.slot, type: r.type, misc: r.misc, size: r.size, data: hex(r.data) });

for (const engine of ENGINES) {
  describe(`perf event output [${engine}]`, () => {
    const load = (options: LoadOptions = {}) => loadObject(OBJ, { engine, ...options });

    it('writes PERF_RECORD_SAMPLE records with raw_size rounded up (10 → 12, 12 → 12, 13 → 20) and zero padding', () => {
      const o = load();
      assert.equal(o.program('tp_sizes').run().retval, 0n);
      assert.equal(ret(o), 0n);
      const bytes = Uint8Array.from({ length: 13 }, (_, k) => k + 1);
      const m = perf(o);
      // The ring as the reader's mmap holds it: header {type 9, misc 1, size}, u32 raw_size, bytes.
      const ring = m.ring(0)!;
      assert.equal(ring.head, 24 + 24 + 32);
      assert.equal(ring.tail, 0);
      assert.deepEqual([...ring.data.subarray(0, 12)], [9, 0, 0, 0, 1, 0, 24, 0, 12, 0, 0, 0]);
      assert.deepEqual([...ring.data.subarray(48, 60)], [9, 0, 0, 0, 1, 0, 32, 0, 20, 0, 0, 0]);
      const records = m.drain();
      assert.deepEqual(records.map(sample), [
        { cpu: 0, slot: 0, type: 'sample', misc: 1, size: 24, data: hex(padded(bytes.subarray(0, 10))) },
        { cpu: 0, slot: 0, type: 'sample', misc: 1, size: 24, data: hex(bytes.subarray(0, 12)) },
        { cpu: 0, slot: 0, type: 'sample', misc: 1, size: 32, data: hex(padded(bytes)) },
      ]);
      assert.deepEqual(records.map((r) => r.data.length), [12, 12, 20]);
      // The reader consumed them: the ring is empty, its space free again.
      assert.deepEqual(m.drain(), []);
      assert.equal(m.event(0)!.unread, 0);
    });

    it('XDP: appends BPF_F_CTXLEN_MASK packet bytes from data, across fragments; EFAULT past bpf_xdp_get_buff_len', () => {
      const o = load();
      const x = o.program('xdp_perf');
      const m = perf(o);
      const data = frame(64);
      o.setGlobal('ctxlen', 0);
      assert.equal(x.testRun({ data }).retval, 2); // XDP_PASS
      o.setGlobal('ctxlen', 20);
      x.testRun({ data });
      const [plain, withBytes] = m.drain();
      assert.equal(plain.size, 24);
      assert.equal(hex(plain.data), hex(sampleStruct(XDP_MAGIC, 64, 1)));
      // 12 + 20 = 32 bytes: raw_size 36, record 48.
      assert.equal(withBytes.size, 48);
      assert.equal(hex(withBytes.data), hex(padded(concat(sampleStruct(XDP_MAGIC, 64, 2), data.subarray(0, 20)))));
      assert.equal(ret(o), 0n);

      // The whole packet is allowed, one byte more is EFAULT and writes nothing.
      o.setGlobal('ctxlen', 64);
      x.testRun({ data });
      assert.equal(ret(o), 0n);
      assert.equal(hex(m.drain()[0].data), hex(padded(concat(sampleStruct(XDP_MAGIC, 64, 3), data))));
      o.setGlobal('ctxlen', 65);
      x.testRun({ data });
      assert.equal(ret(o), EFAULT);
      assert.deepEqual(m.drain(), []);

      // 5000 bytes with 100 linear (ctx data_end): the rest is in fragments, and still appended.
      const big = frame(5000);
      o.setGlobal('ctxlen', 5000);
      x.testRun({ data: big, ctx: u32le(0, 100, 0, 0, 0, 0) });
      assert.equal(ret(o), 0n);
      const [r] = m.drain();
      assert.equal(r.data.length, 5012); // round_up(5012 + 4, 8) - 4
      assert.equal(hex(r.data), hex(padded(concat(sampleStruct(XDP_MAGIC, 100, 5), big))));
    });

    it('tc: appends skb bytes from skb->data (the MAC header) across fragments; EFAULT past skb->len', () => {
      const o = load();
      const t = o.program('tc_perf');
      const m = perf(o);
      const data = frame(60);
      o.setGlobal('ctxlen', 14);
      assert.equal(t.testRun({ data }).retval, 0);
      assert.equal(ret(o), 0n);
      const [r] = m.drain();
      assert.equal(r.misc, 1);
      assert.equal(hex(r.data), hex(padded(concat(sampleStruct(TC_MAGIC, 60, 1), data.subarray(0, 14)))));
      o.setGlobal('ctxlen', 61);
      t.testRun({ data });
      assert.equal(ret(o), EFAULT);
      assert.deepEqual(m.drain(), []);
      const big = frame(6000); // past the test run's linear part: fragments
      o.setGlobal('ctxlen', 6000);
      t.testRun({ data: big });
      assert.equal(ret(o), 0n);
      assert.equal(hex(m.drain()[0].data), hex(padded(concat(sampleStruct(TC_MAGIC, 6000, 3), big))));
    });

    it('checks flags and the slot in the kernel\'s order: EINVAL, E2BIG, ENOENT, EINVAL (event type), EOPNOTSUPP', () => {
      const o = load(); // 2 CPUs: events4 (max_entries 4) has events in slots 0 and 1
      const p = o.program('tp_flags');
      const m = perf(o, 'events4');
      const output = (flags: bigint, size = 5) => {
        o.setGlobal('flags', flags);
        o.setGlobal('size', size);
        p.run();
        return ret(o);
      };
      // Tracing programs: any bit above 31 is EINVAL, even with a bad index.
      assert.equal(output(1n << 32n), EINVAL);
      assert.equal(output((1n << 63n) | 7n), EINVAL);
      assert.equal(output(4n), E2BIG);
      assert.equal(output(0xfffffffen), E2BIG);
      assert.equal(output(3n), ENOENT);
      assert.equal(output(1n), EOPNOTSUPP); // CPU 1's event, the program runs on CPU 0
      assert.deepEqual(m.drain(), []);
      m.openEvent(2, { cpu: 0, bpfOutput: false });
      assert.equal(output(2n), EINVAL);
      m.openEvent(3, { cpu: 0 });
      assert.equal(output(3n, 0), 0n); // an empty sample: raw_size 4
      assert.equal(output(0n), 0n);
      assert.deepEqual(m.drain().map(sample), [
        { cpu: 0, slot: 0, type: 'sample', misc: 1, size: 24, data: 'ab' + '00'.repeat(11) },
        { cpu: 0, slot: 3, type: 'sample', misc: 1, size: 16, data: '00000000' },
      ]);
      // XDP: a bit outside CTXLEN_MASK | INDEX_MASK is EINVAL before the length is looked at.
      o.setGlobal('ctxlen', 1 << 20); // bit 52
      o.program('xdp_perf').testRun({ data: frame(64) });
      assert.equal(ret(o), EINVAL);
    });

    it('BPF_F_CURRENT_CPU writes to the running CPU\'s slot (load option cpu); max_entries 0 is one slot per CPU', () => {
      const o = load({ nrCpus: 4, cpu: 2 });
      const m = perf(o);
      assert.equal(m.maxEntries, 4);
      o.program('tp_sizes').run();
      assert.deepEqual(m.drain(0), []);
      const records = m.drain(2);
      assert.deepEqual(records.map((r) => [r.cpu, r.slot, r.size]), [[2, 2, 24], [2, 2, 24], [2, 2, 32]]);
      const flags = (f: bigint) => { o.setGlobal('flags', f); o.setGlobal('size', 1); o.program('tp_flags').run(); return ret(o); };
      assert.equal(flags(2n), 0n);
      assert.equal(flags(0n), EOPNOTSUPP);
      assert.equal(flags(0xffffffffn), 0n);
      assert.deepEqual(perf(o, 'events4').drain().map((r) => r.slot), [2, 2]);
    });

    it('replays what Linux 6.18 gave libbpf\'s perf_buffer for the same runs (test/data/kernel-perf.json)', () => {
      // Recorded by scripts/kernel-oracle/perf_check.py: one-page rings, the process on CPU 0.
      const k = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'data', 'kernel-perf.json'), 'utf8'));
      const o = load();
      const m = perf(o);
      m.openEvent(0, { pages: 1 });
      m.openEvent(1, { pages: 1 });
      const callbacks = () => m.drain().map((r) => (r.type === 'sample' ? ['sample', r.cpu, r.data.length, hex(r.data)] : ['lost', r.cpu, r.lost]));
      const run = (name: string, data?: Uint8Array, globals: Record<string, number> = {}) => {
        for (const [g, v] of Object.entries(globals)) o.setGlobal(g, v);
        const r = o.program(name).testRun(data ? { data } : {});
        return [r.errno, r.retval, Number(ret(o))];
      };
      assert.deepEqual(run('tp_sizes'), k.tp_sizes);
      const ring = m.ring(0)!;
      assert.deepEqual([ring.head, ring.tail, hex(ring.data.subarray(0, ring.head))], k.ring_tp_sizes);
      assert.deepEqual(callbacks(), k.tp_sizes_cb);
      const f = frame(64);
      assert.deepEqual(run('xdp_perf', f, { ctxlen: 0 }), k.xdp0);
      assert.deepEqual(run('xdp_perf', f, { ctxlen: 20 }), k.xdp20);
      assert.deepEqual(run('xdp_perf', f, { ctxlen: 65 }), k.xdp65);
      assert.deepEqual(run('xdp_perf', f, { ctxlen: 1 << 20 }), k.xdp_badflag);
      assert.deepEqual(run('tc_perf', f, { ctxlen: 14 }), k.tc14);
      assert.deepEqual(run('tc_perf', f, { ctxlen: 61 }), k.tc61);
      assert.deepEqual(callbacks(), k.pkt_cb);
      assert.deepEqual(run('tp_fill', undefined, { size: 100, count: 50 }), k.fill);
      assert.deepEqual([o.global('ok').value, o.global('nospc').value].map(Number), k.fill_ok_nospc);
      assert.deepEqual(m.drain().map((r) => [r.type, r.data.length]), k.fill_cb);
      assert.deepEqual(run('tp_fill', undefined, { count: 3 }), k.fill2);
      const after = m.ring(0)!;
      assert.deepEqual([after.head, after.tail], k.ring_after_lost);
      // The LOST record at the reader's tail: type 2, misc 0, size 24, u64 id (the event's own), u64 lost.
      const lost = Uint8Array.from({ length: 24 }, (_, i) => after.data[(after.tail + i) % after.data.length]);
      const expected = Buffer.from(k.lost_record, 'hex');
      assert.equal(hex(lost.subarray(0, 8)), hex(expected.subarray(0, 8)));
      assert.equal(hex(lost.subarray(16)), hex(expected.subarray(16)));
      assert.equal(new DataView(lost.buffer).getBigUint64(8, true), BigInt(m.event(0)!.id));
      assert.deepEqual(callbacks().map((c) => (c[0] === 'lost' ? ['lost', c[2]] : ['sample', c[2]])), k.fill2_cb);
    });

    it('a full ring: ENOSPC and the loss counted; a PERF_RECORD_LOST precedes the next sample; records wrap around', () => {
      const o = load();
      const m = perf(o);
      m.openEvent(0, { pages: 1 }); // a 4096-byte ring
      o.setGlobal('size', 100); // raw_size 100, records of 112 bytes: 36 fit in 4095 bytes
      o.setGlobal('count', 50);
      o.program('tp_fill').run();
      assert.equal(o.global('ok').value, 36n);
      assert.equal(o.global('nospc').value, 14n);
      assert.equal(ret(o), ENOSPC);
      assert.equal(m.event(0)!.lostSamples, 14);
      const first = m.drain();
      assert.equal(first.length, 36);
      assert.deepEqual(first.map((r) => r.data[0]), Array.from({ length: 36 }, (_, i) => i));
      assert.ok(first.every((r) => r.type === 'sample' && r.size === 112 && r.data.length === 100));

      // The next sample that fits comes after a LOST record {header, id, lost}; the records now wrap.
      o.setGlobal('ok', 0);
      o.setGlobal('nospc', 0);
      o.setGlobal('count', 3);
      o.program('tp_fill').run();
      assert.equal(o.global('ok').value, 3n);
      const ring = m.ring(0)!;
      assert.equal(ring.tail, 36 * 112);
      assert.equal(ring.head - ring.tail, 24 + 3 * 112);
      const [lost, ...samples] = m.drain();
      assert.deepEqual({ type: lost.type, misc: lost.misc, size: lost.size, lost: lost.lost, id: lost.id, data: lost.data.length },
        { type: 'lost', misc: 0, size: 24, lost: 14, id: m.event(0)!.id, data: 0 });
      assert.deepEqual(samples.map((r) => [r.type, r.data[0], r.data.length]), [['sample', 0, 100], ['sample', 1, 100], ['sample', 2, 100]]);
      assert.ok(samples.every((r) => r.data.subarray(1).every((b) => b === 0)));
      assert.equal(m.event(0)!.lostSamples, 14);
    });
  });
}

describe('PERF_EVENT_ARRAY map', () => {
  const spec = (over: Partial<MapSpec> = {}): MapSpec => ({
    name: 'pe', type: BPF_MAP_TYPE_PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, mapExtra: 0n, ...over,
  });
  const make = (over: Partial<MapSpec> = {}, nrCpus = 2) => createMap(spec(over), new AddressSpace(), { nrCpus }) as PerfEventArrayMap;
  const errno = (f: () => unknown, name: string, pattern?: RegExp) => assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof MapError, `expected MapError, got ${String(e)}`);
    assert.equal(e.errno, name);
    if (pattern) assert.match(e.reason, pattern);
    return true;
  });
  const key = (i: number) => u32le(i);

  it('applies the fd-array creation rules (spec §2.9)', () => {
    errno(() => make({ valueSize: 8 }), 'EINVAL', /value_size must be 4/);
    errno(() => make({ keySize: 8 }), 'EINVAL', /key_size must be 4/);
    errno(() => make({ maxEntries: 0 }), 'EINVAL', /max_entries/);
    errno(() => make({ flags: BPF_F_MMAPABLE }), 'EINVAL');
    errno(() => make({ flags: BPF_F_RDONLY_PROG }), 'EINVAL', /RDONLY_PROG/);
    assert.ok(make({ flags: BPF_F_PRESERVE_ELEMS }) instanceof PerfEventArrayMap);
  });

  it('opens one event per CPU at creation, in slots 0..nrCpus-1 only', () => {
    const m = make({}, 2);
    assert.deepEqual([0, 1, 2, 3].map((i) => m.event(i)?.cpu), [0, 1, undefined, undefined]);
    assert.equal(m.event(0)!.ringSize, 8 * 4096);
    assert.deepEqual([0, 1].map((i) => m.event(i)!.bpfOutput), [true, true]);
    const small = make({ maxEntries: 1 }, 4);
    assert.deepEqual([0].map((i) => small.event(i)?.cpu), [0]);
  });

  it('a sleepable (SEC("syscall")) program cannot use one: refused at load, as Linux 6.18 refused it', () => {
    for (const engine of ENGINES) {
      throwsLoad(() => loadObject(join(PROJECT_ROOT, 'progs', 'net_perf_sleepable.bpf.o'), { engine }), 'program sys_output',
        /map 'events': Sleepable programs can only use array, hash, ringbuf and local storage maps/);
    }
  });

  it('host operations: update (value = CPU), delete, no lookup, get_next_key', () => {
    const m = make();
    m.update(key(2), u32le(1));
    assert.equal(m.event(2)!.cpu, 1);
    errno(() => m.lookup(key(0)), 'ENOTSUPP');
    errno(() => m.update(key(3), u32le(0), BPF_NOEXIST), 'EINVAL', /BPF_ANY/);
    errno(() => m.update(key(4), u32le(0), BPF_ANY), 'E2BIG');
    errno(() => m.update(key(3), u32le(2)), 'EBADF', /CPU number/);
    m.delete(key(2));
    assert.equal(m.event(2), undefined);
    errno(() => m.delete(key(2)), 'ENOENT');
    errno(() => m.delete(key(4)), 'E2BIG');
    const keys: number[] = [];
    for (let k = m.nextKey(undefined); k !== undefined; k = m.nextKey(k)) keys.push(new DataView(k.buffer).getUint32(0, true));
    assert.deepEqual(keys, [0, 1, 2, 3]);
    errno(() => m.openEvent(4), 'E2BIG');
    errno(() => m.openEvent(0, { pages: 3 }), 'EINVAL', /power of 2/);
    errno(() => m.openEvent(0, { cpu: 5 }), 'EINVAL', /CPU 5/);
    assert.equal(m.closeEvent(0), true);
    assert.equal(m.closeEvent(0), false);
    // Programs cannot use the map's elements.
    assert.equal(m.lookupElem(key(1), 0), 0n);
    assert.equal(m.updateElem(key(1), u32le(0), 0, 0), -95);
  });
});

describe('perf records in reports and run records', () => {
  it('bpfrun run --json: the records per map, with raw_size and hex; the text report lists them', () => {
    const r = bpfrun(['run', 'progs/net_perf.bpf.o', '--prog', 'tp_sizes', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.perf.events.map((x: { size: number; raw_size: number; misc: number; type: string }) => [x.type, x.misc, x.size, x.raw_size]),
      [['sample', 1, 24, 12], ['sample', 1, 24, 12], ['sample', 1, 32, 20]]);
    assert.equal(report.perf.events[2].hex, '0102030405060708090a0b0c0d00000000000000');
    assert.deepEqual(report.perf.events4, []);
    const text = bpfrun(['run', 'progs/net_perf.bpf.o', '--prog', 'tp_sizes']);
    assert.match(text.stdout, /perf records \(events\):\n {2}cpu 0 {2}sample {2}12 bytes {2}0102030405060708090a0000\n/);
    assert.doesNotMatch(text.stdout, /perf records \(events4\)/);
  });

  it('bpfrun test-run --json: an XDP program\'s record with the appended packet bytes', () => {
    const data = frame(32);
    const r = bpfrun(['test-run', 'progs/net_perf.bpf.o', '--prog', 'xdp_perf', '--data-hex', hex(data), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.verdict, 'XDP_PASS');
    assert.deepEqual(out.perf.events, [{ cpu: 0, slot: 0, type: 'sample', misc: 1, size: 24, raw_size: 12, hex: hex(sampleStruct(XDP_MAGIC, 32, 1)) }]);
    const text = bpfrun(['test-run', 'progs/net_perf.bpf.o', '--prog', 'tc_perf', '--data-hex', hex(data)]);
    assert.match(text.stdout, /perf records \(events\):\n {2}cpu 0 {2}sample {2}12 bytes {2}21005443/);
  });

  it('the run record keeps samples and LOST records; inspect shows them', () => {
    const loaded = loadObject(OBJ);
    perf(loaded).openEvent(0, { pages: 1 });
    loaded.setGlobal('size', 100);
    loaded.setGlobal('count', 40);
    loaded.program('tp_fill').run();
    perf(loaded).drain(); // 36 read, 4 lost
    loaded.setGlobal('count', 1);
    const runs = runPrograms(loaded, ['tp_sizes', 'tp_fill'], 'jit');
    assert.deepEqual(runs.perf!.map((p) => [p.map, p.records.length]), [['events', 5], ['events4', 0]]);
    const record = decodeRecord(encodeRecord('net_perf.bpf.o', runs));
    const strip = (rs: readonly PerfRecord[]) => rs.map((r) => ({ ...r, data: hex(r.data) }));
    assert.deepEqual(record.perf.map((p) => ({ map: p.map, records: strip(p.records) })), runs.perf!.map((p) => ({ map: p.map, records: strip(p.records) })));
    // The loss is reported before the next sample that fits: tp_sizes' first.
    assert.deepEqual(record.perf[0].records.map((r) => r.type), ['lost', 'sample', 'sample', 'sample', 'sample']);
    assert.equal(record.perf[0].records[0].lost, 4);
    const text = formatInspect(record, {});
    assert.match(text, /perf records \(events\):\n {2}cpu 0 {2}lost {4}4 samples\n {2}cpu 0 {2}sample {2}12 bytes {2}0102030405060708090a0000\n/);
    assert.match(text, / {2}cpu 0 {2}sample {2}100 bytes {2}00/);
  });

  it('bpfrun run --record then inspect --json: the records survive the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfrun-perf-'));
    const file = join(dir, 'run.pb');
    const r = bpfrun(['run', 'progs/net_perf.bpf.o', '--prog', 'tp_sizes', '--record', file]);
    assert.equal(r.status, 0, r.stderr);
    const view = JSON.parse(bpfrun(['inspect', file, '--json']).stdout);
    rmSync(dir, { recursive: true });
    assert.deepEqual(view.perf[0].records.map((x: { data: string }) => x.data),
      ['0102030405060708090a0000', '0102030405060708090a0b0c', '0102030405060708090a0b0c0d00000000000000']);
  });
});
