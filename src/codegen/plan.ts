/**
 * The shape of one BPF function for the code generators (the JavaScript JIT, jit/codegen.ts,
 * and the WebAssembly engine, wasm/codegen.ts): its basic blocks, the budget segments inside
 * them, and the order the blocks are emitted in with the structured constructs over it
 * (./structure.ts), or none when the graph does not nest (a block-dispatch loop).
 */
import { MAX_BPF_STACK, sizeBytes } from '../isa/opcodes.js';
import {
  xopIsAtomic, xopIsBranch, XOP_CALLX, XOP_CALL_HELPER, XOP_CALL_KFUNC, XOP_CALL_LOCAL, XOP_CTX_LD, XOP_CTX_ST,
  XOP_EXIT, XOP_GOTOL, XOP_JA, XOP_LDDW, XOP_LDXS_B, XOP_LDXS_H, XOP_LDXS_W, XOP_LDX_B, XOP_LDX_DW, XOP_LDX_H,
  XOP_LDX_W, XOP_LD_ABS_B, XOP_LD_ABS_H, XOP_LD_ABS_W, XOP_LD_IND_B, XOP_LD_IND_H, XOP_LD_IND_W, XOP_REFUSED,
  XOP_STX_B, XOP_STX_DW, XOP_STX_H, XOP_STX_W,
} from '../isa/xop.js';
import { Decoded } from '../lower.js';
import { Edge, loopOrder, MAX_STRUCTURED_EDGES, Structure, structure } from './structure.js';

export const XOP_LOADS: ReadonlySet<number> = new Set([XOP_LDX_B, XOP_LDX_H, XOP_LDX_W, XOP_LDX_DW, XOP_LDXS_B, XOP_LDXS_H, XOP_LDXS_W]);
export const XOP_STORES: ReadonlySet<number> = new Set([XOP_STX_B, XOP_STX_H, XOP_STX_W, XOP_STX_DW]);
const XOP_CONTEXT: ReadonlySet<number> = new Set([
  XOP_CTX_LD, XOP_CTX_ST, XOP_LD_ABS_W, XOP_LD_ABS_H, XOP_LD_ABS_B, XOP_LD_IND_W, XOP_LD_IND_H, XOP_LD_IND_B, XOP_REFUSED,
]);

/** An access at r10 + off of `size` bytes that stays in the frame's own 512 bytes. */
export function stackDirectAt(base: number, off: number, size: number): boolean {
  return base === 10 && off >= -MAX_BPF_STACK && off + size <= 0;
}

export class FunctionPlan {
  /** Leaders (block starts) in address order. */
  readonly leaders: readonly number[];
  readonly isLeader: ReadonlySet<number>;
  /** The blocks in emission order. */
  readonly order: readonly number[];
  /** The constructs over positions in `order`; undefined: the block-dispatch loop, in address order. */
  readonly st: Structure | undefined;
  /** Position of each block in `order`. */
  readonly posOf: ReadonlyMap<number, number>;
  private readonly blockEnd: ReadonlyMap<number, number>;

  constructor(private readonly code: Decoded, readonly start: number, readonly end: number) {
    const { xop: XOP, target: TARGET } = code;
    // Block leaders: the start, jump targets, and the instruction after any jump or exit.
    const leader = new Set<number>([start]);
    for (let s = start; s < end; s = this.next(s)) {
      const branch = xopIsBranch(XOP[s]);
      if (branch) leader.add(TARGET[s]);
      if ((branch || XOP[s] === XOP_EXIT) && this.next(s) < end) leader.add(this.next(s));
    }
    this.isLeader = leader;
    const leaders = [...leader].sort((a, b) => a - b);
    this.leaders = leaders;
    this.blockEnd = new Map(leaders.map((b, i) => [b, i + 1 < leaders.length ? leaders[i + 1] : end]));
    const tryOrder = (order: readonly number[]) => {
      const pos = new Map(order.map((b, i) => [b, i]));
      const edges: Edge[] = [];
      order.forEach((b, i) => {
        const last = this.lastOf(b);
        if (xopIsBranch(XOP[last])) edges.push({ block: i, blockEnd: i + 1, to: pos.get(TARGET[last])! });
        if (this.fallsThrough(b) && pos.get(this.blockEndOf(b)) !== i + 1) edges.push({ block: i, blockEnd: i + 1, to: pos.get(this.blockEndOf(b))! });
      });
      return structure(edges);
    };
    // Address order when its jumps nest, else the loop-contiguous order of ./structure.ts
    // (clang's rotated loops), else none.
    let order: readonly number[] = leaders;
    let st = tryOrder(leaders);
    if (!st && leaders.length <= MAX_STRUCTURED_EDGES) {
      const index = new Map(leaders.map((b, i) => [b, i]));
      const succs = leaders.map((b) => {
        const last = this.lastOf(b);
        const out: number[] = [];
        if (xopIsBranch(XOP[last])) out.push(index.get(TARGET[last])!);
        if (this.fallsThrough(b)) out.push(index.get(this.blockEndOf(b))!);
        return out;
      });
      const sorted = loopOrder(succs)?.map((i) => leaders[i]);
      const st2 = sorted && tryOrder(sorted);
      if (st2) { order = sorted!; st = st2; }
    }
    this.order = order;
    this.st = st;
    this.posOf = new Map(order.map((b, i) => [b, i]));
  }

