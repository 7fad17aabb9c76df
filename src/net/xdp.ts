/**
 * The xdp_buff of a test run: a 4096-byte frame with 256 bytes of headroom (XDP_PACKET_HEADROOM)
 * and 320 bytes of tailroom (skb_shared_info), fragments after the linear part, and the receive
 * queue it arrived on (lo, queue 0, unless the context names another). spec program-types §1.5
 */
import { PacketBuffer } from './packet.js';
import type { RedirectRecord } from './skb.js';

export const XDP_PACKET_HEADROOM = 256;
/** The frame size of a test run (the loopback rx queue's frag_size forced to PAGE_SIZE). */
export const XDP_FRAME_SIZE = 4096;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64. */
export const SKB_SHARED_INFO_SIZE = 320;
/** sizeof(struct xdp_frame): kept free at the start of the headroom. */
export const XDP_FRAME_STRUCT = 40;

export class XdpBuff {
  ingressIfindex = 1;
  rxQueueIndex = 0;
  redirect?: RedirectRecord;

  constructor(readonly pkt: PacketBuffer) {}

  /** data_hard_end: the limit of bpf_xdp_adjust_tail growth. */
  get hardEnd(): number { return XDP_FRAME_SIZE - SKB_SHARED_INFO_SIZE; }

  /** bpf_xdp_get_buff_len: linear bytes plus fragments. */
  get buffLen(): number { return this.pkt.end - this.pkt.data + this.pkt.fragBytes; }
}
