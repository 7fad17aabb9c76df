/**
 * Context conversion, the verifier's two steps for a context access (spec program-types §2.1):
 * validation (the type's is_valid_access: which field, which sizes, read or write) at load, and
 * conversion (convert_ctx_access) into a read or write of the kernel object behind the context
 * at run time. A model converts each access the load-time analysis found (src/isa/ctx-ptr.ts)
 * into an accessor; the program keeps the accessors as its context sites, and the engines call
 * them with the run's kernel object (an skb, an xdp_buff).
 */
import { InvalidInstructionError } from '../errors.js';
import { out } from '../int64.js';
import type { ContextAccess } from '../isa/ctx-ptr.js';
import type { ContextAccessor } from '../runtime.js';

/** A converted access: what a load gives (low half returned, high half in out.hi) or what a store does. */
export interface ConvertedAccess<C> {
  load?(c: C): number;
  store?(c: C, lo: number, hi: number): void;
}

export interface ContextModel<C> {
  /** The UAPI struct (`__sk_buff`, `xdp_md`), for messages. */
  readonly struct: string;
  /** Whether the type may use LD_ABS / LD_IND (may_access_skb). */
  readonly packetLoads: boolean;
  /** The converted access, or why the verifier refuses it. */
  convert(access: ContextAccess): ConvertedAccess<C> | string;
  /** LD_ABS / LD_IND on the run's object (see ContextAccessor.loadPacket), for types with packetLoads. */
  loadPacket?(c: C, offset: number, size: number): number;
}

/**
 * The converted accesses of one program, by site: what lowering asks for (ContextLowering) and
 * what the engines call, with the run's kernel object set by the test run.
 */
export class ContextSites<C> implements ContextAccessor {
  private readonly sites: Array<ConvertedAccess<C>> = [];

  /** `current` gives the kernel object of the run in progress (shared with tail-called programs). */
  constructor(private readonly model: ContextModel<C>, private readonly current: () => unknown) {}

  get packetLoads(): boolean { return this.model.packetLoads; }

  /** The site of an access, or the verifier's refusal at its instruction. */
  site(access: ContextAccess): number {
    const refuse = (why: string) => new InvalidInstructionError(access.slot,
      `invalid bpf_context access off=${access.off} size=${access.size}: ${why}`);
    if (access.ptrOffset !== 0) {
      throw new InvalidInstructionError(access.slot, `dereference of modified ctx ptr R${access.reg} off=${access.ptrOffset} disallowed`);
    }
    if (access.kind === 'atomic') throw refuse(`atomic access to ${this.model.struct} is not allowed`);
    const converted = this.model.convert(access);
    if (typeof converted === 'string') throw refuse(converted);
    this.sites.push(converted);
    return this.sites.length - 1;
  }

  load(site: number): number {
    return this.sites[site].load!(this.object());
  }

  store(site: number, lo: number, hi: number): void {
    this.sites[site].store!(this.object(), lo, hi);
  }

  loadPacket(offset: number, size: number, pc: number): number {
    if (!this.model.loadPacket) throw new InvalidInstructionError(pc, 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
    return this.model.loadPacket(this.object(), offset, size);
  }

  private object(): C {
    return this.current() as C;
  }
}

/**
 * The narrow-load rule of bpf_convert_ctx_accesses (spec program-types §2.1): an access of
 * `size` bytes at byte `o` of a field read whole by `read` (a value of `target` bytes, the
 * kernel field's own size): smaller than the target, the bytes are extracted little-endian;
 * otherwise the whole value comes back unshifted. Sign-extending loads extend from `size` bytes.
 */
export function narrowLoad<C>(read: (c: C) => number, o: number, size: number, target: number, signed: boolean): (c: C) => number {
  const bits = 8 * size;
  const mask = size >= 4 ? -1 : (1 << bits) - 1;
  return (c) => {
    let v = read(c);
    if (size < target) v = (v >>> (8 * o)) & mask;
    if (!signed) { out.hi = 0; return v | 0; }
    if (size < 4) v = (v << (32 - bits)) >> (32 - bits);
    out.hi = v >> 31;
    return v | 0;
  };
}

/** A 64-bit value as (lo, hi) from two halves: the load gives lo and sets out.hi. */
export function load64(lo: number, hi: number): number {
  out.hi = hi;
  return lo;
}
