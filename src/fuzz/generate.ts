/**
 * A seeded generator of random valid, terminating BPF programs for differential testing of
 * the engines (src/fuzz/diff.ts). A program runs in the conformance machine (r1 = input
 * memory, r2 = its length, helper 5 = unwind), optionally with an arena.
 *
 * Shape, and why each program is valid (`validate`) and terminates:
 * - Functions 0..K (K ≤ 3); function i calls only functions j > i, so at most K + 1 ≤ 4
 *   frames are ever live (MAX_CALL_FRAMES is 8).
 * - Control flow is a tree of blocks. A conditional or unconditional jump (`ja`, `gotol`,
 *   `may_goto`) targets a later boundary of its own block, never into a nested loop, so the
 *   only backward edges are loop latches:
 *   - counted loops: `mov r8, N` (N ≤ 4), body, `r8 -= 1`, jump back while r8 != 0. Nothing
 *     else writes r8 (it is read freely), and it is callee-saved, so calls keep it; counted
 *     loops do not nest within a function.
 *   - may_goto loops: `L: may_goto END; body; ja L; END:`, bounded by the frame's may_goto
 *     budget, which the runner sets small (RunOptions.mayGotoBudget).
 * - Register discipline, so that engines may lay memory out differently without the result
 *   depending on it: r9 holds the input pointer (set from r1 on entry to every function; a
 *   call passes it in r1) and r10 the frame pointer; neither is ever a value operand, and a
 *   scratch register that briefly holds a derived pointer is overwritten right after its
 *   access. Every function starts by giving r0..r8 and the stack bytes it uses values, and
 *   r1..r5 get fresh values after each call, so no instruction reads an uninitialised
 *   register or stack slot (whose contents the kernel leaves undefined).
 * - Stack accesses stay inside the current frame and are aligned (the verifier's rule for
 *   the stack); input accesses are in bounds, of any alignment except for atomics. A small
 *   fraction of items are deliberate faults (out-of-bounds access, unknown helper), so that
 *   error reports are compared too.
 */
import { insn, type Instruction } from '../isa/instruction.js';
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT,
  BPF_JSLE, BPF_JSLT, BPF_K, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL,
  BPF_NEG, BPF_OR, BPF_PSEUDO_CALL, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TO_BE, BPF_TO_LE,
  BPF_W, BPF_X, BPF_XOR, OP_LDDW, sizeBytes,
} from '../isa/opcodes.js';
import { ATOMIC_RMW_OPS } from '../isa/xop.js';

/** Where the arena variant's pages are: `present` page indices of `pages` are allocated. */
export interface ArenaLayout {
  /** max_entries of the arena map (pages). */
  readonly pages: number;
  /** Page indices (0-based) that are allocated before the run; the others fault. */
  readonly present: readonly number[];
}

export interface FuzzProgram {
  readonly seed: number;
  readonly insns: Instruction[];
  /** Initial input memory (r1 points at a copy, r2 = its length). */
  readonly mem: Uint8Array;
  /** Per-frame may_goto budget to run with. */
  readonly mayGotoBudget: number;
  /** Set for the arena variant: the program uses addr_space_cast and PROBE_MEM32 accesses. */
  readonly arena?: ArenaLayout;
  /** The instruction budget to run with (default FUZZ_BUDGET): a small one stops the run part way. */
  readonly budget?: number;
}

export interface GenerateOptions {
  /** Generate the arena variant. */
  readonly arena?: boolean;
  /** Rough size: items in the entry function's top block (default 12..48). */
  readonly size?: number;
}

/** user_vm_start of the arena variant's arena (map_extra). */
export const FUZZ_ARENA_USER = 1n << 44n;

/** xorshift32: a small, seedable, deterministic PRNG. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    // Scramble the seed (murmur3's finaliser): xorshift's first outputs from small seeds are small.
    let x = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
    x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35); x ^= x >>> 16;
    this.x = (x >>> 0) || 0x9e3779b9;
  }
  u32(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.x = x;
    return x;
  }
  /** 0 <= n < max. */
  int(max: number): number { return Math.floor((this.u32() / 4294967296) * max); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

const SIZES = [BPF_B, BPF_H, BPF_W, BPF_DW] as const;
const ALU_OPS = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD,
  BPF_XOR, BPF_MOV, BPF_ARSH] as const;
const JMP_OPS = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT,
  BPF_JSLE] as const;
