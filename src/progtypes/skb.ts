/**
 * The skb program types — socket filter, tc (sched_cls, sched_act), cgroup_skb and the LWT
 * types — and their one test run, bpf_prog_test_run_skb (net/bpf/test_run.c): the sk_buff built
 * on lo with 64 bytes of headroom, eth_type_trans, a dummy socket, the __sk_buff context in and
 * out. spec program-types §1.4 (the steps are numbered as there)
 */
import { TestRunError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import { csumPartial, fold16 } from '../net/csum.js';
import { PacketBuffer } from '../net/packet.js';
import { SKB_SHARED_INFO_SIZE } from '../net/xdp.js';
import {
  AF_INET, AF_INET6, CHECKSUM_COMPLETE, ETH_HLEN, ETH_P_IP, ETH_P_IPV6, ethTypeTrans, LOOPBACK_IFINDEX, SkBuff, TCP_CLOSE, be16,
} from '../net/skb.js';
import { EBADMSG, EINVAL, ENODEV, ENOMEM } from '../uapi.js';
import { skbContextModel, type SkbFamily } from './skb-context.js';
import { helpersFor, type HelperFamily } from './helpers.js';
import { ctxInit, repeatCount, testFinish } from './test-run.js';
import type { ProgramTypeDef, TestRunInput, TestRunProgram, TestRunSetup } from './types.js';

/** NET_SKB_PAD + NET_IP_ALIGN on x86-64. */
export const SKB_HEADROOM = 64;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) after the data. */
const SKB_TAILROOM = SKB_SHARED_INFO_SIZE;
/** The most linear bytes a test-run skb holds: 4096 - 64 - 320. */
export const SKB_MAX_LINEAR = 4096 - SKB_HEADROOM - SKB_TAILROOM;
const SK_BUFF_CTX_SIZE = 192;
const BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 4;
/** sizeof(struct bpf_sock). */
const BPF_SOCK_SIZE = 80;
/** GSO_LEGACY_MAX_SIZE, GSO_MAX_SEGS. */
const GSO_LEGACY_MAX_SIZE = 65536;
const GSO_MAX_SEGS = 65535;

/** __sk_buff byte ranges a ctx_in must leave zero (convert___skb_to_skb). spec §1.4.3 */
const ZERO_RANGES: ReadonlyArray<readonly [number, number, string]> = [
  [0, 8, 'len, pkt_type'], [12, 32, 'queue_mapping .. vlan_proto'], [44, 48, 'tc_index'],
  [68, 80, 'hash, tc_classid, data'], [84, 152, 'napi_id .. flow_keys'], [168, 176, 'sk'], [180, 184, 'tstamp_type'],
];

interface SkbTypeRules {
  readonly family: SkbFamily;
  /** tc sees the Ethernet header; the others start at L3. */
  readonly l2: boolean;
  readonly lwt: boolean;
  /** Its column of the helper table (spec §4.0). */
  readonly helpers: HelperFamily;
}

function skbType(name: string, rules: SkbTypeRules): ProgramTypeDef {
  return {
    name,
    context: skbContextModel(rules.family),
    testRun: (kernel, input, program) => skbTestRun(kernel, input, program, rules),
    helpers: helpersFor(rules.helpers),
  };
}

export const SOCKET_FILTER = skbType('socket_filter', { family: 'socket', l2: false, lwt: false, helpers: 'socket' });
export const SCHED_CLS = skbType('sched_cls', { family: 'tc', l2: true, lwt: false, helpers: 'tc' });
export const SCHED_ACT = skbType('sched_act', { family: 'tc', l2: true, lwt: false, helpers: 'tc' });
export const CGROUP_SKB = skbType('cgroup_skb', { family: 'cgroup', l2: false, lwt: false, helpers: 'cgroup' });
export const LWT_IN = skbType('lwt_in', { family: 'lwt', l2: false, lwt: true, helpers: 'lwt_in' });
export const LWT_OUT = skbType('lwt_out', { family: 'lwt', l2: false, lwt: true, helpers: 'lwt_out' });
export const LWT_XMIT = skbType('lwt_xmit', { family: 'lwt', l2: false, lwt: true, helpers: 'lwt_xmit' });

