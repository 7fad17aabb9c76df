// A small BTF writer for tests: valid raw BTF bytes (elf-loading.md §2.1) for INT, PTR, ARRAY,
// STRUCT, UNION, ENUM, ENUM64, FWD, TYPEDEF, CONST and VOLATILE, so tests can build target
// kernel BTFs with any layout. Ids are handed out in call order from 1.

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, ENUM64: 19 } as const;

export interface MemberDef {
  readonly name: string;
  readonly type: number;
  /** Offset in bits from the start of the struct. */
  readonly bitOffset: number;
  /** Bitfield width (0: not a bitfield). */
  readonly bits?: number;
}

export class BtfBuilder {
  private readonly words: number[] = [];
  private readonly strings: string[] = [''];
  private stringBytes = 1;
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private nextId = 1;

  private str(s: string): number {
    let off = this.stringOffsets.get(s);
    if (off === undefined) {
      off = this.stringBytes;
      this.stringOffsets.set(s, off);
      this.strings.push(s);
      this.stringBytes += Buffer.byteLength(s) + 1;
    }
    return off;
  }

  private add(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[]): number {
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.nextId++;
  }

  int(name: string, size: number, signed = false, opts: { char?: boolean; bool?: boolean; bits?: number } = {}): number {
    const enc = (signed ? 1 : 0) | (opts.char ? 2 : 0) | (opts.bool ? 4 : 0);
    return this.add(name, KIND.INT, 0, false, size, [(enc << 24) | (opts.bits ?? size * 8)]);
  }

  ptr(type: number): number { return this.add('', KIND.PTR, 0, false, type, []); }
  typedef(name: string, type: number): number { return this.add(name, KIND.TYPEDEF, 0, false, type, []); }
  const(type: number): number { return this.add('', KIND.CONST, 0, false, type, []); }
  volatile(type: number): number { return this.add('', KIND.VOLATILE, 0, false, type, []); }
  fwd(name: string, union = false): number { return this.add(name, KIND.FWD, 0, union, 0, []); }

  array(elem: number, nelems: number, indexType = elem): number {
    return this.add('', KIND.ARRAY, 0, false, 0, [elem, indexType, nelems]);
  }

  struct(name: string, size: number, members: readonly MemberDef[]): number { return this.composite(KIND.STRUCT, name, size, members); }
  union(name: string, size: number, members: readonly MemberDef[]): number { return this.composite(KIND.UNION, name, size, members); }

  private composite(kind: number, name: string, size: number, members: readonly MemberDef[]): number {
    const kflag = members.some((m) => (m.bits ?? 0) > 0);
    const extra = members.flatMap((m) => [this.str(m.name), m.type, kflag ? (((m.bits ?? 0) << 24) | m.bitOffset) : m.bitOffset]);
    return this.add(name, kind, members.length, kflag, size, extra);
  }

  enum(name: string, values: ReadonlyArray<readonly [string, number]>, signed = false, size = 4): number {
    return this.add(name, KIND.ENUM, values.length, signed, size, values.flatMap(([n, v]) => [this.str(n), v | 0]));
  }

  enum64(name: string, values: ReadonlyArray<readonly [string, bigint]>, signed = false): number {
    return this.add(name, KIND.ENUM64, values.length, signed, 8, values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, v);
      return [this.str(n), Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
    }));
  }

  /** The raw BTF: header, types, strings. */
  bytes(): Uint8Array {
    const typeLen = this.words.length * 4;
    const strs = Buffer.concat(this.strings.map((s) => Buffer.concat([Buffer.from(s), Buffer.from([0])])));
    const out = new Uint8Array(24 + typeLen + strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, strs.length, true);
    this.words.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, true));
    out.set(strs, 24 + typeLen);
    return out;
  }
}
