/**
 * BPF → JavaScript source. Each BPF function (the entry and every subprogram) becomes one JS
 * function with the registers as local int32 pairs (`lN`/`hN`), control flow as structured JS
 * (labelled loops and blocks, src/codegen/structure.ts) or, when the graph does not nest, a
 * block-dispatch loop (`for (;;) switch (pc)`, one case per basic block), exact 64-bit arithmetic on the pairs (helpers from src/int64.ts for mul/div/shift),
 * and every memory access either a direct typed-array access (the frame's own stack at a
 * constant offset from r10) or a call to the memory unit with a site number: the exception
 * table maps each site to its instruction, destination register and access kind (spec §6).
 *
 * Register exchange with callees, natives and callbacks goes through the shared array `R`
 * (r0..r10 as pairs, the interpreter's layout), so both engines see the same values at every
 * call boundary; the instruction count `n` is a local synced through `S.n` around calls.
 */
import { MAX_BPF_STACK, sizeBytes } from '../src/isa/opcodes.js';
import {
  ATOMIC_CMPXCHG, ATOMIC_LOAD_ACQ, ATOMIC_STORE_REL, atomicFetches, xopIsAtomic,
  xopVariant, XOP_ADD32, XOP_ADD64, XOP_AND32, XOP_AND64, XOP_ARSH32, XOP_ARSH64, XOP_BE16,
  XOP_BE32, XOP_BE64, XOP_BSWAP16, XOP_BSWAP32, XOP_BSWAP64, XOP_CALLX, XOP_CALL_HELPER,
  XOP_CALL_KFUNC, XOP_CALL_LOCAL, XOP_CAST_KERN, XOP_CTX_LD, XOP_CTX_ST, XOP_REFUSED, XOP_LD_ABS_B, XOP_LD_ABS_H, XOP_LD_ABS_W,
  XOP_LD_IND_B, XOP_LD_IND_H, XOP_LD_IND_W, XOP_CAST_USER, XOP_DIV32, XOP_DIV64, XOP_EXIT,
  XOP_GOTOL, XOP_JA, XOP_JEQ, XOP_JEQ32, XOP_JGE, XOP_JGE32, XOP_JGT, XOP_JGT32, XOP_JLE, XOP_JLE32,
  XOP_JLT, XOP_JLT32, XOP_JNE, XOP_JNE32, XOP_JSET, XOP_JSET32, XOP_JSGE, XOP_JSGE32, XOP_JSGT,
  XOP_JSGT32, XOP_JSLE, XOP_JSLE32, XOP_JSLT, XOP_JSLT32, XOP_LDDW, XOP_LDXS_B, XOP_LDXS_H,
  XOP_LDXS_W, XOP_LDX_B, XOP_LDX_DW, XOP_LDX_H, XOP_LDX_W, XOP_LE16, XOP_LE32, XOP_LE64, XOP_LSH32,
  XOP_LSH64, XOP_MAY_GOTO, XOP_MOD32, XOP_MOD64, XOP_MOV32, XOP_MOV64, XOP_MOVSX16_32,
  XOP_MOVSX16_64, XOP_MOVSX32_64, XOP_MOVSX8_32, XOP_MOVSX8_64, XOP_MUL32, XOP_MUL64, XOP_NEG32,
  XOP_NEG64, XOP_OR32, XOP_OR64, XOP_RSH32, XOP_RSH64, XOP_SDIV32, XOP_SDIV64, XOP_SMOD32,
  XOP_SMOD64, XOP_STX_B, XOP_STX_DW, XOP_STX_H, XOP_STX_W, XOP_SUB32, XOP_SUB64, XOP_XOR32,
  XOP_XOR64,
} from '../src/isa/xop.js';
import { xopName } from '../src/isa/xop-names.js';
import { CONST_BASE, Decoded } from '../src/lower.js';
import { ExTableEntry, FunctionPlan, NativeSite, stackDirectAt } from '../src/codegen/plan.js';

export type { ExTableEntry, NativeSite };

export interface GeneratedProgram {
  /** The body of the factory: defines one function per BPF function and returns them by slot. */
  readonly source: string;
  readonly table: readonly ExTableEntry[];
  readonly natives: readonly NativeSite[];
  readonly functionStarts: readonly number[];
}