function skbTestRun(kernel: SimKernel, input: TestRunInput, program: TestRunProgram, rules: SkbTypeRules): TestRunSetup {
  const fail = (errno: number, why: string) => new TestRunError(program.name, errno, why);
  const flags = input.flags ?? 0;
  // 1.
  if ((flags & ~BPF_F_TEST_SKB_CHECKSUM_COMPLETE) !== 0) throw fail(EINVAL, `flags 0x${flags.toString(16)} (only BPF_F_TEST_SKB_CHECKSUM_COMPLETE is allowed)`);
  if ((input.cpu ?? 0) !== 0) throw fail(EINVAL, 'cpu must be 0');
  if ((input.batchSize ?? 0) !== 0) throw fail(EINVAL, 'batch_size must be 0');
  // 2.
  const data = input.data ?? new Uint8Array(0);
  if (data.length < ETH_HLEN) throw fail(EINVAL, `data_in is ${data.length} bytes, shorter than an Ethernet header (14)`);
  // 3., 4.
  const ctx = ctxInit(input, SK_BUFF_CTX_SIZE, program);
  const cv = ctx && new DataView(ctx.buffer);
  let linear = data.length;
  if (cv) {
    const dataEnd = cv.getUint32(80, true);
    if (dataEnd > data.length) throw fail(EINVAL, `ctx data_end ${dataEnd} is past the ${data.length} bytes of data_in`);
    if (cv.getUint32(76, true) !== 0 || cv.getUint32(140, true) !== 0) throw fail(EINVAL, 'ctx data and data_meta must be 0');
    if (dataEnd !== 0) {
      if (rules.lwt) throw fail(EINVAL, 'non-linear LWT test_run is unsupported (ctx data_end must be 0)');
      linear = Math.max(ETH_HLEN, dataEnd);
    }
  }
  // 5., 7., 8.
  linear = Math.min(linear, SKB_MAX_LINEAR);
  const pkt = new PacketBuffer(kernel.memory, `packet of ${program.name}`,
    SKB_HEADROOM + Math.ceil(linear / 64) * 64 + SKB_TAILROOM, SKB_HEADROOM, data.subarray(0, linear));
  const skb = new SkBuff(pkt);
  let sock: ReturnType<SimKernel['memory']['map']> | undefined;
  const release = () => { pkt.release(); if (sock) kernel.memory.unmap(sock); };
  try {
    if (!pkt.addFrags(data.subarray(linear))) throw fail(ENOMEM, 'data_in needs more than 17 page fragments');
    // 9.
    const ifindex = cv ? cv.getUint32(40, true) : 0;
    if (ifindex > LOOPBACK_IFINDEX) throw fail(ENODEV, `ctx ifindex ${ifindex}: no such device (only lo, 1, exists)`);
    skb.ifindex = LOOPBACK_IFINDEX;
    // 10., 11.
    ethTypeTrans(skb);
    // 6., 12.: the dummy socket, with the packet's addresses.
    const bsock = new Uint8Array(BPF_SOCK_SIZE);
    const sv = new DataView(bsock.buffer);
    sv.setUint32(72, TCP_CLOSE, true);
    sv.setInt32(76, -1, true); // rx_queue_mapping: NO_QUEUE_MAPPING
    const nh = pkt.data;
    if (skb.protocol === be16(ETH_P_IP)) {
      if (pkt.end - nh < 20) throw fail(EINVAL, `IPv4 packet with ${pkt.end - nh} linear bytes after the Ethernet header (needs 20)`);
      sv.setUint32(4, AF_INET, true);
      bsock.set(pkt.buf.subarray(nh + 12, nh + 16), 24); // src_ip4 = rcv_saddr = the packet's source
      bsock.set(pkt.buf.subarray(nh + 16, nh + 20), 52); // dst_ip4 = daddr = its destination
    } else if (skb.protocol === be16(ETH_P_IPV6)) {
      if (pkt.end - nh < 40) throw fail(EINVAL, `IPv6 packet with ${pkt.end - nh} linear bytes after the Ethernet header (needs 40)`);
      sv.setUint32(4, AF_INET6, true);
      bsock.set(pkt.buf.subarray(nh + 8, nh + 24), 28);
      bsock.set(pkt.buf.subarray(nh + 24, nh + 40), 56);
    }
    sock = kernel.memory.map(`bpf_sock of ${program.name}'s dummy socket`, bsock, false);
    skb.sock = sock;
    // 13., 14.
    if (rules.l2) pkt.data -= ETH_HLEN;
    pkt.meta = pkt.data;
    pkt.refresh();
    // 15.
    if (ctx && cv) applyContext(skb, ctx, cv, fail);
    // 16.
    const complete = (flags & BPF_F_TEST_SKB_CHECKSUM_COMPLETE) !== 0;
    if (complete) { skb.csum = l3Sum(skb); skb.ipSummed = CHECKSUM_COMPLETE; }
  } catch (e) {
    release();
    throw e;
  }
  return {
    context: skb,
    repeat: repeatCount(input),
    finish: () => {
      // 19.: the L3 types get 14 zero bytes in front of the network header.
      if (!rules.l2) {
        const shift = pkt.grow(ETH_HLEN, 0);
        if (skb.networkHeader >= 0) skb.networkHeader += shift;
        if (skb.macHeader >= 0) skb.macHeader += shift;
        pkt.data -= ETH_HLEN;
        pkt.buf.fill(0, pkt.data, pkt.data + ETH_HLEN);
      }
      // 20.
      if (skb.ipSummed === CHECKSUM_COMPLETE) {
        if (fold16(l3Sum(skb)) !== fold16(skb.csum)) throw fail(EBADMSG, 'skb->csum does not match the packet after the run (CHECKSUM_COMPLETE)');
      }
      // 21., 22.
      if (ctx && cv) contextOut(skb, cv);
      return testFinish(input, pkt.contents(pkt.data), ctx, skb);
    },
    release,
  };
}

