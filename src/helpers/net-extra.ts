/**
 * More helpers of packet programs (net/core/filter.c, kernel/bpf/helpers.c,
 * kernel/bpf/bpf_iter.c), as a BPF_PROG_TEST_RUN sees them:
 *
 * - bpf_check_mtu (tc, XDP) against the devices of the simulated FIB (lo plus configured ones);
 * - bpf_skb_ecn_set_ce (tc, cgroup_skb);
 * - bpf_get_numa_node_id, bpf_jiffies64, bpf_get_cgroup_classid, bpf_skb_cgroup_id,
 *   bpf_get_socket_cookie, bpf_get_netns_cookie: the simulated machine's constants (one NUMA
 *   node, the task in the root cgroup v2 (id 1) with no net_cls class, init_net's cookie 7, the
 *   test run's dummy socket given a cookie from a per-kernel counter);
 * - bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp: the simulation has no sockets, so every lookup
 *   answers NULL (as the kernel does for bad arguments and for tuples nothing listens on);
 *   bpf_sk_release is registered but can never be reached (it needs a socket from a lookup);
 * - bpf_for_each_map_elem over ARRAY / PERCPU_ARRAY / the HASH family.
 *
 * Every helper names its kernel function; errors are negative errnos.
 */
import { RuntimeError } from '../errors.js';
import { INIT_NET_COOKIE, type SimKernel } from '../kernel/kernel.js';
import { ArrayMap } from '../maps/array.js';
import { HashMap } from '../maps/hash.js';
import type { BpfMap } from '../maps/base.js';
import { csumAdd, csumSub } from '../net/csum.js';
import { be16, CHECKSUM_COMPLETE, ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, SkBuff } from '../net/skb.js';
import { XdpBuff } from '../net/xdp.js';
import { AddressSpace, type MemoryRegion } from '../memory.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import { EINVAL, ENODEV, type HelperName } from '../uapi.js';

/** BPF_MTU_CHK_SEGS, the only flag of bpf_check_mtu. */
export const BPF_MTU_CHK_SEGS = 1;
/** enum bpf_check_mtu_ret. */
export const BPF_MTU_CHK_RET = { SUCCESS: 0, FRAG_NEEDED: 1, SEGS_TOOBIG: 2 } as const;
/** The root cgroup's id (cgroup v2): the simulated task's cgroup, and so its sockets'. */
export const ROOT_CGROUP_ID = 1n;
const VLAN_HLEN = 4;
/** VLAN_MAX_DEPTH: __vlan_get_protocol gives up on deeper stacks. */
const VLAN_MAX_DEPTH = 8;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const INET_ECN_CE = 3;

