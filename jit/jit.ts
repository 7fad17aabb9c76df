/**
 * The JIT: a program compiled to JavaScript functions (jit/codegen.ts) plus what they call —
 * the memory unit with the exception table, natives, callbacks, tail calls — sharing the
 * interpreter's observable semantics exactly (the differential tests compare the two).
 *
 * Memory: the frame's own stack at constant offsets from r10 is accessed directly in the
 * generated code; every other access goes through `M.ldN/stN/atomic(base, off, site)`, which
 * finds the region (stack, map value, context, arena page). An arena access to an empty page is
 * fixed up as the table entry of its site says (load → 0, store dropped, an atomic's load register
 * zeroed on 7.2, untouched on 6.18) and
 * reported to the program's stderr (spec §1.8, §6); anything else outside every region ends the
 * run with the interpreter's MemoryAccessError.
 */
import { CallDepthError, InvalidInstructionError, UnknownKfuncError } from '../src/errors.js';
import * as I from '../src/int64.js';
import { MAX_CALL_FRAMES } from '../src/isa/opcodes.js';
import { XOP_LDDW } from '../src/isa/xop.js';
import { Decoded, refusedError } from '../src/lower.js';
import { atomicRmw, MemoryUnit } from '../src/engine.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';
import { EngineKind, EngineShell, REGISTER_WORDS, STACK_BYTES, userHiOf } from '../src/shell.js';
import { ExTableEntry, generate, GeneratedProgram, NativeSite } from './codegen.js';

/**
 * The last non-stack region the memory unit resolved (a map value, the context, an arena page):
 * the generated code tries it before calling the unit. `e = -1` empties it; it is emptied at
 * every run start and after every native call, the only points where regions and arena pages
 * can change under a running program.
 */
interface RegionCache { h: number; s: number; e: number; v: DataView; b: Uint8Array; w: boolean }

/**
 * Counters the generated functions share: instructions executed in this run `n` (synced around
 * calls), the run's budget `b`, the per-frame may_goto budget `mg`, the stop flag.
 */
interface SharedState {
  n: number;
  b: number;
  mg: number;
  stop: boolean;
}

type CompiledFn = (depth: number) => void;

export class JitProgram extends EngineShell {
  /** The generated JavaScript (for `bpfrun disasm --emit-js`). */
  readonly source: string;
  /** The exception table: one entry per memory-access site. */
  readonly table: readonly ExTableEntry[];
  /** Milliseconds spent generating and instantiating the code. */
  readonly compileMs: number;
  private readonly nativeSites: readonly NativeSite[];
  private readonly fns: ReadonlyMap<number, CompiledFn>;
  private readonly S: SharedState = { n: 0, b: 0, mg: 0, stop: false };
  private readonly Q: RegionCache;
  /** Call site of each live frame (pcs[d] = the call made at depth d), set by the generated code. */
  private readonly pcs = new Int32Array(MAX_CALL_FRAMES);

  constructor(kind: EngineKind, code: Decoded, env: ExecEnv) {
    const t0 = performance.now();
    const R = new Int32Array(REGISTER_WORDS);
    super(kind, code, env, R);
    const gen: GeneratedProgram = generate(code, code.functionStarts, { atomicFaultZeroes: env.arena?.atomicFaultZeroes ?? true });
    this.source = gen.source;
    this.table = gen.table;
    this.nativeSites = gen.natives;
    this.Q = { h: 0, s: 0, e: -1, v: this.stack.view, b: this.stack.bytes, w: false };
    const factory = new Function('R', 'S', 'X', 'M', 'I', 'O', 'SV', 'STACK_TOP', 'STACK_BYTES', 'FPH', 'USER_HI', 'FN', 'Q',
      `'use strict';\n${gen.source}`) as (...args: unknown[]) => Array<[number, CompiledFn]>;
    const fnTable = new Map<number, CompiledFn>();
    const fns = factory(R, this.S, this.runtime(), this.memoryAccess(), I, I.out, this.stack.view,
      this.frameTopLo(0), STACK_BYTES, this.stack.hi, userHiOf(env.arena), fnTable, this.Q);
    for (const [slot, fn] of fns) fnTable.set(slot, fn);
    this.fns = fnTable;
    this.compileMs = performance.now() - t0;
  }

  listing(title: string): string {
    return [
      `// ${title}: ${this.table.length} exception-table entries, compiled in ${this.compileMs.toFixed(2)} ms`,
      ...this.table.map((e) => `//   site ${e.site}: insn ${e.pc} ${e.access} ${e.size} bytes${e.dst >= 0 ? `, r${e.dst} = 0 on fault` : ''}`),
      this.source,
    ].join('\n');
  }

  protected reset(): void {
    const { S, state } = this;
    S.n = state.limit - state.left;
    S.b = state.limit;
    S.mg = state.mayGotoBudget;
    S.stop = false;
    this.Q.e = -1;
  }

  protected halt(): void {
    this.S.stop = true;
  }

  protected callSite(depth: number): number {
    return this.pcs[depth];
  }

  protected execute(slot: number, depth: number): void {
    this.fns.get(slot)!(depth);
    this.state.left = this.state.limit - this.S.n;
  }

