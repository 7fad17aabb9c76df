/**
 * The bytecode interpreter.
 *
 * Hot-path design (measured with `npm run bench`):
 * - Registers and every instruction's constant live in one Int32Array `V` as (lo, hi) pairs:
 *   r0..r10 at V[0..21], then one pair per slot for that slot's immediate. A K-form
 *   instruction's operand index points at its own constant, an X-form's at the register, so
 *   both forms run the same code and the switch has one case per operation.
 * - Instructions are predecoded into typed arrays indexed by slot, with a synthetic opcode that
 *   folds the variant fields (signed div/mod, movsx width, atomic op, call kind) into the
 *   switch key, as cilium/ebpf does for its OpCode.
 * - 64-bit arithmetic is done on int32 halves (src/int64.ts); nothing allocates and nothing
 *   uses BigInt per instruction.
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
  arsh64, bswap16, bswap32, lsh64, mul64, neg64, out, rsh64, sdiv32, sdiv64, smod32, smod64, udiv64, umod64,
} from '../src/int64.js';
import { atomicRmw, MemoryUnit } from '../src/engine.js';
import { CONST_BASE, Decoded, refusedError } from '../src/lower.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';
import { EngineKind, EngineShell, REGISTER_WORDS, userHiOf } from '../src/shell.js';

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

/** Saved per call frame: return slot, r6..r9 (8 int32s), may_goto counter. */
const FRAME_WORDS = 11;

export class Interpreter extends EngineShell {
  private readonly V: Int32Array;
  private readonly frames_ = new Int32Array(MAX_CALL_FRAMES * FRAME_WORDS);
  /** Set by a native that ends the program (unwind) or chains to another (tail call). */
  private stopped = false;
  /** The handler number of each slot (see HANDLER_XOPS), with the slot's 2 * dst in bits 8..15. */
  private readonly handler: Int32Array;
  private readonly mu: MemoryUnit;

