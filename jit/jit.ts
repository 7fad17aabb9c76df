/**
 * The JIT: a program compiled to JavaScript functions (jit/codegen.ts) plus what they call —
 * the memory unit with the exception table, natives, callbacks, tail calls — sharing the
 * interpreter's observable semantics exactly (the differential tests compare the two).
 *
 * Memory: the frame's own stack at constant offsets from r10 is accessed directly in the
 * generated code; every other access goes through `M.ldN/stN/atomic(base, off, site)`, which
 * finds the region (stack, map value, context, arena page). An arena access to an empty page is
 * fixed up as the table entry of its site says (load → 0, store dropped, atomic untouched) and
 * reported to the program's stderr (spec §1.8, §6); anything else outside every region ends the
 * run with the interpreter's MemoryAccessError.
 */
import {
  BudgetExceededError, CallDepthError, RuntimeError, UnknownHelperError, UnknownKfuncError,
} from '../src/errors.js';
import * as I from '../src/int64.js';
import { Instruction } from '../src/isa/instruction.js';
import { BPF_MAX_LOOPS, MAX_BPF_STACK, MAX_CALL_FRAMES } from '../src/isa/opcodes.js';
import { validate } from '../src/isa/validate.js';
import { Decoded, predecode } from '../src/lower.js';
import { atomicRmw, MAX_TAIL_CALL_CNT, MemoryUnit, NativeCalls } from '../src/engine.js';
import { MemoryRegion } from '../src/memory.js';
import {
  argU64, CallContext, callNative, EngineFrame, ExecEnv, FrameSource, HelperDef, RunOptions, RunResult,
  slotOfCodeAddress,
} from '../src/runtime.js';
import { ExTableEntry, generate, GeneratedProgram, NativeSite } from './codegen.js';

const STACK_BYTES = MAX_BPF_STACK * MAX_CALL_FRAMES;

/**
 * The last non-stack region the memory unit resolved (a map value, the context, an arena page):
 * the generated code tries it before calling the unit. `e = -1` empties it; it is emptied at
 * every run start and after every native call, the only points where regions and arena pages
 * can change under a running program.
 */
interface RegionCache { h: number; s: number; e: number; v: DataView; b: Uint8Array; w: boolean }

/** State shared by the generated functions of one program (instruction count, stop flag, ...). */
interface SharedState {
  n: number;
  b: number;
  mg: number;
  stop: boolean;
}

type CompiledFn = (depth: number) => void;

export class JitProgram implements FrameSource {
  /** The generated JavaScript (for `bpfrun disasm --emit-js`). */
  readonly source: string;
  /** The exception table: one entry per memory-access site. */
  readonly table: readonly ExTableEntry[];
  /** Milliseconds spent generating and instantiating the code. */
  readonly compileMs: number;
  private readonly code: Decoded;
  private readonly nativeSites: readonly NativeSite[];
  private readonly fns: ReadonlyMap<number, CompiledFn>;
  private readonly entry: CompiledFn;
  private readonly R = new Int32Array(22);
  private readonly S: SharedState = { n: 0, b: 0, mg: BPF_MAX_LOOPS, stop: false };
  private readonly Q: RegionCache;
  private readonly stackRegion: MemoryRegion;
  private readonly ctx: CallContext;
  /** Call site of each live frame (pcs[d] = the call made at depth d), set by the generated code. */
  private readonly pcs = new Int32Array(MAX_CALL_FRAMES);
  private readonly callSite = (depth: number) => this.pcs[depth];
  /** The natives in progress: what the shadow call stack shows between BPF frames. */
  private readonly natives = new NativeCalls();
  private nativeIndex = 0;
  private nativeDepth = 0;
  private tailTarget: JitProgram | undefined;

