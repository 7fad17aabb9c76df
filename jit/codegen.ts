/**
 * BPF → JavaScript source. Each BPF function (the entry and every subprogram) becomes one JS
 * function with the registers as local int32 pairs (`lN`/`hN`), control flow as structured JS
 * (labelled loops and blocks, jit/structure.ts) or, when the graph does not nest, a
 * block-dispatch loop (`for (;;) switch (pc)`, one case per basic block), exact 64-bit arithmetic on the pairs (helpers from src/int64.ts for mul/div/shift),
 * and every memory access either a direct typed-array access (the frame's own stack at a
 * constant offset from r10) or a call to the memory unit with a site number: the exception
 * table maps each site to its instruction, destination register and access kind (spec §6).
 *
 * Register exchange with callees, natives and callbacks goes through the shared array `R`
 * (r0..r10 as pairs, the interpreter's layout), so both engines see the same values at every
 * call boundary; the instruction count `n` is a local synced through `S.n` around calls.
 */
import {
  BPF_ALU, BPF_ALU64, BPF_CALL, BPF_END, BPF_JMP, BPF_JMP32, BPF_STX, BPF_TO_BE, BPF_X, MAX_BPF_STACK,
  OP_LDDW,
} from '../src/isa/opcodes.js';
import { ATOMIC_CMPXCHG, atomicFetches } from '../src/engine.js';
import { Edge, structure } from './structure.js';
import {
  CONST_BASE, Decoded, V_CALL_KFUNC, V_CALL_LOCAL, V_CAST_KERN, V_CAST_USER, V_MOVSX16, V_MOVSX32, V_MOVSX8,
  V_SIGNED, V_W16, V_W32, V_W64,
} from '../src/lower.js';

/** One memory-access site of the generated code: the JIT's exception table entry. spec §6.2 */
export interface ExTableEntry {
  readonly site: number;
  /** The BPF instruction (slot). */
  readonly pc: number;
  /** Destination register of a load (zeroed by the fixup), -1 for stores and atomics. */
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

export interface GeneratedProgram {
  /** The body of the factory: defines one function per BPF function and returns them by slot. */
  readonly source: string;
  readonly table: readonly ExTableEntry[];
  readonly natives: readonly NativeSite[];
  readonly functionStarts: readonly number[];
}

const SIZES: Record<number, 1 | 2 | 4 | 8> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };

/** Generates the JS for a lowered program whose functions start at `starts` (sorted). */
export function generate(code: Decoded, starts: readonly number[]): GeneratedProgram {
  const table: ExTableEntry[] = [];
  const natives: NativeSite[] = [];
  const parts: string[] = [];
  const slotCount = code.slotCount;
  const isInsn = new Uint8Array(slotCount); // 0 for the second half of an ld_imm64
  for (let s = 0; s < slotCount; s++) isInsn[s] = 1;
  for (let s = 0; s < slotCount; s++) if (code.xop[s] === OP_LDDW) isInsn[s + 1] = 0;

  starts.forEach((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : slotCount;
    parts.push(genFunction(code, start, end, isInsn, table, natives));
  });
  const source = [
    ...parts,
    `return [${starts.map((s) => `[${s}, F${s}]`).join(', ')}];`,
  ].join('\n');
  return { source, table, natives, functionStarts: starts };
}

/** A 64-bit shift by a constant, inline: lsh (0x60), rsh (0x70) or arsh (0xc0) by n in 0..63. */
function constShift(op: number, dl: string, dh: string, n: number): string {
  if (n === 0) return '';
  if (op === 0x60) {
    return n < 32 ? `${dh} = (${dh} << ${n}) | (${dl} >>> ${32 - n}); ${dl} <<= ${n};` : `${dh} = ${dl} << ${n - 32}; ${dl} = 0;`;
  }
  if (op === 0x70) {
    return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} = (${dh} >>> ${n}) | 0;` : `${dl} = (${dh} >>> ${n - 32}) | 0; ${dh} = 0;`;
  }
  return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} >>= ${n};` : `${dl} = ${dh} >> ${n - 32}; ${dh} >>= 31;`;
}