  /** The slot after the instruction at `s`. */
  next(s: number): number {
    return s + (this.code.xop[s] === XOP_LDDW ? 2 : 1);
  }

  /** Where the block at `b` ends (the next leader, or the function's end). */
  blockEndOf(b: number): number {
    return this.blockEnd.get(b)!;
  }

  /** The block's last instruction. */
  lastOf(b: number): number {
    let last = b;
    for (let q = b; q < this.blockEndOf(b); q = this.next(q)) last = q;
    return last;
  }

  /** Whether a block's end is reached by falling off its last instruction. */
  fallsThrough(b: number): boolean {
    const x = this.code.xop[this.lastOf(b)];
    return x !== XOP_JA && x !== XOP_GOTOL && x !== XOP_EXIT && x !== XOP_REFUSED && this.blockEndOf(b) < this.end;
  }

  /** Whether the block at `b` falls through to a block that is not next in the emission order. */
  fallsAway(b: number): boolean {
    return this.st !== undefined && this.fallsThrough(b) && this.order[this.posOf.get(b)! + 1] !== this.blockEndOf(b);
  }

  /** The label address of position p: the block there (the function's end past the last). */
  addrAt(p: number): number {
    return p < this.order.length ? this.order[p] : this.end;
  }

  /**
   * Whether an instruction does something a stopped run leaves behind: a call, or a memory
   * access outside the frame's own stack (it can fault, be reported, or write memory the host
   * reads after the run). The instruction budget is charged per segment of a block ending at
   * such an instruction, so a run the budget stops has done exactly the interpreter's calls and
   * accesses; the register-only instructions before the stop point are not observable.
   */
  hasEffect(s: number): boolean {
    const { xop, src, dst, off } = this.code;
    const x = xop[s];
    if (x === XOP_CALL_HELPER || x === XOP_CALL_KFUNC || x === XOP_CALL_LOCAL || x === XOP_CALLX || xopIsAtomic(x)) return true;
    if (XOP_CONTEXT.has(x)) return true; // the context's accessors can fail and write what the host reads
    if (XOP_LOADS.has(x)) return !stackDirectAt(src[s] / 2, off[s], sizeBytes(x));
    if (XOP_STORES.has(x)) return !stackDirectAt(dst[s] / 2, off[s], sizeBytes(x));
    return false;
  }

  /** Instructions from `s` to the end of its segment: the next effect, or the block's end. */
  segmentLength(s: number, blockEnd: number): number {
    let count = 1;
    for (; !this.hasEffect(s) && this.next(s) < blockEnd; s = this.next(s)) count++;
    return count;
  }

  /** The function's slots in emission order (the second half of an ld_imm64 left out). */
  slots(): number[] {
    const slots: number[] = [];
    for (const b of this.order) for (let q = b; q < this.blockEndOf(b); q = this.next(q)) slots.push(q);
    return slots;
  }
}

/** One memory-access site of generated code: an exception table entry. spec §6.2 */
export interface ExTableEntry {
  readonly site: number;
  /** The BPF instruction (slot). */
  readonly pc: number;
  /**
   * The register the fixup zeroes: a load's destination, or (Linux 7.2) an atomic's load
   * register; -1 for stores and for atomics on 6.18.
   */
  readonly dst: number;
  readonly access: 'read' | 'write' | 'atomic';
  readonly size: number;
}

/** A call site: what the generated code needs to call a native (index into the natives list). */
export interface NativeSite {
  readonly pc: number;
  readonly kind: 'helper' | 'kfunc';
  readonly id: number;
}
