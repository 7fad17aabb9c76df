// Packet captures (src/pcap.ts): classic libpcap in both byte orders and timestamp precisions,
// pcapng built block by block, the writer's round trip, and every refusal as a PcapError that
// names the record and byte offset. The files are built here by hand: nothing but node is needed.
import assert from 'node:assert/strict';
import { PcapError, readCapture, writePcap } from '../src/pcap.js';

/** Concatenates fields: numbers as u32, [n, 16] as u16, [n, 8] as u8, byte arrays as they are. */
type Field = number | [number, 8 | 16 | 32] | Uint8Array;
function bytes(le: boolean, ...fields: Field[]): Uint8Array {
  const parts = fields.map((f): Uint8Array => {
    if (f instanceof Uint8Array) return f;
    const [value, bits] = typeof f === 'number' ? [f, 32] : f;
    const out = new Uint8Array(bits / 8);
    const view = new DataView(out.buffer);
    if (bits === 8) view.setUint8(0, value);
    else if (bits === 16) view.setUint16(0, value, le);
    else view.setUint32(0, value, le);
    return out;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

const NS = 1_000_000_000n;
const payload = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, k) => (k * 7 + seed) & 0xff);

/** A classic pcap file: global header, then records of [sec, frac, data, orig?]. */
function classic(le: boolean, magic: number, snaplen: number, linkField: number,
  records: [number, number, Uint8Array, number?][]): Uint8Array {
  return bytes(le, magic, [2, 16], [4, 16], 0, 0, snaplen, linkField,
    ...records.flatMap(([sec, frac, data, orig]): Field[] => [sec, frac, data.length, orig ?? data.length, data]));
}

/** A pcapng block: type, total length, body padded to 4, total length again. */
function block(le: boolean, type: number, ...body: Field[]): Uint8Array {
  const b = bytes(le, ...body);
  const padded = new Uint8Array((b.length + 3) & ~3);
  padded.set(b);
  const len = 12 + padded.length;
  return bytes(le, type, len, padded, len);
}
const shb = (le: boolean) => block(le, 0x0a0d0d0a, 0x1a2b3c4d, [1, 16], [0, 16], 0xffffffff, 0xffffffff);
const idb = (le: boolean, linkType: number, snaplen: number, ...options: Field[]) =>
  block(le, 1, [linkType, 16], [0, 16], snaplen, ...options);
function epb(le: boolean, ifId: number, ts: bigint, data: Uint8Array, orig = data.length): Uint8Array {
  const pad = new Uint8Array((4 - (data.length % 4)) % 4);
  return block(le, 6, ifId, Number(ts >> 32n), Number(ts & 0xffffffffn), data.length, orig, data, pad);
}
const spb = (le: boolean, orig: number, data: Uint8Array) => block(le, 3, orig, data);
const cat = (...parts: Uint8Array[]) => bytes(true, ...parts);

/** Reading `file` fails with a PcapError about `record` whose message matches `text`. */
function refuses(file: Uint8Array, record: number | undefined, text: RegExp, offset?: number): void {
  assert.throws(() => readCapture(file), (e: unknown) => {
    assert.ok(e instanceof PcapError, `not a PcapError: ${e}`);
    assert.equal(e.name, 'PcapError');
    assert.equal(e.record, record);
    if (offset !== undefined) assert.equal(e.offset, offset);
    assert.match(e.message, new RegExp(`at byte ${e.offset}: `));
    if (record !== undefined) assert.match(e.message, new RegExp(`^capture record ${record} at byte`));
    assert.match(e.message, text);
    return true;
  });
}

describe('pcap: classic libpcap files', () => {
  it('round-trips what writePcap writes', () => {
    const packets = [
      { data: payload(60), timestampNs: 1_700_000_000_123_456_789n },
      { data: payload(0), timestampNs: 5n },
      { data: payload(1514, 3), timestampNs: 1_700_000_001_000_000_000n, originalLength: 9000 },
    ];
    const cap = readCapture(writePcap(packets));
    assert.equal(cap.format, 'pcap');
    assert.equal(cap.linkType, 1);
    assert.equal(cap.packets.length, 3);
    cap.packets.forEach((p, k) => {
      assert.equal(p.index, k);
      assert.deepEqual(p.data, packets[k].data);
      assert.equal(p.timestampNs, packets[k].timestampNs);
      assert.equal(p.originalLength, packets[k].originalLength ?? packets[k].data.length);
      assert.equal(p.linkType, 1);
      assert.equal(p.interface, 0);
    });
  });

  it('writes the header libpcap expects and cuts packets to the snapshot length', () => {
    const file = writePcap([{ data: payload(100) }], { linkType: 101, snaplen: 64 });
    const view = new DataView(file.buffer);
    assert.equal(view.getUint32(0, true), 0xa1b23c4d);
    assert.deepEqual([view.getUint16(4, true), view.getUint16(6, true)], [2, 4]);
    assert.deepEqual([view.getUint32(16, true), view.getUint32(20, true)], [64, 101]);
    const [p] = readCapture(file).packets;
    assert.deepEqual(p.data, payload(64));
    assert.equal(p.originalLength, 100);
    assert.equal(p.linkType, 101);
  });

  it('writes microseconds when asked, dropping the sub-microsecond part', () => {
    const file = writePcap([{ data: payload(4), timestampNs: 12_345_678_999n }], { nanosecond: false });
    assert.equal(new DataView(file.buffer).getUint32(0, true), 0xa1b2c3d4);
    assert.equal(readCapture(file).packets[0].timestampNs, 12_345_678_000n);
  });

  it('refuses to write what a pcap record cannot hold', () => {
    assert.throws(() => writePcap([{ data: payload(4), timestampNs: -1n }]), RangeError);
    assert.throws(() => writePcap([{ data: payload(4), timestampNs: (1n << 32n) * NS }]), RangeError);
    assert.throws(() => writePcap([{ data: payload(4), originalLength: 3 }]), RangeError);
  });

  it('reads a big-endian file, microseconds and nanoseconds, and masks the FCS bits off the link type', () => {
    const data = payload(5);
    const us = readCapture(classic(false, 0xa1b2c3d4, 65535, 0x1000_0001, [[10, 250_000, data, 70]]));
    assert.equal(us.format, 'pcap');
    assert.equal(us.linkType, 1);
    assert.deepEqual(us.packets[0].data, data);
    assert.equal(us.packets[0].originalLength, 70);
    assert.equal(us.packets[0].timestampNs, 10_250_000_000n);
    const ns = readCapture(classic(false, 0xa1b23c4d, 65535, 1, [[10, 250_000, data]]));
    assert.equal(ns.packets[0].timestampNs, 10_000_250_000n);
    // The same file little-endian reads the same.
    const le = readCapture(classic(true, 0xa1b2c3d4, 65535, 1, [[10, 250_000, data]]));
    assert.equal(le.packets[0].timestampNs, 10_250_000_000n);
  });

  it('reads a file with a header and no packets, and a view into a larger buffer', () => {
    assert.deepEqual(readCapture(writePcap([])).packets, []);
    const file = writePcap([{ data: payload(9), timestampNs: 7n }]);
    const framed = new Uint8Array(file.length + 10);
    framed.set(file, 5);
    assert.deepEqual(readCapture(framed.subarray(5, 5 + file.length)).packets[0].data, payload(9));
  });
});


describe('pcap: pcapng files', () => {
  it('reads SHB, IDB with if_tsresol, EPB, SPB, skips unknown blocks, and a second section', () => {
    const le = true;
    const file = cat(
      shb(le), idb(le, 1, 0), // microseconds by default
      idb(le, 105, 32, [9, 16], [1, 16], [9, 8], [0, 8], [0, 8], [0, 8], [0, 16], [0, 16]),
      epb(le, 0, 1_500_000n, payload(7)),
      block(le, 0x0bad, payload(10)), // unknown: skipped by its length
      block(le, 5, 0, 0, 0), // interface statistics: skipped
      epb(le, 1, 2n * NS + 5n, payload(30, 1), 200),
      spb(le, 32, payload(32, 2)),
      shb(false), // the second section is big-endian and forgets the interfaces
      idb(false, 228, 16, [9, 16], [1, 16], [0x80 | 10, 8], [0, 8], [0, 8], [0, 8]),
      epb(false, 0, 3n * 1024n + 512n, payload(12, 3)),
      spb(false, 40, payload(16, 4)), // 40 bytes on the wire, 16 captured (the snapshot length)
    );
    const cap = readCapture(file);
    assert.equal(cap.format, 'pcapng');
    assert.equal(cap.linkType, 1);
    const summary = cap.packets.map((p) => [p.index, p.data.length, p.originalLength, p.timestampNs, p.linkType, p.interface]);
    assert.deepEqual(summary, [
      [0, 7, 7, 1_500_000_000n, 1, 0],
      [1, 30, 200, 2n * NS + 5n, 105, 1],
      [2, 32, 32, 0n, 1, 0],
      [3, 12, 12, 3n * NS + NS / 2n, 228, 0],
      [4, 16, 40, 0n, 228, 0],
    ]);
    assert.deepEqual(cap.packets[1].data, payload(30, 1));
    assert.deepEqual(cap.packets[3].data, payload(12, 3));
    assert.deepEqual(cap.packets[4].data, payload(16, 4));
  });

  it('reads the obsolete Packet Block like an EPB, and if_tsoffset', () => {
    const le = true;
    const data = payload(6);
    const pb = block(le, 2, [1, 16], [0, 16], 0, 1234, data.length, 60, data, new Uint8Array(2));
    const cap = readCapture(cat(shb(le), idb(le, 1, 0), idb(le, 113, 0, [14, 16], [8, 16], 100, 0), pb));
    assert.deepEqual(cap.packets.map((p) => [p.interface, p.linkType, p.originalLength, p.timestampNs]),
      [[1, 113, 60, 100n * NS + 1_234_000n]]);
    assert.deepEqual(cap.packets[0].data, data);
  });

  it('gives link type -1 to a file describing no interface', () => {
    assert.deepEqual(readCapture(shb(true)), { format: 'pcapng', linkType: -1, packets: [] });
  });
});

describe('pcap: damaged files', () => {
  it('refuses files too short for a header and unknown magics', () => {
    refuses(new Uint8Array(2), undefined, /file too short for a header \(2 bytes\)/, 0);
    refuses(writePcap([]).subarray(0, 20), undefined, /too short for the 24-byte pcap header/, 0);
    refuses(bytes(true, 0xdeadbeef, 0), undefined, /not a pcap or pcapng file \(magic 0xefbeadde\)/, 0);
  });

  it('refuses truncated classic records, naming the record and its offset', () => {
    const file = writePcap([{ data: payload(10) }, { data: payload(82) }]);
    refuses(file.subarray(0, 24 + 26 + 10), 1, /record header runs past the end of the file \(needs 16 bytes, 10 left\)/, 50);
    refuses(file.subarray(0, 24 + 26 + 40), 1, /record runs past the end of the file \(needs 98 bytes, 40 left\)/, 50);
  });

  it('refuses captured lengths beyond the snapshot length and beyond libpcap\'s largest', () => {
    refuses(classic(true, 0xa1b2c3d4, 64, 1, [[0, 0, payload(10)], [0, 0, payload(65)]]), 1,
      /captured length 65 exceeds the snapshot length 64/, 50);
    // Snapshot length 0 means none, but libpcap's limit holds; the refusal comes before the data is needed.
    const huge = classic(true, 0xa1b2c3d4, 0, 1, [[0, 0, payload(0)]]);
    new DataView(huge.buffer).setUint32(24 + 8, 262145, true);
    refuses(huge, 0, /captured length 262145 exceeds the largest snapshot length 262144/, 24);
    assert.equal(readCapture(classic(true, 0xa1b2c3d4, 0, 1, [[0, 0, payload(70)]])).packets[0].data.length, 70);
  });

  it('refuses bad pcapng block lengths without looping on a zero-length block', () => {
    const le = true;
    const head = cat(shb(le), idb(le, 1, 0));
    const at = head.length;
    refuses(cat(head, bytes(le, 0x0bad, 0, 0)), undefined, /block length 0 is not a multiple of 4 of at least 12/, at);
    refuses(cat(head, bytes(le, 6, 14, 0, 0)), 0, /block length 14 is not a multiple of 4/, at);
    refuses(cat(head, bytes(le, 6, 8, 8)), 0, /block length 8/, at);
    refuses(cat(head, bytes(le, 0x0bad, 16, 0, 20)), undefined, /block length 16 differs from the length 20 repeated at its end/, at + 12);
    refuses(cat(head, epb(le, 0, 0n, payload(8)).subarray(0, 30)), 0, /block runs past the end of the file \(needs 40 bytes, 30 left\)/, at);
    refuses(cat(head, bytes(le, 6)), undefined, /block header runs past the end of the file \(needs 8 bytes, 4 left\)/, at);
    refuses(shb(le).subarray(0, 10), undefined, /needs 12 bytes, 10 left/, 0);
  });

  it('refuses packets of unknown interfaces and packets before any IDB', () => {
    const le = true;
    const file = cat(shb(le), idb(le, 1, 0), epb(le, 0, 0n, payload(4)), epb(le, 2, 0n, payload(4)));
    refuses(file, 1, /unknown interface 2 \(1 described in this section\)/, file.length - 36);
    refuses(cat(shb(le), epb(le, 0, 0n, payload(4))), 0, /packet block before any Interface Description Block/, 28);
    refuses(cat(shb(le), spb(le, 4, payload(4))), 0, /before any Interface Description Block/, 28);
    // A new section forgets the interfaces of the one before.
    refuses(cat(shb(le), idb(le, 1, 0), shb(le), epb(le, 0, 0n, payload(4))), 0, /before any Interface Description Block/, 76);
  });

  it('refuses packet blocks whose data runs past their end, and captures beyond the snapshot length', () => {
    const le = true;
    const head = cat(shb(le), idb(le, 1, 16));
    const lying = epb(le, 0, 0n, payload(8));
    new DataView(lying.buffer).setUint32(20, 12, true); // claims 12 captured bytes, holds 8
    refuses(cat(head, lying), 0, /a packet block of 12 captured bytes needs 32 bytes but the block holds 28/, head.length);
    refuses(cat(head, epb(le, 0, 0n, payload(20))), 0, /captured length 20 exceeds the snapshot length 16/, head.length);
    refuses(cat(head, spb(le, 16, payload(8))), 0, /Simple Packet Block of 16 captured bytes/, head.length);
  });
});
