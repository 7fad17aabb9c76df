/**
 * The bytecode interpreter.
 *
 * Hot-path design (measured with `npm run bench`):
 * - Registers and the predecoded instructions live in one Int32Array `V`: r0..r10 at
 *   V[0..21] as (lo, hi) pairs, then SLOT_WORDS words per slot (see the constructor), among
 *   them the slot's constant. A K-form instruction's operand index points at its own constant,
 *   an X-form's at the register, so both forms run the same code and the switch has one case
 *   per operation. One array, because V8 checks each typed array an iteration touches.
 * - Instructions are dispatched on a handler number derived from a synthetic opcode that folds
 *   the variant fields (signed div/mod, movsx width, atomic op, call kind) into the switch
 *   key, as cilium/ebpf does for its OpCode.
 * - 64-bit arithmetic is done on int32 halves (src/int64.ts); nothing allocates and nothing
 *   uses BigInt per instruction.
 * - The instruction budget is charged once per segment (setSegmentCosts), not per instruction.
 * - Memory accesses at constant offsets from r10 go unchecked (STACK_DIRECT); others check the
 *   frame's stack and a one-entry region cache inline; only a miss goes through the shared
 *   memory unit.
 * - The commonest pairs of instructions run with one dispatch (fusePairs).
 * - `execute` creates no closures: a fresh closure per run made V8 deoptimize it on every run.
 */
import { CallDepthError, InvalidInstructionError, UnknownKfuncError } from '../src/errors.js';
import { MAX_BPF_STACK, MAX_CALL_FRAMES, sizeBytes } from '../src/isa/opcodes.js';
import {
  ATOMIC_CMPXCHG, ATOMIC_LOAD_ACQ, ATOMIC_STORE_REL, atomicFetches, xopIsAtomic, xopVariant,
  XOP_ADD32, XOP_ADD64, XOP_AND32, XOP_AND64, XOP_ARSH32, XOP_ARSH64, XOP_BE16, XOP_BE32, XOP_BE64,
  XOP_BSWAP16, XOP_BSWAP32, XOP_BSWAP64, XOP_CALLX, XOP_CALL_HELPER, XOP_CALL_KFUNC, XOP_CALL_LOCAL,
  XOP_CAST_KERN, XOP_CAST_USER, XOP_DIV32, XOP_DIV64, XOP_EXIT, XOP_GOTOL, XOP_JA, XOP_JEQ,
  XOP_JEQ32, XOP_JGE, XOP_JGE32, XOP_JGT, XOP_JGT32, XOP_JLE, XOP_JLE32, XOP_JLT, XOP_JLT32,
  XOP_JNE, XOP_JNE32, XOP_JSET, XOP_JSET32, XOP_JSGE, XOP_JSGE32, XOP_JSGT, XOP_JSGT32, XOP_JSLE,
  XOP_JSLE32, XOP_JSLT, XOP_JSLT32, XOP_LDDW, XOP_LDXS_B, XOP_LDXS_H, XOP_LDXS_W, XOP_LDX_B,
  XOP_LDX_DW, XOP_LDX_H, XOP_LDX_W, XOP_LE16, XOP_LE32, XOP_LE64, XOP_LSH32, XOP_LSH64,
  XOP_MAY_GOTO, XOP_MOD32, XOP_MOD64, XOP_MOV32, XOP_MOV64, XOP_MOVSX16_32, XOP_MOVSX16_64,
  XOP_MOVSX32_64, XOP_MOVSX8_32, XOP_MOVSX8_64, XOP_MUL32, XOP_MUL64, XOP_NEG32, XOP_NEG64,
  XOP_OR32, XOP_OR64, XOP_RSH32, XOP_RSH64, XOP_SDIV32, XOP_SDIV64, XOP_SMOD32, XOP_SMOD64,
  XOP_STX_B, XOP_STX_DW, XOP_STX_H, XOP_STX_W, XOP_SUB32, XOP_SUB64, XOP_XOR32, XOP_XOR64,
  XOP_CTX_LD, XOP_CTX_ST, XOP_LD_ABS_B, XOP_LD_ABS_H, XOP_LD_ABS_W, XOP_LD_IND_B, XOP_LD_IND_H, XOP_LD_IND_W, XOP_REFUSED,
} from '../src/isa/xop.js';
import { xopName, XOPS } from '../src/isa/xop-names.js';
import {
  bswap16, bswap32, mul64, neg64, out, sdiv32, sdiv64, smod32, smod64, udiv64, umod64,
} from '../src/int64.js';
import { atomicRmw, MemoryUnit } from '../src/engine.js';
import { CONST_BASE, Decoded, refusedError } from '../src/lower.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';
import { EngineKind, EngineShell, REGISTER_WORDS, STACK_BYTES, userHiOf } from '../src/shell.js';

/**
 * The switch in `execute` dispatches on a dense handler number, not on the sparse synthetic
 * opcode: over consecutive integer literals V8 compiles it to a jump table (measured: dispatch
 * ~1.8x faster), which it does not for named constants. So `case k` handles HANDLER_XOPS[k];
 * each `case k:` line names that xop in a comment, and test/xop.test.ts checks the two agree.
 * Every atomic (read-modify-write, load-acquire, store-release) goes to `case ATOMIC_HANDLER`.
 */
