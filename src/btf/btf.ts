/**
 * `.BTF` parser: header, string table and all 19 type kinds, as frozen data, plus the queries a
 * loader needs (resolve modifiers, sizes, names, DATASECs). elf-loading.md §2.1–§2.3, §4.1 item 4.
 *
 * It does not fix up DATASEC sizes or VAR offsets (they are 0 in a .o, §2.1; the loader takes
 * them from the ELF), interpret `.maps` definitions, or deduplicate/sanitise BTF.
 */
import { ByteReader } from '../elf/reader.js';
import { LoadError } from '../errors.js';
import { hex } from '../text.js';

export const BTF_MAGIC = 0xeb9f;

// ---- The kernel's limits (kernel/bpf/btf.c, include/uapi/linux/btf.h) ----

/** btf_parse: a BTF blob larger than this is refused with E2BIG. */
export const BTF_MAX_SIZE = 16 * 1024 * 1024;
/** The number of type ids, void included (btf_add_type: "Exceeded max num of types"). */
export const BTF_MAX_TYPE = 0xfffff;
/** The largest string offset (btf_parse_str_sec: "Invalid string section"). */
export const BTF_MAX_NAME_OFFSET = 0xffffff;
/** btf_name_valid_identifier/_section: a name of this many bytes or more is "Invalid name". */
export const KSYM_NAME_LEN = 512;
/** The resolve stack (env_stack_push): a deeper chain of unresolved types is E2BIG. */
export const MAX_RESOLVE_DEPTH = 32;
/** The widest INT: BITS_PER_U128 bits, 16 bytes (libbpf's btf__add_int; the kernel's regular ints). */
export const BTF_MAX_INT_SIZE = 16;
const U32_MAX = 0xffff_ffff;

/** Kind names as the kernel spells them (BTF_KIND_*), indexed by kind number (§2.1). */
export const BTF_KIND_NAMES = [
  'UNKN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
  'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
] as const;

export type BtfKind = Exclude<(typeof BTF_KIND_NAMES)[number], 'UNKN'> | 'VOID';

export type BtfLinkage = 'static' | 'global' | 'extern';
const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];

// ---- Types (§2.1). Every type has its id and name ('' when anonymous). ----

interface Base { readonly id: number; readonly name: string }

export interface BtfVoid extends Base { readonly kind: 'VOID' }
export interface BtfInt extends Base {
  readonly kind: 'INT';
  readonly size: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
  readonly bitOffset: number;
  readonly bits: number;
}
export interface BtfPtr extends Base { readonly kind: 'PTR'; readonly type: number }
export interface BtfArray extends Base {
  readonly kind: 'ARRAY';
  /** Element type. */
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** Bitfield width in bits (kflag=1), else 0. */
  readonly bitfieldSize: number;
}
export interface BtfComposite extends Base {
  readonly kind: 'STRUCT' | 'UNION';
  readonly size: number;
  readonly members: readonly BtfMember[];
}
export interface BtfEnumValue<V> { readonly name: string; readonly value: V }
export interface BtfEnum extends Base {
  readonly kind: 'ENUM';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<number>[];
}
export interface BtfEnum64 extends Base {
  readonly kind: 'ENUM64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue<bigint>[];
}
export interface BtfFwd extends Base { readonly kind: 'FWD'; readonly fwdKind: 'struct' | 'union' }
export interface BtfModifier extends Base {
  readonly kind: 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT';
  readonly type: number;
}
export interface BtfFunc extends Base {
  readonly kind: 'FUNC';
  /** The FUNC_PROTO. */
  readonly type: number;
  readonly linkage: BtfLinkage;
}
export interface BtfParam { readonly name: string; readonly type: number }
export interface BtfFuncProto extends Base {
  readonly kind: 'FUNC_PROTO';
  readonly returnType: number;
  /** Without the trailing `...` marker (a last param of type 0), which sets `variadic`. */
  readonly params: readonly BtfParam[];
  readonly variadic: boolean;
}
export interface BtfVar extends Base { readonly kind: 'VAR'; readonly type: number; readonly linkage: BtfLinkage }
export interface BtfVarSecinfo {
  /** A VAR or FUNC. */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}
