/**
 * The WebAssembly tier: a program compiled to a wasm module (wasm/codegen.ts) with native 64-bit
 * registers, run over mirrors of the program's memory (wasm/mirror.ts), and the imports it
 * calls — the memory unit's slow path with the exception table, natives, local calls through
 * the table, the budget — giving exactly the other engines' observable behaviour (the
 * differential tests run it beside them).
 */
import { CallDepthError, InvalidInstructionError, UnknownKfuncError } from '../src/errors.js';
import { atomicRmw, MemoryUnit } from '../src/engine.js';
import { out } from '../src/int64.js';
import { MAX_CALL_FRAMES } from '../src/isa/opcodes.js';
import { XOP_LDDW } from '../src/isa/xop.js';
import { Decoded, refusedError } from '../src/lower.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';
import { EngineKind, EngineShell, REGISTER_WORDS, userHiOf } from '../src/shell.js';
import { PAGE_SIZE } from '../src/uapi.js';
import type { ExTableEntry, NativeSite } from '../src/codegen/plan.js';
import { generateWasm, WasmOptions } from './codegen.js';
import { EX, REGS, SCRATCH } from './layout.js';
import { Heap, heap, Mirrors, Resolved } from './mirror.js';

interface Exports {
  readonly n: WebAssembly.Global;
  readonly b: WebAssembly.Global;
  readonly mg: WebAssembly.Global;
  readonly stop: WebAssembly.Global;
  readonly [fn: string]: unknown;
}

type CompiledFn = (depth: number) => void;

interface Instance {
  readonly g: Exports;
  readonly fns: ReadonlyMap<number, CompiledFn>;
  readonly table: readonly ExTableEntry[];
  readonly moduleBytes: number;
}

export class WasmProgram extends EngineShell {
  /** Milliseconds spent generating and compiling the module (with budget checks). */
  readonly compileMs: number;
  private readonly options: WasmOptions;
  /** The module with budget checks, and (made on first use) the one for runs without a budget. */
  private readonly checked: Instance;
  private unchecked: Instance | undefined;
  /** The module of the run in progress. */
  private active!: Instance;
  private readonly heap: Heap;
  private readonly mirrors: Mirrors;
  private readonly mu: MemoryUnit;
  /** The region the memory unit resolved last (valid when `resolvedRegion`: not the stack, not a page-crossing access). */
  private readonly last: Resolved = { hi: 0, start: 0, bytes: new Uint8Array(0), writable: false };
  private resolvedRegion = false;
  private readonly pcs = new Int32Array(MAX_CALL_FRAMES);

  constructor(kind: EngineKind, code: Decoded, env: ExecEnv) {
    const t0 = performance.now();
    super(kind, code, env, new Int32Array(REGISTER_WORDS));
    this.heap = heap();
    this.options = {
      atomicFaultZeroes: env.arena?.atomicFaultZeroes ?? true, arena: env.arena !== undefined,
      fp0: [this.frameTopLo(0), this.stack.hi], userHi: userHiOf(env.arena), budgetChecks: true,
    };
    this.mirrors = new Mirrors(this.heap, this.stack, env.arena !== undefined);
    const last = this.last;
    this.mu = this.memoryUnit((hi, start, bytes, _view, writable) => {
      last.hi = hi; last.start = start; last.bytes = bytes; last.writable = writable;
      this.resolvedRegion = true;
    });
    this.checked = this.instantiate(true);
    this.compileMs = performance.now() - t0;
  }

