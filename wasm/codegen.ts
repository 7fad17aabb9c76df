/**
 * BPF → WebAssembly. Each BPF function becomes one wasm function `(depth: i32) → ()` with the
 * registers as i64 locals (native 64-bit arithmetic: no int32 pairs), control flow as wasm
 * blocks and loops over the same plan as the JavaScript JIT (src/codegen/plan.ts), or a br_table
 * dispatch loop when the graph does not nest, and exactly the JIT's instruction budget segments,
 * register exchange, call protocol and exception-table sites.
 *
 * Memory (wasm/heap.ts lays it out): the frame's own stack at constant offsets from r10 is
 * read and written directly in the stack mirror; any other access tries, inline, the current
 * frame and its callers' frames, then the window (the one mirrored region the engine resolved
 * last), or for an arena address the arena page tables; anything else calls the engine's
 * memory import with its site number, which resolves it with the shared memory unit (faults,
 * fixups and reports exactly as the other engines) and returns where in wasm memory to access.
 */
import { MAX_BPF_STACK, sizeBytes } from '../src/isa/opcodes.js';
import {
  ATOMIC_CMPXCHG, ATOMIC_LOAD_ACQ, ATOMIC_STORE_REL, atomicFetches, xopIsAtomic, xopVariant, XOP_ADD32, XOP_ADD64,
  XOP_AND32, XOP_AND64, XOP_ARSH32, XOP_ARSH64, XOP_BE16, XOP_BE32, XOP_BE64, XOP_BSWAP16, XOP_BSWAP32, XOP_BSWAP64,
  XOP_CALLX, XOP_CALL_HELPER, XOP_CALL_KFUNC, XOP_CALL_LOCAL, XOP_CAST_KERN, XOP_CAST_USER, XOP_CTX_LD, XOP_CTX_ST,
  XOP_DIV32, XOP_DIV64, XOP_EXIT, XOP_GOTOL, XOP_JA, XOP_JEQ, XOP_JEQ32, XOP_JGE, XOP_JGE32, XOP_JGT, XOP_JGT32,
  XOP_JLE, XOP_JLE32, XOP_JLT, XOP_JLT32, XOP_JNE, XOP_JNE32, XOP_JSET, XOP_JSET32, XOP_JSGE, XOP_JSGE32, XOP_JSGT,
  XOP_JSGT32, XOP_JSLE, XOP_JSLE32, XOP_JSLT, XOP_JSLT32, XOP_LDDW, XOP_LDXS_B, XOP_LDXS_H, XOP_LDXS_W, XOP_LDX_B,
  XOP_LDX_DW, XOP_LDX_H, XOP_LDX_W, XOP_LD_ABS_B, XOP_LD_ABS_H, XOP_LD_ABS_W, XOP_LD_IND_B, XOP_LD_IND_H,
  XOP_LD_IND_W, XOP_LE16, XOP_LE32, XOP_LE64, XOP_LSH32, XOP_LSH64, XOP_MAY_GOTO, XOP_MOD32, XOP_MOD64, XOP_MOV32,
  XOP_MOV64, XOP_MOVSX16_32, XOP_MOVSX16_64, XOP_MOVSX32_64, XOP_MOVSX8_32, XOP_MOVSX8_64, XOP_MUL32, XOP_MUL64,
  XOP_NEG32, XOP_NEG64, XOP_OR32, XOP_OR64, XOP_REFUSED, XOP_RSH32, XOP_RSH64, XOP_SDIV32, XOP_SDIV64, XOP_SMOD32,
  XOP_SMOD64, XOP_STX_B, XOP_STX_DW, XOP_STX_H, XOP_STX_W, XOP_SUB32, XOP_SUB64, XOP_XOR32, XOP_XOR64,
} from '../src/isa/xop.js';
import { xopName } from '../src/isa/xop-names.js';
import { CONST_BASE, Decoded } from '../src/lower.js';
import { ExTableEntry, FunctionPlan, NativeSite, stackDirectAt } from '../src/codegen/plan.js';
import { Body, F64, I32, I64, ModuleBuilder, Op } from './encoder.js';
import { EX, HEAP_BASE, PT_READ, PT_WRITE, REGS, WIN, WIN_BYTES, WIN_CACHE, WIN_READ, WIN_WRITE, WINDOWS } from './layout.js';

/** The imports the engine gives the module (module "x"), in index order. */
export const IMPORTS = [
  'budget', 'mayGoto', 'native', 'callx', 'codeSlot', 'enter', 'refused', 'ctxLd', 'ctxSt', 'ldPkt', 'ld', 'st', 'atomic',
] as const;
const F = Object.fromEntries(IMPORTS.map((name, i) => [name, i])) as Record<(typeof IMPORTS)[number], number>;

