/**
 * bpf_perf_event_output (#25), spec program-types §4.9 and maps-and-kernel-objects §2.9. Two
 * kernel variants share the helper id: in skb and XDP programs it is net/core/filter.c's
 * bpf_skb_event_output / bpf_xdp_event_output (flags may carry BPF_F_CTXLEN_MASK, a count of
 * packet bytes appended after the data), elsewhere kernel/trace/bpf_trace.c's
 * bpf_perf_event_output (only the index bits). Both end in __bpf_perf_event_output
 * (PerfEventArrayMap.output). Nesting never happens in bpfrun (helpers do not run programs), so
 * the per-CPU nesting limit's EBUSY cannot occur.
 */
import { RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import { BPF_F_CTXLEN_MASK, BPF_F_INDEX_MASK, PerfEventArrayMap } from '../maps/perf-event-array.js';
import { SkBuff } from '../net/skb.js';
import { XdpBuff } from '../net/xdp.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import { EFAULT, EINVAL, type HelperName } from '../uapi.js';

export function createPerfHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const perfMap = (ctx: CallContext): PerfEventArrayMap => {
    const m = kernel.mapOfHandle(ctx.arg(2));
    if (!m) throw new RuntimeError(ctx.index, `bpf_perf_event_output: argument 2 (${hex(ctx.arg(2))}) is not a map`);
    if (!(m instanceof PerfEventArrayMap)) throw new RuntimeError(ctx.index, `bpf_perf_event_output: map '${m.spec.name}' is not a PERF_EVENT_ARRAY`);
    return m;
  };
  return {
    perf_event_output: (ctx) => {
      const map = perfMap(ctx);
      const flags = ctx.arg(3);
      const size = ctx.arg(5);
      if (size > 0xffffffffn) throw new RuntimeError(ctx.index, `bpf_perf_event_output: size ${size} is not a size the verifier would accept`);
      const data = kernel.readOrFail(ctx.index, ctx.arg(4), Number(size));
      const run = kernel.runContext;
      const parts = [data];
      if (run instanceof SkBuff || run instanceof XdpBuff) {
        // bpf_skb_event_output / bpf_xdp_event_output: other bits → EINVAL; more packet bytes
        // than skb->len / bpf_xdp_get_buff_len → EFAULT; the bytes are taken from offset 0 of
        // data, across fragments (skb_header_pointer / bpf_xdp_copy_buf).
        if (flags & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK)) return -EINVAL;
        const n = Number((flags & BPF_F_CTXLEN_MASK) >> 32n);
        const len = run instanceof SkBuff ? run.len : run.buffLen;
        if (n > len) return -EFAULT;
        if (n > 0) {
          const bytes = new Uint8Array(n);
          run.pkt.copyOut(run.pkt.data, 0, n, bytes);
          parts.push(bytes);
        }
      } else if (flags & ~BPF_F_INDEX_MASK) {
        // bpf_trace.c: tracing programs may only give the index bits.
        return -EINVAL;
      }
      return map.output(flags, kernel.cpu, parts);
    },
  };
}