  /** The module with or without budget checks (one variant each; the same sites and natives). */
  private instantiate(budgetChecks: boolean): Instance {
    const gen = generateWasm(this.code, { ...this.options, budgetChecks });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(gen.bytes as Uint8Array<ArrayBuffer>),
      { x: this.imports(gen.natives, gen.tableIndex), m: { memory: this.heap.memory } });
    const g = instance.exports as unknown as Exports;
    return {
      g, moduleBytes: gen.bytes.length, table: gen.table,
      fns: new Map([...gen.exportOf].map(([slot, name]) => [slot, g[name] as CompiledFn])),
    };
  }

  /** The exception table: one entry per memory-access site. */
  get table(): readonly ExTableEntry[] {
    return this.checked.table;
  }

  listing(title: string): string {
    return [
      `// ${title}: WebAssembly module of ${this.checked.moduleBytes} bytes, ${this.table.length} exception-table entries, compiled in ${this.compileMs.toFixed(2)} ms`,
      ...this.table.map((e) => `//   site ${e.site}: insn ${e.pc} ${e.access} ${e.size} bytes${e.dst >= 0 ? `, r${e.dst} = 0 on fault` : ''}`),
    ].join('\n');
  }

  protected reset(): void {
    const { state } = this;
    // A run without a budget or a timeout needs no checks, only the count. spec: the kernel has neither
    if (state.budget === Number.MAX_SAFE_INTEGER && state.deadline === Infinity) this.active = this.unchecked ??= this.instantiate(false);
    else this.active = this.checked;
    const g = this.active.g;
    g.n.value = state.limit - state.left;
    g.b.value = state.limit;
    g.mg.value = state.mayGotoBudget;
    g.stop.value = 0;
  }

  protected halt(): void {
    this.active.g.stop.value = 1;
  }

  protected callSite(depth: number): number {
    return this.pcs[depth];
  }

  protected execute(slot: number, depth: number): void {
    const i32 = this.heap.i32;
    i32.set(this.regs, REGS >> 2);
    this.mirrors.enter(depth);
    try {
      this.active.fns.get(slot)!(depth);
      this.regs.set(this.heap.i32.subarray(REGS >> 2, (REGS >> 2) + REGISTER_WORDS));
    } finally {
      this.mirrors.flush();
      this.mirrors.drop();
    }
    this.state.left = this.state.limit - (this.active.g.n.value as number);
  }

  /** Registers r0..r9 from the exchange area into the shell's, before a native reads them. */
  private regsOut(): void {
    const i32 = this.heap.i32, regs = this.regs;
    for (let k = 0; k < 20; k++) regs[k] = i32[(REGS >> 2) + k];
  }

  /**
   * A native runs: memory written back and the mirrors dropped first (the frames copied in
   * again after), or for a neutral one only what it may read written back; then r0.
   */
  private invoke(def: HelperDef, pc: number, depth: number): void {
    this.regsOut();
    this.pcs[depth] = pc;
    if (def.neutral === true) { // it only reads what its arguments point to: the mirrors stay
      this.mirrors.flushArgs(this.regs);
      this.invokeNative(def, pc, depth);
    } else {
      this.mirrors.flush();
      this.mirrors.drop();
      this.invokeNative(def, pc, depth);
      this.mirrors.enter(depth);
    }
    const i32 = this.heap.i32;
    i32[REGS >> 2] = this.regs[0];
    i32[(REGS >> 2) + 1] = this.regs[1];
  }

  /** Before an arena access that crosses into the next page: the two pages go direct. */
  private crossing(bl: number, bh: number, off: number, size: number): void {
    if (bh !== 0 || this.env.arena === undefined) return;
    const aoff = (bl >>> 0) + off;
    const inPage = aoff - Math.floor(aoff / PAGE_SIZE) * PAGE_SIZE;
    if (inPage + size > PAGE_SIZE) this.mirrors.unmirrorPages([aoff, aoff - inPage + PAGE_SIZE]);
  }

  /**
   * Resolves an access through the memory unit: the wasm address of its bytes (the stack
   * mirror or a region's mirror), or -1 when they are not in the heap (a direct region, a
   * page-crossing access: `this.mu` then holds them at `this.offset`), or -2 after a fault
   * fixup.
   */
  private offset = 0;
  private resolve(bl: number, bh: number, off: number, size: number, site: number, depth: number, write: boolean): number {
    const entry = this.checked.table[site];
    this.crossing(bl, bh, off, size);
    this.resolvedRegion = false;
    const o = this.mu.resolve(bl, bh, off, size, write, entry.pc, depth);
    if (o < 0) return -2;
    if (this.mu.bytes === this.stack.bytes) return o;
    this.offset = o;
    if (!this.resolvedRegion) return -1;
    const m = this.mirrors.mirror(this.last, write);
    return m === undefined ? -1 : m.base + o;
  }

  private imports(sites: readonly NativeSite[], tableIndex: ReadonlyMap<number, number>) {
    const { helpers, kfuncs } = this.env.natives;
    const defs: Array<HelperDef | undefined> = sites.map((n) => (n.kind === 'helper' ? helpers.get(n.id) : kfuncs.get(n.id)));
    const context = this.env.context;
    const noContext = (pc: number) => new InvalidInstructionError(pc, 'context access in a program whose type has no context model');
    const store = (view: DataView, o: number, size: number, vl: number, vh: number) => {
      if (size === 1) view.setInt8(o, vl);
      else if (size === 2) view.setInt16(o, vl, true);
      else {
        view.setInt32(o, vl, true);
        if (size === 8) view.setInt32(o + 4, vh, true);
      }
    };
    return {
      budget: (start: number, done: number, n: number): number => {
        const g = this.active.g;
        let b = g.b.value as number;
        while (n > b) {
          let pc = start;
          for (let k = b - done; k > 0; k--) pc += this.code.xop[pc] === XOP_LDDW ? 2 : 1;
          b += this.checkpoint(pc);
        }
        g.b.value = b;
        return b;
      },
      mayGoto: (refills: number, pc: number, depth: number): number => this.mayGotoRefill(refills, pc, depth),
      native: (k: number, depth: number): void => {
        const def = defs[k], site = sites[k];
        if (def === undefined) {
          throw site.kind === 'kfunc' ? new UnknownKfuncError(site.pc, `with BTF id ${site.id}`) : this.unknownHelper(site.pc, site.id);
        }
        this.invoke(def, site.pc, depth);
      },
      callx: (k: number, lo: number, hi: number, depth: number): void => {
        this.invoke(this.callxHelper(lo, hi, sites[k].pc), sites[k].pc, depth);
      },
      codeSlot: (lo: number, hi: number, pc: number): number => {
        const slot = this.functionSlot(lo, hi, pc);
        return slot < 0 ? -1 : tableIndex.get(slot)!;
      },
      enter: (pc: number, depth: number): void => {
        if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthError(pc, MAX_CALL_FRAMES);
        this.pcs[depth] = pc;
        this.enteredFrame(depth + 1);
        this.mirrors.enterFrame(depth + 1);
      },
      refused: (pc: number): never => { throw refusedError(this.code, pc); },
      ctxLd: (site: number, pc: number): number => {
        if (context === undefined) throw noContext(pc);
        const lo = context.load(site);
        this.heap.i32[EX >> 2] = out.hi;
        return lo;
      },
      ctxSt: (site: number, lo: number, hi: number, pc: number): void => {
        if (context === undefined) throw noContext(pc);
        context.store(site, lo, hi);
      },
      ldPkt: (offset: number, size: number, pc: number): number => {
        if (context === undefined) throw noContext(pc);
        this.mirrors.flush(); // the packet's bytes as the program wrote them
        return context.loadPacket(offset, size, pc);
      },
      /** A load's bytes: where in wasm memory to read them (SCRATCH holds a copy, or zeros after a fault). */
      ld: (bl: number, bh: number, off: number, size: number, site: number, depth: number): number => {
        const at = this.resolve(bl, bh, off, size, site, depth, false);
        if (at >= 0) return at;
        const u8 = this.heap.u8;
        if (at === -2) u8.fill(0, SCRATCH, SCRATCH + 8);
        else for (let k = 0; k < size; k++) u8[SCRATCH + k] = this.mu.bytes[this.offset + k];
        return SCRATCH;
      },
      /** A store: where wasm stores it, or SCRATCH when done here (direct) or dropped (a fault). */
      st: (bl: number, bh: number, off: number, vl: number, vh: number, size: number, site: number, depth: number): number => {
        const at = this.resolve(bl, bh, off, size, site, depth, true);
        if (at >= 0) return at;
        if (at === -1) {
          store(this.mu.view, this.offset, size, vl, vh);
          if (this.mu.splitPending) this.mu.flushSplit();
        }
        return SCRATCH;
      },
      /** A read-modify-write; the old value's low half (high half at EX, the fault flag at EX + 4). */
      atomic: (bl: number, bh: number, off: number, variant: number, size: number, sl: number, sh: number,
        r0l: number, r0h: number, site: number, depth: number): number => {
        const at = this.resolve(bl, bh, off, size, site, depth, true);
        const i32 = this.heap.i32;
        i32[(EX >> 2) + 1] = at === -2 ? 1 : 0;
        if (at === -2) { i32[EX >> 2] = 0; return 0; } // what a 7.2 fixup leaves in the load register
        const old = at >= 0 ? atomicRmw(this.heap.view, at, size, variant, sl, sh, r0l, r0h)
          : atomicRmw(this.mu.view, this.offset, size, variant, sl, sh, r0l, r0h);
        if (this.mu.splitPending) this.mu.flushSplit();
        i32[EX >> 2] = out.hi;
        return old;
      },
    };
  }
}