export interface WasmOptions {
  /** A faulting arena atomic zeroes its load register (Linux 7.2, spec §1.8, §6.2). */
  readonly atomicFaultZeroes: boolean;
  /** Whether the program has an arena: a base register with a zero upper half then addresses it. spec §1.7 */
  readonly arena: boolean;
  /** r10 of frame 0 as (lo, hi). */
  readonly fp0: readonly [number, number];
  /** The upper half cast_user gives a non-NULL arena pointer. spec §1.6 */
  readonly userHi: number;
  /**
   * Whether the code checks the instruction budget (at every budget segment, as the JIT); false
   * for runs without a budget or a timeout, where it only counts.
   */
  readonly budgetChecks: boolean;
}

export interface WasmProgramCode {
  readonly bytes: Uint8Array;
  readonly table: readonly ExTableEntry[];
  readonly natives: readonly NativeSite[];
  /** The function table index of each function start slot (call_indirect for callx). */
  readonly tableIndex: ReadonlyMap<number, number>;
  /** Export name of the function at each start slot. */
  readonly exportOf: ReadonlyMap<number, string>;
}

/** Size of the frame every function of a depth owns, as wasm i64. */
const FRAME = MAX_BPF_STACK;
const STACK_BYTES_TOTAL = REGS; // the stack mirror fills [0, REGS)

export function generateWasm(code: Decoded, options: WasmOptions): WasmProgramCode {
  const m = new ModuleBuilder();
  m.importFunc('x', 'budget', [I32, F64, F64], [F64]);
  m.importFunc('x', 'mayGoto', [I32, I32, I32], [I32]);
  m.importFunc('x', 'native', [I32, I32]);
  m.importFunc('x', 'callx', [I32, I32, I32, I32]);
  m.importFunc('x', 'codeSlot', [I32, I32, I32], [I32]);
  m.importFunc('x', 'enter', [I32, I32]);
  m.importFunc('x', 'refused', [I32]);
  m.importFunc('x', 'ctxLd', [I32, I32], [I32]);
  m.importFunc('x', 'ctxSt', [I32, I32, I32, I32]);
  m.importFunc('x', 'ldPkt', [I32, I32, I32], [F64]);
  m.importFunc('x', 'ld', [I32, I32, I32, I32, I32, I32], [I32]);
  m.importFunc('x', 'st', [I32, I32, I32, I32, I32, I32, I32, I32], [I32]);
  m.importFunc('x', 'atomic', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32], [I32]);
  m.importMemory('m', 'memory', HEAP_BASE / 65536);
  const G = {
    n: m.global(F64, 0, 'n'), b: m.global(F64, 0, 'b'), mg: m.global(I32, 0, 'mg'), stop: m.global(I32, 0, 'stop'),
  };
  const bswap32 = m.declare([I32], [I32]);
  const bswap64 = m.declare([I64], [I64]);
  const starts = code.functionStarts;
  const fnIndex = new Map(starts.map((s) => [s, m.declare([I32])]));
  const calleeType = m.type([I32]);

  // bswap32(x) = (rotl(x, 8) & 0x00ff00ff) | (rotr(x, 8) & 0xff00ff00)
  const b32 = new Body(1);
  b32.get(0).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and)
    .get(0).i32(8).op(Op.i32_rotr).i32(0xff00ff00 | 0).op(Op.i32_and).op(Op.i32_or);
  m.define(bswap32, b32);
  // bswap64(x) = bswap32(lo) << 32 | bswap32(hi)
  const b64 = new Body(1);
  b64.get(0).op(Op.i32_wrap_i64).call(bswap32).op(Op.i64_extend_i32_u).i64(32).op(Op.i64_shl)
    .get(0).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64).call(bswap32).op(Op.i64_extend_i32_u).op(Op.i64_or);
  m.define(bswap64, b64);

  const table: ExTableEntry[] = [];
  const natives: NativeSite[] = [];
  const exportOf = new Map<number, string>();
  starts.forEach((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : code.slotCount;
    const body = genFunction(code, new FunctionPlan(code, start, end), {
      options, table, natives, G, fnIndex, calleeType, bswap32, bswap64,
    });
    m.define(fnIndex.get(start)!, body);
    exportOf.set(start, `F${start}`);
    m.exportFunc(`F${start}`, fnIndex.get(start)!);
  });
  m.setTable(starts.map((s) => fnIndex.get(s)!));
  return {
    bytes: m.encode(), table, natives, exportOf,
    tableIndex: new Map(starts.map((s, i) => [s, i])),
  };
}

