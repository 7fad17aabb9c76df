/**
 * `struct __sk_buff` (192 bytes) as the kernel validates and converts it for each skb program
 * type: bpf_skb_is_valid_access and the per-type sk_filter_ / tc_cls_act_ / cg_skb_ /
 * lwt_is_valid_access, then bpf_convert_ctx_access (net/core/filter.c). spec program-types §2.2
 */
import { load64, narrowLoad, type ContextModel, type ConvertedAccess } from './context.js';
import type { ContextAccess } from '../isa/ctx-ptr.js';
import { SkBuff } from '../net/skb.js';

/** The skb program families whose __sk_buff access rules differ. */
export type SkbFamily = 'socket' | 'tc' | 'cgroup' | 'lwt';

/** Who may read (R) and write (W) a field: one letter pair per family, '-' for neither. */
interface Field {
  readonly name: string;
  readonly off: number;
  /** UAPI size of the field (an array's element size for the ip6 arrays). */
  readonly size: number;
  /** Size of the kernel field the conversion reads (the narrow-load target size). */
  readonly target: number;
  readonly read: (c: SkBuff) => number;
  readonly write?: (c: SkBuff, lo: number, hi: number) => void;
  /** Access per family: socket, tc, cgroup, lwt. */
  readonly access: Readonly<Record<SkbFamily, '' | 'R' | 'RW'>>;
  /** Sizes allowed: 'narrow' (1, 2 or 4 to read, 4 to write), 'exact' (only `size`). */
  readonly sizes: 'narrow' | 'exact';
  /** A packet pointer: no sign-extending loads. */
  readonly pointer?: boolean;
}

const all = (a: '' | 'R' | 'RW') => ({ socket: a, tc: a, cgroup: a, lwt: a });
const u16 = (v: number) => v & 0xffff;

const sockU32 = (c: SkBuff, off: number) => (c.sock === undefined ? 0 : c.sock.view.getUint32(off, true));