export interface BtfDatasec extends Base {
  readonly kind: 'DATASEC';
  /** 0 in a .o (§2.1): use the ELF section size. */
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfFloat extends Base { readonly kind: 'FLOAT'; readonly size: number }
export interface BtfDeclTag extends Base {
  readonly kind: 'DECL_TAG';
  /** The decorated type. */
  readonly type: number;
  /** -1 for the whole type, else the member or parameter index. */
  readonly componentIdx: number;
  readonly attribute: boolean;
}
export interface BtfTypeTag extends Base { readonly kind: 'TYPE_TAG'; readonly type: number; readonly attribute: boolean }

export type BtfType =
  | BtfVoid | BtfInt | BtfPtr | BtfArray | BtfComposite | BtfEnum | BtfEnum64 | BtfFwd | BtfModifier
  | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag | BtfTypeTag;

/** The type(s) of kind K; an intersection so that kinds sharing an interface (STRUCT/UNION) narrow too. */
export type BtfTypeOf<K extends BtfKind> = BtfType & { readonly kind: K };

/** What the CLI needs to print an integer-like value. */
export interface ScalarInfo { readonly size: number; readonly signed: boolean }

export interface Btf {
  /** Number of type ids, counting void (id 0): valid ids are 0 .. typeCount-1. */
  readonly typeCount: number;
  /** All types indexed by id; [0] is void. */
  readonly types: readonly BtfType[];
  type(id: number): BtfType;
  string(off: number): string;
  /** Follows TYPEDEF/CONST/VOLATILE/RESTRICT/TYPE_TAG to the underlying type. */
  resolve(id: number): BtfType;
  /** Byte size after resolving; throws LoadError for unsized kinds (void, FUNC, FWD, ...). */
  sizeOf(id: number): number;
  /** The first type with this name (and kind, if given). */
  findByName<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> | undefined;
  findByName(name: string): BtfType | undefined;
  datasec(name: string): BtfDatasec | undefined;
  /** A C-like spelling: `struct val`, `unsigned int`, `char[16]`, `u64 *`. */
  typeName(id: number): string;
  /** Size and signedness of integers, enums, bools and chars after resolving, else undefined. */
  scalarInfo(id: number): ScalarInfo | undefined;
}

// ---- Header and strings (§2.1, §2.3) ----

interface Header {
  readonly types: Uint8Array;
  readonly strings: Uint8Array;
}

function parseHeader(r: ByteReader): Header {
  if (r.length > BTF_MAX_SIZE) r.fail(`${r.length} bytes is more than the kernel's BTF_MAX_SIZE (${BTF_MAX_SIZE}): E2BIG`);
  if (r.length < 24) r.fail(`truncated: ${r.length} bytes, the header needs 24`);
  const magic = r.u16(0);
  if (magic === 0x9feb) r.fail('big-endian BTF is not supported');
  if (magic !== BTF_MAGIC) r.fail(`bad magic ${hex(magic)} (expected 0xeb9f)`);
  const version = r.u8(2);
  if (version !== 1) r.fail(`unsupported version ${version}`);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < 24 || hdrLen > r.length) r.fail(`hdr_len ${hdrLen} is not in [24, ${r.length}]`);
  // hdr_len 32 adds layout_off/layout_len; we only check that it lies inside the data.
  if (hdrLen >= 32) subsection(r, hdrLen, 24, 'layout');
  const types = subsection(r, hdrLen, 8, 'type');
  if (r.u32(8) % 4 !== 0) r.fail(`type_off ${hex(r.u32(8))} is not 4-byte aligned`);
  const strings = subsection(r, hdrLen, 16, 'string');
  if (strings.length === 0) r.fail('empty string section');
  if (strings.length - 1 > BTF_MAX_NAME_OFFSET) r.fail(`Invalid string section: ${strings.length} bytes, offsets past BTF_MAX_NAME_OFFSET (${hex(BTF_MAX_NAME_OFFSET)})`);
  if (strings[0] !== 0) r.fail('string section does not start with the empty string');
  if (strings[strings.length - 1] !== 0) r.fail('string section does not end with a NUL');
  return { types, strings };
}

