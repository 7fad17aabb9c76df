/**
 * Packet captures in and out, without dependencies: `readCapture` reads classic libpcap files
 * (tcpdump.org, pcap-savefile(5)) and pcapng files (IETF draft-ietf-opsawg-pcapng), telling them
 * apart by the magic; `writePcap` writes a classic little-endian libpcap file. Used by
 * `bpfrun test-run --pcap`, which runs a program over every packet.
 *
 * Only Uint8Array and DataView (no Buffer), so the core also runs in a browser. Every read is
 * bounds-checked first: a damaged file gives a PcapError naming the record and byte offset,
 * never a RangeError from DataView, and a zero-length block cannot make the reader loop.
 */

/** One packet record of a capture. */
export interface CapturedPacket {
  /** 0-based number of the record among the packets of the file. */
  index: number;
  /** The captured bytes (a copy: a program may change them). */
  data: Uint8Array;
  /** Length of the packet on the wire; more than data.length when the capture was truncated. */
  originalLength: number;
  /** Nanoseconds since the epoch (0n for pcapng Simple Packet Blocks, which carry none). */
  timestampNs: bigint;
  linkType: number;
  /** The pcapng interface id within its section (0 for classic files). */
  interface: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  /** The link type of the file, or of its first interface (-1: a pcapng file describing none). */
  linkType: number;
  packets: CapturedPacket[];
}

/** A capture file that cannot be read; `offset` is where in the file, `record` which packet. */
export class PcapError extends Error {
  override readonly name = 'PcapError';
  constructor(readonly offset: number, reason: string, readonly record?: number) {
    super(`${record === undefined ? 'capture' : `capture record ${record}`} at byte ${offset}: ${reason}`);
  }
}

/** libpcap's largest snapshot length (MAXIMUM_SNAPLEN): longer records are refused, as libpcap does. */
export const MAX_SNAPLEN = 262144;
export const LINKTYPE_ETHERNET = 1;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a; // reads the same in both byte orders, so it can be read before the order is known
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const NS_PER_S = 1_000_000_000n;