export const HANDLER_XOPS: readonly number[] = [
  XOP_ADD64, XOP_SUB64, XOP_MUL64, XOP_DIV64, XOP_SDIV64, XOP_OR64, XOP_AND64, XOP_LSH64,
  XOP_RSH64, XOP_NEG64, XOP_MOD64, XOP_SMOD64, XOP_XOR64, XOP_MOV64, XOP_MOVSX8_64, XOP_MOVSX16_64,
  XOP_MOVSX32_64, XOP_CAST_KERN, XOP_CAST_USER, XOP_ARSH64, XOP_BSWAP16, XOP_BSWAP32, XOP_BSWAP64,
  XOP_ADD32, XOP_SUB32, XOP_MUL32, XOP_DIV32, XOP_SDIV32, XOP_OR32, XOP_AND32, XOP_LSH32,
  XOP_RSH32, XOP_NEG32, XOP_MOD32, XOP_SMOD32, XOP_XOR32, XOP_MOV32, XOP_MOVSX8_32, XOP_MOVSX16_32,
  XOP_ARSH32, XOP_LE16, XOP_LE32, XOP_LE64, XOP_BE16, XOP_BE32, XOP_BE64, XOP_JA, XOP_JEQ, XOP_JNE,
  XOP_JSET, XOP_JGT, XOP_JGE, XOP_JLT, XOP_JLE, XOP_JSGT, XOP_JSGE, XOP_JSLT, XOP_JSLE, XOP_GOTOL,
  XOP_JEQ32, XOP_JNE32, XOP_JSET32, XOP_JGT32, XOP_JGE32, XOP_JLT32, XOP_JLE32, XOP_JSGT32,
  XOP_JSGE32, XOP_JSLT32, XOP_JSLE32, XOP_MAY_GOTO, XOP_CALL_HELPER, XOP_CALL_LOCAL,
  XOP_CALL_KFUNC, XOP_CALLX, XOP_EXIT, XOP_LDDW, XOP_LDX_W, XOP_LDX_H, XOP_LDX_B, XOP_LDX_DW,
  XOP_LDXS_W, XOP_LDXS_H, XOP_LDXS_B, XOP_STX_W, XOP_STX_H, XOP_STX_B, XOP_STX_DW,
  XOP_CTX_LD, XOP_CTX_ST, XOP_LD_ABS_W, XOP_LD_ABS_H, XOP_LD_ABS_B, XOP_LD_IND_W, XOP_LD_IND_H, XOP_LD_IND_B,
  XOP_REFUSED,
];
export const ATOMIC_HANDLER = HANDLER_XOPS.length;
const DEFAULT_HANDLER = 255;
const ATOMIC_XOPS = XOPS.filter(xopIsAtomic);
/** The handler of every xop the lowering produces (XOPS, src/isa/xop-names.ts). */
const HANDLER_OF: ReadonlyMap<number, number> = new Map([
  ...HANDLER_XOPS.map((x, k): [number, number] => [x, k]),
  ...ATOMIC_XOPS.map((x): [number, number] => [x, ATOMIC_HANDLER]),
]);
// Complete and one-to-one, checked at load: every xop has a handler, and none has two
// (HANDLER_XOPS lists no xop twice, no atomic, and none the lowering never produces).
for (const x of XOPS) {
  if (!HANDLER_OF.has(x)) throw new Error(`interpreter: no handler for ${xopName(x)}`);
}
if (HANDLER_OF.size !== XOPS.length || HANDLER_OF.size !== HANDLER_XOPS.length + ATOMIC_XOPS.length) {
  throw new Error('interpreter: HANDLER_XOPS lists an xop twice, an atomic, or one the lowering never produces');
}

/** Saved per call frame: return slot, r6..r9 (8 int32s), may_goto counter and refills. */
const FRAME_WORDS = 11;
/**
 * Handlers below XOP_JA's are the ALU ops: with LDDW and STACK_DIRECT accesses, the only
 * instructions that do not end a segment.
 */
const FIRST_SEGMENT_END = HANDLER_XOPS.indexOf(XOP_JA);
const LDDW_HANDLER = HANDLER_XOPS.indexOf(XOP_LDDW);
/**
 * At most this much of the run's allowance is counted down in `execute`'s int32 `left`; the rest
 * waits in `extra`. An allowance above 2^31 (no budget) would make `left` a double, which V8
 * boxes into a new HeapNumber on every segment.
 */
const LEFT_CHUNK = 1 << 30;

/**
 * The last non-stack region the memory unit resolved (a map value, the context, an arena page),
 * as in jit/jit.ts: `e = -1` empties it. It is emptied when `execute` starts and after every
 * native call, the only points where regions and arena pages can change under a program.
 */
interface RegionCache { h: number; s: number; e: number; v: DataView; b: Uint8Array; w: boolean }

/**
 * Slot p's words start at V[CODE_BASE + SLOT_WORDS * p]: +0 the handler number (HANDLER_XOPS)
 * with STACK_DIRECT in bit 8 and 2 * dst in bits 24..31, +1 the second operand's index in V,
 * +2 off, +3 where the jump or call target's words start, +4 imm, +5 the slot's segment cost,
 * +6 and +7 the slot's constant (lo, hi). `execute` spells these offsets as literals and the
 * stride as `<< 3`.
 */
const CODE_BASE = 24;
const SLOT_WORDS = 8;
/**
 * A load or store at a constant offset from r10 inside the frame's 512 bytes, as the JIT's
 * stackDirect: it cannot fault, so it is accessed without checks and does not end a segment.
 */
const STACK_DIRECT = 0x100;

/** The slot whose words start at V[ip]. */
function slotAt(ip: number): number {
  return (ip - CODE_BASE) >> 3;
}

/**
 * The instruction budget is charged per segment, as the JIT does: a segment runs from where
 * control enters it to the first instruction that is not ALU, LDDW or a STACK_DIRECT access (a
 * jump, call, exit or other memory access). So a run stopped by its budget has made exactly the
 * calls and memory accesses of one counted instruction by instruction. The cost word of a slot = the instructions from it to its
 * segment's end.
 */
function setSegmentCosts(V: Int32Array, n: number): void {
  for (let p = n - 1; p >= 0; p--) {
    const i = CODE_BASE + SLOT_WORDS * p;
    const h = V[i] & 0xff;
    const next = p + (h === LDDW_HANDLER ? 2 : 1);
    const goesOn = h < FIRST_SEGMENT_END || h === LDDW_HANDLER || (V[i] & STACK_DIRECT) !== 0;
    V[i + 5] = goesOn && next < n ? 1 + V[i + 5 + SLOT_WORDS * (next - p)] : 1;
  }
}

