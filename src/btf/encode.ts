/**
 * A small BTF encoder (the inverse of ./btf.ts's parser, for the kinds bpfrun generates): the
 * simulated kernel's BTF (src/kernel/kernel-btf.ts) and test fixtures are built with it. Types
 * get ids in the order they are added (void is 0); a struct can be declared first and defined
 * later, so types may point to themselves (`task_struct.real_parent`).
 */
import { BTF_MAGIC } from './btf.js';

const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, ENUM64: 19,
} as const;

export interface EncodedMember {
  readonly name: string;
  readonly type: number;
  /** Byte offset in the struct. */
  readonly offset: number;
}

interface Entry {
  name: string;
  kind: number;
  vlen: number;
  kflag: boolean;
  /** size or type. */
  sizeOrType: number;
  /** The words after the common header. */
  extra: (strings: (s: string) => number) => number[];
}

export class BtfBuilder {
  private readonly entries: (Entry | undefined)[] = [];
  private readonly names = new Map<string, number>();

  /** The number of type ids so far, counting void. */
  get typeCount(): number { return this.entries.length + 1; }

  private push(e: Entry): number {
    this.entries.push(e);
    return this.entries.length;
  }

  int(name: string, size: number, enc: { signed?: boolean; char?: boolean; bool?: boolean } = {}): number {
    const encoding = (enc.signed ? 1 : 0) | (enc.char ? 2 : 0) | (enc.bool ? 4 : 0);
    return this.push({ name, kind: KIND.INT, vlen: 0, kflag: false, sizeOrType: size, extra: () => [(encoding << 24) | (size * 8)] });
  }

  ptr(type: number): number { return this.modifier(KIND.PTR, '', type); }
  typedef(name: string, type: number): number { return this.modifier(KIND.TYPEDEF, name, type); }
  const(type: number): number { return this.modifier(KIND.CONST, '', type); }
  volatile(type: number): number { return this.modifier(KIND.VOLATILE, '', type); }

  private modifier(kind: number, name: string, type: number): number {
    return this.push({ name, kind, vlen: 0, kflag: false, sizeOrType: type, extra: () => [] });
  }

  /** `elem[nelems]`; `index` is the index type's id (an int). */
  array(elem: number, nelems: number, index: number): number {
    return this.push({ name: '', kind: KIND.ARRAY, vlen: 0, kflag: false, sizeOrType: 0, extra: () => [elem, index, nelems] });
  }

  fwd(name: string, union = false): number {
    return this.push({ name, kind: KIND.FWD, vlen: 0, kflag: union, sizeOrType: 0, extra: () => [] });
  }

  /** An id for a struct (or union) defined later with `define`. */
  declare(): number {
    this.entries.push(undefined);
    return this.entries.length;
  }

  /** A struct or union: at `id` (from `declare`) or a new id. */
  composite(kind: 'struct' | 'union', name: string, size: number, members: readonly EncodedMember[], id?: number): number {
    const entry: Entry = {
      name, kind: kind === 'struct' ? KIND.STRUCT : KIND.UNION, vlen: members.length, kflag: false, sizeOrType: size,
      extra: (str) => members.flatMap((m) => [str(m.name), m.type, m.offset * 8]),
    };
    if (id === undefined) return this.push(entry);
    if (this.entries[id - 1] !== undefined) throw new Error(`BTF type ${id} is already defined`);
    this.entries[id - 1] = entry;
    return id;
  }

  struct(name: string, size: number, members: readonly EncodedMember[], id?: number): number {
    return this.composite('struct', name, size, members, id);
  }

  enum(name: string, size: number, values: readonly (readonly [string, number])[], signed = false): number {
    return this.push({
      name, kind: KIND.ENUM, vlen: values.length, kflag: signed, sizeOrType: size,
      extra: (str) => values.flatMap(([n, v]) => [str(n), v | 0]),
    });
  }

  /** An ENUM64 (64-bit enumerators: name, low 32 bits, high 32 bits); `signed` sets kflag. */
  enum64(name: string, size: number, values: readonly (readonly [string, bigint])[], signed = false): number {
    return this.push({
      name, kind: KIND.ENUM64, vlen: values.length, kflag: signed, sizeOrType: size,
      extra: (str) => values.flatMap(([n, v]) => {
        const u = BigInt.asUintN(64, v);
        return [str(n), Number(u & 0xffffffffn), Number(u >> 32n)];
      }),
    });
  }

  funcProto(ret: number, params: readonly (readonly [string, number])[]): number {
    return this.push({
      name: '', kind: KIND.FUNC_PROTO, vlen: params.length, kflag: false, sizeOrType: ret,
      extra: (str) => params.flatMap(([n, t]) => [str(n), t]),
    });
  }

  /** linkage: 0 static, 1 global, 2 extern. */
  func(name: string, proto: number, linkage = 1): number {
    return this.push({ name, kind: KIND.FUNC, vlen: linkage, kflag: false, sizeOrType: proto, extra: () => [] });
  }

  /** linkage: 0 static, 1 global (allocated), 2 extern. */
  variable(name: string, type: number, linkage = 1): number {
    return this.push({ name, kind: KIND.VAR, vlen: 0, kflag: false, sizeOrType: type, extra: () => [linkage] });
  }

  datasec(name: string, size: number, vars: readonly { type: number; offset: number; size: number }[]): number {
    return this.push({
      name, kind: KIND.DATASEC, vlen: vars.length, kflag: false, sizeOrType: size,
      extra: () => vars.flatMap((v) => [v.type, v.offset, v.size]),
    });
  }

  /** The BTF blob: header, types, strings (little-endian). */
  encode(): Uint8Array {
    const strParts: string[] = [''];
    let strLen = 1;
    const str = (s: string): number => {
      if (s === '') return 0;
      let off = this.names.get(s);
      if (off === undefined) {
        off = strLen;
        this.names.set(s, off);
        strParts.push(s);
        strLen += Buffer.byteLength(s) + 1;
      }
      return off;
    };
    const words: number[] = [];
    this.entries.forEach((e, i) => {
      if (!e) throw new Error(`BTF type ${i + 1} was declared but never defined`);
      const info = ((e.kflag ? 1 : 0) << 31) | (e.kind << 24) | (e.vlen & 0xffff);
      words.push(str(e.name), info >>> 0, e.sizeOrType >>> 0, ...e.extra(str).map((w) => w >>> 0));
    });
    const strings = Buffer.from(strParts.join('\0') + '\0', 'latin1');
    const typeLen = words.length * 4;
    const out = new Uint8Array(24 + typeLen + strings.length);
    const view = new DataView(out.buffer);
    view.setUint16(0, BTF_MAGIC, true);
    out[2] = 1; // version
    out[3] = 0; // flags
    view.setUint32(4, 24, true);
    view.setUint32(8, 0, true);
    view.setUint32(12, typeLen, true);
    view.setUint32(16, typeLen, true);
    view.setUint32(20, strings.length, true);
    words.forEach((w, i) => view.setUint32(24 + i * 4, w, true));
    out.set(strings, 24 + typeLen);
    return out;
  }
}