/** An `{u32 off, u32 len}` pair at `field`, relative to the end of the header. */
function subsection(r: ByteReader, hdrLen: number, field: number, what: string): Uint8Array {
  const off = r.u32(field, `${what}_off`);
  const len = r.u32(field + 4, `${what}_len`);
  if (hdrLen + off + len > r.length) {
    r.fail(`${what} section (${len} bytes at ${hex(off)} after the header) is past the end (${r.length} bytes)`);
  }
  return r.bytes.subarray(hdrLen + off, hdrLen + off + len);
}

class StringTable {
  private readonly cache = new Map<number, string>();
  private readonly reader: ByteReader;
  constructor(bytes: Uint8Array) {
    this.reader = new ByteReader(bytes, 'BTF strings');
  }
  get(off: number, where: string): string {
    let s = this.cache.get(off);
    if (s === undefined) {
      if (!Number.isInteger(off) || off < 0 || off >= this.reader.length) {
        throw new LoadError(where, `string offset ${hex(off)} is outside the string section (${this.reader.length} bytes)`);
      }
      s = this.reader.at(where).cstring(off);
      this.cache.set(off, s);
    }
    return s;
  }
}

// ---- Types (§2.1) ----

/** One type's 12-byte header, decoded. */
interface Head {
  readonly r: ByteReader;
  readonly at: number;
  readonly id: number;
  readonly name: string;
  readonly kind: number;
  readonly kflag: boolean;
  readonly vlen: number;
  readonly sizeOrType: number;
}

/** A parsed type and the byte count it occupied. */
interface Parsed { readonly type: BtfType; readonly length: number }

function parseTypes(bytes: Uint8Array, strings: StringTable): BtfType[] {
  const out: BtfType[] = [Object.freeze({ kind: 'VOID', id: 0, name: '' })];
  let at = 0;
  while (at < bytes.length) {
    const id = out.length;
    if (id === BTF_MAX_TYPE) throw new LoadError(`BTF type ${id}`, `Exceeded max num of types (BTF_MAX_TYPE ${hex(BTF_MAX_TYPE)})`);
    const r = new ByteReader(bytes, `BTF type ${id}`);
    r.need(at, 12, 'type header');
    const info = r.u32(at + 4);
    const head: Head = {
      r, at, id,
      name: strings.get(r.u32(at), `BTF type ${id}`),
      kind: (info >>> 24) & 0x1f,
      kflag: info >>> 31 === 1,
      vlen: info & 0xffff_ff,
      sizeOrType: r.u32(at + 8),
    };
    const parsed = parseType(head, strings);
    checkNames(parsed.type);
    out.push(deepFreeze(parsed.type));
    at += 12 + parsed.length;
  }
  return out;
}