interface Context {
  readonly options: WasmOptions;
  readonly table: ExTableEntry[];
  readonly natives: NativeSite[];
  readonly G: { n: number; b: number; mg: number; stop: number };
  readonly fnIndex: ReadonlyMap<number, number>;
  readonly calleeType: number;
  readonly bswap32: number;
  readonly bswap64: number;
}

/** How control leaves for a block: nothing (it is next), a branch to a label, or the dispatch loop. */
type Goto = { kind: 'none' } | { kind: 'br'; label: string } | { kind: 'dispatch'; index: number };

const LOAD_OP: Record<number, number> = {
  [XOP_LDX_B]: Op.i64_load8_u, [XOP_LDX_H]: Op.i64_load16_u, [XOP_LDX_W]: Op.i64_load32_u, [XOP_LDX_DW]: Op.i64_load,
  [XOP_LDXS_B]: Op.i64_load8_s, [XOP_LDXS_H]: Op.i64_load16_s, [XOP_LDXS_W]: Op.i64_load32_s,
};
const STORE_OP: Record<number, number> = { 1: Op.i64_store8, 2: Op.i64_store16, 4: Op.i64_store32, 8: Op.i64_store };
/** The zero-extending load of each size (load-acquire). */
const ZEXT_LOAD: Record<number, number> = { 1: Op.i64_load8_u, 2: Op.i64_load16_u, 4: Op.i64_load32_u, 8: Op.i64_load };
const WIN_SLOT: Record<number, number> = { 1: 0, 2: 8, 4: 16, 8: 24 };

const ALU64: Record<number, number> = {
  [XOP_ADD64]: Op.i64_add, [XOP_SUB64]: Op.i64_sub, [XOP_MUL64]: Op.i64_mul, [XOP_OR64]: Op.i64_or,
  [XOP_AND64]: Op.i64_and, [XOP_XOR64]: Op.i64_xor, [XOP_LSH64]: Op.i64_shl, [XOP_RSH64]: Op.i64_shr_u,
  [XOP_ARSH64]: Op.i64_shr_s,
};
const ALU32: Record<number, number> = {
  [XOP_ADD32]: Op.i32_add, [XOP_SUB32]: Op.i32_sub, [XOP_MUL32]: Op.i32_mul, [XOP_OR32]: Op.i32_or,
  [XOP_AND32]: Op.i32_and, [XOP_XOR32]: Op.i32_xor, [XOP_LSH32]: Op.i32_shl, [XOP_RSH32]: Op.i32_shr_u,
  [XOP_ARSH32]: Op.i32_shr_s,
};
const CMP64: Record<number, number> = {
  [XOP_JEQ]: Op.i64_eq, [XOP_JNE]: Op.i64_ne, [XOP_JGT]: Op.i64_gt_u, [XOP_JGE]: Op.i64_ge_u, [XOP_JLT]: Op.i64_lt_u,
  [XOP_JLE]: Op.i64_le_u, [XOP_JSGT]: Op.i64_gt_s, [XOP_JSGE]: Op.i64_ge_s, [XOP_JSLT]: Op.i64_lt_s,
  [XOP_JSLE]: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  [XOP_JEQ32]: Op.i32_eq, [XOP_JNE32]: Op.i32_ne, [XOP_JGT32]: Op.i32_gt_u, [XOP_JGE32]: Op.i32_ge_u,
  [XOP_JLT32]: Op.i32_lt_u, [XOP_JLE32]: Op.i32_le_u, [XOP_JSGT32]: Op.i32_gt_s, [XOP_JSGE32]: Op.i32_ge_s,
  [XOP_JSLT32]: Op.i32_lt_s, [XOP_JSLE32]: Op.i32_le_s,
};