const L = (r: number) => (r === 10 ? 'fp' : `l${r}`);
const H = (r: number) => (r === 10 ? 'FPH' : `h${r}`);

function genFunction(code: Decoded, start: number, end: number, isInsn: Uint8Array,
  table: ExTableEntry[], natives: NativeSite[]): string {
  const { xop: XOP, dst: DST, src: SRC, off: OFF, target: TARGET, imm: IMM, consts } = code;
  // Block leaders: the start, jump targets, and the instruction after any jump or exit.
  const leader = new Set<number>([start]);
  const next = (s: number) => s + (XOP[s] === OP_LDDW ? 2 : 1);
  for (let s = start; s < end; s = next(s)) {
    const x = XOP[s] & 0xff;
    const cls = x & 7;
    if ((cls === BPF_JMP || cls === BPF_JMP32) && (x & 0xf0) !== BPF_CALL) {
      if ((x & 0xf0) !== 0x90) leader.add(TARGET[s]);
      if (next(s) < end) leader.add(next(s));
    }
  }
  const leaders = [...leader].sort((a, b) => a - b);
  const blockLen = new Map<number, number>();
  leaders.forEach((b, i) => {
    const stop = i + 1 < leaders.length ? leaders[i + 1] : end;
    let count = 0;
    for (let s = b; s < stop; s = next(s)) count++;
    blockLen.set(b, count);
  });

  // The jump ending each block, for the structuring: every jump ends a block by construction.
  const edges: Edge[] = [];
  leaders.forEach((b, i) => {
    const blockEnd = i + 1 < leaders.length ? leaders[i + 1] : end;
    let last = b;
    for (let q = b; q < blockEnd; q = next(q)) last = q;
    const lx = XOP[last] & 0xff;
    if (((lx & 7) === BPF_JMP || (lx & 7) === BPF_JMP32) && (lx & 0xf0) !== BPF_CALL && (lx & 0xf0) !== 0x90) {
      edges.push({ block: b, blockEnd, to: TARGET[last] });
    }
  });
  const st = structure(edges);
  const blockEndOf = new Map(leaders.map((b, i) => [b, i + 1 < leaders.length ? leaders[i + 1] : end]));

  const out: string[] = [];
  const e = (line: string) => out.push(line);
  e(`function F${start}(depth) {`);
  e('  let ' + Array.from({ length: 10 }, (_, r) => `l${r} = R[${2 * r}], h${r} = R[${2 * r + 1}]`).join(', ') + ';');
  e(`  const fp = (STACK_TOP - ${MAX_BPF_STACK} * depth) | 0, fpo = STACK_BYTES - ${MAX_BPF_STACK} * depth;`);
  e('  const B = S.b;');
  e('  let n = S.n, mg = S.mg, t = 0, s = 0, pc = ' + start + ';');
  if (!st) e('  for (;;) switch (pc) {');

  const saveArgs = () => Array.from({ length: 10 }, (_, r) => `R[${2 * r}] = l${r}; R[${2 * r + 1}] = h${r};`).join(' ');
  const loadRet = (upTo: number) => Array.from({ length: upTo + 1 }, (_, r) => `l${r} = R[${2 * r}]; h${r} = R[${2 * r + 1}];`).join(' ');
  /** The statement that transfers control from the block at `from` (ending at `fromEnd`) to `to`. */
  const goto = (from: number, fromEnd: number, to: number): string => {
    if (!st) return `pc = ${to}; continue;`;
    if (to <= from) return `continue L${to};`;
    return to === fromEnd ? '' : `break B${to};`; // falling through reaches `to`
  };
  const closeAt = (pos: number) => {
    for (const c of st?.closes.get(pos) ?? []) e(c.kind === 'loop' ? '    break; }' : '  }');
  };

  let blockFrom = start, blockTo = end, inBlock = 0;
  for (let s = start; s < end; s = next(s), inBlock++) {
    if (leader.has(s)) {
      inBlock = 0;
      closeAt(s);
      for (const c of st?.opens.get(s) ?? []) e(c.kind === 'loop' ? `  L${c.start}: for (;;) {` : `  B${c.end}: {`);
      const len = blockLen.get(s)!;
      blockFrom = s;
      blockTo = blockEndOf.get(s)!;
      e(`  ${st ? '' : `case ${s}: `}if ((n += ${len}) > B) X.budget(${s}, n - ${len});`);
    }
    // Instructions left in the block after this one (for an early stop after a native call).
    const after = blockLen.get(blockFrom)! - inBlock - 1;
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
      const go = goto(blockFrom, blockTo, target);
      if (go) e(`    if (${cond}) { ${go} }`);
    };
    const memArgs = (base: number) => `${L(base)}, ${H(base)}, ${off}`;
    const site = (dst: number, access: ExTableEntry['access'], size: number) => {
      table.push({ site: table.length, pc: s, dst, access, size });
      return table.length - 1;
    };
    const stackDirect = (base: number, size: number) => base === 10 && off >= -MAX_BPF_STACK && off + size <= 0;
    const i64 = (fn: string) => e(`    ${dl} = I.${fn}(${dl}, ${dh}, ${cl}, ${ch}); ${dh} = O.hi;`);
    const nativeCall = (kind: NativeSite['kind'], id: number) => {
      natives.push({ pc: s, kind, id });
      e(`    ${saveArgs()} S.n = n; X.native(${natives.length - 1}, depth);`);
      e(`    if (S.stop) { S.n = n - ${after}; return; }`);
      e(`    n = S.n; l0 = R[0]; h0 = R[1];`);
    };
    const localCall = (fn: string) => {
      e(`    ${saveArgs()} S.n = n; X.enter(${s}, depth); ${fn}(depth + 1);`);
      // A stop in the callee ends every frame; this block's later instructions never ran.
      e(`    if (S.stop) { S.n -= ${after}; return; }`);
      e(`    n = S.n; ${loadRet(5)}`);
    };
    const cls = x & 7;
    switch (x) {
      // ---- ALU64 ----
      case BPF_ALU64 | 0x00: e(`    t = (${dl} >>> 0) + ${cu}; ${dh} = (${dh} + ${ch} + (t > 4294967295 ? 1 : 0)) | 0; ${dl} = t | 0;`); break;
      case BPF_ALU64 | 0x10: e(`    t = (${dl} >>> 0) < ${cu} ? 1 : 0; ${dl} = (${dl} - ${cl}) | 0; ${dh} = (${dh} - ${ch} - t) | 0;`); break;
      case BPF_ALU64 | 0x20: i64('mul64'); break;
      case BPF_ALU64 | 0x30: i64('udiv64'); break;
      case BPF_ALU64 | 0x30 | V_SIGNED: i64('sdiv64'); break;
      case BPF_ALU64 | 0x90: i64('umod64'); break;
      case BPF_ALU64 | 0x90 | V_SIGNED: i64('smod64'); break;
      case BPF_ALU64 | 0x40: e(`    ${dl} |= ${cl}; ${dh} |= ${ch};`); break;
      case BPF_ALU64 | 0x50: e(`    ${dl} &= ${cl}; ${dh} &= ${ch};`); break;
      case BPF_ALU64 | 0xa0: e(`    ${dl} ^= ${cl}; ${dh} ^= ${ch};`); break;
      case BPF_ALU64 | 0x60: case BPF_ALU64 | 0x70: case BPF_ALU64 | 0xc0:
        if (isConst) e(`    ${constShift(x & 0xf0, dl, dh, consts[srcIdx - CONST_BASE] & 63)}`);
        else e(`    ${dl} = I.${x === (BPF_ALU64 | 0x60) ? 'lsh64' : x === (BPF_ALU64 | 0x70) ? 'rsh64' : 'arsh64'}(${dl}, ${dh}, ${cl} & 63); ${dh} = O.hi;`);
        break;
      case BPF_ALU64 | 0x80: e(`    ${dl} = I.neg64(${dl}, ${dh}); ${dh} = O.hi;`); break;
      case BPF_ALU64 | 0xb0: if (dl !== cl) e(`    ${dl} = ${cl}; ${dh} = ${ch};`); break;
      case BPF_ALU64 | 0xb0 | V_MOVSX8: e(`    ${dl} = (${cl} << 24) >> 24; ${dh} = ${dl} >> 31;`); break;
      case BPF_ALU64 | 0xb0 | V_MOVSX16: e(`    ${dl} = (${cl} << 16) >> 16; ${dh} = ${dl} >> 31;`); break;
      case BPF_ALU64 | 0xb0 | V_MOVSX32: e(`    ${dh} = ${cl} >> 31; ${dl} = ${cl};`); break;
      case BPF_ALU64 | 0xb0 | V_CAST_KERN: e(`    ${dl} = ${cl}; ${dh} = 0;`); break; // spec §1.6: wX = wY
      case BPF_ALU64 | 0xb0 | V_CAST_USER: e(`    ${dl} = ${cl}; ${dh} = ${dl} === 0 ? 0 : USER_HI;`); break;
      case BPF_ALU64 | BPF_END | V_W16: e(`    ${dl} = I.bswap16(${dl}); ${dh} = 0;`); break;
      case BPF_ALU64 | BPF_END | V_W32: e(`    ${dl} = I.bswap32(${dl}); ${dh} = 0;`); break;
      case BPF_ALU64 | BPF_END | V_W64: e(`    t = ${dl}; ${dl} = I.bswap32(${dh}); ${dh} = I.bswap32(t);`); break;
      // ---- ALU (32-bit, zero-extending) ----
      case BPF_ALU | 0x00: e(`    ${dl} = (${dl} + ${cl}) | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0x10: e(`    ${dl} = (${dl} - ${cl}) | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0x20: e(`    ${dl} = Math.imul(${dl}, ${cl}); ${dh} = 0;`); break;
      case BPF_ALU | 0x30: e(`    t = ${cl} >>> 0; ${dl} = t === 0 ? 0 : ((${dl} >>> 0) / t) | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0x30 | V_SIGNED: e(`    ${dl} = I.sdiv32(${dl}, ${cl}); ${dh} = 0;`); break;
      case BPF_ALU | 0x90: e(`    t = ${cl} >>> 0; if (t !== 0) ${dl} = ((${dl} >>> 0) % t) | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0x90 | V_SIGNED: e(`    ${dl} = I.smod32(${dl}, ${cl}); ${dh} = 0;`); break;
      case BPF_ALU | 0x40: e(`    ${dl} |= ${cl}; ${dh} = 0;`); break;
      case BPF_ALU | 0x50: e(`    ${dl} &= ${cl}; ${dh} = 0;`); break;
      case BPF_ALU | 0xa0: e(`    ${dl} ^= ${cl}; ${dh} = 0;`); break;
      case BPF_ALU | 0x60: e(`    ${dl} <<= ${cl} & 31; ${dh} = 0;`); break;
      case BPF_ALU | 0x70: e(`    ${dl} = (${dl} >>> (${cl} & 31)) | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0xc0: e(`    ${dl} >>= ${cl} & 31; ${dh} = 0;`); break;
      case BPF_ALU | 0x80: e(`    ${dl} = -${dl} | 0; ${dh} = 0;`); break;
      case BPF_ALU | 0xb0: e(`    ${dl} = ${cl}; ${dh} = 0;`); break;
      case BPF_ALU | 0xb0 | V_MOVSX8: e(`    ${dl} = (${cl} << 24) >> 24; ${dh} = 0;`); break;
      case BPF_ALU | 0xb0 | V_MOVSX16: e(`    ${dl} = (${cl} << 16) >> 16; ${dh} = 0;`); break;
      case BPF_ALU | BPF_END | V_W16: e(`    ${dl} &= 0xffff; ${dh} = 0;`); break;
      case BPF_ALU | BPF_END | V_W32: e(`    ${dh} = 0;`); break;
      case BPF_ALU | BPF_END | V_W64: break;
      case BPF_ALU | BPF_END | BPF_TO_BE | V_W16: e(`    ${dl} = I.bswap16(${dl}); ${dh} = 0;`); break;
      case BPF_ALU | BPF_END | BPF_TO_BE | V_W32: e(`    ${dl} = I.bswap32(${dl}); ${dh} = 0;`); break;
      case BPF_ALU | BPF_END | BPF_TO_BE | V_W64: e(`    t = ${dl}; ${dl} = I.bswap32(${dh}); ${dh} = I.bswap32(t);`); break;
      // ---- JMP (64-bit compares) ----
      case BPF_JMP | 0x00: case BPF_JMP32 | 0x00: e(`    ${goto(blockFrom, blockTo, target)}`); break;
      case BPF_JMP | 0x10: jump(`${dl} === ${cl} && ${dh} === ${ch}`); break;
      case BPF_JMP | 0x50: jump(`${dl} !== ${cl} || ${dh} !== ${ch}`); break;
      case BPF_JMP | 0x40: jump(`(${dl} & ${cl}) !== 0 || (${dh} & ${ch}) !== 0`); break;
      case BPF_JMP | 0x20: jump(`(${dh} >>> 0) > ${chu} || (${dh} === ${ch} && (${dl} >>> 0) > ${cu})`); break;
      case BPF_JMP | 0x30: jump(`(${dh} >>> 0) > ${chu} || (${dh} === ${ch} && (${dl} >>> 0) >= ${cu})`); break;
      case BPF_JMP | 0xa0: jump(`(${dh} >>> 0) < ${chu} || (${dh} === ${ch} && (${dl} >>> 0) < ${cu})`); break;
      case BPF_JMP | 0xb0: jump(`(${dh} >>> 0) < ${chu} || (${dh} === ${ch} && (${dl} >>> 0) <= ${cu})`); break;
      case BPF_JMP | 0x60: jump(`${dh} > ${ch} || (${dh} === ${ch} && (${dl} >>> 0) > ${cu})`); break;
      case BPF_JMP | 0x70: jump(`${dh} > ${ch} || (${dh} === ${ch} && (${dl} >>> 0) >= ${cu})`); break;
      case BPF_JMP | 0xc0: jump(`${dh} < ${ch} || (${dh} === ${ch} && (${dl} >>> 0) < ${cu})`); break;
      case BPF_JMP | 0xd0: jump(`${dh} < ${ch} || (${dh} === ${ch} && (${dl} >>> 0) <= ${cu})`); break;
      // ---- JMP32 (low halves) ----
      case BPF_JMP32 | 0x10: jump(`${dl} === ${cl}`); break;
      case BPF_JMP32 | 0x50: jump(`${dl} !== ${cl}`); break;
      case BPF_JMP32 | 0x40: jump(`(${dl} & ${cl}) !== 0`); break;
      case BPF_JMP32 | 0x20: jump(`(${dl} >>> 0) > ${cu}`); break;
      case BPF_JMP32 | 0x30: jump(`(${dl} >>> 0) >= ${cu}`); break;
      case BPF_JMP32 | 0xa0: jump(`(${dl} >>> 0) < ${cu}`); break;
      case BPF_JMP32 | 0xb0: jump(`(${dl} >>> 0) <= ${cu}`); break;
      case BPF_JMP32 | 0x60: jump(`${dl} > ${cl}`); break;
      case BPF_JMP32 | 0x70: jump(`${dl} >= ${cl}`); break;
      case BPF_JMP32 | 0xc0: jump(`${dl} < ${cl}`); break;
      case BPF_JMP32 | 0xd0: jump(`${dl} <= ${cl}`); break;
      case BPF_JMP | 0xe0: // may_goto: jump once this frame's budget is spent. spec §8.3
        e(`    if (mg === 0) { ${goto(blockFrom, blockTo, target) || '/* falls through */'} } else mg--;`);
        break;
      // ---- calls and exit ----
      case BPF_JMP | BPF_CALL: nativeCall('helper', IMM[s]); break;
      case BPF_JMP | BPF_CALL | V_CALL_KFUNC: nativeCall('kfunc', IMM[s]); break;
      case BPF_JMP | BPF_CALL | V_CALL_LOCAL: localCall(`F${target}`); break;
      case BPF_JMP | BPF_CALL | BPF_X: // callx: a function address or a helper id
        e(`    s = X.codeSlot(${dl}, ${dh}, ${s});`);
        e(`    if (s >= 0) {`);
        localCall('FN.get(s)');
        e(`    } else {`);
        natives.push({ pc: s, kind: 'helper', id: -1 });
        e(`    ${saveArgs()} S.n = n; X.callx(${natives.length - 1}, ${dl}, ${dh}, depth);`);
        e(`    if (S.stop) { S.n = n - ${after}; return; }`);
        e(`    n = S.n; l0 = R[0]; h0 = R[1];`);
        e(`    }`);
        break;
      case BPF_JMP | 0x90:
        e(`    ${Array.from({ length: 6 }, (_, r) => `R[${2 * r}] = l${r}; R[${2 * r + 1}] = h${r};`).join(' ')} S.n = n; return;`);
        break;
      case OP_LDDW:
        e(`    ${dl} = ${consts[2 * s]}; ${dh} = ${consts[2 * s + 1]};`);
        break;
      default: {
        const mode = x & 0xe0, size = SIZES[x & 0x18];
        if (cls === 1) { // LDX: MEM (zero-extending) or MEMSX (sign-extending)
          const base = srcIdx / 2;
          const signed = mode === 0x80;
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
        } else if (cls === BPF_STX && mode === 0x60) { // STX MEM / ST (constant source)
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
        } else if (cls === BPF_STX && mode === 0xc0) { // atomics, load-acquire, store-release
          const variant = x >> 8;
          if (variant === 11) { // load-acquire: dst = *(src + off), zero-extended
            e(`    ${dl} = M.ld${size}(${memArgs(srcIdx / 2)}, ${site(d, 'read', size)}, depth); ${dh} = ${size === 8 ? 'O.hi' : '0'};`);
          } else if (variant === 12) { // store-release
            e(`    M.st${size}(${memArgs(d)}, ${cl}, ${ch}, ${site(-1, 'write', size)}, depth);`);
          } else {
            const srcReg = srcIdx / 2;
            e(`    t = M.atomic(${memArgs(d)}, ${variant}, ${size}, ${cl}, ${ch}, l0, h0, ${site(-1, 'atomic', size)}, depth);`);
            // spec §1.8: a faulted atomic leaves its registers alone.
            if (variant === ATOMIC_CMPXCHG) e(`    if (!M.faulted) { l0 = t; h0 = O.hi; }`);
            else if (atomicFetches(variant)) e(`    if (!M.faulted) { ${L(srcReg)} = t; ${H(srcReg)} = O.hi; }`);
          }
        } else {
          throw new Error(`jit: opcode 0x${x.toString(16)} at ${s} has no code generator`);
        }
      }
    }
  }
  closeAt(end);
  if (!st) e('  }');
  e('}');
  return out.join('\n');
}