/** Code generation choices made at load by the kernel profile (src/kernel/profile.ts). */
export interface GenerateOptions {
  /** A faulting arena atomic zeroes its load register (Linux 7.2, spec §1.8, §6.2). */
  readonly atomicFaultZeroes?: boolean;
}

/** Generates the JS for a lowered program whose functions start at `starts` (sorted). */
export function generate(code: Decoded, starts: readonly number[], options: GenerateOptions = {}): GeneratedProgram {
  const table: ExTableEntry[] = [];
  const natives: NativeSite[] = [];
  const parts: string[] = [];
  const slotCount = code.slotCount;

  starts.forEach((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : slotCount;
    parts.push(genFunction(code, start, end, table, natives, options));
  });
  const source = [
    ...parts,
    `return [${starts.map((s) => `[${s}, F${s}]`).join(', ')}];`,
  ].join('\n');
  return { source, table, natives, functionStarts: starts };
}

/** A 64-bit shift by a constant, inline: `x` is XOP_LSH64, XOP_RSH64 or XOP_ARSH64; n in 0..63. */
function constShift(x: number, dl: string, dh: string, n: number): string {
  if (n === 0) return '';
  if (x === XOP_LSH64) {
    return n < 32 ? `${dh} = (${dh} << ${n}) | (${dl} >>> ${32 - n}); ${dl} <<= ${n};` : `${dh} = ${dl} << ${n - 32}; ${dl} = 0;`;
  }
  if (x === XOP_RSH64) {
    return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} = (${dh} >>> ${n}) | 0;` : `${dl} = (${dh} >>> ${n - 32}) | 0; ${dh} = 0;`;
  }
  return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} >>= ${n};` : `${dl} = ${dh} >> ${n - 32}; ${dh} >>= 31;`;
}

const L = (r: number) => (r === 10 ? 'fp' : `l${r}`);
const H = (r: number) => (r === 10 ? 'FPH' : `h${r}`);

