/**
 * XDP: the `xdp_md` context (xdp_is_valid_access, xdp_convert_ctx_access) and
 * bpf_prog_test_run_xdp (net/bpf/test_run.c): a 4096-byte frame on lo's rx queue 0, metadata
 * from ctx_in.data, the linear length from ctx_in.data_end, the rest in fragments; data_out from
 * data_meta. Live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES) needs devices bpfrun does not
 * model: it is refused with EINVAL, as spec §1.5.6 allows. spec program-types §1.5, §2.3
 */
import { TestRunError } from '../errors.js';
import { load64, type ContextModel, type ConvertedAccess } from './context.js';
import type { ContextAccess } from '../isa/ctx-ptr.js';
import { PacketBuffer } from '../net/packet.js';
import { ETH_HLEN, LOOPBACK_IFINDEX } from '../net/skb.js';
import { SKB_SHARED_INFO_SIZE, XDP_FRAME_SIZE, XDP_FRAME_STRUCT, XDP_PACKET_HEADROOM, XdpBuff } from '../net/xdp.js';
import { EINVAL, ENODEV, ENOMEM } from '../uapi.js';
import { ctxInit, repeatCount, testFinish } from './test-run.js';
import type { ProgramTypeDef } from './types.js';
import { helpersFor } from './helpers.js';

const XDP_MD_SIZE = 24;
const BPF_F_TEST_XDP_LIVE_FRAMES = 2;

const XDP_FIELDS: ReadonlyArray<readonly [string, (c: XdpBuff) => number]> = [
  ['data', (c) => load64(c.pkt.lo(c.pkt.data), c.pkt.hi)],
  ['data_end', (c) => load64(c.pkt.lo(c.pkt.end), c.pkt.hi)],
  ['data_meta', (c) => load64(c.pkt.lo(c.pkt.meta), c.pkt.hi)],
  ['ingress_ifindex', (c) => load64(c.ingressIfindex, 0)],
  ['rx_queue_index', (c) => load64(c.rxQueueIndex, 0)],
];

/** xdp_md: exactly 4-byte reads, no writes; egress_ifindex only for devmap programs. spec §2.3 */
const XDP_CONTEXT: ContextModel<XdpBuff> = {
  struct: 'xdp_md',
  packetLoads: false,
  convert(a: ContextAccess): ConvertedAccess<XdpBuff> | string {
    if (a.off < 0 || a.off + a.size > XDP_MD_SIZE) return 'outside xdp_md';
    if (a.kind === 'store') return 'xdp_md is read-only';
    if (a.size !== 4 || a.off % 4 !== 0) return 'xdp_md fields must be read with 4 bytes';
    const field = XDP_FIELDS[a.off / 4];
    if (field === undefined) return 'egress_ifindex is readable only by BPF_XDP_DEVMAP programs';
    if (a.kind === 'loadsx' && a.off <= 8) return `${field[0]} cannot be read with a sign-extending load`;
    const read = field[1];
    if (a.kind === 'loadsx') return { load: (c) => load64(read(c), read(c) >> 31) };
    return { load: read };
  },
};

export const XDP: ProgramTypeDef = {
  name: 'xdp',
  context: XDP_CONTEXT,
  helpers: helpersFor('xdp'),
  testRun(kernel, input, program) {
    const fail = (errno: number, why: string) => new TestRunError(program.name, errno, why);
    // 1.–4.
    if (/^xdp\/(devmap|cpumap)/.test(program.section)) throw fail(EINVAL, `${program.section} programs cannot be test-run`);
    const flags = input.flags ?? 0;
    if ((flags & ~BPF_F_TEST_XDP_LIVE_FRAMES) !== 0) throw fail(EINVAL, `flags 0x${flags.toString(16)} (only BPF_F_TEST_XDP_LIVE_FRAMES is allowed)`);
    if (flags & BPF_F_TEST_XDP_LIVE_FRAMES) throw fail(EINVAL, 'BPF_F_TEST_XDP_LIVE_FRAMES is not supported by bpfrun (it transmits on real devices)');
    if ((input.batchSize ?? 0) !== 0) throw fail(EINVAL, 'batch_size must be 0 without BPF_F_TEST_XDP_LIVE_FRAMES');
    // 5., 6.
    const data = input.data ?? new Uint8Array(0);
    const ctx = ctxInit(input, XDP_MD_SIZE, program);
    const cv = ctx && new DataView(ctx.buffer);
    let meta = 0, linear = data.length;
    if (cv) {
      const cData = cv.getUint32(0, true), cEnd = cv.getUint32(4, true);
      if (cv.getUint32(8, true) !== 0) throw fail(EINVAL, 'ctx data_meta must be 0');
      if (cEnd > data.length) throw fail(EINVAL, `ctx data_end ${cEnd} is past the ${data.length} bytes of data_in`);
      if (cData > cEnd) throw fail(EINVAL, `ctx data ${cData} is past ctx data_end ${cEnd}`);
      meta = cData;
      if (meta % 4 !== 0 || meta > XDP_PACKET_HEADROOM - XDP_FRAME_STRUCT) {
        throw fail(EINVAL, `metadata of ${meta} bytes (a multiple of 4, at most ${XDP_PACKET_HEADROOM - XDP_FRAME_STRUCT})`);
      }
      linear = cEnd; // 7.2: data_end is the linear length (0: everything in fragments)
    }
    // 8.–10.
    const headroom = XDP_PACKET_HEADROOM - meta;
    linear = Math.min(linear, XDP_FRAME_SIZE - headroom - SKB_SHARED_INFO_SIZE);
    if (data.length - meta < ETH_HLEN) throw fail(EINVAL, `data_in has ${data.length - meta} bytes after the metadata (needs 14)`);
    // 11., 12.
    const pkt = new PacketBuffer(kernel.memory, `packet of ${program.name}`, XDP_FRAME_SIZE, headroom, data.subarray(0, linear));
    const xdp = new XdpBuff(pkt);
    try {
      // 13.
      if (cv) {
        if (cv.getUint32(20, true) !== 0) throw fail(EINVAL, 'ctx egress_ifindex must be 0');
        const ingress = cv.getUint32(12, true), queue = cv.getUint32(16, true);
        if (ingress === 0 && queue !== 0) throw fail(EINVAL, 'ctx rx_queue_index needs an ingress_ifindex');
        if (ingress !== 0) {
          if (ingress !== LOOPBACK_IFINDEX) throw fail(ENODEV, `ctx ingress_ifindex ${ingress}: no such device (only lo, 1, exists)`);
          if (queue >= 1) throw fail(EINVAL, `ctx rx_queue_index ${queue}: lo has 1 rx queue`);
          xdp.ingressIfindex = ingress;
          xdp.rxQueueIndex = queue;
        }
        pkt.data = pkt.meta + meta;
        if (pkt.data > pkt.end) pkt.end = pkt.data;
        pkt.refresh();
      }
      // 14.
      if (!pkt.addFrags(data.subarray(linear))) throw fail(ENOMEM, 'data_in needs more than 17 page fragments');
    } catch (e) {
      pkt.release();
      throw e;
    }
    return {
      context: xdp,
      repeat: repeatCount(input),
      finish: () => {
        // 16., 17.
        if (cv) {
          cv.setUint32(0, pkt.data - pkt.meta, true);
          cv.setUint32(4, pkt.end - pkt.meta, true);
        }
        return testFinish(input, pkt.contents(pkt.meta), ctx, xdp);
      },
      release: () => pkt.release(),
    };
  },
};