function parseType(h: Head, strings: StringTable): Parsed {
  const { r, at, id, name, kflag, vlen, sizeOrType } = h;
  const body = at + 12;
  const kind = BTF_KIND_NAMES[h.kind];
  switch (kind) {
    case 'INT': {
      const enc = r.u32(body, 'INT encoding');
      const bits = enc & 0xff;
      const bitOffset = (enc >>> 16) & 0xff;
      // btf_int_check_meta: nr_bits is bits + offset, at most 128, and must fit the size.
      if (sizeOrType > BTF_MAX_INT_SIZE) r.fail(`Invalid int size ${sizeOrType} (an INT is at most ${BTF_MAX_INT_SIZE} bytes)`);
      if (bits + bitOffset > 128) r.fail(`nr_bits exceeds 128 (${bits} bits at ${bitOffset})`);
      if (Math.ceil((bits + bitOffset) / 8) > sizeOrType) r.fail(`nr_bits exceeds type_size: INT of ${sizeOrType} bytes cannot hold ${bits} bits at ${bitOffset}`);
      const e = enc >>> 24;
      return { length: 4, type: { kind, id, name, size: sizeOrType, signed: (e & 1) !== 0, char: (e & 2) !== 0, bool: (e & 4) !== 0, bitOffset, bits } };
    }
    case 'PTR':
      return { length: 0, type: { kind, id, name, type: sizeOrType } };
    case 'ARRAY':
      return { length: 12, type: { kind, id, name, type: r.u32(body, 'ARRAY'), indexType: r.u32(body + 4, 'ARRAY'), nelems: r.u32(body + 8, 'ARRAY') } };
    case 'STRUCT':
    case 'UNION':
      r.need(body, vlen * 12, `${vlen} members`);
      return { length: vlen * 12, type: { kind, id, name, size: sizeOrType, members: members(h, strings) } };
    case 'ENUM':
      r.need(body, vlen * 8, `${vlen} values`);
      return { length: vlen * 8, type: { kind, id, name, size: sizeOrType, signed: kflag, values: enumValues(h, strings) } };
    case 'ENUM64':
      r.need(body, vlen * 12, `${vlen} values`);
      return { length: vlen * 12, type: { kind, id, name, size: sizeOrType, signed: kflag, values: enum64Values(h, strings) } };
    case 'FWD':
      return { length: 0, type: { kind, id, name, fwdKind: kflag ? 'union' : 'struct' } };
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
      return { length: 0, type: { kind, id, name, type: sizeOrType } };
    case 'FUNC':
      // §2.1: a FUNC's vlen is its linkage.
      return { length: 0, type: { kind, id, name, type: sizeOrType, linkage: linkage(r, vlen) } };
    case 'FUNC_PROTO': {
      r.need(body, vlen * 8, `${vlen} params`);
      const all = params(h, strings);
      const variadic = all.length > 0 && all[all.length - 1]!.type === 0;
      return { length: vlen * 8, type: { kind, id, name, returnType: sizeOrType, params: variadic ? all.slice(0, -1) : all, variadic } };
    }
    case 'VAR':
      return { length: 4, type: { kind, id, name, type: sizeOrType, linkage: linkage(r, r.u32(body, 'VAR linkage')) } };
    case 'DATASEC':
      r.need(body, vlen * 12, `${vlen} entries`);
      return { length: vlen * 12, type: { kind, id, name, size: sizeOrType, vars: secinfos(h) } };
    case 'FLOAT':
      return { length: 0, type: { kind, id, name, size: sizeOrType } };
    case 'DECL_TAG':
      return { length: 4, type: { kind, id, name, type: sizeOrType, componentIdx: r.i32(body, 'DECL_TAG component_idx'), attribute: kflag } };
    case 'TYPE_TAG':
      return { length: 0, type: { kind, id, name, type: sizeOrType, attribute: kflag } };
    default:
      return r.fail(`unknown kind ${h.kind}`);
  }
}

/** The kinds whose names the kernel checks as identifiers or section names (… _check_meta). */
const NAMED_KINDS: ReadonlySet<BtfKind> = new Set(['TYPEDEF', 'FWD', 'STRUCT', 'UNION', 'ENUM', 'ENUM64', 'FUNC', 'VAR', 'DATASEC']);

/** btf_name_valid_identifier/_section: names (and member, value, parameter names) under KSYM_NAME_LEN. */
function checkNames(t: BtfType): void {
  const check = (name: string, what: string) => {
    if (name.length >= KSYM_NAME_LEN) throw new LoadError(`BTF type ${t.id}`, `Invalid name: ${what}name of ${name.length} bytes (KSYM_NAME_LEN is ${KSYM_NAME_LEN})`);
  };
  if (NAMED_KINDS.has(t.kind)) check(t.name, '');
  if (t.kind === 'STRUCT' || t.kind === 'UNION') t.members.forEach((m, i) => check(m.name, `member ${i} `));
  if (t.kind === 'ENUM' || t.kind === 'ENUM64') t.values.forEach((v, i) => check(v.name, `value ${i} `));
  if (t.kind === 'FUNC_PROTO') t.params.forEach((p, i) => check(p.name, `param ${i} `));
}