/** The readable fields, by offset. (cb[], tstamp, hwtstamp and sk are handled apart.) */
const FIELDS: readonly Field[] = [
  { name: 'len', off: 0, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: (c) => c.len },
  { name: 'pkt_type', off: 4, size: 4, target: 1, sizes: 'narrow', access: all('R'), read: (c) => c.pktType },
  { name: 'mark', off: 8, size: 4, target: 4, sizes: 'narrow', access: { socket: 'R', tc: 'RW', cgroup: 'RW', lwt: 'RW' },
    read: (c) => c.mark, write: (c, lo) => { c.mark = lo >>> 0; } },
  { name: 'queue_mapping', off: 12, size: 4, target: 2, sizes: 'narrow', access: { socket: 'R', tc: 'RW', cgroup: 'R', lwt: 'R' },
    read: (c) => c.queueMapping,
    // A value of 0xffff or more is ignored (the 64-bit register compared unsigned).
    write: (c, lo, hi) => { if (hi === 0 && (lo >>> 0) < 0xffff) c.queueMapping = lo; } },
  { name: 'protocol', off: 16, size: 4, target: 2, sizes: 'narrow', access: all('R'), read: (c) => c.protocol },
  { name: 'vlan_present', off: 20, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: (c) => (c.vlanPresent ? 1 : 0) },
  { name: 'vlan_tci', off: 24, size: 4, target: 2, sizes: 'narrow', access: all('R'), read: (c) => c.vlanTci },
  { name: 'vlan_proto', off: 28, size: 4, target: 2, sizes: 'narrow', access: all('R'), read: (c) => c.vlanProto },
  { name: 'priority', off: 32, size: 4, target: 4, sizes: 'narrow', access: { socket: 'R', tc: 'RW', cgroup: 'RW', lwt: 'RW' },
    read: (c) => c.priority, write: (c, lo) => { c.priority = lo >>> 0; } },
  { name: 'ingress_ifindex', off: 36, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: (c) => c.skbIif },
  { name: 'ifindex', off: 40, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: (c) => c.ifindex },
  { name: 'tc_index', off: 44, size: 4, target: 2, sizes: 'narrow', access: { socket: 'R', tc: 'RW', cgroup: 'R', lwt: 'R' },
    read: (c) => c.tcIndex, write: (c, lo) => { c.tcIndex = u16(lo); } },
  { name: 'hash', off: 68, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: (c) => c.hash },
  { name: 'tc_classid', off: 72, size: 4, target: 2, sizes: 'narrow', access: { socket: '', tc: 'RW', cgroup: '', lwt: '' },
    read: (c) => c.tcClassid, write: (c, lo) => { c.tcClassid = u16(lo); } },
  { name: 'data', off: 76, size: 4, target: 8, sizes: 'exact', pointer: true, access: { socket: '', tc: 'R', cgroup: 'R', lwt: 'R' },
    read: (c) => load64(c.pkt.lo(c.pkt.data), c.pkt.hi) },
  { name: 'data_end', off: 80, size: 4, target: 8, sizes: 'exact', pointer: true, access: { socket: '', tc: 'R', cgroup: 'R', lwt: 'R' },
    read: (c) => load64(c.pkt.lo(c.pkt.end), c.pkt.hi) },
  { name: 'napi_id', off: 84, size: 4, target: 4, sizes: 'narrow', access: all('R'), read: () => 0 },
  { name: 'family', off: 88, size: 4, target: 2, sizes: 'narrow', access: { socket: '', tc: '', cgroup: 'R', lwt: '' },
    read: (c) => sockU32(c, 4) },
  { name: 'remote_ip4', off: 92, size: 4, target: 4, sizes: 'exact', access: { socket: '', tc: '', cgroup: 'R', lwt: '' },
    read: (c) => sockU32(c, 52) },
  { name: 'local_ip4', off: 96, size: 4, target: 4, sizes: 'exact', access: { socket: '', tc: '', cgroup: 'R', lwt: '' },
    read: (c) => sockU32(c, 24) },
  ...[0, 1, 2, 3].map((i): Field => ({ name: `remote_ip6[${i}]`, off: 100 + 4 * i, size: 4, target: 4, sizes: 'exact',
    access: { socket: '', tc: '', cgroup: 'R', lwt: '' }, read: (c) => sockU32(c, 56 + 4 * i) })),
  ...[0, 1, 2, 3].map((i): Field => ({ name: `local_ip6[${i}]`, off: 116 + 4 * i, size: 4, target: 4, sizes: 'exact',
    access: { socket: '', tc: '', cgroup: 'R', lwt: '' }, read: (c) => sockU32(c, 28 + 4 * i) })),
  // skc_dport (be16) shifted left by 16 on little-endian hosts
  { name: 'remote_port', off: 132, size: 4, target: 2, sizes: 'narrow', access: { socket: '', tc: '', cgroup: 'R', lwt: '' },
    read: (c) => (sockU32(c, 48) & 0xffff) << 16 },
  { name: 'local_port', off: 136, size: 4, target: 2, sizes: 'narrow', access: { socket: '', tc: '', cgroup: 'R', lwt: '' },
    read: (c) => sockU32(c, 44) },
  { name: 'data_meta', off: 140, size: 4, target: 8, sizes: 'exact', pointer: true, access: { socket: '', tc: 'R', cgroup: '', lwt: '' },
    read: (c) => load64(c.pkt.lo(c.pkt.meta), c.pkt.hi) },
  { name: 'wire_len', off: 160, size: 4, target: 4, sizes: 'narrow', access: { socket: '', tc: 'R', cgroup: '', lwt: '' }, read: (c) => c.wireLen },
  { name: 'gso_segs', off: 164, size: 4, target: 2, sizes: 'narrow', access: all('R'), read: (c) => c.gsoSegs },
  { name: 'gso_size', off: 176, size: 4, target: 2, sizes: 'narrow', access: all('R'), read: (c) => c.gsoSize },
];

const BY_OFFSET = new Map<number, Field>();
for (const f of FIELDS) BY_OFFSET.set(f.off, f);

/** The __sk_buff model of one skb program family. */
export function skbContextModel(family: SkbFamily): ContextModel<SkBuff> {
  return {
    struct: '__sk_buff',
    packetLoads: family === 'socket' || family === 'tc',
    convert: (a) => convertSkbAccess(family, a),
    loadPacket: skbLoadPacket,
  };
}

/** SKF_NET_OFF and SKF_LL_OFF: the bands of negative offsets relative to the network and MAC headers. */
const SKF_NET_OFF = -0x100000;
const SKF_LL_OFF = -0x200000;