const ATOMIC_OPS = ATOMIC_RMW_OPS.map((op) => op.imm);
const INTERESTING = [0, 1, -1, 2, -2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000,
  0xffff, 0x10000, 0x7fffffff, -0x80000000, 0x55555555, -0x55555556, 1000000007];

/** Registers an instruction may write (r8 is the loop counter, r9 the input pointer). */
const WRITABLE = [0, 1, 2, 3, 4, 5, 6, 7];
/** Registers an instruction may read as a value (never r9/r10, which hold addresses). */
const READABLE = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const FP = 10, MEM = 9, COUNTER = 8;
const PAGE = 4096;

interface Item {
  ins: Instruction;
  /** A jump/call whose target is a label: patch `off` or `imm` once slots are known. */
  fix?: { field: 'off' | 'imm'; label: number };
}

/** Instructions with symbolic forward/backward targets, linked into slot offsets. */
class Code {
  readonly items: Item[] = [];
  private readonly labels: number[] = [];
  label(): number { this.labels.push(-1); return this.labels.length - 1; }
  place(label: number): void { this.labels[label] = this.items.length; }
  emit(ins: Instruction, fix?: Item['fix']): void { this.items.push({ ins, fix }); }
  link(): Instruction[] {
    const slots: number[] = [];
    let s = 0;
    for (const it of this.items) { slots.push(s); s += it.ins.opcode === OP_LDDW ? 2 : 1; }
    slots.push(s);
    return this.items.map((it, k) => {
      if (!it.fix) return it.ins;
      const at = this.labels[it.fix.label];
      if (at < 0) throw new Error(`fuzz generator bug: label ${it.fix.label} never placed`);
      const rel = slots[at] - (slots[k] + 1);
      const { opcode, dst, src, off, imm } = it.ins;
      return it.fix.field === 'off' ? insn(opcode, dst, src, rel, imm) : insn(opcode, dst, src, off, rel);
    });
  }
}

class Generator {
  private readonly code = new Code();
  private readonly fnLabels: number[];
  private fn = 0;
  private stackBytes = 0;
  private inCounted = false;
  private readonly memLen: number;
  private readonly arena?: ArenaLayout;

  constructor(private readonly r: Rng, private readonly options: GenerateOptions) {
    const fns = 1 + r.int(4);
    this.fnLabels = Array.from({ length: fns }, () => this.code.label());
    this.memLen = r.pick([8, 16, 24, 64, 100, 256]);
    if (options.arena) {
      const pages = r.range(2, 6);
      const present = Array.from({ length: pages }, (_, i) => i).filter(() => r.chance(0.5));
      this.arena = { pages, present };
    }
  }

  generate(seed: number): FuzzProgram {
    const r = this.r;
    for (let f = 0; f < this.fnLabels.length; f++) {
      this.fn = f;
      this.function(f === 0 ? this.options.size ?? r.range(12, 48) : r.range(4, 20));
    }
    const mem = new Uint8Array(this.memLen);
    for (let i = 0; i < mem.length; i++) mem[i] = r.chance(0.3) ? r.pick([0, 0xff, 0x80, 0x7f]) : r.int(256);
    return { seed, insns: this.code.link(), mem, mayGotoBudget: r.pick([0, 1, 2, 4, 8]), arena: this.arena };
  }

  // ---- structure --------------------------------------------------------------------------