function linkage(r: ByteReader, v: number): BtfLinkage {
  return LINKAGES[v] ?? r.fail(`unknown linkage ${v}`);
}

function members(h: Head, strings: StringTable): BtfMember[] {
  const out: BtfMember[] = [];
  for (let i = 0; i < h.vlen; i++) {
    const at = h.at + 12 + i * 12;
    const offset = h.r.u32(at + 8);
    out.push({
      name: strings.get(h.r.u32(at), `BTF type ${h.id} member ${i}`),
      type: h.r.u32(at + 4),
      // kflag=1: offset = bitfield_size << 24 | bit_offset (§2.1).
      bitOffset: h.kflag ? offset & 0xffffff : offset,
      bitfieldSize: h.kflag ? offset >>> 24 : 0,
    });
  }
  return out;
}

function enumValues(h: Head, strings: StringTable): BtfEnumValue<number>[] {
  const out: BtfEnumValue<number>[] = [];
  for (let i = 0; i < h.vlen; i++) {
    const at = h.at + 12 + i * 8;
    out.push({
      name: strings.get(h.r.u32(at), `BTF type ${h.id} value ${i}`),
      value: h.kflag ? h.r.i32(at + 4) : h.r.u32(at + 4),
    });
  }
  return out;
}

function enum64Values(h: Head, strings: StringTable): BtfEnumValue<bigint>[] {
  const out: BtfEnumValue<bigint>[] = [];
  for (let i = 0; i < h.vlen; i++) {
    const at = h.at + 12 + i * 12;
    const raw = (BigInt(h.r.u32(at + 8)) << 32n) | BigInt(h.r.u32(at + 4));
    out.push({
      name: strings.get(h.r.u32(at), `BTF type ${h.id} value ${i}`),
      value: h.kflag ? BigInt.asIntN(64, raw) : raw,
    });
  }
  return out;
}

function params(h: Head, strings: StringTable): BtfParam[] {
  const out: BtfParam[] = [];
  for (let i = 0; i < h.vlen; i++) {
    const at = h.at + 12 + i * 8;
    out.push({ name: strings.get(h.r.u32(at), `BTF type ${h.id} param ${i}`), type: h.r.u32(at + 4) });
  }
  return out;
}

function secinfos(h: Head): BtfVarSecinfo[] {
  const out: BtfVarSecinfo[] = [];
  for (let i = 0; i < h.vlen; i++) {
    const at = h.at + 12 + i * 12;
    out.push({ type: h.r.u32(at), offset: h.r.u32(at + 4), size: h.r.u32(at + 8) });
  }
  return out;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(o);
}

// ---- Reference validation ----

/** The ids a type refers to, and what each must be (any kind if undefined). */
function references(t: BtfType): Array<[number, readonly BtfKind[] | undefined]> {
  switch (t.kind) {
    case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
    case 'VAR': case 'DECL_TAG':
      return [[t.type, undefined]];
    case 'ARRAY': return [[t.type, undefined], [t.indexType, undefined]];
    case 'STRUCT': case 'UNION': return t.members.map((m) => [m.type, undefined]);
    case 'FUNC': return [[t.type, ['FUNC_PROTO']]];
    case 'FUNC_PROTO': return [[t.returnType, undefined], ...t.params.map((p): [number, undefined] => [p.type, undefined])];
    case 'DATASEC': return t.vars.map((v) => [v.type, ['VAR', 'FUNC']]);
    default: return [];
  }
}

function validateReferences(types: readonly BtfType[]): void {
  for (const t of types) {
    for (const [ref, kinds] of references(t)) {
      const target = types[ref];
      if (!target) throw new LoadError(`BTF type ${t.id}`, `${t.kind} refers to type ${ref}, but there are only ${types.length} (0..${types.length - 1})`);
      if (kinds && !kinds.includes(target.kind)) {
        throw new LoadError(`BTF type ${t.id}`, `${t.kind} refers to type ${ref}, a ${target.kind}, where ${kinds.join(' or ')} is required`);
      }
    }
  }
}