const FIRST_LOAD = HANDLER_XOPS.indexOf(XOP_LDX_W);
const LAST_LOAD = HANDLER_XOPS.indexOf(XOP_LDXS_B);
const FIRST_STORE = HANDLER_XOPS.indexOf(XOP_STX_W);
const LAST_STORE = HANDLER_XOPS.indexOf(XOP_STX_DW);
const MOV64_HANDLER = HANDLER_XOPS.indexOf(XOP_MOV64);
const ADD64_HANDLER = HANDLER_XOPS.indexOf(XOP_ADD64);
/**
 * Fused pairs: the handler 0x80 | first << 1 | second (bit 1 and bit 0: 1 for ADD64, 0 for
 * MOV64) runs a MOV64 or ADD64 and the MOV64 or ADD64 in the next slot with one dispatch: the
 * commonest pairs in clang's code (two-address moves and adds), a quarter of what fib, sort and
 * parse execute. The next slot keeps its own handler, for jumps to it. They are not `case`
 * labels: those are the xop handlers (HANDLER_XOPS), and these go through `default`.
 */
const FUSED = 0x80;
function fusePairs(V: Int32Array, n: number): void {
  const kind = (h: number) => (h === MOV64_HANDLER ? 0 : h === ADD64_HANDLER ? 1 : -1);
  for (let p = 0; p + 1 < n; p++) {
    const i = CODE_BASE + SLOT_WORDS * p;
    const first = kind(V[i] & 0xff), second = kind(V[i + SLOT_WORDS] & 0xff);
    if (first >= 0 && second >= 0) V[i] = (V[i] & ~0xff) | FUSED | (first << 1) | second;
  }
}

export class Interpreter extends EngineShell {
  /** The registers, then the words of each slot (CODE_BASE). */
  private readonly V: Int32Array;
  private readonly frames_ = new Int32Array(MAX_CALL_FRAMES * FRAME_WORDS);
  /** Set by a native that ends the program (unwind) or chains to another (tail call). */
  private stopped = false;
  /** The run's allowance beyond `execute`'s int32 `left` (LEFT_CHUNK); re-derived after every native. */
  private extra = 0;
  private readonly Q: RegionCache;
  private readonly mu: MemoryUnit;

  constructor(kind: EngineKind, code: Decoded, env: ExecEnv) {
    // Registers and code share one array: r0..r10 first, where natives see them.
    const n = code.slotCount;
    const V = new Int32Array(CODE_BASE + SLOT_WORDS * n);
    super(kind, code, env, V.subarray(0, REGISTER_WORDS));
    this.V = V;
    for (let p = 0; p < n; p++) {
      const i = CODE_BASE + SLOT_WORDS * p;
      const src = code.src[p];
      const x = code.xop[p];
      const h = HANDLER_OF.get(x) ?? DEFAULT_HANDLER;
      // The base register of a load is its source, of a store its destination (r10: 2 * 10).
      const base = h >= FIRST_LOAD && h <= LAST_LOAD ? src : h >= FIRST_STORE && h <= LAST_STORE ? code.dst[p] : -1;
      const direct = base === 20 && code.off[p] >= -MAX_BPF_STACK && code.off[p] + sizeBytes(x) <= 0;
      V[i] = h | (direct ? STACK_DIRECT : 0) | (code.dst[p] << 24);
      // A constant operand (index CONST_BASE + 2 * slot in the lowering) is the slot's own words 6, 7.
      V[i + 1] = src >= CONST_BASE ? CODE_BASE + SLOT_WORDS * ((src - CONST_BASE) >> 1) + 6 : src;
      V[i + 2] = code.off[p];
      V[i + 3] = CODE_BASE + SLOT_WORDS * code.target[p];
      V[i + 4] = code.imm[p];
      V[i + 6] = code.consts[2 * p];
      V[i + 7] = code.consts[2 * p + 1];
    }
    setSegmentCosts(V, n);
    fusePairs(V, n);
    const Q: RegionCache = { h: 0, s: 0, e: -1, v: this.stack.view, b: this.stack.bytes, w: false };
    this.Q = Q;
    this.mu = this.memoryUnit((h, start, b, v, w) => { Q.h = h; Q.s = start; Q.e = start + b.length; Q.b = b; Q.v = v; Q.w = w; });
  }

  protected reset(): void {
    this.stopped = false;
  }

  protected halt(): void {
    this.stopped = true;
  }

  protected callSite(depth: number): number {
    return this.frames_[depth * FRAME_WORDS] - 1;
  }

  /**
   * The segment at `pc` (`cost` instructions) runs past the limit: `left` is what is left after
   * charging it (negative). The checkpoint at the exact instruction that crosses the limit (it
   * throws at the budget or the deadline), until the limit covers the segment; returns the new left.
   */
  private overLimit(pc: number, cost: number, left: number): number {
    const xop = this.code.xop;
    while (left < 0) {
      let at = pc;
      for (let k = left + cost; k > 0; k--) at += xop[at] === XOP_LDDW ? 2 : 1;
      left += this.checkpoint(at);
    }
    return left;
  }

  /**
   * The segment at `ip` ran `left` below zero: the reserve (`extra`) covers it, or else the
   * checkpoints at the limit do (overLimit); returns the new left.
   */
  private recharge(ip: number, left: number): number {
    let total = left + this.extra;
    if (total < 0) total = this.overLimit(slotAt(ip), this.V[ip + 5], total);
    return this.split(total);
  }

  /** Splits an allowance into the int32 `left` `execute` counts down, returned, and `extra`. */
  private split(total: number): number {
    const left = (total > LEFT_CHUNK ? LEFT_CHUNK : total) | 0;
    this.extra = total - left;
    return left;
  }

  /** Runs a helper or kfunc; true when the program must end after it (unwind, tail call). */
  private callNative(def: HelperDef, pc: number, depth: number): boolean {
    this.invokeNative(def, pc, depth);
    this.Q.e = -1; // natives can free arena pages, install the scratch page, unmap regions
    return this.stopped;
  }

