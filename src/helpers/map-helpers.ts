/**
 * bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem (kernel/bpf/helpers.c), for QUEUE,
 * STACK (push, pop, peek) and BLOOM_FILTER (push, peek). The verifier pins these helpers to
 * those map types (check_map_func_compatibility, spec maps-and-kernel-objects §1.3); bpfrun has
 * no register-tracking verifier, so another map type is refused here, at the call, with the
 * verifier's words.
 */
import { RuntimeError } from '../errors.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { BpfMap } from '../maps/base.js';
import { BloomFilterMap } from '../maps/bloom-filter.js';
import { QueueStackMap } from '../maps/queue-stack.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex } from '../text.js';
import { BPF_FUNC, type HelperName } from '../uapi.js';

export function createMapHelpers(kernel: SimKernel): Partial<Record<HelperName, NativeFn>> {
  const mapArg = (ctx: CallContext, helper: HelperName, bloom: boolean): QueueStackMap | BloomFilterMap => {
    const m: BpfMap | undefined = kernel.mapAt(ctx.argLo(1), ctx.argHi(1));
    if (!m) throw new RuntimeError(ctx.index, `argument 1 (${hex(ctx.arg(1))}) is not a map`);
    if (m instanceof QueueStackMap || (bloom && m instanceof BloomFilterMap)) return m;
    throw new RuntimeError(ctx.index, `cannot pass map_type ${m.type} into func bpf_${helper}#${BPF_FUNC[helper]} (map '${m.name}'; spec §1.3)`);
  };
  /** record_func_map: push and pop on a BPF_F_RDONLY_PROG map are refused at load (EACCES). */
  const writable = (ctx: CallContext, m: BpfMap, helper: HelperName): void => {
    if (m.readonlyForProgram) throw new RuntimeError(ctx.index, `bpf_${helper}: write into map forbidden (map '${m.name}' has BPF_F_RDONLY_PROG)`);
  };
  /** pop/peek: value_size bytes to arg 2; zeros when the result is an error (spec §2.2). */
  const copyOut = (ctx: CallContext, m: BpfMap, r: Uint8Array | number): number => {
    kernel.writeOrFail(ctx.index, ctx.arg(2), typeof r === 'number' ? new Uint8Array(m.valueSize) : r);
    return typeof r === 'number' ? r : 0;
  };
  return {
    // bpf_map_push_elem(map, value, flags): queue_stack_map_push_elem / bloom_map_push_elem.
    map_push_elem: (ctx) => {
      const m = mapArg(ctx, 'map_push_elem', true);
      writable(ctx, m, 'map_push_elem');
      return m.pushElem(kernel.readOrFail(ctx.index, ctx.arg(2), m.valueSize), ctx.arg(3));
    },
    // bpf_map_pop_elem(map, value): QUEUE and STACK only.
    map_pop_elem: (ctx) => {
      const m = mapArg(ctx, 'map_pop_elem', false) as QueueStackMap;
      writable(ctx, m, 'map_pop_elem');
      return copyOut(ctx, m, m.popElem());
    },
    // bpf_map_peek_elem(map, value): a QUEUE/STACK copies the next value out; a bloom filter
    // reads the value to test (spec §2.3) and answers 0 or -ENOENT.
    map_peek_elem: (ctx) => {
      const m = mapArg(ctx, 'map_peek_elem', true);
      if (m instanceof BloomFilterMap) return m.peekElem(kernel.readOrFail(ctx.index, ctx.arg(2), m.valueSize));
      return copyOut(ctx, m, m.peekElem());
    },
  };
}