/** The helpers of this module, by name, bound to `kernel`. */
export function createNetExtraHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const cookies = new WeakMap<SkBuff, bigint>();
  /** bpf_for_each_map_elem's key copies, by map and nesting depth, and the depth now. */
  const keyRegions = new WeakMap<BpfMap, MemoryRegion[]>();
  const keyDepth = new WeakMap<BpfMap, number>();
  const skbOf = (ctx: CallContext, helper: string): SkBuff => {
    const c = kernel.runContext;
    if (!(c instanceof SkBuff)) throw new RuntimeError(ctx.index, `bpf_${helper}: the run has no sk_buff`);
    return c;
  };
  /** __dev_via_ifindex: 0 is the current device; else the FIB's device (lo included). */
  const device = (ctx: CallContext, current: number, ifindex: number) => {
    if (ifindex !== 0) return kernel.fib.device(ifindex);
    const dev = kernel.fib.device(current);
    if (!dev) throw new RuntimeError(ctx.index, `bpf_check_mtu: the run's device ${current} is not a device of the FIB`);
    return dev;
  };
  /**
   * vlan_get_protocol (include/linux/if_vlan.h) with mac_len 0, as in a test run: skb->protocol,
   * or for an 802.1Q/802.1ad frame the type under its in-packet tags (read from skb->data + 14;
   * the hardware-accelerated tag is not looked at); 0 past VLAN_MAX_DEPTH or the linear data.
   */
  const vlanGetProtocol = (skb: SkBuff): number => {
    let type = be16(skb.protocol);
    if (type !== ETH_P_8021Q && type !== ETH_P_8021AD) return type;
    const { pkt } = skb;
    let depth = ETH_HLEN, parse = VLAN_MAX_DEPTH;
    do {
      const at = pkt.data + depth;
      if (at + VLAN_HLEN > pkt.end || !--parse) return 0;
      type = (pkt.buf[at + 2] << 8) | pkt.buf[at + 3];
      depth += VLAN_HLEN;
    } while (type === ETH_P_8021Q || type === ETH_P_8021AD);
    return type;
  };
  /** bpf_sk_lookup_* / bpf_skc_lookup_tcp: no sockets exist, so every lookup is NULL. */
  const skLookup = (): bigint => 0n;

  return {
    // kernel/bpf/helpers.c bpf_get_numa_node_id: numa_node_id(); one node here.
    get_numa_node_id: () => 0,
    // kernel/bpf/helpers.c bpf_jiffies64: get_jiffies_64(), from the simulated clock at CONFIG_HZ.
    jiffies64: () => kernel.jiffies64(),
    // net/core/filter.c bpf_get_cgroup_classid (tc: task_get_classid(skb)) and kernel/bpf/helpers.c
    // bpf_get_cgroup_classid_curr (other types): the running task's net_cls class, none here.
    get_cgroup_classid: () => 0,
    // net/core/filter.c bpf_skb_cgroup_id: the cgroup of skb->sk, the dummy socket test_run
    // allocates in the caller's (root) cgroup.
    skb_cgroup_id: (ctx) => { skbOf(ctx, 'skb_cgroup_id'); return ROOT_CGROUP_ID; },
    // net/core/filter.c bpf_get_socket_cookie: __sock_gen_cookie(skb->sk); every skb test run
    // has a dummy socket, which takes a cookie on first use and keeps it across repeats.
    get_socket_cookie: (ctx) => {
      const skb = skbOf(ctx, 'get_socket_cookie');
      let cookie = cookies.get(skb);
      if (cookie === undefined) cookies.set(skb, cookie = kernel.nextSocketCookie());
      return cookie;
    },
    // net/core/filter.c bpf_get_netns_cookie: the cookie of skb->sk's netns (init_net); a NULL
    // ctx means init_net too.
    get_netns_cookie: () => INIT_NET_COOKIE,

    // net/core/filter.c bpf_skb_check_mtu / bpf_xdp_check_mtu.
    check_mtu: (ctx) => {
      const run = kernel.runContext;
      if (!(run instanceof SkBuff) && !(run instanceof XdpBuff)) {
        throw new RuntimeError(ctx.index, 'bpf_check_mtu: the run has neither an sk_buff nor an xdp_buff');
      }
      const ifindex = ctx.argLo(2) >>> 0;
      const mtuAddress = ctx.arg(3);
      const lenDiff = ctx.argLo(4) | 0;
      const flagsLo = ctx.argLo(5) >>> 0, flagsHi = ctx.argHi(5) >>> 0;
      const mtuIn = new DataView(kernel.readOrFail(ctx.index, mtuAddress, 4).slice().buffer).getUint32(0, true);
      const writeMtu = (mtu: number) => {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, mtu >>> 0, true);
        kernel.writeOrFail(ctx.index, mtuAddress, out);
      };
      if (run instanceof XdpBuff) {
        // The XDP variant has no flags at all (no multi-buffer segment check).
        if (flagsLo !== 0 || flagsHi !== 0) return -EINVAL;
        const dev = device(ctx, run.ingressIfindex, ifindex);
        if (!dev) return -ENODEV;
        const devLen = dev.mtu + ETH_HLEN;
        let len = mtuIn !== 0 ? (mtuIn + ETH_HLEN) | 0 : run.pkt.end - run.pkt.data;
        len = (len + lenDiff) | 0;
        writeMtu(dev.mtu);
        return len > devLen ? BPF_MTU_CHK_RET.FRAG_NEEDED : BPF_MTU_CHK_RET.SUCCESS;
      }
      const segs = (flagsLo & BPF_MTU_CHK_SEGS) !== 0;
      if ((flagsLo & ~BPF_MTU_CHK_SEGS) !== 0 || flagsHi !== 0) return -EINVAL;
      if (segs && (lenDiff !== 0 || mtuIn !== 0)) return -EINVAL;
      const dev = device(ctx, run.ifindex, ifindex);
      if (!dev) return -ENODEV;
      const devLen = dev.mtu + ETH_HLEN; // dev->hard_header_len: ETH_HLEN for lo and Ethernet
      // *mtu_len, when set, is the L3 length (like fib_lookup's tot_len); int arithmetic.
      let len = mtuIn !== 0 ? (mtuIn + ETH_HLEN) | 0 : run.len;
      len = (len + lenDiff) | 0;
      let ret: number = BPF_MTU_CHK_RET.SUCCESS;
      if (len > devLen) {
        ret = BPF_MTU_CHK_RET.FRAG_NEEDED;
        // skb->len counts every segment of a GSO packet, which may still fit once segmented.
        if (run.gsoSize !== 0) {
          ret = BPF_MTU_CHK_RET.SUCCESS;
          if (segs) {
            if (run.transportHeader < 0) return -EINVAL; // !skb_transport_header_was_set
            // skb_gso_validate_network_len: with no gso_type (a test run sets none) a segment is
            // the headers between network and transport plus gso_size.
            const seg = run.transportHeader - run.networkHeader + run.gsoSize;
            if (seg > dev.mtu) ret = BPF_MTU_CHK_RET.SEGS_TOOBIG;
          }
        }
      }
      writeMtu(dev.mtu);
      return ret;
    },

    // net/core/filter.c bpf_skb_ecn_set_ce -> INET_ECN_set_ce (include/net/inet_ecn.h).
    skb_ecn_set_ce: (ctx) => {
      const skb = skbOf(ctx, 'skb_ecn_set_ce');
      const proto = vlanGetProtocol(skb);
      const hlen = proto === ETH_P_IP ? IPV4_HLEN : proto === ETH_P_IPV6 ? IPV6_HLEN : 0;
      if (hlen === 0) return 0;
      const { pkt } = skb;
      if (pkt.end - pkt.data < hlen) return 0; // skb_headlen
      // skb_cloned && !skb_clone_writable: never here. A test run's skb is not cloned, and after
      // bpf_clone_redirect to lo the clone is consumed before the program goes on (Linux 6.18
      // sets CE then too: net_extra.json tc_ecn_after_clone*).
      const nh = skb.networkHeader;
      if (nh < 0 || nh + hlen > pkt.end) return 0; // skb_tail_pointer
      const b = pkt.buf;
      if (proto === ETH_P_IP) {
        // IP_ECN_set_ce: (tos + 1) & 3 is 1 for Not-ECT, 2 for ECT(1), 3 for ECT(0), 0 for CE.
        const ecn = (b[nh + 1] + 1) & 3;
        if (!(ecn & 2)) return ecn === 0 ? 1 : 0;
        // check += htons(0xFFFB) + htons(ecn), as 16-bit memory readings with end-around carry.
        const add = (0xfbff + (ecn << 8)) & 0xffff;
        let res = ((b[nh + 10] | (b[nh + 11] << 8)) + add) & 0xffff;
        res = (res + (res < add ? 1 : 0)) & 0xffff;
        b[nh + 10] = res & 0xff;
        b[nh + 11] = res >>> 8;
        b[nh + 1] |= INET_ECN_CE;
        return 1;
      }
      // IP6_ECN_set_ce: the traffic class's ECN bits are bits 4-5 of byte 1.
      if (((b[nh + 1] >>> 4) & 3) === 0) return 0;
      const word = (k: number) => (b[k] | (b[k + 1] << 8) | (b[k + 2] << 16) | (b[k + 3] << 24)) >>> 0;
      const from = word(nh);
      b[nh + 1] |= INET_ECN_CE << 4;
      if (skb.ipSummed === CHECKSUM_COMPLETE) skb.csum = csumAdd(csumSub(skb.csum, from), word(nh));
      return 1;
    },

    // net/core/filter.c bpf_sk_lookup (and the tc / XDP variants): a tuple of neither 12 nor 36
    // bytes, flags, a netns_id that is neither negative (as s32) nor <= S32_MAX, or an unknown
    // netns all give NULL before any table is searched; a valid lookup finds nothing here.
    sk_lookup_tcp: () => skLookup(),
    sk_lookup_udp: () => skLookup(),
    skc_lookup_tcp: () => skLookup(),
    // net/core/filter.c bpf_tcp_sock: the socket if it is a full TCP socket; bpf_get_listener_sock:
    // it if it listens. The only socket a test run has is its dummy one (protocol 0, TCP_CLOSE):
    // both give NULL.
    tcp_sock: () => 0,
    get_listener_sock: () => 0,
    // bpf_sk_release needs a socket a lookup returned (the verifier refuses NULL), and no lookup
    // returns one here.
    sk_release: (ctx) => {
      throw new RuntimeError(ctx.index, `bpf_sk_release(${hex(ctx.arg(1))}): bpfrun simulates no sockets, so no lookup returned this pointer`);
    },

    // kernel/bpf/bpf_iter.c bpf_for_each_map_elem -> map_for_each_callback: callback(map, key,
    // value, ctx) per element until it returns 1; returns the number of elements visited.
    for_each_map_elem: (ctx) => {
      const m = kernel.mapAt(ctx.argLo(1), ctx.argHi(1));
      if (!m) throw new RuntimeError(ctx.index, `argument 1 (${hex(ctx.arg(1))}) is not a map`);
      if (ctx.arg(4) !== 0n) return -EINVAL;
      const fn = ctx.arg(2), data = ctx.arg(3), handle = ctx.arg(1);
      // The key the callback reads: the element's own for a hash map, a u32 on the kernel's
      // stack for an array; here a read-only copy of key_size bytes, one region per map and
      // nesting depth (a callback may walk the same map again), mapped once and reused.
      const regions = keyRegions.get(m) ?? [];
      keyRegions.set(m, regions);
      const depth = keyDepth.get(m) ?? 0;
      const region = regions[depth] ??= kernel.memory.map(`bpf_for_each_map_elem key of ${m.spec.name}`, new Uint8Array(m.spec.keySize), false);
      const keyBytes = region.bytes;
      const keyAddress = AddressSpace.address(region);
      const call = (value: bigint) => ctx.callFunction(fn, [handle, keyAddress, value, data]) !== 0n;
      keyDepth.set(m, depth + 1);
      try {
        if (m instanceof ArrayMap) {
          const view = new DataView(keyBytes.buffer);
          return m.forEachElement(kernel.cpu, (index, value) => { view.setUint32(0, index, true); return call(value); });
        }
        if (m instanceof HashMap) {
          return m.forEachElement(kernel.cpu, (key, value) => { keyBytes.set(key); return call(value); });
        }
        throw unsupported(ctx, m);
      } finally {
        keyDepth.set(m, depth);
      }
    },
  };
}

/** The verifier refuses bpf_for_each_map_elem on a map without map_for_each_callback. */
function unsupported(ctx: CallContext, m: BpfMap): RuntimeError {
  return new RuntimeError(ctx.index, `bpf_for_each_map_elem: callback function not allowed for map '${m.spec.name}' (the verifier refuses this map type)`);
}