/** The one type a chain-forming kind points to (modifiers, PTR, ARRAY elements, ...). */
function chainNext(t: BtfType): number | undefined {
  switch (t.kind) {
    case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
    case 'ARRAY': case 'FUNC': case 'VAR': case 'DECL_TAG':
      return t.type;
    default:
      return undefined;
  }
}

/**
 * Rejects reference loops that do not pass through a struct/union/func_proto (the kernel's
 * "Loop detected"), so resolve/sizeOf/typeName always terminate; and, as btf_check_all_types
 * resolves types in id order, a chain of more than MAX_RESOLVE_DEPTH types not yet resolved
 * ("Exceeded max resolving depth"). A long chain whose links point to lower ids is legal there
 * and here, so every walk over it must be iterative.
 */
function rejectChainCycles(types: readonly BtfType[]): void {
  const done = new Uint8Array(types.length); // 1 = known to end (resolved)
  for (const start of types) {
    const seen = new Set<number>();
    let depth = 0; // the links pushed on the kernel's resolve stack (sinks such as INT are not)
    let id: number | undefined = start.id;
    while (id !== undefined && !done[id]) {
      if (seen.has(id)) throw new LoadError(`BTF type ${start.id}`, `Loop detected: reference loop through type ${id}`);
      seen.add(id);
      const next = chainNext(types[id]!);
      if (next !== undefined && ++depth > MAX_RESOLVE_DEPTH) {
        throw new LoadError(`BTF type ${start.id}`, `Exceeded max resolving depth:${MAX_RESOLVE_DEPTH} (type ${id} would be link ${depth} of the chain)`);
      }
      id = next;
    }
    for (const s of seen) done[s] = 1;
  }
}

// ---- Queries ----

const MODIFIERS: ReadonlySet<BtfKind> = new Set(['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG']);

class BtfImpl implements Btf {
  readonly typeCount: number;
  private readonly byName = new Map<string, BtfType[]>();

  constructor(readonly types: readonly BtfType[], private readonly strings: StringTable) {
    this.typeCount = types.length;
    for (const t of types) {
      if (t.name === '') continue;
      const list = this.byName.get(t.name) ?? [];
      list.push(t);
      this.byName.set(t.name, list);
    }
    Object.freeze(this);
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (!Number.isInteger(id) || !t) throw new LoadError('BTF', `type id ${id} is out of range (${this.typeCount} types)`);
    return t;
  }

  string(off: number): string {
    return this.strings.get(off, 'BTF');
  }

  resolve(id: number): BtfType {
    let t = this.type(id);
    while (MODIFIERS.has(t.kind)) t = this.type((t as BtfModifier | BtfTypeTag).type);
    return t;
  }

  sizeOf(id: number): number {
    // Iterative over ARRAY chains, which may legally be long (rejectChainCycles).
    const arrays: BtfArray[] = [];
    let t = this.resolve(id);
    while (t.kind === 'ARRAY') {
      arrays.push(t);
      t = this.resolve(t.type);
    }
    let size: number;
    switch (t.kind) {
      case 'INT': case 'ENUM': case 'ENUM64': case 'STRUCT': case 'UNION': case 'DATASEC': case 'FLOAT':
        size = t.size;
        break;
      case 'PTR':
        size = 8;
        break;
      default:
        throw new LoadError(`BTF type ${id}`, `${this.typeName(id)} (${t.kind}) has no size`);
    }
    // btf_array_resolve, innermost first: elem_size × nelems must not pass U32_MAX.
    for (let i = arrays.length - 1; i >= 0; i--) {
      const a = arrays[i]!;
      if (a.nelems !== 0 && size > Math.floor(U32_MAX / a.nelems)) {
        throw new LoadError(`BTF type ${a.id}`, `Array size overflows U32_MAX (${a.nelems} elements of ${size} bytes)`);
      }
      size *= a.nelems;
    }
    return size;
  }