/**
 * LD_ABS / LD_IND (bpf_skb_load_helper_{8,16,32}, net/core/filter.c): `size` bytes at `offset`
 * from skb->data (negative offsets: the SKF_* bands) as a big-endian number, or -1 when out of
 * range. spec program-types §3.2
 */
export function skbLoadPacket(c: SkBuff, offset: number, size: number): number {
  const pkt = c.pkt;
  let pos: number;
  if (offset >= 0) pos = pkt.data + offset;
  else if (offset >= SKF_NET_OFF) pos = c.networkHeader + (offset - SKF_NET_OFF);
  else if (offset >= SKF_LL_OFF && c.macHeader >= 0) pos = c.macHeader + (offset - SKF_LL_OFF);
  else return -1;
  if (pos < 0 || pos - pkt.data + size > c.len) return -1;
  let v = 0;
  for (let k = 0; k < size; k++) v = v * 256 + pkt.byteAt(pos + k);
  return v;
}

function convertSkbAccess(family: SkbFamily, a: ContextAccess): ConvertedAccess<SkBuff> | string {
  const { off, size } = a;
  const write = a.kind === 'store';
  const signed = a.kind === 'loadsx';
  if (off < 0 || off + size > 192) return 'outside __sk_buff';
  if (off % size !== 0) return 'misaligned';
  // cb[0..4]: any size, plain bytes of the qdisc control block.
  if (off >= 48 && off + size <= 68) {
    const at = off - 48;
    if (write) {
      return { store: (c, lo, hi) => {
        const v = c.cbView;
        if (size === 8) { v.setInt32(at, lo, true); v.setInt32(at + 4, hi, true); } else if (size === 4) v.setInt32(at, lo, true);
        else if (size === 2) v.setInt16(at, lo, true); else v.setInt8(at, lo);
      } };
    }
    return { load: (c) => {
      const v = c.cbView;
      if (size === 8) return load64(v.getInt32(at, true), v.getInt32(at + 4, true));
      const x = size === 4 ? v.getInt32(at, true) : size === 2 ? (signed ? v.getInt16(at, true) : v.getUint16(at, true))
        : signed ? v.getInt8(at) : v.getUint8(at);
      return load64(x, signed ? x >> 31 : 0);
    } };
  }
  if (off === 152 || off === 184) { // tstamp (tc, cgroup: read/write), hwtstamp (tc, cgroup: read)
    const name = off === 152 ? 'tstamp' : 'hwtstamp';
    if (family !== 'tc' && family !== 'cgroup') return `${name} is not accessible to this program type`;
    if (size !== 8) return `${name} must be accessed with 8 bytes`;
    if (off === 184) return write ? 'hwtstamp is read-only' : { load: (c) => load64(c.hwtstampLo, c.hwtstampHi) };
    return write ? { store: (c, lo, hi) => { c.tstampLo = lo; c.tstampHi = hi; } } : { load: (c) => load64(c.tstampLo, c.tstampHi) };
  }
  if (off === 168) { // sk: a pointer to the socket (a bpf_sock)
    if (size !== 8) return 'sk must be read with 8 bytes';
    return write ? 'sk is read-only' : { load: (c) => (c.sock ? load64(c.sock.start, c.sock.hi) : load64(0, 0)) };
  }
  if (off === 144) return 'flow_keys is only accessible to flow dissector programs';
  if (off === 180) {
    if (family !== 'tc' || size !== 1 || write) return 'tstamp_type is readable only by tc programs, with 1 byte';
    return { load: () => load64(0, 0) };
  }
  const base = off - (off % 4);
  const field = BY_OFFSET.get(base);
  if (field === undefined) return 'no such field';
  const allowed = field.access[family];
  if (allowed === '') return `${field.name} is not accessible to this program type`;
  if (write) {
    if (allowed !== 'RW' || !field.write) return `${field.name} is read-only for this program type`;
    if (size !== 4) return `${field.name} must be written with 4 bytes`;
    const store = field.write;
    return { store };
  }
  if (field.sizes === 'exact' && (size !== field.size || off !== field.off)) return `${field.name} must be read with ${field.size} bytes`;
  if (field.pointer) {
    if (signed) return `${field.name} cannot be read with a sign-extending load`;
    return { load: field.read };
  }
  return { load: narrowLoad(field.read, off - base, size, field.target, signed) };
}