  /**
   * LD_ABS / LD_IND: r0 = the packet bytes; false when out of range, where r0 = 0 and the
   * function returns (the kernel's hidden exit).
   */
  private loadPacket(offset: number, size: number, pc: number): boolean {
    const context = this.env.context;
    if (context === undefined) throw noContext(pc);
    const v = context.loadPacket(offset, size, pc);
    this.V[0] = v >= 0 ? v | 0 : 0;
    this.V[1] = 0;
    return v >= 0;
  }

  /** Runs from `startPc` until the frame at `baseDepth` exits. */
  protected execute(startPc: number, baseDepth: number): void {
    const XOP = this.code.xop;
    // Module constants are read through a hole check each time: this one is read per instruction.
    const code0 = CODE_BASE;
    const V = this.V;
    const env = this.env;
    const frames = this.frames_;
    const helpers = env.natives.helpers;
    const kfuncs = env.natives.kfuncs;
    const context = env.context;
    const state = this.state;
    const mayGotoBudget = state.mayGotoBudget;
    const userHi = userHiOf(env.arena);
    // The memory unit resolves what the inline checks below (the stack, the region cache) miss;
    // -1 means an arena fault was fixed up (a load's destination is zeroed, a store dropped).
    const mu = this.mu;
    // The stack, checked inline: the frame at `depth` owns [stackLo, stackEnd) (low halves).
    const SV = this.stack.view, stackHi = this.stack.hi, stackStart = this.stack.start;
    const stackEnd = stackStart + this.stack.bytes.length;
    // The region cache, in locals: refreshed from Q after the memory unit resolves an access.
    const Q = this.Q;
    Q.e = -1;
    let qh = 0, qs = 0, qe = -1, qw = false, qv = SV, qb = this.stack.bytes;

    let left = this.split(state.left);
    // The running slot's words (slot = slotAt(ip)): the slot number itself is needed only off the hot path.
    let ip = code0 + ((startPc | 0) << 3);
    let depth = baseDepth | 0;
    let stackLo = (stackEnd - MAX_BPF_STACK * (depth + 1)) | 0;
    // r10's offset in the stack's bytes, for STACK_DIRECT accesses (the JIT's fpo).
    let fpo = (STACK_BYTES - MAX_BPF_STACK * depth) | 0;
    let mayGoto = mayGotoBudget;
    let mayGotoRefills = 0;
    let callee = 0;

    // Each segment is charged where control enters it: here, and after every instruction that
    // ends one (they leave the charge block); ALU ops go on with the next instruction directly.
    if ((left -= V[ip + 5]) < 0) left = this.recharge(ip, left);
    for (;;) {
      const w = V[ip]; // handler | flags | dst << 24 (one load for both)
      const d = w >>> 24;
      const s = V[ip + 1];
      charge: {
        call: {
          exit: {
            switch (w & 0xff) {
              // ---- ALU64 (spec §8.2) ----
              case 0: { // XOP_ADD64
                const a = V[d], lo = (a + V[s]) | 0;
                V[d] = lo;
                V[d + 1] = (V[d + 1] + V[s + 1] + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0; // carry: the sum wrapped
                break;
              }
              case 1: { // XOP_SUB64
                const a = V[d], b = V[s];
                V[d] = (a - b) | 0;
                V[d + 1] = (V[d + 1] - V[s + 1] - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
                break;
              }
              case 2: V[d] = mul64(V[d], V[d + 1], V[s], V[s + 1]); V[d + 1] = out.hi; break; // XOP_MUL64
              case 3: V[d] = udiv64(V[d], V[d + 1], V[s], V[s + 1]); V[d + 1] = out.hi; break; // XOP_DIV64
              case 4: V[d] = sdiv64(V[d], V[d + 1], V[s], V[s + 1]); V[d + 1] = out.hi; break; // XOP_SDIV64
              case 5: V[d] |= V[s]; V[d + 1] |= V[s + 1]; break; // XOP_OR64
              case 6: V[d] &= V[s]; V[d + 1] &= V[s + 1]; break; // XOP_AND64
              case 7: { // XOP_LSH64, inline as in src/int64.ts lsh64 (hot in hashing and parsing code)
                const n = V[s] & 63, lo = V[d];
                if (n >= 32) { V[d + 1] = lo << (n - 32); V[d] = 0; }
                else if (n !== 0) { V[d + 1] = (V[d + 1] << n) | (lo >>> (32 - n)); V[d] = lo << n; }
                break;
              }
              case 8: { // XOP_RSH64, inline as in src/int64.ts rsh64
                const n = V[s] & 63, hi = V[d + 1];
                if (n >= 32) { V[d] = (hi >>> (n - 32)) | 0; V[d + 1] = 0; }
                else if (n !== 0) { V[d] = (V[d] >>> n) | (hi << (32 - n)); V[d + 1] = (hi >>> n) | 0; }
                break;
              }
              case 9: V[d] = neg64(V[d], V[d + 1]); V[d + 1] = out.hi; break; // XOP_NEG64
              case 10: V[d] = umod64(V[d], V[d + 1], V[s], V[s + 1]); V[d + 1] = out.hi; break; // XOP_MOD64
              case 11: V[d] = smod64(V[d], V[d + 1], V[s], V[s + 1]); V[d + 1] = out.hi; break; // XOP_SMOD64
              case 12: V[d] ^= V[s]; V[d + 1] ^= V[s + 1]; break; // XOP_XOR64
              case 13: V[d] = V[s]; V[d + 1] = V[s + 1]; break; // XOP_MOV64
              case 14: V[d] = (V[s] << 24) >> 24; V[d + 1] = V[d] >> 31; break; // XOP_MOVSX8_64
              case 15: V[d] = (V[s] << 16) >> 16; V[d + 1] = V[d] >> 31; break; // XOP_MOVSX16_64
              case 16: V[d] = V[s]; V[d + 1] = V[s] >> 31; break; // XOP_MOVSX32_64
              case 17: V[d] = V[s]; V[d + 1] = 0; break; // XOP_CAST_KERN: wX = wY. spec §1.6
              case 18: // XOP_CAST_USER: NULL stays NULL, else user_vm_start's upper half. spec §1.6
                V[d] = V[s]; V[d + 1] = V[s] === 0 ? 0 : userHi; break;
              case 19: { // XOP_ARSH64, inline as in src/int64.ts arsh64
                const n = V[s] & 63, hi = V[d + 1];
                if (n >= 32) { V[d] = hi >> (n - 32); V[d + 1] = hi >> 31; }
                else if (n !== 0) { V[d] = (V[d] >>> n) | (hi << (32 - n)); V[d + 1] = hi >> n; }
                break;
              }
              case 20: V[d] = bswap16(V[d]); V[d + 1] = 0; break; // XOP_BSWAP16
              case 21: V[d] = bswap32(V[d]); V[d + 1] = 0; break; // XOP_BSWAP32
              case 22: { const lo = V[d]; V[d] = bswap32(V[d + 1]); V[d + 1] = bswap32(lo); break; } // XOP_BSWAP64

              // ---- ALU (32-bit; results zero-extend) ----
              case 23: V[d] = (V[d] + V[s]) | 0; V[d + 1] = 0; break; // XOP_ADD32
              case 24: V[d] = (V[d] - V[s]) | 0; V[d + 1] = 0; break; // XOP_SUB32
              case 25: V[d] = Math.imul(V[d], V[s]); V[d + 1] = 0; break; // XOP_MUL32
              case 26: { const b = V[s] >>> 0; V[d] = b === 0 ? 0 : ((V[d] >>> 0) / b) | 0; V[d + 1] = 0; break; } // XOP_DIV32
              case 27: V[d] = sdiv32(V[d], V[s]); V[d + 1] = 0; break; // XOP_SDIV32
              case 28: V[d] |= V[s]; V[d + 1] = 0; break; // XOP_OR32
              case 29: V[d] &= V[s]; V[d + 1] = 0; break; // XOP_AND32
              case 30: V[d] <<= V[s] & 31; V[d + 1] = 0; break; // XOP_LSH32
              case 31: V[d] = V[d] >>> (V[s] & 31) | 0; V[d + 1] = 0; break; // XOP_RSH32
              case 32: V[d] = -V[d] | 0; V[d + 1] = 0; break; // XOP_NEG32
              case 33: { const b = V[s] >>> 0; if (b !== 0) V[d] = ((V[d] >>> 0) % b) | 0; V[d + 1] = 0; break; } // XOP_MOD32
              case 34: V[d] = smod32(V[d], V[s]); V[d + 1] = 0; break; // XOP_SMOD32
              case 35: V[d] ^= V[s]; V[d + 1] = 0; break; // XOP_XOR32
              case 36: V[d] = V[s]; V[d + 1] = 0; break; // XOP_MOV32
              case 37: V[d] = (V[s] << 24) >> 24; V[d + 1] = 0; break; // XOP_MOVSX8_32
              case 38: V[d] = (V[s] << 16) >> 16; V[d + 1] = 0; break; // XOP_MOVSX16_32
              case 39: V[d] >>= V[s] & 31; V[d + 1] = 0; break; // XOP_ARSH32
              // le on a little-endian machine only truncates; be swaps. spec §8.2
              case 40: V[d] &= 0xffff; V[d + 1] = 0; break; // XOP_LE16
              case 41: V[d + 1] = 0; break; // XOP_LE32
              case 42: break; // XOP_LE64
              case 43: V[d] = bswap16(V[d]); V[d + 1] = 0; break; // XOP_BE16
              case 44: V[d] = bswap32(V[d]); V[d + 1] = 0; break; // XOP_BE32
              case 45: { const lo = V[d]; V[d] = bswap32(V[d + 1]); V[d + 1] = bswap32(lo); break; } // XOP_BE64

              // ---- JMP: 64-bit compares (spec §8.3); a jump ends its segment ----
              case 46: ip = V[ip + 3]; break charge; // XOP_JA
              case 47: ip = V[d] === V[s] && V[d + 1] === V[s + 1] ? V[ip + 3] : ip + 8; break charge; // XOP_JEQ
              case 48: ip = V[d] !== V[s] || V[d + 1] !== V[s + 1] ? V[ip + 3] : ip + 8; break charge; // XOP_JNE
              case 49: ip = (V[d] & V[s]) !== 0 || (V[d + 1] & V[s + 1]) !== 0 ? V[ip + 3] : ip + 8; break charge; // XOP_JSET
              case 50: { // XOP_JGT
                const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
                ip = ah > bh || (ah === bh && (V[d] >>> 0) > (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 51: { // XOP_JGE
                const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
                ip = ah > bh || (ah === bh && (V[d] >>> 0) >= (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 52: { // XOP_JLT
                const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
                ip = ah < bh || (ah === bh && (V[d] >>> 0) < (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 53: { // XOP_JLE
                const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
                ip = ah < bh || (ah === bh && (V[d] >>> 0) <= (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 54: { // XOP_JSGT
                const ah = V[d + 1], bh = V[s + 1];
                ip = ah > bh || (ah === bh && (V[d] >>> 0) > (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 55: { // XOP_JSGE
                const ah = V[d + 1], bh = V[s + 1];
                ip = ah > bh || (ah === bh && (V[d] >>> 0) >= (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 56: { // XOP_JSLT
                const ah = V[d + 1], bh = V[s + 1];
                ip = ah < bh || (ah === bh && (V[d] >>> 0) < (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }
              case 57: { // XOP_JSLE
                const ah = V[d + 1], bh = V[s + 1];
                ip = ah < bh || (ah === bh && (V[d] >>> 0) <= (V[s] >>> 0)) ? V[ip + 3] : ip + 8;
                break charge;
              }

              // ---- JMP32: compares of the low halves ----
              case 58: ip = V[ip + 3]; break charge; // XOP_GOTOL
              case 59: ip = V[d] === V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JEQ32
              case 60: ip = V[d] !== V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JNE32
              case 61: ip = (V[d] & V[s]) !== 0 ? V[ip + 3] : ip + 8; break charge; // XOP_JSET32
              case 62: ip = (V[d] >>> 0) > (V[s] >>> 0) ? V[ip + 3] : ip + 8; break charge; // XOP_JGT32
              case 63: ip = (V[d] >>> 0) >= (V[s] >>> 0) ? V[ip + 3] : ip + 8; break charge; // XOP_JGE32
              case 64: ip = (V[d] >>> 0) < (V[s] >>> 0) ? V[ip + 3] : ip + 8; break charge; // XOP_JLT32
              case 65: ip = (V[d] >>> 0) <= (V[s] >>> 0) ? V[ip + 3] : ip + 8; break charge; // XOP_JLE32
              case 66: ip = V[d] > V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JSGT32
              case 67: ip = V[d] >= V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JSGE32
              case 68: ip = V[d] < V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JSLT32
              case 69: ip = V[d] <= V[s] ? V[ip + 3] : ip + 8; break charge; // XOP_JSLE32

              case 70: // XOP_MAY_GOTO: jump once this frame's budget is spent. spec §8.3
                if (mayGoto === 0) { ip = V[ip + 3]; break charge; }
                if (--mayGoto === 0) mayGoto = this.mayGotoRefill(++mayGotoRefills, slotAt(ip), depth) | 0;
                ip += 8;
                break charge;

              // ---- calls and exit ----
              case 71: { // XOP_CALL_HELPER
                const pc = slotAt(ip);
                const def = helpers.get(V[ip + 4]);
                if (def === undefined) throw this.unknownHelper(pc, V[ip + 4]);
                state.left = left + this.extra;
                if (this.callNative(def, pc, depth)) return;
                left = this.split(state.left);
                qe = -1;
                ip += 8;
                break charge;
              }
              case 72: callee = V[ip + 3]; break call; // XOP_CALL_LOCAL
              case 73: { // XOP_CALL_KFUNC
                const pc = slotAt(ip);
                const def = kfuncs.get(V[ip + 4]);
                if (def === undefined) throw new UnknownKfuncError(pc, `with BTF id ${V[ip + 4]}`);
                state.left = left + this.extra;
                if (this.callNative(def, pc, depth)) return;
                left = this.split(state.left);
                qe = -1;
                ip += 8;
                break charge;
              }
              case 74: { // XOP_CALLX: a code address (local call) or a helper id
                const pc = slotAt(ip);
                const lo = V[d], hi = V[d + 1];
                const slot = this.functionSlot(lo, hi, pc) | 0;
                if (slot >= 0) { callee = code0 + (slot << 3); break call; }
                const def = this.callxHelper(lo, hi, pc);
                state.left = left + this.extra;
                if (this.callNative(def, pc, depth)) return;
                left = this.split(state.left);
                qe = -1;
                ip += 8;
                break charge;
              }
              case 75: break exit; // XOP_EXIT

              case 76: V[d] = V[s]; V[d + 1] = V[s + 1]; ip += 16; continue; // XOP_LDDW

              // ---- loads (LDX MEM / MEMSX): the frame's stack, the region cache, else the memory unit ----
              case 77: { // XOP_LDX_W
                if ((w & 0x100) !== 0) { V[d] = SV.getInt32(fpo + V[ip + 2], true); V[d + 1] = 0; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 4 <= stackEnd) V[d] = SV.getInt32(t - stackStart, true);
                else if (h === qh && t >= qs && t + 4 <= qe) V[d] = qv.getInt32(t - qs, true);
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 4, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.view.getInt32(o, true);
                }
                V[d + 1] = 0;
                ip += 8;
                break charge;
              }
              case 78: { // XOP_LDX_H
                if ((w & 0x100) !== 0) { V[d] = SV.getUint16(fpo + V[ip + 2], true); V[d + 1] = 0; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 2 <= stackEnd) V[d] = SV.getUint16(t - stackStart, true);
                else if (h === qh && t >= qs && t + 2 <= qe) V[d] = qv.getUint16(t - qs, true);
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 2, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.view.getUint16(o, true);
                }
                V[d + 1] = 0;
                ip += 8;
                break charge;
              }
              case 79: { // XOP_LDX_B
                if ((w & 0x100) !== 0) { V[d] = SV.getUint8(fpo + V[ip + 2]); V[d + 1] = 0; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 1 <= stackEnd) V[d] = SV.getUint8(t - stackStart);
                else if (h === qh && t >= qs && t + 1 <= qe) V[d] = qb[t - qs];
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 1, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.bytes[o];
                }
                V[d + 1] = 0;
                ip += 8;
                break charge;
              }
              case 80: { // XOP_LDX_DW
                if ((w & 0x100) !== 0) { V[d] = SV.getInt32(fpo + V[ip + 2], true); V[d + 1] = SV.getInt32(fpo + V[ip + 2] + 4, true); ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 8 <= stackEnd) {
                  V[d] = SV.getInt32(t - stackStart, true); V[d + 1] = SV.getInt32(t - stackStart + 4, true);
                } else if (h === qh && t >= qs && t + 8 <= qe) {
                  V[d] = qv.getInt32(t - qs, true); V[d + 1] = qv.getInt32(t - qs + 4, true);
                } else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 8, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  if (o < 0) { V[d] = 0; V[d + 1] = 0; } else { V[d] = mu.view.getInt32(o, true); V[d + 1] = mu.view.getInt32(o + 4, true); }
                }
                ip += 8;
                break charge;
              }
              case 81: { // XOP_LDXS_W
                if ((w & 0x100) !== 0) { V[d] = SV.getInt32(fpo + V[ip + 2], true); V[d + 1] = V[d] >> 31; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 4 <= stackEnd) V[d] = SV.getInt32(t - stackStart, true);
                else if (h === qh && t >= qs && t + 4 <= qe) V[d] = qv.getInt32(t - qs, true);
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 4, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.view.getInt32(o, true);
                }
                V[d + 1] = V[d] >> 31;
                ip += 8;
                break charge;
              }
              case 82: { // XOP_LDXS_H
                if ((w & 0x100) !== 0) { V[d] = SV.getInt16(fpo + V[ip + 2], true); V[d + 1] = V[d] >> 31; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 2 <= stackEnd) V[d] = SV.getInt16(t - stackStart, true);
                else if (h === qh && t >= qs && t + 2 <= qe) V[d] = qv.getInt16(t - qs, true);
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 2, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.view.getInt16(o, true);
                }
                V[d + 1] = V[d] >> 31;
                ip += 8;
                break charge;
              }
              case 83: { // XOP_LDXS_B
                if ((w & 0x100) !== 0) { V[d] = SV.getInt8(fpo + V[ip + 2]); V[d + 1] = V[d] >> 31; ip += 8; continue; } // STACK_DIRECT
                const t = (V[s] >>> 0) + V[ip + 2], h = V[s + 1];
                if (h === stackHi && t >= stackLo && t + 1 <= stackEnd) V[d] = SV.getInt8(t - stackStart);
                else if (h === qh && t >= qs && t + 1 <= qe) V[d] = qv.getInt8(t - qs);
                else {
                  const o = mu.resolve(V[s], h, V[ip + 2], 1, false, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  V[d] = o < 0 ? 0 : mu.view.getInt8(o);
                }
                V[d + 1] = V[d] >> 31;
                ip += 8;
                break charge;
              }

              // ---- stores (ST uses its constant as the source) ----
              case 84: { // XOP_STX_W
                if ((w & 0x100) !== 0) { SV.setInt32(fpo + V[ip + 2], V[s], true); ip += 8; continue; } // STACK_DIRECT
                const t = (V[d] >>> 0) + V[ip + 2], h = V[d + 1];
                if (h === stackHi && t >= stackLo && t + 4 <= stackEnd) SV.setInt32(t - stackStart, V[s], true);
                else if (h === qh && qw && t >= qs && t + 4 <= qe) qv.setInt32(t - qs, V[s], true);
                else {
                  const o = mu.resolve(V[d], h, V[ip + 2], 4, true, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  if (o >= 0) { mu.view.setInt32(o, V[s], true); if (mu.splitPending) mu.flushSplit(); }
                }
                ip += 8;
                break charge;
              }
              case 85: { // XOP_STX_H
                if ((w & 0x100) !== 0) { SV.setInt16(fpo + V[ip + 2], V[s], true); ip += 8; continue; } // STACK_DIRECT
                const t = (V[d] >>> 0) + V[ip + 2], h = V[d + 1];
                if (h === stackHi && t >= stackLo && t + 2 <= stackEnd) SV.setInt16(t - stackStart, V[s], true);
                else if (h === qh && qw && t >= qs && t + 2 <= qe) qv.setInt16(t - qs, V[s], true);
                else {
                  const o = mu.resolve(V[d], h, V[ip + 2], 2, true, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  if (o >= 0) { mu.view.setInt16(o, V[s], true); if (mu.splitPending) mu.flushSplit(); }
                }
                ip += 8;
                break charge;
              }
              case 86: { // XOP_STX_B
                if ((w & 0x100) !== 0) { SV.setInt8(fpo + V[ip + 2], V[s]); ip += 8; continue; } // STACK_DIRECT
                const t = (V[d] >>> 0) + V[ip + 2], h = V[d + 1];
                if (h === stackHi && t >= stackLo && t + 1 <= stackEnd) SV.setInt8(t - stackStart, V[s]);
                else if (h === qh && qw && t >= qs && t + 1 <= qe) qb[t - qs] = V[s];
                else {
                  const o = mu.resolve(V[d], h, V[ip + 2], 1, true, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  if (o >= 0) mu.bytes[o] = V[s];
                }
                ip += 8;
                break charge;
              }
              case 87: { // XOP_STX_DW
                if ((w & 0x100) !== 0) { SV.setInt32(fpo + V[ip + 2], V[s], true); SV.setInt32(fpo + V[ip + 2] + 4, V[s + 1], true); ip += 8; continue; } // STACK_DIRECT
                const t = (V[d] >>> 0) + V[ip + 2], h = V[d + 1];
                if (h === stackHi && t >= stackLo && t + 8 <= stackEnd) {
                  SV.setInt32(t - stackStart, V[s], true); SV.setInt32(t - stackStart + 4, V[s + 1], true);
                } else if (h === qh && qw && t >= qs && t + 8 <= qe) {
                  qv.setInt32(t - qs, V[s], true); qv.setInt32(t - qs + 4, V[s + 1], true);
                } else {
                  const o = mu.resolve(V[d], h, V[ip + 2], 8, true, slotAt(ip), depth);
                  qh = Q.h; qs = Q.s; qe = Q.e; qv = Q.v; qb = Q.b; qw = Q.w;
                  if (o >= 0) {
                    mu.view.setInt32(o, V[s], true); mu.view.setInt32(o + 4, V[s + 1], true);
                    if (mu.splitPending) mu.flushSplit();
                  }
                }
                ip += 8;
                break charge;
              }

              // ---- context fields and legacy packet loads (converted at load) ----
              case 88: // XOP_CTX_LD
                if (context === undefined) throw noContext(slotAt(ip));
                V[d] = context.load(V[ip + 4]); V[d + 1] = out.hi;
                ip += 8;
                break charge;
              case 89: // XOP_CTX_ST
                if (context === undefined) throw noContext(slotAt(ip));
                context.store(V[ip + 4], V[s], V[s + 1]);
                ip += 8;
                break charge;
              case 90: if (this.loadPacket(V[ip + 4], 4, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_ABS_W
              case 91: if (this.loadPacket(V[ip + 4], 2, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_ABS_H
              case 92: if (this.loadPacket(V[ip + 4], 1, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_ABS_B
              case 93: if (this.loadPacket((V[s] + V[ip + 4]) | 0, 4, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_IND_W
              case 94: if (this.loadPacket((V[s] + V[ip + 4]) | 0, 2, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_IND_H
              case 95: if (this.loadPacket((V[s] + V[ip + 4]) | 0, 1, slotAt(ip))) { ip += 8; break charge; } break exit; // XOP_LD_IND_B

              case 96: throw refusedError(this.code, slotAt(ip)); // XOP_REFUSED

              case 97: // ATOMIC_HANDLER: XOP_ATOMIC_*, XOP_LOAD_ACQ_*, XOP_STORE_REL_*
                this.atomic(XOP[slotAt(ip)], d, s, slotAt(ip), depth);
                ip += 8;
                break charge;

              default: {
                const h = w & 0xff;
                if ((h & 0xfc) !== 0x80) { // not FUSED (a literal: module constants are hole-checked)
                  throw new InvalidInstructionError(slotAt(ip), `opcode 0x${XOP[slotAt(ip)].toString(16)} reached the interpreter undecoded`);
                }
                // A fused pair (fusePairs): this slot's MOV64 or ADD64, then the next slot's.
                if ((h & 2) === 0) { V[d] = V[s]; V[d + 1] = V[s + 1]; } else {
                  const a = V[d], lo = (a + V[s]) | 0;
                  V[d] = lo;
                  V[d + 1] = (V[d + 1] + V[s + 1] + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
                }
                const d2 = V[ip + 8] >>> 24, s2 = V[ip + 9];
                if ((h & 1) === 0) { V[d2] = V[s2]; V[d2 + 1] = V[s2 + 1]; } else {
                  const a = V[d2], lo = (a + V[s2]) | 0;
                  V[d2] = lo;
                  V[d2 + 1] = (V[d2 + 1] + V[s2 + 1] + ((lo >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
                }
                ip += 16;
                continue;
              }
            }
            ip += 8; // an ALU op: the segment goes on
            continue;
          }
          // XOP_EXIT, or LD_ABS / LD_IND's hidden exit: back to the caller, or out.
          if (depth === baseDepth) { state.left = left + this.extra; return; }
          depth--;
          const f = depth * FRAME_WORDS;
          for (let k = 0; k < 8; k++) V[12 + k] = frames[f + 1 + k];
          mayGoto = frames[f + 9];
          mayGotoRefills = frames[f + 10];
          V[20] = (V[20] + MAX_BPF_STACK) | 0;
          stackLo += MAX_BPF_STACK;
          fpo += MAX_BPF_STACK;
          ip = code0 + (frames[f] << 3);
          break charge;
        }
        // A local call (call or callx) to the slot whose words are at `callee`: the caller's r6..r9 and may_goto state are saved.
        if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthError(slotAt(ip), MAX_CALL_FRAMES);
        const f = depth * FRAME_WORDS;
        frames[f] = slotAt(ip) + 1;
        for (let k = 0; k < 8; k++) frames[f + 1 + k] = V[12 + k];
        frames[f + 9] = mayGoto;
        frames[f + 10] = mayGotoRefills;
        depth++;
        this.enteredFrame(depth);
        mayGoto = mayGotoBudget;
        mayGotoRefills = 0;
        V[20] = (V[20] - MAX_BPF_STACK) | 0;
        stackLo -= MAX_BPF_STACK;
        fpo -= MAX_BPF_STACK;
        ip = callee;
      }
      // ip starts a segment: charge all of it.
      if ((left -= V[ip + 5]) < 0) left = this.recharge(ip, left);
    }
  }

  /** An atomic: read-modify-write, load-acquire or store-release. spec §8.5 */
  private atomic(xop: number, d: number, s: number, pc: number, depth: number): void {
    const V = this.V, mu = this.mu;
    const variant = xopVariant(xop);
    const size = sizeBytes(xop);
    if (variant === ATOMIC_LOAD_ACQ) { // load-acquire: dst = *(src + off), zero-extended
      const o = mu.resolve(V[s], V[s + 1], this.code.off[pc], size, false, pc, depth);
      if (o < 0) { V[d] = 0; V[d + 1] = 0; return; }
      const view = mu.view;
      V[d + 1] = size === 8 ? view.getInt32(o + 4, true) : 0;
      V[d] = size === 8 || size === 4 ? view.getInt32(o, true) : size === 2 ? view.getUint16(o, true) : view.getUint8(o);
      return;
    }
    const o = mu.resolve(V[d], V[d + 1], this.code.off[pc], size, true, pc, depth);
    if (o < 0) {
      // spec §1.8, §6.2: on 7.2 the fixup zeroes the atomic's load register (r0 for cmpxchg,
      // src for fetch ops and xchg; bpf_atomic_load_reg); 6.18 leaves the registers alone.
      if ((this.env.arena?.atomicFaultZeroes ?? true) && variant !== ATOMIC_STORE_REL) {
        if (variant === ATOMIC_CMPXCHG) { V[0] = 0; V[1] = 0; } else if (atomicFetches(variant)) { V[s] = 0; V[s + 1] = 0; }
      }
      return;
    }
    const view = mu.view;
    if (variant === ATOMIC_STORE_REL) { // store-release: *(dst + off) = src
      if (size === 8) { view.setInt32(o, V[s], true); view.setInt32(o + 4, V[s + 1], true); }
      else if (size === 4) view.setInt32(o, V[s], true);
      else if (size === 2) view.setInt16(o, V[s], true);
      else view.setInt8(o, V[s]);
      if (mu.splitPending) mu.flushSplit();
      return;
    }
    const oldLo = atomicRmw(view, o, size, variant, V[s], V[s + 1], V[0], V[1]);
    if (mu.splitPending) mu.flushSplit();
    const oldHi = out.hi;
    if (variant === ATOMIC_CMPXCHG) { V[0] = oldLo; V[1] = oldHi; } // r0 always gets the old value
    else if (atomicFetches(variant)) { V[s] = oldLo; V[s + 1] = oldHi; }
  }
}

/** A context access in a program whose type has no context model. */
function noContext(pc: number): InvalidInstructionError {
  return new InvalidInstructionError(pc, 'context access in a program whose type has no context model');
}