  findByName<K extends BtfKind>(name: string, kind: K): BtfTypeOf<K> | undefined;
  findByName(name: string): BtfType | undefined;
  findByName(name: string, kind?: BtfKind): BtfType | undefined {
    return this.byName.get(name)?.find((t) => kind === undefined || t.kind === kind);
  }

  datasec(name: string): BtfDatasec | undefined {
    return this.findByName(name, 'DATASEC');
  }

  typeName(id: number): string {
    return spell(this, id, '', 0, { nodes: MAX_SPELL_NODES });
  }

  scalarInfo(id: number): ScalarInfo | undefined {
    const t = this.resolve(id);
    if (t.kind === 'INT') return { size: t.size, signed: t.signed };
    if (t.kind === 'ENUM' || t.kind === 'ENUM64') return { size: t.size, signed: t.signed };
    return undefined;
  }
}

/** typeName's depth limit: BTF may legally loop through a FUNC_PROTO's parameters. */
const MAX_SPELL_DEPTH = 16;
/**
 * typeName's work limit, in types visited: a FUNC_PROTO whose parameters are FUNC_PROTO
 * pointers fans out exponentially in depth; past the limit the rest is spelled `...`.
 */
const MAX_SPELL_NODES = 512;

/** `base` followed by a declarator: `char[16]`, `u64 *`, `int (*)[1]`. */
function join(base: string, decl: string): string {
  if (decl === '') return base;
  return decl.startsWith('[') ? base + decl : `${base} ${decl}`;
}

/** A pointer declarator needs parentheses before an array or parameter suffix. */
function group(decl: string): string {
  return decl.startsWith('*') ? `(${decl})` : decl;
}

/** Spells type `id` around the declarator `decl`, inside out as C does. */
function spell(btf: Btf, id: number, decl: string, depth: number, budget: { nodes: number }): string {
  if (depth > MAX_SPELL_DEPTH || budget.nodes <= 0) return join('...', decl);
  budget.nodes--;
  const t = btf.type(id);
  const next = (to: number, d: string) => spell(btf, to, d, depth + 1, budget);
  switch (t.kind) {
    case 'VOID': return join('void', decl);
    case 'INT': case 'FLOAT': case 'TYPEDEF': return join(t.name, decl);
    case 'STRUCT': case 'UNION': return join(`${t.kind.toLowerCase()} ${t.name || '(anon)'}`, decl);
    case 'ENUM': case 'ENUM64': return join(`enum ${t.name || '(anon)'}`, decl);
    case 'FWD': return join(`${t.fwdKind} ${t.name || '(anon)'}`, decl);
    case 'PTR': return next(t.type, `*${decl}`);
    case 'ARRAY': return next(t.type, `${group(decl)}[${t.nelems}]`);
    case 'CONST': case 'VOLATILE': {
      const q = t.kind.toLowerCase();
      // A qualified pointer is `int *const`; anything else reads better as `const int`.
      if (btf.type(t.type).kind === 'PTR') return next(t.type, decl ? `${q} ${decl}` : q);
      return `${q} ${next(t.type, decl)}`;
    }
    case 'RESTRICT': return next(t.type, decl ? `restrict ${decl}` : 'restrict');
    case 'TYPE_TAG': return join(`${next(t.type, '')} __tag(${t.name})`, decl);
    case 'FUNC_PROTO': {
      const ps = t.params.map((p) => next(p.type, ''));
      if (t.variadic) ps.push('...');
      return next(t.returnType, `${group(decl)}(${ps.join(', ') || 'void'})`);
    }
    case 'FUNC': case 'VAR': return next(t.type, t.name + decl);
    case 'DATASEC': return `datasec ${t.name}`;
    case 'DECL_TAG': return `decl_tag ${t.name}`;
  }
}

/** Parses a `.BTF` section. Throws LoadError on any malformation (§2.1). */
export function parseBtf(bytes: Uint8Array): Btf {
  const header = parseHeader(new ByteReader(bytes, 'BTF header'));
  const strings = new StringTable(header.strings);
  const types = Object.freeze(parseTypes(header.types, strings));
  validateReferences(types);
  rejectChainCycles(types);
  return new BtfImpl(types, strings);
}