function genFunction(code: Decoded, start: number, end: number,
  table: ExTableEntry[], natives: NativeSite[], options: GenerateOptions): string {
  const { xop: XOP, dst: DST, src: SRC, off: OFF, target: TARGET, imm: IMM, consts } = code;
  const plan = new FunctionPlan(code, start, end);
  const { order, st, posOf } = plan;
  const next = (s: number) => plan.next(s);
  const fallsThrough = (b: number) => plan.fallsThrough(b);
  const blockEndOf = (b: number) => plan.blockEndOf(b);
  const addrAt = (p: number) => plan.addrAt(p);

  const out: string[] = [];
  const e = (line: string) => out.push(line);
  e(`function F${start}(depth) {`);
  e('  let ' + Array.from({ length: 10 }, (_, r) => `l${r} = R[${2 * r}], h${r} = R[${2 * r + 1}]`).join(', ') + ';');
  e(`  const fp = (STACK_TOP - ${MAX_BPF_STACK} * depth) | 0, fpo = STACK_BYTES - ${MAX_BPF_STACK} * depth;`);
  e('  let B = S.b;');
  e('  let n = S.n, mg = S.mg, mgr = 0, t = 0, s = 0, pc = ' + start + ';');
  if (!st) e('  for (;;) switch (pc) {');

  const saveArgs = () => Array.from({ length: 10 }, (_, r) => `R[${2 * r}] = l${r}; R[${2 * r + 1}] = h${r};`).join(' ');
  const loadRet = (upTo: number) => Array.from({ length: upTo + 1 }, (_, r) => `l${r} = R[${2 * r}]; h${r} = R[${2 * r + 1}];`).join(' ');
  /** The statement that transfers control from the block at address `from` to address `to`. */
  const goto = (from: number, to: number): string => {
    if (!st) return `pc = ${to}; continue;`;
    const f = posOf.get(from)!, t = posOf.get(to)!;
    if (t <= f) return `continue L${to};`;
    return t === f + 1 ? '' : `break B${to};`; // falling through reaches `to`
  };
  /**
   * A conditional jump's statement: as goto, except that a jump to the next block in the order
   * from a block whose own fall-through goes elsewhere (reordered) must still leave explicitly.
   */
  const condGoto = (from: number, to: number): string => {
    const go = goto(from, to);
    if (go !== '' || !st || !fallsThrough(from) || order[posOf.get(from)! + 1] === blockEndOf(from)) return go;
    return `break B${to};`;
  };
  const closeAt = (pos: number) => {
    for (const c of st?.closes.get(pos) ?? []) e(c.kind === 'loop' ? '    break; }' : '  }');
  };

  let blockFrom = start, blockTo = end, segmentEnds = true;
  const slots = plan.slots();
  for (let k = 0; k < slots.length; k++) {
    const s = slots[k];
    if (plan.isLeader.has(s)) {
      const p = posOf.get(s)!;
      closeAt(p);
      for (const c of st?.opens.get(p) ?? []) e(c.kind === 'loop' ? `  L${addrAt(c.start)}: for (;;) {` : `  B${addrAt(c.end)}: {`);
      blockFrom = s;
      blockTo = blockEndOf(s);
      const len = plan.segmentLength(s, blockTo);
      e(`  ${st ? '' : `case ${s}: `}if ((n += ${len}) > B) B = X.budget(${s}, n - ${len}, n);`);
    } else if (segmentEnds) {
      const len = plan.segmentLength(s, blockTo);
      e(`    if ((n += ${len}) > B) B = X.budget(${s}, n - ${len}, n);`);
    }
    segmentEnds = plan.hasEffect(s);
    const x = XOP[s];
    const d = DST[s] / 2;
    const srcIdx = SRC[s];
    const isConst = srcIdx >= CONST_BASE;
    const cl = isConst ? String(consts[srcIdx - CONST_BASE]) : L(srcIdx / 2);
    const ch = isConst ? String(consts[srcIdx - CONST_BASE + 1]) : H(srcIdx / 2);
    // Unsigned views of the source halves: folded for constants (smaller code, faster to parse).
    const cu = isConst ? String(consts[srcIdx - CONST_BASE] >>> 0) : `(${cl} >>> 0)`;
    const chu = isConst ? String(consts[srcIdx - CONST_BASE + 1] >>> 0) : `(${ch} >>> 0)`;
    const dl = L(d), dh = H(d);
    const off = OFF[s];
    const target = TARGET[s];
    const jump = (cond: string) => {
      const go = condGoto(blockFrom, target);
      if (go) e(`    if (${cond}) { ${go} }`);
    };
    const memArgs = (base: number) => `${L(base)}, ${H(base)}, ${off}`;
    const site = (dst: number, access: ExTableEntry['access'], size: number) => {
      table.push({ site: table.length, pc: s, dst, access, size });
      return table.length - 1;
    };
    const stackDirect = (base: number, size: number) => stackDirectAt(base, off, size);
    const i64 = (fn: string) => e(`    ${dl} = I.${fn}(${dl}, ${dh}, ${cl}, ${ch}); ${dh} = O.hi;`);
    /** A helper or kfunc call: `invoke` is the runtime call for native site k. */
    const nativeCall = (kind: NativeSite['kind'], id: number, invoke = (k: number) => `X.native(${k}, depth)`) => {
      natives.push({ pc: s, kind, id });
      e(`    ${saveArgs()} S.n = n; ${invoke(natives.length - 1)};`);
      e('    if (S.stop) { S.n = n; return; }');
      e(`    n = S.n; l0 = R[0]; h0 = R[1];`);
    };
    const exitCode = `${Array.from({ length: 6 }, (_, r) => `R[${2 * r}] = l${r}; R[${2 * r + 1}] = h${r};`).join(' ')} S.n = n; return;`;
  const localCall = (fn: string) => {
      e(`    ${saveArgs()} S.n = n; X.enter(${s}, depth); ${fn}(depth + 1);`);
      // A stop in the callee ends every frame (the call ends its segment: nothing after it was charged).
      e('    if (S.stop) return;');
      e(`    n = S.n; ${loadRet(5)}`);
    };
    switch (x) {
      // ---- ALU64 ----
      case XOP_ADD64: e(`    t = (${dl} >>> 0) + ${cu}; ${dh} = (${dh} + ${ch} + (t > 4294967295 ? 1 : 0)) | 0; ${dl} = t | 0;`); break;
      case XOP_SUB64: e(`    t = (${dl} >>> 0) < ${cu} ? 1 : 0; ${dl} = (${dl} - ${cl}) | 0; ${dh} = (${dh} - ${ch} - t) | 0;`); break;
      case XOP_MUL64: i64('mul64'); break;
      case XOP_DIV64: i64('udiv64'); break;
      case XOP_SDIV64: i64('sdiv64'); break;
      case XOP_MOD64: i64('umod64'); break;
      case XOP_SMOD64: i64('smod64'); break;
      case XOP_OR64: e(`    ${dl} |= ${cl}; ${dh} |= ${ch};`); break;
      case XOP_AND64: e(`    ${dl} &= ${cl}; ${dh} &= ${ch};`); break;
      case XOP_XOR64: e(`    ${dl} ^= ${cl}; ${dh} ^= ${ch};`); break;
      case XOP_LSH64: case XOP_RSH64: case XOP_ARSH64:
        if (isConst) e(`    ${constShift(x, dl, dh, consts[srcIdx - CONST_BASE] & 63)}`);
        else e(`    ${dl} = I.${x === XOP_LSH64 ? 'lsh64' : x === XOP_RSH64 ? 'rsh64' : 'arsh64'}(${dl}, ${dh}, ${cl} & 63); ${dh} = O.hi;`);
        break;
      case XOP_NEG64: e(`    ${dl} = I.neg64(${dl}, ${dh}); ${dh} = O.hi;`); break;
      case XOP_MOV64: if (dl !== cl) e(`    ${dl} = ${cl}; ${dh} = ${ch};`); break;
      case XOP_MOVSX8_64: e(`    ${dl} = (${cl} << 24) >> 24; ${dh} = ${dl} >> 31;`); break;
      case XOP_MOVSX16_64: e(`    ${dl} = (${cl} << 16) >> 16; ${dh} = ${dl} >> 31;`); break;
      case XOP_MOVSX32_64: e(`    ${dh} = ${cl} >> 31; ${dl} = ${cl};`); break;
      case XOP_CAST_KERN: e(`    ${dl} = ${cl}; ${dh} = 0;`); break; // spec §1.6: wX = wY
      case XOP_CAST_USER: e(`    ${dl} = ${cl}; ${dh} = ${dl} === 0 ? 0 : USER_HI;`); break;
      case XOP_BSWAP16: e(`    ${dl} = I.bswap16(${dl}); ${dh} = 0;`); break;
      case XOP_BSWAP32: e(`    ${dl} = I.bswap32(${dl}); ${dh} = 0;`); break;
      case XOP_BSWAP64: e(`    t = ${dl}; ${dl} = I.bswap32(${dh}); ${dh} = I.bswap32(t);`); break;
      // ---- ALU (32-bit, zero-extending) ----
      case XOP_ADD32: e(`    ${dl} = (${dl} + ${cl}) | 0; ${dh} = 0;`); break;
      case XOP_SUB32: e(`    ${dl} = (${dl} - ${cl}) | 0; ${dh} = 0;`); break;
      case XOP_MUL32: e(`    ${dl} = Math.imul(${dl}, ${cl}); ${dh} = 0;`); break;
      case XOP_DIV32: e(`    t = ${cl} >>> 0; ${dl} = t === 0 ? 0 : ((${dl} >>> 0) / t) | 0; ${dh} = 0;`); break;
      case XOP_SDIV32: e(`    ${dl} = I.sdiv32(${dl}, ${cl}); ${dh} = 0;`); break;
      case XOP_MOD32: e(`    t = ${cl} >>> 0; if (t !== 0) ${dl} = ((${dl} >>> 0) % t) | 0; ${dh} = 0;`); break;
      case XOP_SMOD32: e(`    ${dl} = I.smod32(${dl}, ${cl}); ${dh} = 0;`); break;
      case XOP_OR32: e(`    ${dl} |= ${cl}; ${dh} = 0;`); break;
      case XOP_AND32: e(`    ${dl} &= ${cl}; ${dh} = 0;`); break;
      case XOP_XOR32: e(`    ${dl} ^= ${cl}; ${dh} = 0;`); break;
      case XOP_LSH32: e(`    ${dl} <<= ${cl} & 31; ${dh} = 0;`); break;
      case XOP_RSH32: e(`    ${dl} = (${dl} >>> (${cl} & 31)) | 0; ${dh} = 0;`); break;
      case XOP_ARSH32: e(`    ${dl} >>= ${cl} & 31; ${dh} = 0;`); break;
      case XOP_NEG32: e(`    ${dl} = -${dl} | 0; ${dh} = 0;`); break;
      case XOP_MOV32: e(`    ${dl} = ${cl}; ${dh} = 0;`); break;
      case XOP_MOVSX8_32: e(`    ${dl} = (${cl} << 24) >> 24; ${dh} = 0;`); break;
      case XOP_MOVSX16_32: e(`    ${dl} = (${cl} << 16) >> 16; ${dh} = 0;`); break;
      case XOP_LE16: e(`    ${dl} &= 0xffff; ${dh} = 0;`); break;
      case XOP_LE32: e(`    ${dh} = 0;`); break;
      case XOP_LE64: break;
      case XOP_BE16: e(`    ${dl} = I.bswap16(${dl}); ${dh} = 0;`); break;
      case XOP_BE32: e(`    ${dl} = I.bswap32(${dl}); ${dh} = 0;`); break;
      case XOP_BE64: e(`    t = ${dl}; ${dl} = I.bswap32(${dh}); ${dh} = I.bswap32(t);`); break;
      // ---- JMP (64-bit compares) ----
      case XOP_JA: case XOP_GOTOL: e(`    ${goto(blockFrom, target)}`); break;
      case XOP_JEQ: jump(`${dl} === ${cl} && ${dh} === ${ch}`); break;
      case XOP_JNE: jump(`${dl} !== ${cl} || ${dh} !== ${ch}`); break;
      case XOP_JSET: jump(`(${dl} & ${cl}) !== 0 || (${dh} & ${ch}) !== 0`); break;
      case XOP_JGT: jump(`(${dh} >>> 0) > ${chu} || (${dh} === ${ch} && (${dl} >>> 0) > ${cu})`); break;
      case XOP_JGE: jump(`(${dh} >>> 0) > ${chu} || (${dh} === ${ch} && (${dl} >>> 0) >= ${cu})`); break;
      case XOP_JLT: jump(`(${dh} >>> 0) < ${chu} || (${dh} === ${ch} && (${dl} >>> 0) < ${cu})`); break;
      case XOP_JLE: jump(`(${dh} >>> 0) < ${chu} || (${dh} === ${ch} && (${dl} >>> 0) <= ${cu})`); break;
      case XOP_JSGT: jump(`${dh} > ${ch} || (${dh} === ${ch} && (${dl} >>> 0) > ${cu})`); break;
      case XOP_JSGE: jump(`${dh} > ${ch} || (${dh} === ${ch} && (${dl} >>> 0) >= ${cu})`); break;
      case XOP_JSLT: jump(`${dh} < ${ch} || (${dh} === ${ch} && (${dl} >>> 0) < ${cu})`); break;
      case XOP_JSLE: jump(`${dh} < ${ch} || (${dh} === ${ch} && (${dl} >>> 0) <= ${cu})`); break;
      // ---- JMP32 (low halves) ----
      case XOP_JEQ32: jump(`${dl} === ${cl}`); break;
      case XOP_JNE32: jump(`${dl} !== ${cl}`); break;
      case XOP_JSET32: jump(`(${dl} & ${cl}) !== 0`); break;
      case XOP_JGT32: jump(`(${dl} >>> 0) > ${cu}`); break;
      case XOP_JGE32: jump(`(${dl} >>> 0) >= ${cu}`); break;
      case XOP_JLT32: jump(`(${dl} >>> 0) < ${cu}`); break;
      case XOP_JLE32: jump(`(${dl} >>> 0) <= ${cu}`); break;
      case XOP_JSGT32: jump(`${dl} > ${cl}`); break;
      case XOP_JSGE32: jump(`${dl} >= ${cl}`); break;
      case XOP_JSLT32: jump(`${dl} < ${cl}`); break;
      case XOP_JSLE32: jump(`${dl} <= ${cl}`); break;
      case XOP_MAY_GOTO: // may_goto: jump once this frame's count is spent; refills are the runtime's. spec §8.3
        e(`    if (mg === 0) { ${condGoto(blockFrom, target) || '/* falls through */'} } else if (--mg === 0) mg = X.mayGoto(++mgr, ${s}, depth);`);
        break;
      // ---- calls and exit ----
      case XOP_CALL_HELPER: nativeCall('helper', IMM[s]); break;
      case XOP_CALL_KFUNC: nativeCall('kfunc', IMM[s]); break;
      case XOP_CALL_LOCAL: localCall(`F${target}`); break;
      case XOP_CALLX: // callx: a function address or a helper id
        e(`    s = X.codeSlot(${dl}, ${dh}, ${s});`);
        e(`    if (s >= 0) {`);
        localCall('FN.get(s)');
        e(`    } else {`);
        nativeCall('helper', -1, (k) => `X.callx(${k}, ${dl}, ${dh}, depth)`);
        e(`    }`);
        break;
      case XOP_EXIT:
        e(`    ${exitCode}`);
        break;
      case XOP_REFUSED: e(`    throw X.refused(${s});`); break;
      case XOP_CTX_LD: e(`    ${dl} = X.ctxLd(${IMM[s]}, ${s}); ${dh} = O.hi;`); break;
      case XOP_CTX_ST: e(`    X.ctxSt(${IMM[s]}, ${cl}, ${ch}, ${s});`); break;
      case XOP_LD_ABS_W: case XOP_LD_ABS_H: case XOP_LD_ABS_B:
      case XOP_LD_IND_W: case XOP_LD_IND_H: case XOP_LD_IND_B: {
        // Out of range: r0 = 0 and the function returns (the kernel's hidden exit). spec program-types §3.2
        const offset = x === XOP_LD_ABS_W || x === XOP_LD_ABS_H || x === XOP_LD_ABS_B ? String(IMM[s]) : `(${cl} + ${IMM[s]}) | 0`;
        e(`    t = X.ldPkt(${offset}, ${sizeBytes(x)}, ${s});`);
        e(`    if (t < 0) { l0 = 0; h0 = 0; ${exitCode} }`);
        e('    l0 = t | 0; h0 = 0;');
        break;
      }
      case XOP_LDDW:
        e(`    ${dl} = ${consts[2 * s]}; ${dh} = ${consts[2 * s + 1]};`);
        break;
      case XOP_LDX_B: case XOP_LDX_H: case XOP_LDX_W: case XOP_LDX_DW: // zero-extending
      case XOP_LDXS_B: case XOP_LDXS_H: case XOP_LDXS_W: { // sign-extending
        const size = sizeBytes(x);
        const signed = x === XOP_LDXS_B || x === XOP_LDXS_H || x === XOP_LDXS_W;
        const base = srcIdx / 2;
        let v: string;
        if (stackDirect(base, size)) {
          const o = `fpo + ${off}`, o4 = `fpo + ${off + 4}`;
          v = size === 8 ? `SV.getInt32(${o}, true)` : size === 4 ? `SV.getInt32(${o}, true)`
            : size === 2 ? `SV.get${signed ? 'Int16' : 'Uint16'}(${o}, true)` : `SV.get${signed ? 'Int8' : 'Uint8'}(${o})`;
          if (size === 8) { e(`    ${dl} = ${v}; ${dh} = SV.getInt32(${o4}, true);`); break; }
        } else {
          // The region cache Q (the last region the memory unit resolved) first, then M.
          const slow = `M.ld${size}(${memArgs(base)}, ${site(d, 'read', size)}, depth)`;
          e(`    t = (${L(base)} >>> 0) + ${off};`);
          const hit = `${H(base)} === Q.h && t >= Q.s && t + ${size} <= Q.e`;
          if (size === 8) {
            e(`    if (${hit}) { ${dl} = Q.v.getInt32(t - Q.s, true); ${dh} = Q.v.getInt32(t - Q.s + 4, true); } else { ${dl} = ${slow}; ${dh} = O.hi; }`);
            break;
          }
          const fast = size === 4 ? 'Q.v.getInt32(t - Q.s, true)' : size === 2 ? 'Q.v.getUint16(t - Q.s, true)' : 'Q.b[t - Q.s]';
          v = `(${hit} ? ${fast} : ${slow})`;
          if (signed && size === 2) v = `((${v} << 16) >> 16)`;
          if (signed && size === 1) v = `((${v} << 24) >> 24)`;
        }
        e(`    ${dl} = ${v}; ${dh} = ${signed ? `${dl} >> 31` : '0'};`);
        break;
      }
      case XOP_STX_B: case XOP_STX_H: case XOP_STX_W: case XOP_STX_DW: { // STX, or ST (constant source)
        const size = sizeBytes(x);
        if (stackDirect(d, size)) {
          const o = `fpo + ${off}`, o4 = `fpo + ${off + 4}`;
          e(size === 8 ? `    SV.setInt32(${o}, ${cl}, true); SV.setInt32(${o4}, ${ch}, true);`
            : size === 4 ? `    SV.setInt32(${o}, ${cl}, true);` : size === 2 ? `    SV.setInt16(${o}, ${cl}, true);` : `    SV.setInt8(${o}, ${cl});`);
        } else {
          e(`    t = (${L(d)} >>> 0) + ${off};`);
          const fast = size === 8 ? `Q.v.setInt32(t - Q.s, ${cl}, true); Q.v.setInt32(t - Q.s + 4, ${ch}, true);`
            : size === 4 ? `Q.v.setInt32(t - Q.s, ${cl}, true);` : size === 2 ? `Q.v.setInt16(t - Q.s, ${cl}, true);` : `Q.b[t - Q.s] = ${cl};`;
          e(`    if (${H(d)} === Q.h && Q.w && t >= Q.s && t + ${size} <= Q.e) { ${fast} } else M.st${size}(${memArgs(d)}, ${cl}, ${ch}, ${site(-1, 'write', size)}, depth);`);
        }
        break;
      }
      default: { // the atomics: read-modify-write, load-acquire, store-release
        if (!xopIsAtomic(x)) throw new Error(`jit: ${xopName(x)} at ${s} has no code generator`);
        const size = sizeBytes(x), variant = xopVariant(x);
        if (variant === ATOMIC_LOAD_ACQ) { // dst = *(src + off), zero-extended
          e(`    ${dl} = M.ld${size}(${memArgs(srcIdx / 2)}, ${site(d, 'read', size)}, depth); ${dh} = ${size === 8 ? 'O.hi' : '0'};`);
        } else if (variant === ATOMIC_STORE_REL) {
          e(`    M.st${size}(${memArgs(d)}, ${cl}, ${ch}, ${site(-1, 'write', size)}, depth);`);
        } else {
          const srcReg = srcIdx / 2;
          // The register the atomic loads into (bpf_atomic_load_reg): r0 for cmpxchg, src for
          // fetch ops and xchg, none otherwise.
          const loadReg = variant === ATOMIC_CMPXCHG ? 0 : atomicFetches(variant) ? srcReg : -1;
          const zero = options.atomicFaultZeroes === true && loadReg >= 0;
          e(`    t = M.atomic(${memArgs(d)}, ${variant}, ${size}, ${cl}, ${ch}, l0, h0, ${site(zero ? loadReg : -1, 'atomic', size)}, depth);`);
          // spec §1.8, §6.2: on 7.2 the fixup zeroes the load register (after a fault M.atomic
          // returns 0 with O.hi 0); 6.18 leaves the registers alone.
          if (loadReg >= 0) {
            e(zero ? `    ${L(loadReg)} = t; ${H(loadReg)} = O.hi;`
              : `    if (!M.faulted) { ${L(loadReg)} = t; ${H(loadReg)} = O.hi; }`);
          }
        }
      }
    }
    // A block that falls through to a block not next in the emission order jumps there.
    if (next(s) === blockTo && plan.fallsAway(blockFrom)) {
      e(`    ${goto(blockFrom, blockTo)}`);
    }
  }
  closeAt(order.length);
  if (!st) e('  }');
  e('}');
  return out.join('\n');
}