const pad4 = (n: number) => (n + 3) & ~3;
const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < 4) throw new PcapError(0, `file too short for a header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic === PCAPNG_SHB) return readPcapng(bytes, view);
  const swapped = view.getUint32(0, false);
  for (const [m, le] of [[magic, true], [swapped, false]] as const) {
    if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) return readPcap(bytes, view, le, m === PCAP_MAGIC_NS);
  }
  throw new PcapError(0, `not a pcap or pcapng file (magic ${hex32(swapped)})`);
}

function readPcap(bytes: Uint8Array, view: DataView, le: boolean, nano: boolean): Capture {
  if (bytes.length < 24) {
    throw new PcapError(0, `file too short for the 24-byte pcap header (${bytes.length} bytes)`);
  }
  const snaplen = view.getUint32(16, le);
  // The upper bits of the last field say whether frames carry an FCS; the link type is below.
  const linkType = view.getUint32(20, le) & 0xffff;
  const fracNs = nano ? 1 : 1000;
  const packets: CapturedPacket[] = [];
  for (let off = 24; off < bytes.length;) {
    const record = packets.length;
    const left = bytes.length - off;
    if (left < 16) throw new PcapError(off, `record header runs past the end of the file (needs 16 bytes, ${left} left)`, record);
    const sec = view.getUint32(off, le);
    const frac = view.getUint32(off + 4, le);
    const incl = view.getUint32(off + 8, le);
    const orig = view.getUint32(off + 12, le);
    checkCaptured(incl, snaplen, off, record);
    if (16 + incl > left) throw new PcapError(off, `record runs past the end of the file (needs ${16 + incl} bytes, ${left} left)`, record);
    packets.push({
      index: record, data: bytes.slice(off + 16, off + 16 + incl), originalLength: orig,
      timestampNs: BigInt(sec) * NS_PER_S + BigInt(frac * fracNs), linkType, interface: 0,
    });
    off += 16 + incl;
  }
  return { format: 'pcap', linkType, packets };
}

/** Refuses what libpcap refuses: more bytes than the snapshot length allows (0: no limit), or than any snapshot. */
function checkCaptured(captured: number, snaplen: number, off: number, record: number): void {
  if (snaplen !== 0 && captured > snaplen) {
    throw new PcapError(off, `captured length ${captured} exceeds the snapshot length ${snaplen}`, record);
  }
  if (captured > MAX_SNAPLEN) {
    throw new PcapError(off, `captured length ${captured} exceeds the largest snapshot length ${MAX_SNAPLEN}`, record);
  }
}

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (if_tsresol), and seconds to add (if_tsoffset). */
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

function readPcapng(bytes: Uint8Array, view: DataView): Capture {
  const packets: CapturedPacket[] = [];
  let fileLinkType = -1;
  let le = true;
  let interfaces: Interface[] = [];
  for (let off = 0; off < bytes.length;) {
    const left = bytes.length - off;
    if (left < 8) throw new PcapError(off, `block header runs past the end of the file (needs 8 bytes, ${left} left)`);
    const type = view.getUint32(off, le);
    // Packet blocks are numbered as packet records, so their errors say which packet.
    const record = type === 2 || type === 3 || type === 6 ? packets.length : undefined;
    const fail = (reason: string, at = off): never => { throw new PcapError(at, reason, record); };
    if (type === PCAPNG_SHB) {
      // A new section may switch the byte order, so it is read before the length.
      if (left < 12) fail(`section header runs past the end of the file (needs 12 bytes, ${left} left)`);
      const bom = view.getUint32(off + 8, true);
      if (bom === PCAPNG_BYTE_ORDER) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else fail(`unknown pcapng byte-order magic ${hex32(bom)}`, off + 8);
      interfaces = [];
    }
    const len = view.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0) fail(`block length ${len} is not a multiple of 4 of at least 12`);
    if (len > left) fail(`block runs past the end of the file (needs ${len} bytes, ${left} left)`);
    const trailer = view.getUint32(off + len - 4, le);
    if (trailer !== len) fail(`block length ${len} differs from the length ${trailer} repeated at its end`, off + len - 4);
    const body = off + 8;
    const bodyEnd = off + len - 4;
    const need = (n: number, what: string) => {
      if (body + n > bodyEnd) fail(`${what} needs ${n} bytes but the block holds ${bodyEnd - body}`);
    };
    const iface = (id: number): Interface => {
      if (interfaces.length === 0) fail('packet block before any Interface Description Block');
      if (id >= interfaces.length) fail(`unknown interface ${id} (${interfaces.length} described in this section)`);
      return interfaces[id];
    };
    const push = (ifId: number, i: Interface, dataOff: number, captured: number, orig: number, ts: bigint) => {
      packets.push({
        index: packets.length, data: bytes.slice(dataOff, dataOff + captured), originalLength: orig,
        timestampNs: ts, linkType: i.linkType, interface: ifId,
      });
    };
    if (type === 1) {
      need(8, 'an Interface Description Block');
      const i: Interface = {
        linkType: view.getUint16(body, le), snaplen: view.getUint32(body + 4, le),
        unitsPerSecond: 1_000_000n, offsetSeconds: 0n,
      };
      readOptions(view, body + 8, bodyEnd, le, fail, (code, at, olen) => {
        if (code === 9 && olen >= 1) {
          const r = view.getUint8(at);
          // High bit set: a negative power of 2; otherwise of 10.
          i.unitsPerSecond = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
        } else if (code === 14 && olen >= 8) {
          i.offsetSeconds = view.getBigInt64(at, le);
        }
      });
      if (fileLinkType === -1) fileLinkType = i.linkType;
      interfaces.push(i);
    } else if (type === 6 || type === 2) {
      need(20, 'a packet block');
      // The obsolete Packet Block has a u16 interface id and a u16 drop count where EPB has a u32 id.
      const ifId = type === 6 ? view.getUint32(body, le) : view.getUint16(body, le);
      const i = iface(ifId);
      const units = (BigInt(view.getUint32(body + 4, le)) << 32n) | BigInt(view.getUint32(body + 8, le));
      const captured = view.getUint32(body + 12, le);
      checkCaptured(captured, i.snaplen, off, packets.length);
      need(20 + pad4(captured), `a packet block of ${captured} captured bytes`);
      const ts = (units * NS_PER_S) / i.unitsPerSecond + i.offsetSeconds * NS_PER_S;
      push(ifId, i, body + 20, captured, view.getUint32(body + 16, le), ts);
    } else if (type === 3) {
      need(4, 'a Simple Packet Block');
      const i = iface(0);
      const orig = view.getUint32(body, le);
      // The block stores no captured length: it is the original one, cut to the snapshot length.
      const captured = i.snaplen !== 0 ? Math.min(orig, i.snaplen) : orig;
      checkCaptured(captured, 0, off, packets.length);
      need(4 + pad4(captured), `a Simple Packet Block of ${captured} captured bytes`);
      push(0, i, body + 4, captured, orig, 0n);
    }
    // Any other block (statistics, name resolution, custom, ...) is skipped by its length.
    off += len;
  }
  return { format: 'pcapng', linkType: fileLinkType, packets };
}

/** Walks the options (code, length, value padded to 4) between `at` and `end`. */
function readOptions(
  view: DataView, at: number, end: number, le: boolean, fail: (reason: string, at: number) => never,
  each: (code: number, valueAt: number, length: number) => void,
): void {
  while (at + 4 <= end) {
    const code = view.getUint16(at, le);
    const olen = view.getUint16(at + 2, le);
    if (code === 0) return; // opt_endofopt
    if (at + 4 + olen > end) fail(`option ${code} of ${olen} bytes runs past the end of its block`, at);
    each(code, at + 4, olen);
    at += 4 + pad4(olen);
  }
}

export interface PacketToWrite {
  data: Uint8Array;
  /** Nanoseconds since the epoch; default 0n. */
  timestampNs?: bigint;
  /** Length on the wire; default data.length. */
  originalLength?: number;
}

export interface WritePcapOptions {
  /** Default 1 (Ethernet). */
  linkType?: number;
  /** Default true: nanosecond timestamps (magic 0xa1b23c4d); false: microseconds (0xa1b2c3d4). */
  nanosecond?: boolean;
  /** Default 262144; longer packets are cut to it and keep their original length. */
  snaplen?: number;
}

/** A classic little-endian libpcap file holding `packets`. */
export function writePcap(packets: PacketToWrite[], options: WritePcapOptions = {}): Uint8Array {
  const { linkType = LINKTYPE_ETHERNET, nanosecond = true, snaplen = MAX_SNAPLEN } = options;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff) throw new RangeError(`snapshot length ${snaplen} is out of range`);
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffffffff) throw new RangeError(`link type ${linkType} is out of range`);
  const captured = packets.map((p) => Math.min(p.data.length, snaplen));
  const out = new Uint8Array(24 + captured.reduce((sum, n) => sum + 16 + n, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, true);
  view.setUint16(4, 2, true); // version 2.4; thiszone and sigfigs stay 0
  view.setUint16(6, 4, true);
  view.setUint32(16, snaplen, true);
  view.setUint32(20, linkType, true);
  let off = 24;
  packets.forEach((p, k) => {
    const ts = p.timestampNs ?? 0n;
    const sec = ts / NS_PER_S;
    if (ts < 0n || sec > 0xffffffffn) throw new RangeError(`packet ${k}: timestamp ${ts} ns does not fit a pcap record`);
    const frac = Number(ts % NS_PER_S);
    const orig = p.originalLength ?? p.data.length;
    if (!Number.isInteger(orig) || orig < p.data.length || orig > 0xffffffff) {
      throw new RangeError(`packet ${k}: original length ${orig} is less than its ${p.data.length} bytes or out of range`);
    }
    view.setUint32(off, Number(sec), true);
    view.setUint32(off + 4, nanosecond ? frac : Math.floor(frac / 1000), true);
    view.setUint32(off + 8, captured[k], true);
    view.setUint32(off + 12, orig, true);
    out.set(p.data.subarray(0, captured[k]), off + 16);
    off += 16 + captured[k];
  });
  return out;
}
