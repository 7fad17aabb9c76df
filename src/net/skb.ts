/**
 * The sk_buff of a test run: packet memory (./packet.ts) plus the metadata programs read
 * through `__sk_buff` and that helpers change. Values are kept as the kernel keeps them:
 * `protocol` and `vlanProto` as the 16-bit little-endian reading of their network-order bytes
 * (IPv4 reads 0x0008), addresses and ports as stored. spec program-types §1.4, §2.2
 */
import type { MemoryRegion } from '../memory.js';
import { PacketBuffer } from './packet.js';

/** ETH_HLEN. */
export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
/** Address families (sa_family_t). */
export const AF_INET = 2;
export const AF_INET6 = 10;
/** LOOPBACK_IFINDEX: lo, the device test runs use. */
export const LOOPBACK_IFINDEX = 1;
/** TCP_CLOSE, the dummy socket's state. */
export const TCP_CLOSE = 7;
export const CHECKSUM_NONE = 0;
export const CHECKSUM_UNNECESSARY = 1;
export const CHECKSUM_COMPLETE = 2;

/** The 16-bit reading of a network-order value (what a program loads for `protocol`). */
export function be16(value: number): number {
  return ((value & 0xff) << 8) | ((value >>> 8) & 0xff);
}

/** Transmit tunnel metadata set by bpf_skb_set_tunnel_key. spec program-types §4.8 */
export interface TunnelInfo {
  readonly id: number;
  readonly ipv6: boolean;
  /** Source and destination: IPv4 in host order in the first word, IPv6 as 16 network-order bytes. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly tos: number;
  readonly ttl: number;
  readonly label: number;
  readonly flags: number;
}

/** What bpf_redirect* recorded in the run (test_run reports the verdict, never sends). spec §4.6 */
export interface RedirectRecord {
  readonly helper: string;
  readonly ifindex?: number;
  readonly map?: string;
  readonly key?: number;
  readonly flags: number;
  /** bpf_redirect_neigh's next hop (AF_INET 2 with 4 address bytes, AF_INET6 10 with 16). */
  readonly nexthop?: { readonly family: number; readonly address: Uint8Array };
}

/** A clone bpf_clone_redirect would have sent (BPF_F_INGRESS 1: received) on `ifindex`. spec §4.6 */
export interface ClonedPacket {
  readonly ifindex: number;
  readonly flags: number;
  /** The bytes from skb->data at the call. */
  readonly data: Uint8Array;
}

export class SkBuff {
  /** Buffer offsets of the MAC and network headers; -1 when unset. */
  macHeader = -1;
  networkHeader = -1;
  transportHeader = -1;
  pktType = 0;
  mark = 0;
  queueMapping = 0;
  protocol = 0;
  /** The hardware-accelerated VLAN tag: present, TCI, protocol (network order reading). */
  vlanPresent = false;
  vlanTci = 0;
  vlanProto = 0;
  priority = 0;
  skbIif = 0;
  ifindex = LOOPBACK_IFINDEX;
  tcIndex = 0;
  /** The qdisc control block's 20 data bytes (cb[0..4]). */
  readonly cb = new Uint8Array(20);
  readonly cbView = new DataView(this.cb.buffer);
  hash = 0;
  swHash = false;
  l4Hash = false;
  tcClassid = 0;
  tstampLo = 0;
  tstampHi = 0;
  wireLen = 0;
  gsoSegs = 0;
  gsoSize = 0;
  hwtstampLo = 0;
  hwtstampHi = 0;
  csum = 0;
  ipSummed = CHECKSUM_NONE;
  csumLevel = 0;
  encapsulated = false;
  /** The socket (the test run's dummy socket) as the bpf_sock programs read; none: NULL. */
  sock?: MemoryRegion;
  tunnel?: TunnelInfo;
  redirect?: RedirectRecord;
  readonly clones: ClonedPacket[] = [];

  constructor(readonly pkt: PacketBuffer) {}

  /** skb->len: from data to the end, fragments included. */
  get len(): number { return this.pkt.end - this.pkt.data + this.pkt.fragBytes; }

  /** The packet's byte at linear offset `off` from the buffer start. */
  byte(off: number): number { return this.pkt.buf[off]; }
}

/**
 * eth_type_trans (net/ethernet/eth.c) on lo, whose address and broadcast address are all zero:
 * the MAC header at data, 14 bytes pulled, pkt_type from the destination, protocol from the
 * Ethernet type (802.3 lengths give ETH_P_802_3 or ETH_P_802_2). spec program-types §1.4.1 step 10
 */
export function ethTypeTrans(skb: SkBuff): void {
  const { pkt } = skb;
  const b = pkt.buf, m = pkt.data;
  skb.macHeader = m;
  pkt.data += ETH_HLEN;
  let zero = true;
  for (let k = 0; k < 6; k++) if (b[m + k] !== 0) zero = false;
  skb.pktType = zero ? 0 : (b[m] & 1) ? 2 : 3; // PACKET_HOST, _MULTICAST (lo's broadcast is all-zero), _OTHERHOST
  const type = (b[m + 12] << 8) | b[m + 13];
  if (type >= 0x0600) skb.protocol = be16(type);
  else skb.protocol = be16(pkt.byteAt(m + 14) === 0xff && pkt.byteAt(m + 15) === 0xff ? 0x0001 : 0x0004);
  skb.networkHeader = pkt.data;
}
