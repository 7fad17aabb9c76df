/**
 * bpf_fib_lookup (#69) for tc (bpf_skb_fib_lookup) and XDP (bpf_xdp_fib_lookup) over the
 * kernel's simulated FIB (src/net/fib.ts): the argument checks, the 64-byte params read from
 * and written back to BPF memory, and what differs between the two (XDP always checks the MTU;
 * tc only with tot_len, else is_skb_forwardable on the egress device). spec program-types §4.7
 */
import { RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import {
  BPF_FIB_LOOKUP_MASK, FIB_IFINDEX_OFFSET, FIB_PARAMS_SIZE, FIB_RET, FIB_TOT_LEN_OFFSET, fibLookup,
} from '../net/fib.js';
import { ETH_HLEN, SkBuff } from '../net/skb.js';
import { XdpBuff } from '../net/xdp.js';
import type { NativeFn } from '../runtime.js';
import { EINVAL, ENODEV, type HelperName } from '../uapi.js';

const VLAN_HLEN = 4;

/** bpf_fib_lookup, bound to `kernel`. */
export function createFibHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  return {
    // §4.7 bpf_fib_lookup(ctx, params, plen, flags).
    fib_lookup: (ctx) => {
      const run = kernel.runContext;
      if (!(run instanceof SkBuff) && !(run instanceof XdpBuff)) {
        throw new RuntimeError(ctx.index, 'bpf_fib_lookup: the run has neither an sk_buff nor an xdp_buff');
      }
      // `plen < sizeof(*params)` compares as unsigned; flags is a u32. Neither touches params.
      if (ctx.argLo(3) >>> 0 < FIB_PARAMS_SIZE) return -EINVAL;
      if ((ctx.argLo(4) & ~BPF_FIB_LOOKUP_MASK) !== 0) return -EINVAL;
      const flags = ctx.argLo(4) & BPF_FIB_LOOKUP_MASK;
      const address = ctx.arg(2);
      const params = kernel.readOrFail(ctx.index, address, FIB_PARAMS_SIZE).slice();
      const view = new DataView(params.buffer);
      const xdp = run instanceof XdpBuff;
      const checkMtu = xdp || view.getUint16(FIB_TOT_LEN_OFFSET, true) !== 0; // step 5
      let rc = fibLookup(kernel.fib, params, flags, checkMtu);
      if (!xdp && rc === FIB_RET.SUCCESS && !checkMtu) {
        // Step 10 (tc, tot_len 0): is_skb_forwardable(egress, skb), then mtu_result = its MTU.
        const dev = kernel.fib.device(view.getUint32(FIB_IFINDEX_OFFSET, true));
        if (dev === undefined) rc = -ENODEV;
        else {
          const forwardable = run.len <= dev.mtu + ETH_HLEN + VLAN_HLEN || run.gsoSize !== 0;
          if (!forwardable) rc = FIB_RET.FRAG_NEEDED;
          view.setUint16(FIB_TOT_LEN_OFFSET, dev.mtu & 0xffff, true);
        }
      }
      kernel.writeOrFail(ctx.index, address, params);
      return rc;
    },
  };
}
