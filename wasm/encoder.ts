/**
 * A minimal WebAssembly binary writer: what the BPF → WebAssembly compiler (wasm/codegen.ts)
 * needs and no more — function types, imported functions and memory, mutable globals, one
 * function table, exports, and function bodies written through `Body`, which tracks the open
 * control constructs so that a branch names its target by label instead of a depth.
 * (WebAssembly core specification, "Binary Format".)
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;
/** The block type of a construct without a result. */
export const VOID = 0x40;

/** Opcodes (the subset used). */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d,
  br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11, drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33,
  i64_load32_s: 0x34, i64_load32_u: 0x35, i32_store: 0x36, i64_store: 0x37, i64_store8: 0x3c, i64_store16: 0x3d,
  i64_store32: 0x3e, i32_const: 0x41, i64_const: 0x42, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55, i64_gt_u: 0x56,
  i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a, f64_gt: 0x64,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70,
  i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82,
  i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88,
  f64_add: 0xa0, f64_sub: 0xa1, i32_wrap_i64: 0xa7, i64_trunc_f64_s: 0xb0, f64_convert_i64_s: 0xb9, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

const F64_BYTES = new Uint8Array(8);
const F64_VIEW = new DataView(F64_BYTES.buffer);

/** A growable byte buffer with LEB128 writers. */
class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  /** Room for `n` more bytes. */
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.room(1);
    this.buf[this.length++] = b;
  }

  bytes(bs: ArrayLike<number>): void {
    this.room(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
  }

  u32(v: number): void {
    v >>>= 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.byte(v === 0 ? b : b | 0x80);
    } while (v !== 0);
  }

  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }

  /** A signed 64-bit LEB128 of the value lo + hi * 2^32 (two int32 halves). */
  s64(lo: number, hi: number): void {
    if (hi === (lo >> 31)) { this.s32(lo); return; } // fits 32 bits signed
    let v = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { this.byte(b); return; }
      this.byte(b | 0x80);
    }
  }

  f64(v: number): void {
    F64_VIEW.setFloat64(0, v, true);
    this.bytes(F64_BYTES);
  }

  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }

  vec(b: Bytes): void {
    this.u32(b.length);
    this.bytes(b.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A function body: locals, then instructions, with labelled control constructs. */
export class Body {
  private readonly code = new Bytes();
  private readonly locals: ValType[] = [];
  /** Labels of the open constructs, innermost last (undefined: an unlabelled one). */
  private readonly labels: (string | undefined)[] = [];
  /** Where each open label is in `labels` (labels are unique while open). */
  private readonly labelAt = new Map<string, number>();

  constructor(private readonly params: number) {}

  /** A new local of type `t`; its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params + this.locals.length - 1;
  }

  op(o: number): this {
    this.code.byte(o);
    return this;
  }

  /** Opens a block, loop or if (`o`), with a label for branches and a block type. */
  open(o: typeof Op.block | typeof Op.loop | typeof Op.if, label?: string, type: number = VOID): this {
    this.code.byte(o);
    this.code.byte(type);
    if (label !== undefined) {
      if (this.labelAt.has(label)) throw new Error(`wasm: construct ${label} is already open`);
      this.labelAt.set(label, this.labels.length);
    }
    this.labels.push(label);
    return this;
  }

  else(): this {
    this.code.byte(Op.else);
    return this;
  }

  end(): this {
    this.code.byte(Op.end);
    const label = this.labels.pop();
    if (label !== undefined) this.labelAt.delete(label);
    return this;
  }

  /** The depth of the innermost open construct labelled `label`. */
  private depth(label: string): number {
    const i = this.labelAt.get(label);
    if (i === undefined) throw new Error(`wasm: no open construct ${label}`);
    return this.labels.length - 1 - i;
  }

  br(label: string): this {
    this.code.byte(Op.br);
    this.code.u32(this.depth(label));
    return this;
  }

  brIf(label: string): this {
    this.code.byte(Op.br_if);
    this.code.u32(this.depth(label));
    return this;
  }

  brTable(labels: readonly string[], fallback: string): this {
    this.code.byte(Op.br_table);
    this.code.u32(labels.length);
    for (const l of labels) this.code.u32(this.depth(l));
    this.code.u32(this.depth(fallback));
    return this;
  }

  get(i: number): this { this.code.byte(Op.local_get); this.code.u32(i); return this; }
  set(i: number): this { this.code.byte(Op.local_set); this.code.u32(i); return this; }
  tee(i: number): this { this.code.byte(Op.local_tee); this.code.u32(i); return this; }
  gget(i: number): this { this.code.byte(Op.global_get); this.code.u32(i); return this; }
  gset(i: number): this { this.code.byte(Op.global_set); this.code.u32(i); return this; }
  i32(v: number): this { this.code.byte(Op.i32_const); this.code.s32(v); return this; }
  /** i64.const of lo + hi * 2^32. */
  i64(lo: number, hi = lo >> 31): this { this.code.byte(Op.i64_const); this.code.s64(lo, hi); return this; }
  f64(v: number): this { this.code.byte(Op.f64_const); this.code.f64(v); return this; }
  call(f: number): this { this.code.byte(Op.call); this.code.u32(f); return this; }

  callIndirect(type: number): this {
    this.code.byte(Op.call_indirect);
    this.code.u32(type);
    this.code.byte(0); // table 0
    return this;
  }

  /** A load or store with a constant offset (alignment hint 0: BPF accesses may be unaligned). */
  mem(o: number, offset: number): this {
    this.code.byte(o);
    this.code.u32(0);
    this.code.u32(offset);
    return this;
  }

  /** The body's encoding: locals (run-length) and code. */
  encode(): Bytes {
    const out = new Bytes();
    const runs: [number, ValType][] = [];
    for (const t of this.locals) {
      if (runs.length > 0 && runs[runs.length - 1][1] === t) runs[runs.length - 1][0]++;
      else runs.push([1, t]);
    }
    out.u32(runs.length);
    for (const [count, t] of runs) { out.u32(count); out.byte(t); }
    out.bytes(this.code.view());
    out.byte(Op.end);
    const sized = new Bytes();
    sized.vec(out);
    return sized;
  }
}

interface FuncType { params: readonly ValType[]; results: readonly ValType[] }

/** A module: imports first (functions, one memory), then defined functions, globals, a table. */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly imports: { module: string; name: string; type: number }[] = [];
  private memoryImport: { module: string; name: string; minPages: number } | undefined;
  private readonly funcs: { type: number; body: Body | undefined }[] = [];
  private readonly globals: { type: ValType; init: number }[] = [];
  private readonly exports: { name: string; kind: number; index: number }[] = [];
  private table: number[] = [];

  /** The index of a function type. */
  type(params: readonly ValType[], results: readonly ValType[] = []): number {
    const i = this.types.findIndex((t) => sameList(t.params, params) && sameList(t.results, results));
    if (i >= 0) return i;
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  /** An imported function (all imports come before any defined function); its index. */
  importFunc(module: string, name: string, params: readonly ValType[], results: readonly ValType[] = []): number {
    if (this.funcs.length > 0) throw new Error('wasm: imports must precede functions');
    this.imports.push({ module, name, type: this.type(params, results) });
    return this.imports.length - 1;
  }

  importMemory(module: string, name: string, minPages: number): void {
    this.memoryImport = { module, name, minPages };
  }

  /** Declares a function (its body given later with `define`); its index. */
  declare(params: readonly ValType[], results: readonly ValType[] = []): number {
    this.funcs.push({ type: this.type(params, results), body: undefined });
    return this.imports.length + this.funcs.length - 1;
  }

  define(index: number, body: Body): void {
    this.funcs[index - this.imports.length].body = body;
  }

  /** A mutable global with an initial value (i32 or f64); its index. */
  global(type: typeof I32 | typeof F64, init: number, exportAs?: string): number {
    this.globals.push({ type, init });
    const index = this.globals.length - 1;
    if (exportAs !== undefined) this.exports.push({ name: exportAs, kind: 3, index });
    return index;
  }

  exportFunc(name: string, index: number): void {
    this.exports.push({ name, kind: 0, index });
  }

  /** The function table (for call_indirect): entry i calls function funcs[i]. */
  setTable(funcs: readonly number[]): void {
    this.table = [...funcs];
  }

  encode(): Uint8Array {
    const out = new Bytes();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (s: Bytes) => void) => {
      const s = new Bytes();
      fill(s);
      out.byte(id);
      out.vec(s);
    };
    section(1, (s) => {
      s.u32(this.types.length);
      for (const t of this.types) {
        s.byte(0x60);
        s.u32(t.params.length); s.bytes(t.params);
        s.u32(t.results.length); s.bytes(t.results);
      }
    });
    section(2, (s) => {
      s.u32(this.imports.length + (this.memoryImport ? 1 : 0));
      for (const i of this.imports) { s.name(i.module); s.name(i.name); s.byte(0x00); s.u32(i.type); }
      if (this.memoryImport) {
        s.name(this.memoryImport.module); s.name(this.memoryImport.name);
        s.byte(0x02); s.byte(0x00); s.u32(this.memoryImport.minPages);
      }
    });
    section(3, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) s.u32(f.type);
    });
    if (this.table.length > 0) {
      section(4, (s) => { s.u32(1); s.byte(0x70); s.byte(0x00); s.u32(this.table.length); });
    }
    section(6, (s) => {
      s.u32(this.globals.length);
      for (const g of this.globals) {
        s.byte(g.type); s.byte(0x01);
        if (g.type === I32) { s.byte(Op.i32_const); s.s32(g.init); } else { s.byte(Op.f64_const); s.f64(g.init); }
        s.byte(Op.end);
      }
    });
    section(7, (s) => {
      s.u32(this.exports.length);
      for (const e of this.exports) { s.name(e.name); s.byte(e.kind); s.u32(e.index); }
    });
    if (this.table.length > 0) {
      section(9, (s) => {
        s.u32(1); s.u32(0); s.byte(Op.i32_const); s.s32(0); s.byte(Op.end);
        s.u32(this.table.length);
        for (const f of this.table) s.u32(f);
      });
    }
    section(10, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) {
        if (!f.body) throw new Error('wasm: a declared function has no body');
        s.bytes(f.body.encode().view());
      }
    });
    return out.view().slice();
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
