/**
 * The packet helpers (net/core/filter.c): XDP buffer helpers, skb byte access, checksums, skb
 * resizing, VLAN, hash, redirects, tunnel metadata, and the current-task helpers packet types
 * use. They act on the run's kernel object (`kernel.runContext`: an SkBuff, an XdpBuff or a
 * FlowDissectorContext) and return kernel errnos as negative numbers. Each helper cites its
 * section of spec program-types.md. After any change of packet layout the packet is mapped again
 * (PacketBuffer.refresh), so the program's next ctx load sees the new data / data_end.
 */
import { RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import { csumAdd, csumPartial, csumReplace, csumReplaceByDiff, csumSub, fold16 } from '../net/csum.js';
import {
  AF_INET6, be16, CHECKSUM_COMPLETE, CHECKSUM_NONE, CHECKSUM_UNNECESSARY, ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6,
  type RedirectRecord, SkBuff,
} from '../net/skb.js';
import { SKB_SHARED_INFO_SIZE, XDP_FRAME_STRUCT, XdpBuff } from '../net/xdp.js';
import { FRAG_SIZE } from '../net/packet.js';
import { FlowDissectorContext } from '../progtypes/flow-dissector.js';
import type { CallContext, NativeFn } from '../runtime.js';
import {
  BPF_MAP_TYPE_CPUMAP, BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH, BPF_MAP_TYPE_XSKMAP,
  EACCES, EALREADY, EBADMSG, EFAULT, EINVAL, ENOMEM, ENOTSUPP, EPROTO, ERANGE, INT_MAX, type HelperName,
} from '../uapi.js';

/** BPF_SKB_MAX_LEN = SKB_MAX_ALLOC: 16384 - 320. spec §4.4 */
const BPF_SKB_MAX_LEN = 16384 - SKB_SHARED_INFO_SIZE;
const VLAN_HLEN = 4;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const XDP_ABORTED = 0;
const XDP_REDIRECT = 4;
/** sizeof(struct bpf_redir_neigh). */
const REDIR_NEIGH_SIZE = 20;

/** The packet helpers, by name, bound to `kernel`. */
export function createPacketHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const u32 = (ctx: CallContext, n: number) => ctx.argLo(n) >>> 0;
  const skbOf = (ctx: CallContext, helper: string): SkBuff => {
    const c = kernel.runContext;
    if (!(c instanceof SkBuff)) throw new RuntimeError(ctx.index, `bpf_${helper}: the run has no sk_buff`);
    return c;
  };
  const xdpOf = (ctx: CallContext, helper: string): XdpBuff => {
    const c = kernel.runContext;
    if (!(c instanceof XdpBuff)) throw new RuntimeError(ctx.index, `bpf_${helper}: the run has no xdp_buff`);
    return c;
  };
  const zeroFill = (ctx: CallContext, address: bigint, len: number) => {
    if (len > 0) kernel.writeOrFail(ctx.index, address, new Uint8Array(len));
  };
  /** The skb's data / data_end changed: data_meta follows data, the packet is mapped again. */
  const relayout = (skb: SkBuff) => { skb.pkt.meta = skb.pkt.data; skb.pkt.refresh(); };
  /** pskb_expand_head: at least `n` bytes of headroom; header offsets follow the buffer. */
  const headroom = (skb: SkBuff, n: number) => {
    const shift = skb.pkt.grow(n, 0);
    if (shift === 0) return;
    if (skb.macHeader >= 0) skb.macHeader += shift;
    if (skb.networkHeader >= 0) skb.networkHeader += shift;
    if (skb.transportHeader >= 0) skb.transportHeader += shift;
  };
  /** bpf_skb_generic_push: `len` zero bytes at `off` from data; the first `off` bytes move down. */
  const genericPush = (skb: SkBuff, off: number, len: number) => {
    headroom(skb, len);
    const { pkt } = skb;
    pkt.pull(off);
    pkt.buf.copyWithin(pkt.data - len, pkt.data, pkt.data + off);
    pkt.data -= len;
    pkt.buf.fill(0, pkt.data + off, pkt.data + off + len);
  };
  /**
   * bpf_skb_generic_pop: `len` bytes removed at `off` from data; the first `off` bytes move up.
   * skb_postpull_rcsum takes the removed bytes out of a CHECKSUM_COMPLETE skb->csum
   * (csum = ~csum_partial(removed, ~csum)).
   */
  const genericPop = (skb: SkBuff, off: number, len: number) => {
    const { pkt } = skb;
    pkt.pull(off + len);
    if (skb.ipSummed === CHECKSUM_COMPLETE) {
      skb.csum = ~csumPartial(pkt.buf, pkt.data + off, len, ~skb.csum >>> 0) >>> 0;
    }
    pkt.buf.copyWithin(pkt.data + len, pkt.data, pkt.data + off);
    pkt.data += len;
  };
  /** bpf_skb_net_hdr_push / _pop: MAC and network headers move with the bytes in front. */
  const netHdrPush = (skb: SkBuff, off: number, len: number) => {
    const transSame = skb.transportHeader === skb.networkHeader;
    genericPush(skb, off, len);
    skb.macHeader -= len;
    skb.networkHeader -= len;
    if (transSame) skb.transportHeader = skb.networkHeader;
  };
  const netHdrPop = (skb: SkBuff, off: number, len: number) => {
    const transSame = skb.transportHeader === skb.networkHeader;
    genericPop(skb, off, len);
    skb.macHeader += len;
    skb.networkHeader += len;
    if (transSame) skb.transportHeader = skb.networkHeader;
  };
  /** __skb_reset_checksum_unnecessary. */
  const resetCsumUnnecessary = (skb: SkBuff) => {
    if (skb.ipSummed === CHECKSUM_UNNECESSARY) { skb.ipSummed = CHECKSUM_NONE; skb.csumLevel = 0; }
  };
  const clearHash = (skb: SkBuff) => { skb.hash = 0; skb.swHash = false; skb.l4Hash = false; };
  /** csum_partial of packet bytes [pos, pos + len) (buffer offsets, fragments after end). */
  const packetSum = (skb: SkBuff, pos: number, len: number) => {
    const bytes = new Uint8Array(len);
    skb.pkt.copyOut(pos, 0, len, bytes);
    return csumPartial(bytes, 0, len, 0);
  };
  /** csum_block_add / _sub: a block at an odd offset is byte-rotated. */
  const rotate = (sum: number, odd: boolean) => (odd ? ((sum >>> 8) | (sum << 24)) >>> 0 : sum);

  /** The checks bpf_l3/l4_csum_replace share (spec §4.3): the field's buffer offset, or an errno. */
  const csumField = (skb: SkBuff, offset: number): number => {
    if (offset > 0xffff || (offset & 1) !== 0) return -EFAULT;
    if (offset + 2 > skb.len) return -EFAULT;
    skb.pkt.pull(offset + 2);
    relayout(skb);
    return skb.pkt.data + offset;
  };
  const readSum16 = (skb: SkBuff, pos: number) => skb.pkt.buf[pos] | (skb.pkt.buf[pos + 1] << 8);
  const writeSum16 = (skb: SkBuff, pos: number, v: number) => { skb.pkt.buf[pos] = v & 0xff; skb.pkt.buf[pos + 1] = (v >>> 8) & 0xff; };

  return {
    // §4.1 bpf_xdp_adjust_head: data moves by delta; the metadata moves with it.
    xdp_adjust_head: (ctx) => {
      const { pkt } = xdpOf(ctx, 'xdp_adjust_head');
      const delta = ctx.argLo(2);
      const metalen = pkt.data - pkt.meta;
      const data = pkt.data + delta;
      if (data < XDP_FRAME_STRUCT + metalen || data > pkt.end - ETH_HLEN) return -EINVAL;
      if (metalen > 0) pkt.buf.copyWithin(pkt.meta + delta, pkt.meta, pkt.data);
      pkt.meta += delta;
      pkt.data = data;
      pkt.refresh();
      return 0;
    },
    // §4.1 bpf_xdp_adjust_meta.
    xdp_adjust_meta: (ctx) => {
      const { pkt } = xdpOf(ctx, 'xdp_adjust_meta');
      const meta = pkt.meta + ctx.argLo(2);
      if (meta < XDP_FRAME_STRUCT || meta > pkt.data) return -EINVAL;
      const metalen = pkt.data - meta;
      if (metalen % 4 !== 0 || metalen > 255) return -EACCES;
      pkt.meta = meta;
      pkt.refresh();
      return 0;
    },
    // §4.1 bpf_xdp_adjust_tail: the linear end, or the last fragment when there are fragments.
    xdp_adjust_tail: (ctx) => {
      const xdp = xdpOf(ctx, 'xdp_adjust_tail');
      const { pkt } = xdp;
      const delta = ctx.argLo(2);
      if (pkt.frags.length > 0) {
        if (delta < 0) {
          const cut = -delta;
          if (cut > xdp.buffLen - ETH_HLEN) return -EINVAL;
          let freed = 0;
          while (freed < cut && pkt.frags.length > 0) {
            const last = pkt.frags[pkt.frags.length - 1];
            const shrink = Math.min(cut - freed, last.size);
            last.size -= shrink;
            if (last.size === 0) pkt.frags.pop();
            freed += shrink;
          }
          if (cut > freed) pkt.end -= cut - freed;
          pkt.refresh();
          return 0;
        }
        const last = pkt.frags[pkt.frags.length - 1];
        if (delta > FRAG_SIZE - last.size) return -EINVAL;
        last.bytes.fill(0, last.size, last.size + delta);
        last.size += delta;
        return 0;
      }
      const end = pkt.end + delta;
      if (end > xdp.hardEnd || end < pkt.data + ETH_HLEN) return -EINVAL;
      if (delta > 0) pkt.buf.fill(0, pkt.end, end);
      pkt.end = end;
      pkt.refresh();
      return 0;
    },
    // §4.1 bpf_xdp_get_buff_len.
    xdp_get_buff_len: (ctx) => xdpOf(ctx, 'xdp_get_buff_len').buffLen,
    // §4.1 bpf_xdp_load_bytes: offsets from data; the buffer is left alone on error.
    xdp_load_bytes: (ctx) => {
      const xdp = xdpOf(ctx, 'xdp_load_bytes');
      const off = u32(ctx, 2), len = u32(ctx, 4);
      if (off > 0xffff || len > 0xffff) return -EFAULT;
      if (off + len > xdp.buffLen) return -EINVAL;
      const bytes = new Uint8Array(len);
      xdp.pkt.copyOut(xdp.pkt.data, off, len, bytes);
      kernel.writeOrFail(ctx.index, ctx.arg(3), bytes);
      return 0;
    },
    // §4.1 bpf_xdp_store_bytes.
    xdp_store_bytes: (ctx) => {
      const xdp = xdpOf(ctx, 'xdp_store_bytes');
      const off = u32(ctx, 2), len = u32(ctx, 4);
      if (off > 0xffff || len > 0xffff) return -EFAULT;
      if (off + len > xdp.buffLen) return -EINVAL;
      xdp.pkt.copyIn(xdp.pkt.data, off, kernel.readOrFail(ctx.index, ctx.arg(3), len));
      return 0;
    },

    // §4.2 bpf_skb_load_bytes (and the flow dissector's variant: no skb in a test run, EFAULT).
    skb_load_bytes: (ctx) => {
      const off = u32(ctx, 2), len = u32(ctx, 4), to = ctx.arg(3);
      const c = kernel.runContext;
      if (c instanceof FlowDissectorContext) { zeroFill(ctx, to, len); return -EFAULT; }
      const skb = skbOf(ctx, 'skb_load_bytes');
      const bytes = new Uint8Array(len);
      if (off > INT_MAX || !skb.pkt.copyOut(skb.pkt.data, off, len, bytes)) { zeroFill(ctx, to, len); return -EFAULT; }
      kernel.writeOrFail(ctx.index, to, bytes);
      return 0;
    },
    // §4.2 bpf_skb_load_bytes_relative: from the MAC or network header, linear bytes only.
    skb_load_bytes_relative: (ctx) => {
      const skb = skbOf(ctx, 'skb_load_bytes_relative');
      const off = u32(ctx, 2), len = u32(ctx, 4), to = ctx.arg(3), start = u32(ctx, 5);
      const fail = () => { zeroFill(ctx, to, len); return -EFAULT; };
      if (off > 0xffff) return fail();
      const base = start === 0 ? skb.macHeader : start === 1 ? skb.networkHeader : -1;
      if (base < 0 || base + off + len > skb.pkt.end) return fail();
      kernel.writeOrFail(ctx.index, to, skb.pkt.buf.slice(base + off, base + off + len));
      return 0;
    },
    // §4.2 bpf_skb_store_bytes: pulls the bytes linear, keeps skb->csum for CHECKSUM_COMPLETE.
    skb_store_bytes: (ctx) => {
      const skb = skbOf(ctx, 'skb_store_bytes');
      const off = u32(ctx, 2), len = u32(ctx, 4), flags = ctx.arg(5);
      if ((flags & ~3n) !== 0n) return -EINVAL;
      if (off > INT_MAX || off + len > skb.len) return -EFAULT;
      const from = kernel.readOrFail(ctx.index, ctx.arg(3), len);
      const { pkt } = skb;
      pkt.pull(off + len);
      const pos = pkt.data + off;
      const recompute = (flags & 1n) !== 0n && skb.ipSummed === CHECKSUM_COMPLETE;
      if (recompute) skb.csum = csumSub(skb.csum, rotate(csumPartial(pkt.buf, pos, len, 0), (off & 1) !== 0));
      pkt.buf.set(from, pos);
      if (recompute) skb.csum = csumAdd(skb.csum, rotate(csumPartial(pkt.buf, pos, len, 0), (off & 1) !== 0));
      if (flags & 2n) clearHash(skb);
      relayout(skb);
      return 0;
    },
    // §4.3 bpf_l3_csum_replace.
    l3_csum_replace: (ctx) => {
      const skb = skbOf(ctx, 'l3_csum_replace');
      const flags = ctx.arg(5), from = ctx.arg(3), to = ctx.arg(4);
      if ((flags & ~0xfn) !== 0n) return -EINVAL;
      const pos = csumField(skb, u32(ctx, 2));
      if (pos < 0) return pos;
      const check = readSum16(skb, pos);
      const f = Number(from & 0xffffffffn), t = Number(to & 0xffffffffn);
      switch (Number(flags & 0xfn)) {
        case 0: if (from !== 0n) return -EINVAL; writeSum16(skb, pos, csumReplaceByDiff(check, t)); break;
        case 2: writeSum16(skb, pos, csumReplace(check, f & 0xffff, t & 0xffff, 2)); break;
        case 4: writeSum16(skb, pos, csumReplace(check, f, t, 4)); break;
        default: return -EINVAL;
      }
      return 0;
    },
    // §4.3 bpf_l4_csum_replace: inet_proto_csum_replace{2,4,_by_diff}.
    l4_csum_replace: (ctx) => {
      const skb = skbOf(ctx, 'l4_csum_replace');
      const flags = ctx.arg(5), from = ctx.arg(3), to = ctx.arg(4);
      if ((flags & ~0xffn) !== 0n) return -EINVAL;
      const pseudo = (flags & 0x10n) !== 0n, mangled = (flags & 0x20n) !== 0n;
      const enforce = (flags & 0x40n) !== 0n, ipv6 = (flags & 0x80n) !== 0n;
      const pos = csumField(skb, u32(ctx, 2));
      if (pos < 0) return pos;
      const check = readSum16(skb, pos);
      if (mangled && !enforce && check === 0) return 0;
      const f = Number(from & 0xffffffffn), t = Number(to & 0xffffffffn);
      let diff: number;
      switch (Number(flags & 0xfn)) {
        case 0: if (from !== 0n) return -EINVAL; diff = t; break;
        case 2: diff = csumAdd(~f & 0xffff, t & 0xffff); break;
        case 4: diff = csumAdd(~f >>> 0, t); break;
        default: return -EINVAL;
      }
      let next = csumReplaceByDiff(check, diff);
      if (mangled && next === 0) next = 0xffff;
      writeSum16(skb, pos, next);
      const sizeZero = (flags & 0xfn) === 0n;
      if (skb.ipSummed === CHECKSUM_COMPLETE && pseudo && !(sizeZero && ipv6)) skb.csum = ~csumAdd(diff, ~skb.csum >>> 0) >>> 0;
      return 0;
    },
    // §4.3 bpf_csum_diff: folded to 16 bits.
    csum_diff: (ctx) => {
      const fromSize = u32(ctx, 2), toSize = u32(ctx, 4), seed = u32(ctx, 5);
      const from = fromSize ? kernel.readOrFail(ctx.index, ctx.arg(1), fromSize) : new Uint8Array(0);
      const to = toSize ? kernel.readOrFail(ctx.index, ctx.arg(3), toSize) : new Uint8Array(0);
      let ret: number;
      if (fromSize && toSize) ret = csumSub(csumPartial(to, 0, toSize, seed), csumPartial(from, 0, fromSize, 0));
      else if (toSize) ret = csumPartial(to, 0, toSize, seed);
      else if (fromSize) ret = ~csumPartial(from, 0, fromSize, ~seed >>> 0) >>> 0;
      else ret = seed;
      return fold16(ret);
    },
    // §4.3 bpf_csum_update: only with CHECKSUM_COMPLETE.
    csum_update: (ctx) => {
      const skb = skbOf(ctx, 'csum_update');
      if (skb.ipSummed !== CHECKSUM_COMPLETE) return -ENOTSUPP;
      skb.csum = csumAdd(skb.csum, u32(ctx, 2));
      return skb.csum;
    },
    // §4.3 bpf_csum_level.
    csum_level: (ctx) => {
      const skb = skbOf(ctx, 'csum_level');
      switch (ctx.arg(2)) {
        case 0n: return skb.ipSummed === CHECKSUM_UNNECESSARY ? skb.csumLevel : -EACCES;
        case 1n:
          if (skb.ipSummed === CHECKSUM_UNNECESSARY) { if (skb.csumLevel < 3) skb.csumLevel++; }
          else if (skb.ipSummed === CHECKSUM_NONE) { skb.ipSummed = CHECKSUM_UNNECESSARY; skb.csumLevel = 0; }
          return 0;
        case 2n:
          if (skb.ipSummed === CHECKSUM_UNNECESSARY) { if (skb.csumLevel === 0) skb.ipSummed = CHECKSUM_NONE; else skb.csumLevel--; }
          return 0;
        case 3n: resetCsumUnnecessary(skb); return 0;
        default: return -EINVAL;
      }
    },

    // §4.2 bpf_skb_pull_data.
    skb_pull_data: (ctx) => {
      const skb = skbOf(ctx, 'skb_pull_data');
      const len = u32(ctx, 2);
      if (len > skb.len) { relayout(skb); return -ENOMEM; }
      skb.pkt.pull(len === 0 ? skb.pkt.linear : len);
      relayout(skb);
      return 0;
    },
    // §4.4 bpf_skb_change_head: zero bytes in front; the MAC header starts there.
    skb_change_head: (ctx) => {
      const skb = skbOf(ctx, 'skb_change_head');
      const len = u32(ctx, 2);
      if (ctx.arg(3) !== 0n || len > INT_MAX || skb.len + len > BPF_SKB_MAX_LEN) return -EINVAL;
      headroom(skb, len);
      skb.pkt.data -= len;
      skb.pkt.buf.fill(0, skb.pkt.data, skb.pkt.data + len);
      skb.macHeader = skb.pkt.data;
      relayout(skb);
      return 0;
    },
    // §4.4 bpf_skb_change_tail: the new total length; linearized, zeros appended.
    skb_change_tail: (ctx) => {
      const skb = skbOf(ctx, 'skb_change_tail');
      const len = u32(ctx, 2);
      const { pkt } = skb;
      const minLen = (skb.transportHeader >= 0 ? skb.transportHeader : skb.networkHeader) - pkt.data;
      if (ctx.arg(3) !== 0n || len > BPF_SKB_MAX_LEN || len < minLen) return -EINVAL;
      if (skb.encapsulated) return -ENOTSUPP;
      const old = skb.len;
      pkt.pull(old);
      if (len > old) {
        pkt.grow(0, len - old);
        pkt.buf.fill(0, pkt.end, pkt.end + len - old);
        pkt.end += len - old;
      } else if (len < old) {
        if (skb.ipSummed === CHECKSUM_COMPLETE) {
          skb.csum = csumSub(skb.csum, rotate(packetSum(skb, pkt.data + len, old - len), (len & 1) !== 0));
        }
        pkt.end -= old - len;
      }
      skb.gsoSize = 0;
      skb.gsoSegs = 0;
      relayout(skb);
      return 0;
    },
    // §4.4 bpf_skb_adjust_room: NET / MAC mode grow and shrink, the encap and decap flags.
    skb_adjust_room: (ctx) => {
      const skb = skbOf(ctx, 'skb_adjust_room');
      const lenDiff = ctx.argLo(2), mode = u32(ctx, 3), flags = ctx.arg(4);
      const MASK = 0x1ffn | (0xffn << 56n);
      if ((flags & ~MASK) !== 0n) return -EINVAL;
      const abs = Math.abs(lenDiff);
      if (abs > 0xfff) return -EFAULT;
      const v4 = skb.protocol === be16(ETH_P_IP), v6 = skb.protocol === be16(ETH_P_IPV6);
      if (!v4 && !v6) return -ENOTSUPP;
      let off = skb.networkHeader - skb.macHeader;
      if (mode === 0) off += v4 ? 20 : 40;
      else if (mode !== 1) return -ENOTSUPP;
      const shrink = lenDiff < 0;
      let lenMin = v4 ? 20 : 40;
      const decap = flags & 0x180n;
      if (decap !== 0n) {
        if (!shrink || decap === 0x180n) return -EINVAL;
        lenMin = decap === 0x80n ? 20 : 40;
      }
      const lenCur = skb.len - (skb.networkHeader - skb.pkt.data);
      const gso = skb.gsoSize !== 0;
      if ((shrink && (abs >= lenCur || lenCur - abs < lenMin)) || (!shrink && skb.len + abs > BPF_SKB_MAX_LEN && !gso)) return -ENOTSUPP;
      if (shrink) {
        if ((flags & ~(0x1n | 0x180n | 0x20n)) !== 0n) return -EINVAL;
        if (gso) return -ENOTSUPP; // the test run's GSO skb has no GSO type: neither TCP nor UDP
        netHdrPop(skb, off, abs);
        if (decap === 0x80n) skb.protocol = be16(ETH_P_IP);
        if (decap === 0x100n) skb.protocol = be16(ETH_P_IPV6);
      } else {
        if ((flags & 0x180n) !== 0n) return -EINVAL;
        if (gso) return -ENOTSUPP;
        const encapL3 = flags & 0x6n;
        if (encapL3 !== 0n) {
          const innerMacLen = Number((flags >> 56n) & 0xffn);
          if (encapL3 === 0x6n || (flags & 0x18n) === 0x18n) return -EINVAL;
          if ((flags & 0x40n) !== 0n && innerMacLen < ETH_HLEN) return -EINVAL;
          if (skb.encapsulated) return -EALREADY;
          if (innerMacLen > abs) return -EINVAL;
        }
        const macLen = skb.networkHeader - skb.macHeader;
        netHdrPush(skb, off, abs);
        if (encapL3 !== 0n) {
          // bpf_skb_net_grow: the outer network header follows the MAC header; with
          // ENCAP_L4_GRE / _UDP the outer transport header follows the outer IPv4 / IPv6 header.
          skb.encapsulated = true;
          skb.networkHeader = skb.pkt.data + macLen;
          if ((flags & 0x18n) !== 0n) skb.transportHeader = skb.pkt.data + macLen + (encapL3 === 0x4n ? 40 : 20);
          skb.protocol = be16(encapL3 === 0x2n ? ETH_P_IP : ETH_P_IPV6);
        }
      }
      if ((flags & 0x20n) === 0n) resetCsumUnnecessary(skb);
      relayout(skb);
      return 0;
    },
    // §4.5 bpf_skb_vlan_push: an existing accelerated tag goes into the packet first.
    skb_vlan_push: (ctx) => {
      const skb = skbOf(ctx, 'skb_vlan_push');
      let proto = ctx.argLo(2) & 0xffff;
      const tci = ctx.argLo(3) & 0xffff;
      if (proto !== be16(ETH_P_8021Q) && proto !== be16(ETH_P_8021AD)) proto = be16(ETH_P_8021Q);
      if (skb.vlanPresent) {
        const { pkt } = skb;
        const offset = pkt.data - skb.macHeader;
        pkt.data -= offset;
        headroom(skb, VLAN_HLEN);
        pkt.pull(2 * 6);
        pkt.buf.copyWithin(pkt.data - VLAN_HLEN, pkt.data, pkt.data + 12);
        pkt.data -= VLAN_HLEN;
        skb.macHeader -= VLAN_HLEN;
        const at = pkt.data + 12;
        pkt.buf[at] = skb.vlanProto & 0xff; pkt.buf[at + 1] = skb.vlanProto >>> 8;
        pkt.buf[at + 2] = skb.vlanTci >>> 8; pkt.buf[at + 3] = skb.vlanTci & 0xff;
        pkt.data += offset;
        skb.protocol = skb.vlanProto;
        if (skb.ipSummed === CHECKSUM_COMPLETE) skb.csum = csumAdd(skb.csum, packetSum(skb, at, VLAN_HLEN));
      }
      skb.vlanPresent = true;
      skb.vlanProto = proto;
      skb.vlanTci = tci;
      relayout(skb);
      return 0;
    },
    // §4.5 bpf_skb_vlan_pop.
    skb_vlan_pop: (ctx) => {
      const skb = skbOf(ctx, 'skb_vlan_pop');
      const isVlan = (p: number) => p === be16(ETH_P_8021Q) || p === be16(ETH_P_8021AD);
      /** __skb_vlan_pop: the first in-packet tag removed; its TCI. */
      const popTag = (): number => {
        const { pkt } = skb;
        const offset = pkt.data - skb.macHeader;
        pkt.data -= offset;
        if (skb.len < ETH_HLEN + VLAN_HLEN) { pkt.data += offset; return -EINVAL; }
        pkt.pull(ETH_HLEN + VLAN_HLEN);
        const at = pkt.data + 12;
        if (skb.ipSummed === CHECKSUM_COMPLETE) skb.csum = csumSub(skb.csum, packetSum(skb, at, VLAN_HLEN));
        const tci = (pkt.buf[at + 2] << 8) | pkt.buf[at + 3];
        skb.protocol = pkt.buf[at + 4] | (pkt.buf[at + 5] << 8);
        pkt.buf.copyWithin(pkt.data + VLAN_HLEN, pkt.data, pkt.data + 12);
        pkt.data += VLAN_HLEN;
        skb.macHeader += VLAN_HLEN;
        if (skb.networkHeader - pkt.data < ETH_HLEN) skb.networkHeader = pkt.data + ETH_HLEN;
        pkt.data += offset;
        return tci;
      };
      if (skb.vlanPresent) {
        skb.vlanPresent = false; skb.vlanTci = 0; skb.vlanProto = 0;
      } else {
        if (!isVlan(skb.protocol)) return 0;
        const r = popTag();
        relayout(skb);
        if (r < 0) return r;
      }
      if (!isVlan(skb.protocol)) { relayout(skb); return 0; }
      const proto = skb.protocol;
      const tci = popTag();
      relayout(skb);
      if (tci < 0) return tci;
      skb.vlanPresent = true; skb.vlanProto = proto; skb.vlanTci = tci;
      return 0;
    },
    // §4.4 bpf_skb_change_proto: IPv4 <-> IPv6, 20 bytes after the MAC header.
    skb_change_proto: (ctx) => {
      const skb = skbOf(ctx, 'skb_change_proto');
      const proto = ctx.argLo(2) & 0xffff;
      if (ctx.arg(3) !== 0n) return -EINVAL;
      const off = skb.networkHeader - skb.macHeader;
      if (proto === be16(ETH_P_IPV6) && skb.protocol === be16(ETH_P_IP)) netHdrPush(skb, off, 20);
      else if (proto === be16(ETH_P_IP) && skb.protocol === be16(ETH_P_IPV6)) {
        if (skb.len < off + 20) return -EINVAL;
        netHdrPop(skb, off, 20);
      } else return -ENOTSUPP;
      skb.protocol = proto;
      clearHash(skb);
      relayout(skb);
      return 0;
    },
    // §4.4 bpf_skb_change_type.
    skb_change_type: (ctx) => {
      const skb = skbOf(ctx, 'skb_change_type');
      const type = u32(ctx, 2);
      if (skb.pktType > 3 || type > 3) return -EINVAL;
      skb.pktType = type;
      return 0;
    },
    // §4.5 bpf_get_hash_recalc. The kernel's flow hash is SipHash with a per-boot random key;
    // bpfrun's stand-in is FNV-1a (32-bit) over the bytes from the network header to the end of
    // the linear area, deterministic, 0 replaced by 1 as the kernel does.
    get_hash_recalc: (ctx) => {
      const skb = skbOf(ctx, 'get_hash_recalc');
      if (!skb.swHash && !skb.l4Hash) {
        let h = 0x811c9dc5;
        const from = skb.networkHeader >= 0 ? skb.networkHeader : skb.pkt.data;
        for (let k = from; k < skb.pkt.end; k++) h = Math.imul(h ^ skb.pkt.buf[k], 0x01000193);
        skb.hash = (h >>> 0) || 1;
        skb.swHash = true;
      }
      return skb.hash >>> 0;
    },
    // §4.5 bpf_set_hash.
    set_hash: (ctx) => {
      const skb = skbOf(ctx, 'set_hash');
      skb.hash = u32(ctx, 2); skb.swHash = true; skb.l4Hash = true;
      return 0;
    },
    // §4.5 bpf_set_hash_invalid.
    set_hash_invalid: (ctx) => { clearHash(skbOf(ctx, 'set_hash_invalid')); return 0; },
    // §4.6 bpf_redirect: tc's TC_ACT_REDIRECT, or XDP's XDP_REDIRECT (bpf_xdp_redirect).
    redirect: (ctx) => {
      const c = kernel.runContext;
      const ifindex = u32(ctx, 1), flags = ctx.arg(2);
      if (c instanceof XdpBuff) {
        if (flags !== 0n) return XDP_ABORTED;
        c.redirect = { helper: 'bpf_redirect', ifindex, flags: 0 };
        return XDP_REDIRECT;
      }
      const skb = skbOf(ctx, 'redirect');
      if ((flags & ~1n) !== 0n) return TC_ACT_SHOT;
      skb.redirect = { helper: 'bpf_redirect', ifindex, flags: Number(flags) };
      return TC_ACT_REDIRECT;
    },
    // §4.6 bpf_redirect_map (XDP): a lookup in a DEVMAP, DEVMAP_HASH, CPUMAP or XSKMAP; a miss
    // returns the fallback action flags & 3. An all-zero value is an empty slot (ifindex 0).
    redirect_map: (ctx) => {
      const xdp = xdpOf(ctx, 'redirect_map');
      const m = kernel.mapOfHandle(ctx.arg(1));
      if (!m) throw new RuntimeError(ctx.index, 'bpf_redirect_map: argument 1 is not a map');
      const devmap = m.type === BPF_MAP_TYPE_DEVMAP || m.type === BPF_MAP_TYPE_DEVMAP_HASH;
      if (!devmap && m.type !== BPF_MAP_TYPE_CPUMAP && m.type !== BPF_MAP_TYPE_XSKMAP) {
        throw new RuntimeError(ctx.index, `bpf_redirect_map: map '${m.spec.name}' is not a DEVMAP, DEVMAP_HASH, CPUMAP or XSKMAP`);
      }
      const key = u32(ctx, 2), flags = ctx.arg(3);
      const allowed = devmap ? 0x1bn : 0x3n;
      if ((flags & ~allowed) !== 0n) return XDP_ABORTED;
      if ((flags & 0x8n) !== 0n) {
        xdp.redirect = { helper: 'bpf_redirect_map', map: m.spec.name, key, flags: Number(flags) };
        return XDP_REDIRECT;
      }
      const keyBytes = new Uint8Array(4);
      new DataView(keyBytes.buffer).setUint32(0, key, true);
      const inRange = m.type === BPF_MAP_TYPE_DEVMAP_HASH || key < m.spec.maxEntries;
      const value = inRange ? m.lookup(keyBytes) : undefined;
      if (value === undefined || value.every((b) => b === 0)) {
        xdp.redirect = undefined;
        return Number(flags & 3n);
      }
      xdp.redirect = { helper: 'bpf_redirect_map', map: m.spec.name, key, flags: Number(flags) };
      return XDP_REDIRECT;
    },
    // §4.6 bpf_redirect_peer (tc): into the peer of the target device, recorded only.
    redirect_peer: (ctx) => {
      const skb = skbOf(ctx, 'redirect_peer');
      if (ctx.arg(2) !== 0n) return TC_ACT_SHOT;
      skb.redirect = { helper: 'bpf_redirect_peer', ifindex: u32(ctx, 1), flags: 0 };
      return TC_ACT_REDIRECT;
    },
    // §4.6 bpf_redirect_neigh (tc): the 20-byte bpf_redir_neigh {nh_family, address} is copied
    // when plen is not 0 (plen is an int: a negative one is refused too).
    redirect_neigh: (ctx) => {
      const skb = skbOf(ctx, 'redirect_neigh');
      const plen = ctx.argLo(3);
      if ((plen !== 0 && plen < REDIR_NEIGH_SIZE) || ctx.arg(4) !== 0n) return TC_ACT_SHOT;
      let nexthop: RedirectRecord['nexthop'];
      if (plen !== 0) {
        const p = kernel.readOrFail(ctx.index, ctx.arg(2), REDIR_NEIGH_SIZE);
        const family = new DataView(p.buffer, p.byteOffset).getUint32(0, true);
        nexthop = { family, address: p.slice(4, family === AF_INET6 ? 20 : 8) };
      }
      skb.redirect = { helper: 'bpf_redirect_neigh', ifindex: u32(ctx, 1), flags: 0, nexthop };
      return TC_ACT_REDIRECT;
    },
    // §4.6 bpf_clone_redirect (tc, lwt_xmit): validated as the kernel does; the clone that the
    // kernel would transmit (or receive, with BPF_F_INGRESS) is recorded, with its bytes from
    // skb->data as they are now. The devices are the simulated network's: lo, and those of
    // the FIB configuration.
    clone_redirect: (ctx) => {
      const skb = skbOf(ctx, 'clone_redirect');
      const ifindex = u32(ctx, 2), flags = ctx.arg(3);
      if ((flags & ~1n) !== 0n) return -EINVAL;
      if (skb.gsoSize !== 0) return -EBADMSG; // a GSO skb without a gso_type, as ctx_in makes it
      if (kernel.fib.device(ifindex) === undefined) return -EINVAL;
      // __bpf_redirect_common: a link-layer header must be carried.
      if (skb.macHeader < 0 || skb.macHeader >= skb.networkHeader || skb.len === 0) return -ERANGE;
      skb.clones.push({ ifindex, flags: Number(flags), data: skb.pkt.contents(skb.pkt.data) });
      // bpf_try_make_head_writable: the original is uncloned; its packet pointers are stale.
      skb.pkt.refresh();
      return 0;
    },
    // §4.8 bpf_skb_set_tunnel_key: transmit metadata (destination = remote, source = local).
    skb_set_tunnel_key: (ctx) => {
      const skb = skbOf(ctx, 'skb_set_tunnel_key');
      const size = u32(ctx, 3), flags = ctx.arg(4);
      if ((flags & ~0x1fn) !== 0n) return -EINVAL;
      if (![44, 28, 24, 22, 8].includes(size)) return -EINVAL;
      const ipv6 = (flags & 1n) !== 0n;
      if (size !== 44 && ipv6 && size < 28) return -EINVAL;
      const key = new Uint8Array(44);
      key.set(kernel.readOrFail(ctx.index, ctx.arg(2), size));
      const kv = new DataView(key.buffer);
      const label = kv.getUint32(24, true), ext = kv.getUint16(22, true);
      if ((label !== 0 && !ipv6) || ext !== 0) return -EINVAL;
      skb.tunnel = {
        id: kv.getUint32(0, true), ipv6,
        dst: ipv6 ? key.slice(4, 20) : key.slice(4, 8), src: ipv6 ? key.slice(28, 44) : key.slice(28, 32),
        tos: key[20], ttl: key[21], label: label & 0xfffff, flags: Number(flags),
      };
      return 0;
    },
    // §4.8 bpf_skb_get_tunnel_key: the receive view (remote = source, local = destination).
    skb_get_tunnel_key: (ctx) => {
      const skb = skbOf(ctx, 'skb_get_tunnel_key');
      const size = u32(ctx, 3), flags = ctx.arg(4), to = ctx.arg(2);
      const fail = (errno: number) => { zeroFill(ctx, to, size); return -errno; };
      const t = skb.tunnel;
      const ipv6 = (flags & 1n) !== 0n;
      if (t === undefined || (flags & ~0x11n) !== 0n) return fail(EINVAL);
      if (t.ipv6 !== ipv6) return fail(EPROTO);
      if (![44, 28, 24, 22, 8].includes(size) || (size === 8 && ipv6) || (ipv6 && size < 28)) return fail(EINVAL);
      const key = new Uint8Array(44);
      const kv = new DataView(key.buffer);
      kv.setUint32(0, t.id, true);
      key.set(t.src, 4);
      key[20] = t.tos; key[21] = t.ttl;
      if (ipv6) kv.setUint32(24, t.label, true);
      key.set(t.dst, 28);
      kernel.writeOrFail(ctx.index, to, key.subarray(0, size));
      return 0;
    },
    // §2.5: the test run's dummy socket is a full socket: the pointer comes back as given.
    sk_fullsock: (ctx) => ctx.arg(1),
    // §4.10 bpf_get_current_uid_gid: (gid << 32) | uid.
    get_current_uid_gid: () => (BigInt(kernel.task().gid >>> 0) << 32n) | BigInt(kernel.task().uid >>> 0),
    // §4.10 bpf_get_current_comm: NUL-terminated, the rest of the buffer zeroed.
    get_current_comm: (ctx) => {
      const size = u32(ctx, 2);
      const out = new Uint8Array(size);
      const comm = kernel.task().comm.slice(0, 15);
      for (let k = 0; k < Math.min(comm.length, size - 1); k++) out[k] = comm.charCodeAt(k);
      kernel.writeOrFail(ctx.index, ctx.arg(1), out);
      return 0;
    },
  };
}