  /** What the generated code calls besides memory: natives, frames, budget. */
  private runtime() {
    const { helpers, kfuncs } = this.env.natives;
    const sites = this.nativeSites;
    const defs: Array<HelperDef | undefined> = sites.map((n) => (n.kind === 'helper' ? helpers.get(n.id) : kfuncs.get(n.id)));
    const invoke = (def: HelperDef, pc: number, depth: number) => {
      this.pcs[depth] = pc;
      this.invokeNative(def, pc, depth);
      this.Q.e = -1; // natives can free arena pages, install the scratch page, unmap regions
    };
    const context = this.env.context;
    const noContext = (pc: number) => new InvalidInstructionError(pc, 'context access in a program whose type has no context model');
    return {
      refused: (pc: number) => refusedError(this.code, pc),
      ctxLd: (site: number, pc: number): number => {
        if (context === undefined) throw noContext(pc);
        return context.load(site);
      },
      ctxSt: (site: number, lo: number, hi: number, pc: number): void => {
        if (context === undefined) throw noContext(pc);
        context.store(site, lo, hi);
      },
      ldPkt: (offset: number, size: number, pc: number): number => {
        if (context === undefined) throw noContext(pc);
        return context.loadPacket(offset, size, pc);
      },
      native: (k: number, depth: number) => {
        const def = defs[k], site = sites[k];
        if (def === undefined) {
          throw site.kind === 'kfunc' ? new UnknownKfuncError(site.pc, `with BTF id ${site.id}`) : this.unknownHelper(site.pc, site.id);
        }
        invoke(def, site.pc, depth);
      },
      callx: (k: number, lo: number, hi: number, depth: number) => invoke(this.callxHelper(lo, hi, sites[k].pc), sites[k].pc, depth),
      codeSlot: (lo: number, hi: number, pc: number) => this.functionSlot(lo, hi, pc),
      enter: (pc: number, depth: number) => {
        if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthError(pc, MAX_CALL_FRAMES);
        this.pcs[depth] = pc;
        this.enteredFrame(depth + 1);
      },
      /**
       * The segment at `start`, entered after `done` instructions, would end past the limit at
       * instruction `n`: the checkpoint at the exact instruction that crosses it (it throws at
       * the budget or the deadline); returns the new limit.
       */
      mayGoto: (refills: number, pc: number, depth: number): number => this.mayGotoRefill(refills, pc, depth),
      budget: (start: number, done: number, n: number): number => {
        const S = this.S;
        while (n > S.b) {
          let pc = start;
          for (let k = S.b - done; k > 0; k--) pc += this.code.xop[pc] === XOP_LDDW ? 2 : 1;
          S.b += this.checkpoint(pc);
        }
        return S.b;
      },
    };
  }

  /**
   * What the generated code calls for memory: the shared memory unit, addressed by exception
   * table site (its instruction and access kind), filling the region cache Q on the way.
   */
  private memoryAccess() {
    const Q = this.Q;
    const mu: MemoryUnit = this.memoryUnit((h, start, b, v, w) => { Q.h = h; Q.s = start; Q.e = start + b.length; Q.b = b; Q.v = v; Q.w = w; });
    const table = this.table;
    const unit = {
      faulted: false,
      resolve: (bl: number, bh: number, off: number, size: number, site: number, depth: number): number => {
        const entry = table[site];
        return mu.resolve(bl, bh, off, size, entry.access !== 'read', entry.pc, depth);
      },
      ld1: (bl: number, bh: number, off: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 1, site, depth);
        return o < 0 ? 0 : mu.bytes[o];
      },
      ld2: (bl: number, bh: number, off: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 2, site, depth);
        return o < 0 ? 0 : mu.view.getUint16(o, true);
      },
      ld4: (bl: number, bh: number, off: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 4, site, depth);
        return o < 0 ? 0 : mu.view.getInt32(o, true);
      },
      ld8: (bl: number, bh: number, off: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 8, site, depth);
        if (o < 0) { I.out.hi = 0; return 0; }
        I.out.hi = mu.view.getInt32(o + 4, true);
        return mu.view.getInt32(o, true);
      },
      st1: (bl: number, bh: number, off: number, vl: number, _vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 1, site, depth);
        if (o >= 0) mu.bytes[o] = vl;
      },
      st2: (bl: number, bh: number, off: number, vl: number, _vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 2, site, depth);
        if (o >= 0) mu.view.setInt16(o, vl, true);
        if (mu.splitPending) mu.flushSplit();
      },
      st4: (bl: number, bh: number, off: number, vl: number, _vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 4, site, depth);
        if (o >= 0) mu.view.setInt32(o, vl, true);
        if (mu.splitPending) mu.flushSplit();
      },
      st8: (bl: number, bh: number, off: number, vl: number, vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 8, site, depth);
        if (o >= 0) { mu.view.setInt32(o, vl, true); mu.view.setInt32(o + 4, vh, true); }
        if (mu.splitPending) mu.flushSplit();
      },
      /** A read-modify-write; returns the old value (hi in out.hi); `faulted` after a fixup. */
      atomic: (bl: number, bh: number, off: number, variant: number, size: number, sl: number, sh: number,
        r0l: number, r0h: number, site: number, depth: number): number => {
        const o = unit.resolve(bl, bh, off, size, site, depth);
        unit.faulted = o < 0;
        if (o < 0) { I.out.hi = 0; return 0; } // what a 7.2 fixup leaves in the load register
        const old = atomicRmw(mu.view, o, size, variant, sl, sh, r0l, r0h);
        if (mu.splitPending) mu.flushSplit();
        return old;
      },
    };
    return unit;
  }
}