  constructor(kind: EngineKind, code: Decoded, env: ExecEnv) {
    // Registers and constants share one array: r0..r10 first, where natives see them.
    const V = new Int32Array(CONST_BASE + code.consts.length);
    super(kind, code, env, V.subarray(0, REGISTER_WORDS));
    this.V = V;
    V.set(code.consts, CONST_BASE);
    this.handler = Int32Array.from(code.xop, (x, slot) => (HANDLER_OF.get(x) ?? DEFAULT_HANDLER) | (code.dst[slot] << 8));
    this.mu = this.memoryUnit();
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

  /** Runs from `startPc` until the frame at `baseDepth` exits. */
  protected execute(startPc: number, baseDepth: number): void {
    const { xop: XOP, src: SRC, off: OFF, target: TARGET, imm: IMM } = this.code;
    const HANDLER = this.handler;
    const V = this.V;
    const env = this.env;
    const frames = this.frames_;
    const helpers = env.natives.helpers;
    const kfuncs = env.natives.kfuncs;
    const state = this.state;
    const mayGotoBudget = state.mayGotoBudget;
    const userHi = userHiOf(env.arena);
    // The kernel profile's fixup for a faulting arena atomic, fixed at load. spec §1.8
    const zeroOnFault = env.arena?.atomicFaultZeroes ?? true;

    let left = state.left;
    let pc = startPc;
    let depth = baseDepth;
    let mayGoto = mayGotoBudget;
    let mayGotoRefills = 0;

    // The memory unit resolves every access; -1 means an arena fault was fixed up (the caller
    // then zeroes a load's destination, drops a store, leaves an atomic's registers alone or,
    // on 7.2, zeroes its load register).
    const mu = this.mu;
    const resolve = (baseIdx: number, off: number, size: number, write: boolean, pc: number): number =>
      mu.resolve(V[baseIdx], V[baseIdx + 1], off, size, write, pc, depth);
    const callLocal = (target: number, pc: number): number => {
      if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthError(pc, MAX_CALL_FRAMES);
      const f = depth * FRAME_WORDS;
      frames[f] = pc + 1;
      for (let k = 0; k < 8; k++) frames[f + 1 + k] = V[12 + k];
      frames[f + 9] = mayGoto;
      frames[f + 10] = mayGotoRefills;
      depth++;
      this.enteredFrame(depth);
      mayGoto = mayGotoBudget;
      mayGotoRefills = 0;
      V[20] = (V[20] - MAX_BPF_STACK) | 0;
      return target;
    };
    const context = env.context;
    /** The context, which only a program type that converts context accesses gives. */
    const noContext = (pc: number) => new InvalidInstructionError(pc, 'context access in a program whose type has no context model');
    /**
     * LD_ABS / LD_IND: r0 = the packet bytes, or, out of range, r0 = 0 and the function returns
     * (the kernel's hidden exit); the slot to go on at, -1 when the outermost frame returned.
     */
    const loadPacket = (offset: number, size: number, pc: number): number => {
      if (context === undefined) throw noContext(pc);
      const v = context.loadPacket(offset, size, pc);
      if (v >= 0) { V[0] = v | 0; V[1] = 0; return pc + 1; }
      V[0] = 0; V[1] = 0;
      return exitFrame();
    };
    /** Returns from the current frame: the slot to go on at, -1 when the outermost frame returned. */
    const exitFrame = (): number => {
      if (depth === baseDepth) return -1;
      depth--;
      const f = depth * FRAME_WORDS;
      for (let k = 0; k < 8; k++) V[12 + k] = frames[f + 1 + k];
      mayGoto = frames[f + 9];
      mayGotoRefills = frames[f + 10];
      V[20] = (V[20] + MAX_BPF_STACK) | 0;
      return frames[f];
    };
    // Runs a helper or kfunc; true when the program must end after it (unwind, tail call).
    // `left` is synced by the callers: capturing it here would move it off the registers.
    const callNativeAt = (def: HelperDef, pc: number): boolean => {
      this.invokeNative(def, pc, depth);
      return this.stopped;
    };

    for (;;) {
      if (--left < 0) left = this.checkpoint(pc) - 1; // this instruction is the first of the new allowance
      const w = HANDLER[pc]; // handler | dst << 8 (one load for both)
      const d = w >>> 8;
      const s = SRC[pc];
      switch (w & 0xff) {
        // ---- ALU64 (spec §8.2) ----
        case 0: { // XOP_ADD64
          const a = V[d], b = V[s];
          V[d] = (a + b) | 0;
          V[d + 1] = (V[d + 1] + V[s + 1] + ((a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0)) | 0;
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
        case 7: V[d] = lsh64(V[d], V[d + 1], V[s] & 63); V[d + 1] = out.hi; break; // XOP_LSH64
        case 8: V[d] = rsh64(V[d], V[d + 1], V[s] & 63); V[d + 1] = out.hi; break; // XOP_RSH64
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
        case 19: V[d] = arsh64(V[d], V[d + 1], V[s] & 63); V[d + 1] = out.hi; break; // XOP_ARSH64
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

        // ---- JMP: 64-bit compares (spec §8.3) ----
        case 46: pc = TARGET[pc]; continue; // XOP_JA
        case 47: if (V[d] === V[s] && V[d + 1] === V[s + 1]) { pc = TARGET[pc]; continue; } break; // XOP_JEQ
        case 48: if (V[d] !== V[s] || V[d + 1] !== V[s + 1]) { pc = TARGET[pc]; continue; } break; // XOP_JNE
        case 49: if ((V[d] & V[s]) !== 0 || (V[d + 1] & V[s + 1]) !== 0) { pc = TARGET[pc]; continue; } break; // XOP_JSET
        case 50: { // XOP_JGT
          const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
          if (ah > bh || (ah === bh && (V[d] >>> 0) > (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 51: { // XOP_JGE
          const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
          if (ah > bh || (ah === bh && (V[d] >>> 0) >= (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 52: { // XOP_JLT
          const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
          if (ah < bh || (ah === bh && (V[d] >>> 0) < (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 53: { // XOP_JLE
          const ah = V[d + 1] >>> 0, bh = V[s + 1] >>> 0;
          if (ah < bh || (ah === bh && (V[d] >>> 0) <= (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 54: { // XOP_JSGT
          const ah = V[d + 1], bh = V[s + 1];
          if (ah > bh || (ah === bh && (V[d] >>> 0) > (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 55: { // XOP_JSGE
          const ah = V[d + 1], bh = V[s + 1];
          if (ah > bh || (ah === bh && (V[d] >>> 0) >= (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 56: { // XOP_JSLT
          const ah = V[d + 1], bh = V[s + 1];
          if (ah < bh || (ah === bh && (V[d] >>> 0) < (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }
        case 57: { // XOP_JSLE
          const ah = V[d + 1], bh = V[s + 1];
          if (ah < bh || (ah === bh && (V[d] >>> 0) <= (V[s] >>> 0))) { pc = TARGET[pc]; continue; }
          break;
        }

        // ---- JMP32: compares of the low halves ----
        case 58: pc = TARGET[pc]; continue; // XOP_GOTOL
        case 59: if (V[d] === V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JEQ32
        case 60: if (V[d] !== V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JNE32
        case 61: if ((V[d] & V[s]) !== 0) { pc = TARGET[pc]; continue; } break; // XOP_JSET32
        case 62: if ((V[d] >>> 0) > (V[s] >>> 0)) { pc = TARGET[pc]; continue; } break; // XOP_JGT32
        case 63: if ((V[d] >>> 0) >= (V[s] >>> 0)) { pc = TARGET[pc]; continue; } break; // XOP_JGE32
        case 64: if ((V[d] >>> 0) < (V[s] >>> 0)) { pc = TARGET[pc]; continue; } break; // XOP_JLT32
        case 65: if ((V[d] >>> 0) <= (V[s] >>> 0)) { pc = TARGET[pc]; continue; } break; // XOP_JLE32
        case 66: if (V[d] > V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JSGT32
        case 67: if (V[d] >= V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JSGE32
        case 68: if (V[d] < V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JSLT32
        case 69: if (V[d] <= V[s]) { pc = TARGET[pc]; continue; } break; // XOP_JSLE32

        case 70: // XOP_MAY_GOTO: jump once this frame's budget is spent. spec §8.3
          if (mayGoto === 0) { pc = TARGET[pc]; continue; }
          if (--mayGoto === 0) mayGoto = this.mayGotoRefill(++mayGotoRefills, pc, depth);
          break;

        // ---- calls and exit ----
        case 71: { // XOP_CALL_HELPER
          const def = helpers.get(IMM[pc]);
          if (def === undefined) throw this.unknownHelper(pc, IMM[pc]);
          state.left = left;
          if (callNativeAt(def, pc)) return;
          left = state.left;
          break;
        }
        case 72: pc = callLocal(TARGET[pc], pc); continue; // XOP_CALL_LOCAL
        case 73: { // XOP_CALL_KFUNC
          const def = kfuncs.get(IMM[pc]);
          if (def === undefined) throw new UnknownKfuncError(pc, `with BTF id ${IMM[pc]}`);
          state.left = left;
          if (callNativeAt(def, pc)) return;
          left = state.left;
          break;
        }
        case 74: { // XOP_CALLX: a code address (local call) or a helper id
          const lo = V[d], hi = V[d + 1];
          const slot = this.functionSlot(lo, hi, pc);
          if (slot >= 0) { pc = callLocal(slot, pc); continue; }
          const def = this.callxHelper(lo, hi, pc);
          state.left = left;
          if (callNativeAt(def, pc)) return;
          left = state.left;
          break;
        }
        case 75: // XOP_EXIT
          pc = exitFrame();
          if (pc < 0) { state.left = left; return; }
          continue;

        case 76: V[d] = V[s]; V[d + 1] = V[s + 1]; pc += 2; continue; // XOP_LDDW

        // ---- loads (LDX MEM / MEMSX) ----
        case 77: { const o = resolve(s, OFF[pc], 4, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getInt32(o, true); V[d + 1] = 0; break; } // XOP_LDX_W
        case 78: { const o = resolve(s, OFF[pc], 2, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getUint16(o, true); V[d + 1] = 0; break; } // XOP_LDX_H
        case 79: { const o = resolve(s, OFF[pc], 1, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.bytes[o]; V[d + 1] = 0; break; } // XOP_LDX_B
        case 80: { const o = resolve(s, OFF[pc], 8, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getInt32(o, true); V[d + 1] = mu.view.getInt32(o + 4, true); break; } // XOP_LDX_DW
        case 81: { const o = resolve(s, OFF[pc], 4, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getInt32(o, true); V[d + 1] = V[d] >> 31; break; } // XOP_LDXS_W
        case 82: { const o = resolve(s, OFF[pc], 2, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getInt16(o, true); V[d + 1] = V[d] >> 31; break; } // XOP_LDXS_H
        case 83: { const o = resolve(s, OFF[pc], 1, false, pc); if (o < 0) { V[d] = 0; V[d + 1] = 0; break; } V[d] = mu.view.getInt8(o); V[d + 1] = V[d] >> 31; break; } // XOP_LDXS_B

        // ---- stores (ST uses its constant as the source) ----
        case 84: { const o = resolve(d, OFF[pc], 4, true, pc); if (o < 0) break; mu.view.setInt32(o, V[s], true); if (mu.splitPending) mu.flushSplit(); break; } // XOP_STX_W
        case 85: { const o = resolve(d, OFF[pc], 2, true, pc); if (o < 0) break; mu.view.setInt16(o, V[s], true); if (mu.splitPending) mu.flushSplit(); break; } // XOP_STX_H
        case 86: { const o = resolve(d, OFF[pc], 1, true, pc); if (o < 0) break; mu.bytes[o] = V[s]; break; } // XOP_STX_B
        case 87: { const o = resolve(d, OFF[pc], 8, true, pc); if (o < 0) break; mu.view.setInt32(o, V[s], true); mu.view.setInt32(o + 4, V[s + 1], true); if (mu.splitPending) mu.flushSplit(); break; } // XOP_STX_DW

        // ---- context fields and legacy packet loads (converted at load) ----
        case 88: if (context === undefined) throw noContext(pc); V[d] = context.load(IMM[pc]); V[d + 1] = out.hi; break; // XOP_CTX_LD
        case 89: if (context === undefined) throw noContext(pc); context.store(IMM[pc], V[s], V[s + 1]); break; // XOP_CTX_ST
        case 90: pc = loadPacket(IMM[pc], 4, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_ABS_W
        case 91: pc = loadPacket(IMM[pc], 2, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_ABS_H
        case 92: pc = loadPacket(IMM[pc], 1, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_ABS_B
        case 93: pc = loadPacket((V[s] + IMM[pc]) | 0, 4, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_IND_W
        case 94: pc = loadPacket((V[s] + IMM[pc]) | 0, 2, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_IND_H
        case 95: pc = loadPacket((V[s] + IMM[pc]) | 0, 1, pc); if (pc < 0) { state.left = left; return; } continue; // XOP_LD_IND_B

        case 96: throw refusedError(this.code, pc); // XOP_REFUSED

        case 97: atomic(XOP[pc], d, s, pc); break; // ATOMIC_HANDLER: XOP_ATOMIC_*, XOP_LOAD_ACQ_*, XOP_STORE_REL_*

        default:
          throw new InvalidInstructionError(pc, `opcode 0x${XOP[pc].toString(16)} reached the interpreter undecoded`);
      }
      pc++;
    }

    function atomic(xop: number, d: number, s: number, pc: number): void {
      const variant = xopVariant(xop);
      const size = sizeBytes(xop);
      if (variant === ATOMIC_LOAD_ACQ) { // load-acquire: dst = *(src + off), zero-extended. spec §8.5
        const o = resolve(s, OFF[pc], size, false, pc);
        if (o < 0) { V[d] = 0; V[d + 1] = 0; return; }
        const view = mu.view;
        V[d + 1] = size === 8 ? view.getInt32(o + 4, true) : 0;
        V[d] = size === 8 || size === 4 ? view.getInt32(o, true) : size === 2 ? view.getUint16(o, true) : view.getUint8(o);
        return;
      }
      const o = resolve(d, OFF[pc], size, true, pc);
      if (o < 0) {
        // spec §1.8, §6.2: on 7.2 the fixup zeroes the atomic's load register (r0 for cmpxchg,
        // src for fetch ops and xchg; bpf_atomic_load_reg); 6.18 leaves the registers alone.
        if (zeroOnFault && variant !== ATOMIC_STORE_REL) {
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
}

