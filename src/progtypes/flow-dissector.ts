/**
 * The flow dissector: `__sk_buff` with only data, data_end and flow_keys readable
 * (flow_dissector_is_valid_access), and bpf_prog_test_run_flow_dissector (net/bpf/test_run.c,
 * bpf_flow_dissect in net/core/flow_dissector.c): the raw frame with no head- or tailroom, keys
 * zeroed and preset before every run, nhoff/thoff clamped after it, the keys as data_out.
 * spec program-types §1.6, §2.4
 */
import { TestRunError } from '../errors.js';
import type { MemoryRegion } from '../memory.js';
import { PacketBuffer } from '../net/packet.js';
import { ETH_HLEN } from '../net/skb.js';
import { EINVAL } from '../uapi.js';
import { load64, type ContextModel } from './context.js';
import { ctxInit, refuseNonZero, repeatCount, testFinish } from './test-run.js';
import type { ProgramTypeDef } from './types.js';
import { helpersFor } from './helpers.js';

/** sizeof(struct bpf_flow_keys). */
const FLOW_KEYS_SIZE = 56;
const FLAGS_OFFSET = 48;
const MAX_PACKET = 4096;

/** The flow dissector's kernel context (struct bpf_flow_dissector): the keys and the packet. */
export class FlowDissectorContext {
  constructor(readonly pkt: PacketBuffer, readonly keys: MemoryRegion) {}
}

const FLOW_CONTEXT: ContextModel<FlowDissectorContext> = {
  struct: '__sk_buff',
  packetLoads: false,
  convert(a) {
    if (a.kind === 'store') return 'the flow dissector context is read-only';
    if (a.off === 76 || a.off === 80) {
      if (a.size !== 4 || a.kind === 'loadsx') return `${a.off === 76 ? 'data' : 'data_end'} must be read with 4 bytes`;
      return a.off === 76 ? { load: (c) => load64(c.pkt.lo(c.pkt.data), c.pkt.hi) } : { load: (c) => load64(c.pkt.lo(c.pkt.end), c.pkt.hi) };
    }
    if (a.off === 144) {
      if (a.size !== 8) return 'flow_keys must be read with 8 bytes';
      return { load: (c) => load64(c.keys.start, c.keys.hi) };
    }
    return 'flow dissector programs may read only data, data_end and flow_keys';
  },
};

export const FLOW_DISSECTOR: ProgramTypeDef = {
  name: 'flow_dissector',
  context: FLOW_CONTEXT,
  helpers: helpersFor('flow'),
  testRun(kernel, input, program) {
    const fail = (errno: number, why: string) => new TestRunError(program.name, errno, why);
    refuseNonZero(program, [['flags', input.flags], ['cpu', input.cpu], ['batch_size', input.batchSize]]);
    const data = input.data ?? new Uint8Array(0);
    if (data.length < ETH_HLEN) throw fail(EINVAL, `data_in is ${data.length} bytes, shorter than an Ethernet header (14)`);
    if (data.length > MAX_PACKET) throw fail(EINVAL, `data_in is ${data.length} bytes (at most ${MAX_PACKET}: no room for fragments)`);
    const ctx = ctxInit(input, FLOW_KEYS_SIZE, program);
    if (ctx) {
      for (let k = 0; k < FLOW_KEYS_SIZE; k++) {
        if ((k < FLAGS_OFFSET || k >= FLAGS_OFFSET + 4) && ctx[k] !== 0) throw fail(EINVAL, `ctx byte ${k} is not 0 (only flags may be set)`);
      }
    }
    const flags = ctx ? new DataView(ctx.buffer).getUint32(FLAGS_OFFSET, true) : 0;
    const pkt = new PacketBuffer(kernel.memory, `packet of ${program.name}`, data.length, 0, data);
    const keyBytes = new Uint8Array(FLOW_KEYS_SIZE);
    const keys = kernel.memory.map(`bpf_flow_keys of ${program.name}`, keyBytes);
    const kv = new DataView(keyBytes.buffer);
    return {
      context: new FlowDissectorContext(pkt, keys),
      repeat: repeatCount(input),
      beforeEach: () => {
        keyBytes.fill(0);
        kv.setUint16(0, ETH_HLEN, true); // nhoff
        kv.setUint16(2, ETH_HLEN, true); // thoff
        keyBytes[10] = data[12]; keyBytes[11] = data[13]; // n_proto: the Ethernet type as stored
        kv.setUint32(FLAGS_OFFSET, flags, true);
      },
      finish: () => {
        const hlen = Math.min(data.length, 0xffff);
        const nhoff = Math.min(Math.max(kv.getUint16(0, true), ETH_HLEN), hlen);
        kv.setUint16(0, nhoff, true);
        kv.setUint16(2, Math.min(Math.max(kv.getUint16(2, true), nhoff), hlen), true);
        // data_out is the keys; ctx_out echoes the input
        return testFinish(input, keyBytes.slice(), ctx);
      },
      release: () => { pkt.release(); kernel.memory.unmap(keys); },
    };
  },
};