/** skb_checksum from the network header to the end, fragments included (CHECKSUM_COMPLETE). */
function l3Sum(skb: SkBuff): number {
  const bytes = skb.pkt.contents(skb.networkHeader);
  return csumPartial(bytes, 0, bytes.length, 0);
}

/** convert___skb_to_skb: the fields a ctx_in may set. spec §1.4.3 */
function applyContext(skb: SkBuff, ctx: Uint8Array, cv: DataView, fail: (errno: number, why: string) => Error): void {
  for (const [from, to, what] of ZERO_RANGES) {
    for (let k = from; k < to; k++) if (ctx[k] !== 0) throw fail(EINVAL, `ctx ${what} (bytes ${from}..${to - 1}) must be 0`);
  }
  skb.mark = cv.getUint32(8, true);
  skb.priority = cv.getUint32(32, true);
  skb.skbIif = cv.getUint32(36, true);
  skb.cb.set(ctx.subarray(48, 68));
  skb.tstampLo = cv.getInt32(152, true);
  skb.tstampHi = cv.getInt32(156, true);
  const wire = cv.getUint32(160, true);
  if (wire === 0) skb.wireLen = skb.len;
  else if (wire < skb.len || wire > GSO_LEGACY_MAX_SIZE) throw fail(EINVAL, `ctx wire_len ${wire} (must be 0 or ${skb.len}..${GSO_LEGACY_MAX_SIZE})`);
  else skb.wireLen = wire;
  const segs = cv.getUint32(164, true);
  if (segs > GSO_MAX_SEGS) throw fail(EINVAL, `ctx gso_segs ${segs} (at most ${GSO_MAX_SEGS})`);
  skb.gsoSegs = segs;
  skb.gsoSize = cv.getUint32(176, true) & 0xffff;
  skb.hwtstampLo = cv.getInt32(184, true);
  skb.hwtstampHi = cv.getInt32(188, true);
}

/** convert_skb_to___skb: the fields written back to ctx_out. spec §1.4.4 */
function contextOut(skb: SkBuff, cv: DataView): void {
  cv.setUint32(8, skb.mark, true);
  cv.setUint32(32, skb.priority, true);
  cv.setUint32(36, skb.skbIif, true);
  cv.setUint32(40, skb.ifindex, true);
  cv.setInt32(152, skb.tstampLo, true);
  cv.setInt32(156, skb.tstampHi, true);
  new Uint8Array(cv.buffer).set(skb.cb, 48);
  cv.setUint32(160, skb.wireLen, true);
  cv.setUint32(164, skb.gsoSegs, true);
  cv.setInt32(184, skb.hwtstampLo, true);
  cv.setInt32(188, skb.hwtstampHi, true);
}