  constructor(insns: readonly Instruction[], private readonly env: ExecEnv) {
    const t0 = performance.now();
    this.code = predecode(insns, env);
    const layout = validate(insns);
    const gen: GeneratedProgram = generate(this.code, layout.subprogStarts);
    this.source = gen.source;
    this.table = gen.table;
    this.nativeSites = gen.natives;
    this.stackRegion = env.memory.mapStack(new Uint8Array(STACK_BYTES));
    this.Q = { h: 0, s: 0, e: -1, v: this.stackRegion.view, b: this.stackRegion.bytes, w: false };
    const factory = new Function('R', 'S', 'X', 'M', 'I', 'O', 'SV', 'STACK_TOP', 'STACK_BYTES', 'FPH', 'USER_HI', 'FN', 'Q',
      `'use strict';\n${gen.source}`) as (...args: unknown[]) => Array<[number, CompiledFn]>;
    const fnTable = new Map<number, CompiledFn>();
    const userHi = env.arena && !env.arena.noUserConv ? Number(env.arena.userVmStart >> 32n) | 0 : 0;
    const fns = factory(this.R, this.S, this.runtime(), this.memoryUnit(), I, I.out, this.stackRegion.view,
      (this.stackRegion.start + STACK_BYTES) | 0, STACK_BYTES, this.stackRegion.hi, userHi, fnTable, this.Q);
    for (const [slot, fn] of fns) fnTable.set(slot, fn);
    this.fns = fnTable;
    this.entry = fnTable.get(0)!;
    const R = this.R;
    const self = this;
    this.ctx = {
      get index() { return self.nativeIndex; },
      memory: env.memory,
      arg: (n) => argU64(R, n),
      argLo: (n) => R[2 * n],
      argHi: (n) => R[2 * n + 1],
      stop: () => { self.S.stop = true; },
      callFunction: (address, args) => self.callFunction(address, args),
      tailCall: (target) => self.tailCall(target),
      frames: () => self.frames(),
    };
    this.compileMs = performance.now() - t0;
  }

  /** Runs from slot 0 with r1..r5 = args, following tail calls, as the interpreter does. */
  run(args: readonly bigint[] = [], options: RunOptions = {}): RunResult {
    if (args.length > 5) throw new RangeError('at most 5 arguments (r1..r5)');
    const budget = options.instructionBudget ?? Number.MAX_SAFE_INTEGER;
    const mg = options.mayGotoBudget ?? BPF_MAX_LOOPS;
    let vm: JitProgram = this;
    let count = 0;
    let regs = args.map(I.fromU64);
    let tailCalls = 0;
    for (;;) {
      vm.start(budget - count, mg, regs, tailCalls);
      this.env.shadow?.push(vm);
      try {
        vm.entry(0);
      } finally {
        this.env.shadow?.pop(vm);
      }
      count += vm.S.n;
      const next = vm.tailTarget;
      if (next === undefined) return { r0: I.toU64(vm.R[0], vm.R[1]), instructions: count };
      vm.tailTarget = undefined;
      tailCalls = vm.tailCalls + 1;
      regs = [[vm.R[2], vm.R[3]]]; // the caller's r1 (the context); the caller is gone
      vm = next;
    }
  }

  private tailCalls = 0;

  private start(budget: number, mg: number, args: Array<[number, number]>, tailCalls: number): void {
    const R = this.R;
    R.fill(0);
    args.forEach(([lo, hi], i) => { R[2 * (i + 1)] = lo; R[2 * (i + 1) + 1] = hi; });
    this.S.n = 0;
    this.S.b = budget;
    this.S.mg = mg;
    this.S.stop = false;
    this.tailCalls = tailCalls;
    this.tailTarget = undefined;
    this.natives.reset();
    this.stackRegion.bytes.fill(0);
    this.Q.e = -1;
  }

  /** The live frames while a native runs, innermost first (the interpreter's shape). */
  frames(): EngineFrame[] {
    return this.natives.frames(this.callSite);
  }

  private callFunction(address: bigint, args: readonly bigint[]): bigint {
    const [lo, hi] = I.fromU64(address);
    const slot = slotOfCodeAddress(lo, hi, this.code.slotCount);
    const fn = this.fns.get(slot);
    if (!fn) throw new RuntimeError(this.nativeIndex, `0x${address.toString(16)} is not the address of a function of this program`);
    const depth = this.nativeDepth + 1;
    if (depth >= MAX_CALL_FRAMES) throw new CallDepthError(this.nativeIndex, MAX_CALL_FRAMES);
    const R = this.R;
    const saved = R.slice();
    const outerDepth = this.nativeDepth, outerIndex = this.nativeIndex;
    R.fill(0, 2, 12);
    args.forEach((a, i) => { [R[2 * (i + 1)], R[2 * (i + 1) + 1]] = I.fromU64(a); });
    this.natives.callbackBase[depth] = 1;
    try {
      fn(depth);
      return I.toU64(R[0], R[1]);
    } finally {
      this.natives.callbackBase[depth] = 0;
      R.set(saved);
      this.nativeDepth = outerDepth;
      this.nativeIndex = outerIndex;
    }
  }