  private function(items: number): void {
    const { r, code } = this;
    code.place(this.fnLabels[this.fn]);
    code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, MEM, 1));
    for (let reg = 0; reg <= 8; reg++) this.setConst(reg);
    this.stackBytes = r.pick([8, 16, 32, 64, 128]);
    for (let o = 8; o <= this.stackBytes; o += 8) code.emit(insn(BPF_ST | BPF_MEM | BPF_DW, FP, 0, -o, this.imm()));
    this.inCounted = false;
    this.block(items, 0);
    code.emit(insn(BPF_JMP | BPF_EXIT));
  }

  /** A block of `n` items; its forward jumps land on its own later boundaries. */
  private block(n: number, nest: number): void {
    const { r, code } = this;
    const pending: number[] = [];
    for (let i = 0; i < n; i++) {
      while (pending.length > 0 && r.chance(0.25)) code.place(pending.splice(r.int(pending.length), 1)[0]);
      this.item(pending, nest);
    }
    for (const l of pending) code.place(l);
  }

  private item(pending: number[], nest: number): void {
    const r = this.r;
    const canCall = this.fn + 1 < this.fnLabels.length;
    const roll = r.int(100);
    if (roll < 34) return this.alu();
    if (roll < 44) return this.stackAccess();
    if (roll < 54) return this.memAccess();
    if (roll < 59) return this.atomic();
    if (roll < 62) return this.ldImm64();
    if (roll < 72) return this.condJump(pending);
    if (roll < 75) return this.forwardJump(pending);
    if (roll < 80 && canCall) return this.call();
    if (roll < 81) return this.unwind();
    if (roll < 85 && nest < 2 && !this.inCounted) return this.countedLoop(nest);
    if (roll < 87 && nest < 2) return this.mayGotoLoop(nest);
    if (roll < 96) return this.arena ? this.arenaAccess() : this.alu();
    if (roll === 96 && r.chance(0.2)) return this.fault();
    return this.alu();
  }

  private countedLoop(nest: number): void {
    const { r, code } = this;
    code.emit(insn(r.pick([BPF_ALU64, BPF_ALU]) | BPF_MOV | BPF_K, COUNTER, 0, 0, r.range(1, 4)));
    const top = code.label();
    code.place(top);
    this.inCounted = true;
    this.block(r.range(1, 8), nest + 1);
    this.inCounted = false;
    if (r.chance(0.5)) code.emit(insn(BPF_ALU64 | BPF_SUB | BPF_K, COUNTER, 0, 0, 1));
    else code.emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, COUNTER, 0, 0, -1));
    const latch = r.pick([[BPF_JMP, BPF_JNE], [BPF_JMP32, BPF_JNE], [BPF_JMP, BPF_JGT], [BPF_JMP, BPF_JSGT], [BPF_JMP32, BPF_JSGT]]);
    code.emit(insn(latch[0] | latch[1] | BPF_K, COUNTER, 0, 0, 0), { field: 'off', label: top });
  }

  private mayGotoLoop(nest: number): void {
    const { r, code } = this;
    const top = code.label(), end = code.label();
    code.place(top);
    code.emit(insn(BPF_JMP | BPF_JCOND), { field: 'off', label: end });
    this.block(r.range(1, 6), nest + 1);
    if (r.chance(0.5)) code.emit(insn(BPF_JMP | BPF_JA), { field: 'off', label: top });
    else code.emit(insn(BPF_JMP32 | BPF_JA), { field: 'imm', label: top });
    code.place(end);
  }

  private condJump(pending: number[]): void {
    const r = this.r;
    const target = this.code.label();
    pending.push(target);
    const cls = r.pick([BPF_JMP, BPF_JMP32]);
    const op = r.pick(JMP_OPS);
    const dst = r.pick(READABLE);
    if (r.chance(0.5)) this.code.emit(insn(cls | op | BPF_X, dst, r.pick(READABLE)), { field: 'off', label: target });
    else this.code.emit(insn(cls | op | BPF_K, dst, 0, 0, this.imm()), { field: 'off', label: target });
  }

  private forwardJump(pending: number[]): void {
    const target = this.code.label();
    pending.push(target);
    switch (this.r.int(3)) {
      case 0: this.code.emit(insn(BPF_JMP | BPF_JA), { field: 'off', label: target }); break;
      case 1: this.code.emit(insn(BPF_JMP32 | BPF_JA), { field: 'imm', label: target }); break; // gotol
      default: this.code.emit(insn(BPF_JMP | BPF_JCOND), { field: 'off', label: target }); // may_goto
    }
  }

  private call(): void {
    const { r, code } = this;
    const callee = r.range(this.fn + 1, this.fnLabels.length - 1);
    code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, MEM));
    code.emit(insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL), { field: 'imm', label: this.fnLabels[callee] });
    this.clobberArgs();
  }

  /** Helper 5 (unwind): ends the program with r0 = 0 when r1 is 0, else returns r1. */
  private unwind(): void {
    if (this.r.chance(0.15)) this.code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0));
    else this.code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0)); // r1 = r0 (maybe 0 too)
    this.code.emit(insn(BPF_JMP | BPF_CALL, 0, 0, 0, 5));
    this.clobberArgs();
  }

  /** After a call r1..r5 are undefined: give them values again. */
  private clobberArgs(): void {
    for (let reg = 1; reg <= 5; reg++) this.setConst(reg);
  }

  // ---- straight-line items ----------------------------------------------------------------

  private setConst(reg: number): void {
    const r = this.r;
    if (r.chance(0.2)) this.code.emit(insn(OP_LDDW, reg, 0, 0, this.imm(), this.imm()));
    else this.code.emit(insn(r.pick([BPF_ALU64, BPF_ALU]) | BPF_MOV | BPF_K, reg, 0, 0, this.imm()));
  }

  private imm(): number {
    const r = this.r;
    switch (r.int(4)) {
      case 0: return r.pick(INTERESTING);
      case 1: return r.range(-16, 16);
      case 2: return r.u32() | 0;
      default: return r.int(1 << r.int(31)) * (r.chance(0.3) ? -1 : 1);
    }
  }

  private alu(): void {
    const { r, code } = this;
    const cls = r.pick([BPF_ALU64, BPF_ALU]);
    const dst = r.pick(WRITABLE);
    const kind = r.int(20);
    if (kind === 0) { // movsx
      const width = r.pick(cls === BPF_ALU64 ? [8, 16, 32] : [8, 16]);
      code.emit(insn(cls | BPF_MOV | BPF_X, dst, r.pick(READABLE), width));
      return;
    }
    if (kind === 1) { // byte swaps: ALU le/be, ALU64 bswap
      const width = r.pick([16, 32, 64]);
      if (cls === BPF_ALU) code.emit(insn(BPF_ALU | BPF_END | r.pick([BPF_TO_LE, BPF_TO_BE]), dst, 0, 0, width));
      else code.emit(insn(BPF_ALU64 | BPF_END, dst, 0, 0, width));
      return;
    }
    const op = r.pick(ALU_OPS);
    if (op === BPF_NEG) { code.emit(insn(cls | BPF_NEG, dst)); return; }
    const signed = (op === BPF_DIV || op === BPF_MOD) && r.chance(0.5) ? 1 : 0;
    if (r.chance(0.5)) {
      code.emit(insn(cls | op | BPF_X, dst, r.pick(READABLE), signed));
      return;
    }
    let imm = this.imm();
    if (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) {
      imm = r.chance(0.8) ? r.int(cls === BPF_ALU64 ? 64 : 32) : this.imm(); // any immediate is allowed
    }
    if ((op === BPF_DIV || op === BPF_MOD) && imm === 0) imm = r.pick([1, -1, 3, 0x10000]);
    code.emit(insn(cls | op | BPF_K, dst, 0, signed, imm));
  }

  private ldImm64(): void {
    this.code.emit(insn(OP_LDDW, this.r.pick(WRITABLE), 0, 0, this.imm(), this.imm()));
  }

  /** A load or store at base + target; `base` is r9/r10 or a scratch copy of it. */
  private access(base: number, target: number, sizeField: number, direct: boolean): void {
    const { r, code } = this;
    let reg = base, off = target;
    let scratch = -1;
    if (!direct) {
      // pointer arithmetic in a scratch register: scratch = base + k, access [scratch + target - k]
      scratch = r.pick(WRITABLE);
      const k = r.range(-40, 40);
      code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, scratch, base));
      code.emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, scratch, 0, 0, k));
      reg = scratch; off = target - k;
    }
    let loadedInto = -1;
    switch (r.int(4)) {
      case 0: case 1: { // load, sign-extending sometimes
        const sx = sizeField !== BPF_DW && r.chance(0.35);
        loadedInto = r.pick(WRITABLE);
        code.emit(insn(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | sizeField, loadedInto, reg, off));
        break;
      }
      case 2: { // store a register (never the pointer itself)
        const src = r.pick(READABLE.filter((x) => x !== scratch));
        code.emit(insn(BPF_STX | BPF_MEM | sizeField, reg, src, off));
        break;
      }
      default:
        code.emit(insn(BPF_ST | BPF_MEM | sizeField, reg, 0, off, this.imm()));
    }
    if (scratch >= 0 && loadedInto !== scratch) code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, scratch, 0, 0, this.imm()));
  }

  private stackAccess(): void {
    const r = this.r;
    const sizeField = r.pick(SIZES);
    const bytes = sizeBytes(sizeField);
    const off = -bytes * r.range(1, this.stackBytes / bytes);
    this.access(FP, off, sizeField, r.chance(0.7));
  }

  private memAccess(): void {
    const r = this.r;
    const sizeField = r.pick(SIZES);
    const bytes = sizeBytes(sizeField);
    let off = r.int(this.memLen - bytes + 1);
    if (r.chance(0.6)) off -= off % bytes;
    this.access(MEM, off, sizeField, r.chance(0.6));
  }

  private atomic(): void {
    const { r, code } = this;
    const sizeField = r.pick([BPF_W, BPF_DW]);
    const bytes = sizeBytes(sizeField);
    const op = r.pick(ATOMIC_OPS);
    const writesSrc = (op & BPF_FETCH) !== 0 && op !== BPF_CMPXCHG;
    const src = r.pick(writesSrc ? WRITABLE : READABLE);
    let base: number, off: number;
    if (r.chance(0.5)) {
      base = FP; off = -bytes * r.range(1, this.stackBytes / bytes);
    } else {
      base = MEM; off = bytes * r.int(Math.floor(this.memLen / bytes));
    }
    code.emit(insn(BPF_STX | BPF_ATOMIC | sizeField, base, src, off, op));
  }

  /** A deliberate fault: an access past the input, below the frame, or an unknown helper. */
  private fault(): void {
    const { r, code } = this;
    switch (r.int(3)) {
      case 0: code.emit(insn(BPF_LDX | BPF_MEM | BPF_W, r.pick(WRITABLE), MEM, this.memLen - r.int(3))); break;
      case 1: code.emit(insn(BPF_ST | BPF_MEM | BPF_DW, FP, 0, -512 - 8 * r.range(1, 4), 1)); break;
      default:
        code.emit(insn(BPF_JMP | BPF_CALL, 0, 0, 0, r.pick([1, 6, 99])));
        this.clobberArgs();
    }
  }

  /** Arena variant: an access through an addr_space_cast pointer, on a present or missing page. */
  private arenaAccess(): void {
    const { r, code } = this;
    const arena = this.arena!;
    const ptr = r.pick(WRITABLE);
    const sizeField = r.pick(SIZES);
    const bytes = sizeBytes(sizeField);
    // The arena offset accessed: mostly inside the map's pages, sometimes in the guards.
    let target: number;
    const where = r.int(10);
    if (where === 0) target = -bytes * r.range(1, 16); // lower guard
    else if (where === 1) target = 2 ** 32 + bytes * r.int(16); // upper guard
    else {
      const page = r.chance(0.7) && arena.present.length > 0 ? r.pick(arena.present) : r.int(arena.pages + 1);
      target = page * PAGE + bytes * r.int(PAGE / bytes);
    }
    const off = r.range(-64, 64) & ~(bytes - 1);
    let base = target - off;
    if (base < 0) base += 2 ** 32; // (u32)reg wraps: the lower guard is reached from a large pointer too
    if (base >= 2 ** 32) base -= 2 ** 32;
    // Make the pointer: a user address cast to the kernel view, or a 32-bit offset.
    if (r.chance(0.5)) {
      const user = FUZZ_ARENA_USER + BigInt(base);
      code.emit(insn(OP_LDDW, ptr, 0, 0, Number(user & 0xffffffffn) | 0, Number(user >> 32n) | 0));
      code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, ptr, ptr, 1, 1)); // addr_space_cast ptr, ptr, 0, 1
    } else {
      code.emit(insn(BPF_ALU | BPF_MOV | BPF_K, ptr, 0, 0, base | 0));
      if (r.chance(0.5)) code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, ptr, ptr, 1, 1));
    }
    const kind = r.int(6);
    if (kind <= 1) {
      const sx = sizeField !== BPF_DW && r.chance(0.3);
      code.emit(insn(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | sizeField, r.pick(WRITABLE), ptr, off));
    } else if (kind === 2) {
      code.emit(insn(BPF_STX | BPF_MEM | sizeField, ptr, r.pick(READABLE), off));
    } else if (kind === 3) {
      code.emit(insn(BPF_ST | BPF_MEM | sizeField, ptr, 0, off, this.imm()));
    } else if (kind === 4 && bytes >= 4) {
      const op = r.pick(ATOMIC_OPS);
      const writesSrc = (op & BPF_FETCH) !== 0 && op !== BPF_CMPXCHG;
      code.emit(insn(BPF_STX | BPF_ATOMIC | sizeField, ptr, r.pick((writesSrc ? WRITABLE : READABLE).filter((x) => x !== ptr)), off, op));
    } else {
      // cast_user of an arena offset: NULL stays NULL, others get user_vm_start's upper half
      code.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, r.pick(WRITABLE), r.pick(READABLE), 1, 1 << 16));
    }
  }
}

/** A random valid program that terminates, from `seed` (the same seed gives the same program). */
export function generateProgram(seed: number, options: GenerateOptions = {}): FuzzProgram {
  return new Generator(new Rng(seed), options).generate(seed);
}