function genFunction(code: Decoded, plan: FunctionPlan, cx: Context): Body {
  const { xop: XOP, dst: DST, src: SRC, off: OFF, target: TARGET, imm: IMM, consts } = code;
  const { options, table, natives, G } = cx;
  const { order, st, posOf } = plan;
  const w = new Body(1);
  const depth = 0;
  const reg: number[] = [];
  for (let r = 0; r < 10; r++) reg.push(w.local(I64));
  const fp = w.local(I64), fpb = w.local(I32), slen = w.local(I64), sfl = w.local(I64);
  const left = w.local(I64), mg = w.local(I32), mgr = w.local(I32), pc = w.local(I32);
  const a = w.local(I64), d = w.local(I64), b = w.local(I64), t = w.local(I32), tf = w.local(F64);

  // The instruction count: `left` counts down to the limit (global b); the global n is b - left
  // at every call and exit (the JIT's n > B is left < 0).
  const syncIn = () => w.gget(G.b).gget(G.n).op(Op.f64_sub).op(Op.i64_trunc_f64_s).set(left);
  const syncOut = () => w.gget(G.b).get(left).op(Op.f64_convert_i64_s).op(Op.f64_sub).tee(tf).gset(G.n);
  const getReg = (r: number) => (r === 10 ? w.get(fp) : w.get(reg[r]));
  const saveRegs = () => { for (let r = 0; r < 10; r++) w.i32(0).get(reg[r]).mem(Op.i64_store, REGS + 8 * r); };
  const loadRegs = (upTo: number) => { for (let r = 0; r <= upTo; r++) w.i32(0).mem(Op.i64_load, REGS + 8 * r).set(reg[r]); };
  /** The halves of an i64 on the stack of `push`, as two i32 arguments. */
  const halves = (push: () => void) => {
    push(); w.op(Op.i32_wrap_i64);
    push(); w.i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
  };
  /** A value made of the i32 on the stack (low half) and the high half the engine left at EX. */
  const withExHi = () => {
    w.op(Op.i64_extend_i32_u).i32(0).mem(Op.i64_load32_u, EX).i64(32).op(Op.i64_shl).op(Op.i64_or);
  };

  // Prologue: the caller's registers from the exchange area (the JIT's `lN = R[..]`), r10 and
  // the frame bounds for this depth, the counters.
  loadRegs(9);
  w.i64(options.fp0[0], options.fp0[1]).get(depth).op(Op.i64_extend_i32_u).i64(FRAME).op(Op.i64_mul).op(Op.i64_sub).set(fp);
  w.get(depth).i32(1).op(Op.i32_add).i32(FRAME).op(Op.i32_mul).op(Op.i64_extend_i32_u).set(slen);
  w.i32(STACK_BYTES_TOTAL).get(slen).op(Op.i32_wrap_i64).op(Op.i32_sub).set(fpb);
  w.get(fp).i64(FRAME).op(Op.i64_sub).set(sfl);
  syncIn();
  w.gget(G.mg).set(mg);

  const dispatchIndex = new Map(plan.leaders.map((l, i) => [l, i]));
  const goto = (from: number, to: number): Goto => {
    if (!st) return { kind: 'dispatch', index: dispatchIndex.get(to)! };
    const f = posOf.get(from)!, tp = posOf.get(to)!;
    if (tp <= f) return { kind: 'br', label: `L${to}` };
    return tp === f + 1 ? { kind: 'none' } : { kind: 'br', label: `B${to}` };
  };
  const condGoto = (from: number, to: number): Goto => {
    const go = goto(from, to);
    if (go.kind !== 'none' || !plan.fallsThrough(from) || order[posOf.get(from)! + 1] === plan.blockEndOf(from)) return go;
    return { kind: 'br', label: `B${to}` };
  };
  const emitGoto = (go: Goto) => {
    if (go.kind === 'br') w.br(go.label);
    else if (go.kind === 'dispatch') w.i32(go.index).set(pc).br('D');
  };
  /** A conditional goto on the i32 condition on the stack. */
  const emitCondGoto = (go: Goto) => {
    if (go.kind === 'none') w.op(Op.drop);
    else if (go.kind === 'br') w.brIf(go.label);
    else w.open(Op.if).i32(go.index).set(pc).br('D').end();
  };
  const exit = () => {
    for (let r = 0; r <= 5; r++) w.i32(0).get(reg[r]).mem(Op.i64_store, REGS + 8 * r);
    syncOut();
    w.op(Op.return);
  };
  const charge = (s: number, len: number) => {
    if (!options.budgetChecks) { w.get(left).i64(len).op(Op.i64_sub).set(left); return; }
    w.get(left).i64(len).op(Op.i64_sub).tee(left).i64(0).op(Op.i64_lt_s).open(Op.if)
      .gget(G.b).get(left).op(Op.f64_convert_i64_s).op(Op.f64_sub).set(tf) // n
      .i32(s).get(tf).f64(len).op(Op.f64_sub).get(tf).call(F.budget)
      .get(tf).op(Op.f64_sub).op(Op.i64_trunc_f64_s).set(left).end();
  };

  if (!st) {
    w.open(Op.loop, 'D');
    for (let i = plan.leaders.length - 1; i >= 0; i--) w.open(Op.block, `C${plan.leaders[i]}`);
    w.get(pc).brTable(plan.leaders.map((l) => `C${l}`), `C${plan.leaders[0]}`);
  }
  const closeAt = (p: number) => { for (const _ of st?.closes.get(p) ?? []) w.end(); };

  let blockFrom = plan.start, blockTo = plan.end, segmentEnds = true;
  for (const s of plan.slots()) {
    if (plan.isLeader.has(s)) {
      if (st) {
        const p = posOf.get(s)!;
        closeAt(p);
        for (const c of st.opens.get(p) ?? []) {
          if (c.kind === 'loop') w.open(Op.loop, `L${plan.addrAt(c.start)}`);
          else w.open(Op.block, `B${plan.addrAt(c.end)}`);
        }
      } else {
        w.end(); // the dispatch case of this block starts here
      }
      blockFrom = s;
      blockTo = plan.blockEndOf(s);
      charge(s, plan.segmentLength(s, blockTo));
    } else if (segmentEnds) {
      charge(s, plan.segmentLength(s, blockTo));
    }
    segmentEnds = plan.hasEffect(s);
    const x = XOP[s];
    const dr = DST[s] / 2;
    const srcIdx = SRC[s];
    const isConst = srcIdx >= CONST_BASE;
    const cLo = isConst ? consts[srcIdx - CONST_BASE] : 0, cHi = isConst ? consts[srcIdx - CONST_BASE + 1] : 0;
    const sr = srcIdx / 2;
    const src64 = () => (isConst ? w.i64(cLo, cHi) : getReg(sr));
    const src32 = () => (isConst ? w.i32(cLo) : getReg(sr).op(Op.i32_wrap_i64));
    const dst32 = () => getReg(dr).op(Op.i32_wrap_i64);
    const setDst = () => w.set(reg[dr]);
    const zext32 = () => w.op(Op.i64_extend_i32_u).set(reg[dr]);
    const off = OFF[s];
    const target = TARGET[s];
    const site = (dst: number, access: ExTableEntry['access'], size: number) => {
      table.push({ site: table.length, pc: s, dst, access, size });
      return table.length - 1;
    };
    /** The memory import's leading arguments: the base's halves and the offset. */
    const memArgs = (base: number) => { halves(() => getReg(base)); w.i32(off); };
    const nativeCall = (kind: NativeSite['kind'], id: number, invoke: (k: number) => void) => {
      natives.push({ pc: s, kind, id });
      saveRegs();
      syncOut();
      invoke(natives.length - 1);
      w.gget(G.stop).open(Op.if).get(tf).gset(G.n).op(Op.return).end();
      syncIn();
      loadRegs(0);
    };
    const localCall = (call: () => void) => {
      saveRegs();
      syncOut();
      w.i32(s).get(depth).call(F.enter);
      w.get(depth).i32(1).op(Op.i32_add);
      call();
      w.gget(G.stop).open(Op.if).op(Op.return).end();
      syncIn();
      loadRegs(5);
    };
    /**
     * Pushes the wasm address of a `size`-byte access at base + off (not the frame's own
     * stack): inline checks, else the memory import (`slow`, which returns the address or, for a
     * store, does the access itself and returns -1). `write` picks the write window and table.
     */
    const address = (base: number, size: number, write: boolean, slow: () => void) => {
      getReg(base).i64(off).op(Op.i64_add).set(a);
      const generic = () => {
        // The window of the region resolved last, then the cache entry of the address's upper half:
        // a mirrored region's valid start offsets per size (0: none).
        const slot = (write ? WIN_WRITE : WIN_READ) + WIN_SLOT[size];
        w.get(a).i32(0).mem(Op.i64_load, WIN).op(Op.i64_sub).tee(d).i32(0).mem(Op.i64_load, WIN + slot).op(Op.i64_lt_u);
        w.open(Op.if, undefined, I32).i32(0).mem(Op.i32_load, WIN + 8).get(d).op(Op.i32_wrap_i64).op(Op.i32_add);
        w.else();
        w.get(a).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(WINDOWS - 1).op(Op.i32_and).i32(WIN_BYTES).op(Op.i32_mul).set(t);
        w.get(a).get(t).mem(Op.i64_load, WIN_CACHE).op(Op.i64_sub).tee(d).get(t).mem(Op.i64_load, WIN_CACHE + slot).op(Op.i64_lt_u);
        w.open(Op.if, undefined, I32).get(t).mem(Op.i32_load, WIN_CACHE + 8).get(d).op(Op.i32_wrap_i64).op(Op.i32_add);
        w.else();
        // The current frame and its callers': [r10 - 512, top of the stack).
        w.get(a).get(sfl).op(Op.i64_sub).tee(d).get(slen).i64(size - 1).op(Op.i64_sub).op(Op.i64_lt_u);
        w.open(Op.if, undefined, I32).get(fpb).get(d).op(Op.i32_wrap_i64).op(Op.i32_add);
        w.else();
        slow();
        w.end();
        w.end();
        w.end();
      };
      if (!options.arena) { generic(); return; }
      // spec §1.7: a base whose upper half is 0 addresses the arena, kern_vm_start + (u32)reg + off.
      getReg(base).i64(32).op(Op.i64_shr_u).op(Op.i64_eqz);
      w.open(Op.if, undefined, I32);
      w.get(a).i64(0, 1).op(Op.i64_lt_u)
        .get(a).op(Op.i32_wrap_i64).i32(4095).op(Op.i32_and).i32(4096 - size).op(Op.i32_le_u).op(Op.i32_and);
      w.open(Op.if, undefined, I32)
        .get(a).op(Op.i32_wrap_i64).i32(12).op(Op.i32_shr_u).i32(2).op(Op.i32_shl).mem(Op.i32_load, write ? PT_WRITE : PT_READ);
      w.else().i32(0).end();
      w.tee(t).open(Op.if, undefined, I32).get(t).get(a).op(Op.i32_wrap_i64).i32(4095).op(Op.i32_and).op(Op.i32_add);
      w.else();
      slow();
      w.end();
      w.else();
      generic();
      w.end();
    };

    switch (x) {
      case XOP_ADD64: case XOP_SUB64: case XOP_MUL64: case XOP_OR64: case XOP_AND64: case XOP_XOR64:
      case XOP_LSH64: case XOP_RSH64: case XOP_ARSH64:
        getReg(dr); src64(); w.op(ALU64[x]); setDst(); break;
      case XOP_DIV64: // x / 0 = 0
        src64(); w.tee(b).op(Op.i64_eqz).open(Op.if, undefined, I64).i64(0).else().get(reg[dr]).get(b).op(Op.i64_div_u).end();
        setDst(); break;
      case XOP_MOD64: // x % 0 = x
        src64(); w.tee(b).op(Op.i64_eqz).open(Op.if, undefined, I64).get(reg[dr]).else().get(reg[dr]).get(b).op(Op.i64_rem_u).end();
        setDst(); break;
      case XOP_SDIV64: // x / 0 = 0; x / -1 = -x (no trap on INT_MIN)
        src64(); w.tee(b).op(Op.i64_eqz).open(Op.if, undefined, I64).i64(0).else()
          .get(b).i64(-1).op(Op.i64_eq).open(Op.if, undefined, I64).i64(0).get(reg[dr]).op(Op.i64_sub)
          .else().get(reg[dr]).get(b).op(Op.i64_div_s).end().end();
        setDst(); break;
      case XOP_SMOD64: // x % 0 = x; rem_s does not trap on INT_MIN % -1
        src64(); w.tee(b).op(Op.i64_eqz).open(Op.if, undefined, I64).get(reg[dr]).else().get(reg[dr]).get(b).op(Op.i64_rem_s).end();
        setDst(); break;
      case XOP_NEG64: w.i64(0); getReg(dr); w.op(Op.i64_sub); setDst(); break;
      case XOP_MOV64: if (isConst || sr !== dr) { src64(); setDst(); } break;
      case XOP_MOVSX8_64: src64(); w.op(Op.i64_extend8_s); setDst(); break;
      case XOP_MOVSX16_64: src64(); w.op(Op.i64_extend16_s); setDst(); break;
      case XOP_MOVSX32_64: src64(); w.op(Op.i64_extend32_s); setDst(); break;
      case XOP_CAST_KERN: src32(); zext32(); break; // spec §1.6: wX = wY
      case XOP_CAST_USER: // NULL stays NULL, else user_vm_start's upper half. spec §1.6
        src32(); w.op(Op.i64_extend_i32_u).tee(b).op(Op.i64_eqz).open(Op.if, undefined, I64).i64(0)
          .else().get(b).i64(0, options.userHi).op(Op.i64_or).end();
        setDst(); break;
      case XOP_BSWAP16: case XOP_BE16:
        dst32(); w.i32(8).op(Op.i32_shl).i32(0xff00).op(Op.i32_and); dst32(); w.i32(8).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and)
          .op(Op.i32_or); zext32(); break;
      case XOP_BSWAP32: case XOP_BE32: dst32(); w.call(cx.bswap32); zext32(); break;
      case XOP_BSWAP64: case XOP_BE64: getReg(dr); w.call(cx.bswap64); setDst(); break;
      case XOP_ADD32: case XOP_SUB32: case XOP_MUL32: case XOP_OR32: case XOP_AND32: case XOP_XOR32:
      case XOP_LSH32: case XOP_RSH32: case XOP_ARSH32:
        dst32(); src32(); w.op(ALU32[x]); zext32(); break;
      case XOP_DIV32:
        src32(); w.tee(t).op(Op.i32_eqz).open(Op.if, undefined, I32).i32(0).else(); dst32(); w.get(t).op(Op.i32_div_u).end();
        zext32(); break;
      case XOP_MOD32:
        src32(); w.tee(t).op(Op.i32_eqz).open(Op.if, undefined, I32); dst32(); w.else(); dst32(); w.get(t).op(Op.i32_rem_u).end();
        zext32(); break;
      case XOP_SDIV32:
        src32(); w.tee(t).op(Op.i32_eqz).open(Op.if, undefined, I32).i32(0).else()
          .get(t).i32(-1).op(Op.i32_eq).open(Op.if, undefined, I32).i32(0); dst32(); w.op(Op.i32_sub)
          .else(); dst32(); w.get(t).op(Op.i32_div_s).end().end();
        zext32(); break;
      case XOP_SMOD32:
        src32(); w.tee(t).op(Op.i32_eqz).open(Op.if, undefined, I32); dst32(); w.else(); dst32(); w.get(t).op(Op.i32_rem_s).end();
        zext32(); break;
      case XOP_NEG32: w.i32(0); dst32(); w.op(Op.i32_sub); zext32(); break;
      case XOP_MOV32: src32(); zext32(); break;
      case XOP_MOVSX8_32: src32(); w.op(Op.i32_extend8_s); zext32(); break;
      case XOP_MOVSX16_32: src32(); w.op(Op.i32_extend16_s); zext32(); break;
      case XOP_LE16: getReg(dr); w.i64(0xffff).op(Op.i64_and); setDst(); break;
      case XOP_LE32: dst32(); zext32(); break;
      case XOP_LE64: break;
      case XOP_JA: case XOP_GOTOL: emitGoto(goto(blockFrom, target)); break;
      case XOP_JEQ: case XOP_JNE: case XOP_JGT: case XOP_JGE: case XOP_JLT: case XOP_JLE:
      case XOP_JSGT: case XOP_JSGE: case XOP_JSLT: case XOP_JSLE:
        getReg(dr); src64(); w.op(CMP64[x]); emitCondGoto(condGoto(blockFrom, target)); break;
      case XOP_JSET: getReg(dr); src64(); w.op(Op.i64_and).op(Op.i64_eqz).op(Op.i32_eqz); emitCondGoto(condGoto(blockFrom, target)); break;
      case XOP_JEQ32: case XOP_JNE32: case XOP_JGT32: case XOP_JGE32: case XOP_JLT32: case XOP_JLE32:
      case XOP_JSGT32: case XOP_JSGE32: case XOP_JSLT32: case XOP_JSLE32:
        dst32(); src32(); w.op(CMP32[x]); emitCondGoto(condGoto(blockFrom, target)); break;
      case XOP_JSET32: dst32(); src32(); w.op(Op.i32_and); emitCondGoto(condGoto(blockFrom, target)); break;
      case XOP_MAY_GOTO: { // jump once this frame's count is spent; refills are the runtime's. spec §8.3
        w.get(mg).op(Op.i32_eqz).open(Op.if);
        emitGoto(condGoto(blockFrom, target));
        w.else().get(mg).i32(1).op(Op.i32_sub).tee(mg).op(Op.i32_eqz).open(Op.if)
          .get(mgr).i32(1).op(Op.i32_add).tee(mgr).i32(s).get(depth).call(F.mayGoto).set(mg).end();
        w.end();
        break;
      }
      case XOP_CALL_HELPER: case XOP_CALL_KFUNC:
        nativeCall(x === XOP_CALL_HELPER ? 'helper' : 'kfunc', IMM[s], (k) => w.i32(k).get(depth).call(F.native));
        break;
      case XOP_CALL_LOCAL: localCall(() => w.call(cx.fnIndex.get(target)!)); break;
      case XOP_CALLX: // a function address or a helper id
        halves(() => getReg(dr)); w.i32(s).call(F.codeSlot).tee(t).i32(0).op(Op.i32_ge_s).open(Op.if);
        localCall(() => w.get(t).callIndirect(cx.calleeType));
        w.else();
        nativeCall('helper', -1, (k) => { w.i32(k); halves(() => getReg(dr)); w.get(depth).call(F.callx); });
        w.end();
        break;
      case XOP_EXIT: exit(); break;
      case XOP_REFUSED: w.i32(s).call(F.refused).op(Op.unreachable); break;
      case XOP_CTX_LD: w.i32(IMM[s]).i32(s).call(F.ctxLd); withExHi(); setDst(); break;
      case XOP_CTX_ST: w.i32(IMM[s]); halves(src64); w.i32(s).call(F.ctxSt); break;
      case XOP_LD_ABS_W: case XOP_LD_ABS_H: case XOP_LD_ABS_B:
      case XOP_LD_IND_W: case XOP_LD_IND_H: case XOP_LD_IND_B: {
        // Out of range: r0 = 0 and the function returns (the kernel's hidden exit). spec program-types §3.2
        if (x === XOP_LD_ABS_W || x === XOP_LD_ABS_H || x === XOP_LD_ABS_B) w.i32(IMM[s]);
        else { src32(); w.i32(IMM[s]).op(Op.i32_add); }
        w.i32(sizeBytes(x)).i32(s).call(F.ldPkt).tee(tf).f64(0).op(0x63 /* f64.lt */).open(Op.if);
        w.i64(0).set(reg[0]);
        exit();
        w.end();
        w.get(tf).op(0xb1 /* i64.trunc_f64_u */).set(reg[0]);
        break;
      }
      case XOP_LDDW: w.i64(consts[2 * s], consts[2 * s + 1]); setDst(); break;
      case XOP_LDX_B: case XOP_LDX_H: case XOP_LDX_W: case XOP_LDX_DW:
      case XOP_LDXS_B: case XOP_LDXS_H: case XOP_LDXS_W: {
        const size = sizeBytes(x);
        if (stackDirectAt(sr, off, size)) {
          w.get(fpb).mem(LOAD_OP[x], FRAME + off);
        } else {
          const k = site(dr, 'read', size);
          address(sr, size, false, () => { memArgs(sr); w.i32(size).i32(k).get(depth).call(F.ld); });
          w.mem(LOAD_OP[x], 0);
        }
        setDst();
        break;
      }
      case XOP_STX_B: case XOP_STX_H: case XOP_STX_W: case XOP_STX_DW: { // STX, or ST (constant source)
        const size = sizeBytes(x);
        if (stackDirectAt(dr, off, size)) {
          w.get(fpb); src64(); w.mem(STORE_OP[size], FRAME + off);
        } else {
          const k = site(-1, 'write', size);
          // The import gives where to store, or stores itself (or drops it) and gives SCRATCH.
          address(dr, size, true, () => { memArgs(dr); halves(src64); w.i32(size).i32(k).get(depth).call(F.st); });
          src64();
          w.mem(STORE_OP[size], 0);
        }
        break;
      }
      default: { // the atomics: read-modify-write, load-acquire, store-release
        if (!xopIsAtomic(x)) throw new Error(`wasm: ${xopName(x)} at ${s} has no code generator`);
        const size = sizeBytes(x), variant = xopVariant(x);
        if (variant === ATOMIC_LOAD_ACQ) { // dst = *(src + off), zero-extended
          const k = site(dr, 'read', size);
          memArgs(sr); w.i32(size).i32(k).get(depth).call(F.ld).mem(ZEXT_LOAD[size], 0);
              setDst();
        } else if (variant === ATOMIC_STORE_REL) {
          const k = site(-1, 'write', size);
          memArgs(dr); halves(src64); w.i32(size).i32(k).get(depth).call(F.st); src64(); w.mem(STORE_OP[size], 0);
            } else {
          // The register the atomic loads into: r0 for cmpxchg, src for fetch ops and xchg.
          const loadReg = variant === ATOMIC_CMPXCHG ? 0 : atomicFetches(variant) ? sr : -1;
          const zero = options.atomicFaultZeroes && loadReg >= 0;
          const k = site(zero ? loadReg : -1, 'atomic', size);
          memArgs(dr); w.i32(variant).i32(size); halves(src64); halves(() => w.get(reg[0]));
          w.i32(k).get(depth).call(F.atomic);
              // spec §1.8, §6.2: on 7.2 the fixup zeroes the load register (the import then gives 0
          // with a zero high half); 6.18 leaves the registers alone.
          if (loadReg < 0) w.op(Op.drop);
          else if (zero) { withExHi(); w.set(reg[loadReg]); }
          else {
            w.set(t).i32(0).mem(Op.i32_load, EX + 4).op(Op.i32_eqz).open(Op.if).get(t);
            withExHi(); w.set(reg[loadReg]).end();
          }
        }
      }
    }
    // A block that falls through to a block not next in the emission order jumps there.
    if (plan.next(s) === blockTo && plan.fallsAway(blockFrom)) emitGoto(goto(blockFrom, blockTo));
  }
  if (st) closeAt(order.length);
  else w.end(); // the dispatch loop
  return w;
}