  private tailCall(target: unknown): boolean {
    const next = this.env.tailCallTarget?.(target, 'jit');
    if (!(next instanceof JitProgram)) throw new RuntimeError(this.nativeIndex, 'tail call target is not a program of this engine');
    if (this.nativeDepth !== 0) throw new RuntimeError(this.nativeIndex, 'bpf_tail_call from a subprogram or callback is not supported');
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return false; // the kernel falls through
    this.tailTarget = next;
    this.S.stop = true;
    return true;
  }

  /** What the generated code calls besides memory: natives, frames, budget. */
  private runtime() {
    const { helpers, kfuncs } = this.env.natives;
    const defs: Array<HelperDef | undefined> = this.nativeSites.map((n) => (n.kind === 'helper' ? helpers.get(n.id) : kfuncs.get(n.id)));
    const invoke = (k: number, def: HelperDef | undefined, id: number, depth: number) => {
      const site = this.nativeSites[k];
      if (def === undefined) {
        throw site.kind === 'kfunc' ? new UnknownKfuncError(site.pc, `with BTF id ${id}`) : new UnknownHelperError(site.pc, id);
      }
      this.nativeDepth = depth;
      this.nativeIndex = site.pc;
      const mark = this.natives.push(site.pc, depth, def.name);
      this.pcs[depth] = site.pc;
      callNative(def, this.ctx, this.R);
      this.natives.count = mark;
      this.Q.e = -1; // natives can free arena pages, install the scratch page, unmap regions
    };
    return {
      native: (k: number, depth: number) => invoke(k, defs[k], this.nativeSites[k].id, depth),
      callx: (k: number, lo: number, hi: number, depth: number) => {
        if (hi !== 0 || lo < 0) {
          throw new RuntimeError(this.nativeSites[k].pc, `callx target 0x${I.toU64(lo, hi).toString(16)} is neither a function address nor a helper id`);
        }
        invoke(k, helpers.get(lo), lo, depth);
      },
      codeSlot: (lo: number, hi: number) => slotOfCodeAddress(lo, hi, this.code.slotCount),
      enter: (pc: number, depth: number) => {
        if (depth + 1 >= MAX_CALL_FRAMES) throw new CallDepthError(pc, MAX_CALL_FRAMES);
        this.pcs[depth] = pc;
      },
      /** The budget ran out in the block at `start` after `done` instructions: find the exact one. */
      budget: (start: number, done: number): never => {
        let pc = start;
        for (let k = this.S.b - done; k > 0; k--) pc += this.code.xop[pc] === 0x18 ? 2 : 1;
        throw new BudgetExceededError(pc, this.S.b);
      },
    };
  }

  /**
   * What the generated code calls for memory: the shared memory unit, addressed by exception
   * table site (its instruction and access kind), filling the region cache Q on the way.
   */
  private memoryUnit() {
    const Q = this.Q;
    const mu = new MemoryUnit(this.env.memory, this.stackRegion, this.env.arena,
      (pc, depth) => this.natives.bpfFrames(pc, depth, this.natives.count, this.callSite),
      (h, start, b, v, w) => { Q.h = h; Q.s = start; Q.e = start + b.length; Q.b = b; Q.v = v; Q.w = w; });
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
      },
      st4: (bl: number, bh: number, off: number, vl: number, _vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 4, site, depth);
        if (o >= 0) mu.view.setInt32(o, vl, true);
      },
      st8: (bl: number, bh: number, off: number, vl: number, vh: number, site: number, depth: number) => {
        const o = unit.resolve(bl, bh, off, 8, site, depth);
        if (o >= 0) { mu.view.setInt32(o, vl, true); mu.view.setInt32(o + 4, vh, true); }
      },
      /** A read-modify-write; returns the old value (hi in out.hi); `faulted` after a fixup. */
      atomic: (bl: number, bh: number, off: number, variant: number, size: number, sl: number, sh: number,
        r0l: number, r0h: number, site: number, depth: number): number => {
        const o = unit.resolve(bl, bh, off, size, site, depth);
        unit.faulted = o < 0;
        if (o < 0) return 0;
        return atomicRmw(mu.view, o, size, variant, sl, sh, r0l, r0h);
      },
    };
    return unit;
  }
}
