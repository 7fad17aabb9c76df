/**
 * CO-RE relocations as libbpf applies them (spec maps-and-kernel-objects §4; libbpf's
 * relo_core.c and bpf_object__relocate_core): each `.BTF.ext` core_relo record is parsed against
 * the object's BTF (the local spec), matched against the candidates of a target BTF found by
 * essential name (flavours `___suffix` stripped), its value computed for every candidate (all
 * must agree), and the instruction patched (ALU imm, LDX/ST/STX offset and size, ld_imm64) or
 * poisoned (`call 0xbad2310`; both halves of an ld_imm64).
 *
 * The result is a new ObjectSpec whose programs carry new instruction arrays and, per program,
 * the poisoned slots with libbpf's description of the failed relocation. bpfrun has no
 * path-exploring verifier, so a poisoned instruction fails when a run reaches it (the kernel
 * refuses the load when the verifier reaches it): spec §4.11 item 4's approximation.
 *
 * Target BTF: LoadOptions.btf (a parsed Btf, raw BTF bytes, an ELF with a .BTF section, or a
 * path to either, such as /sys/kernel/btf/vmlinux; 'simulated' is the simulated kernel's, which
 * object.ts supplies). Without one, every relocation is resolved against the object's own BTF with its root type as the only
 * candidate ("self" target): values come out as compiled (the instructions are still validated
 * against the local spec), which keeps bpfrun's behaviour for objects built for their target.
 *
 * Not modelled: kernel module BTFs (a target BTF is treated as libbpf's btf_custom_path
 * override: no module search), records in a .text function no loaded program reaches (libbpf
 * would still relocate, and fail on, them), and the gen_loader path.
 */
import { readFileSync } from 'node:fs';
import { parseBtf, type Btf, type BtfType } from '../btf/btf.js';
import { CORE_RELO_KINDS, type CoreRelo, type CoreReloKind } from '../btf/ext.js';
import { parseElf } from '../elf/elf.js';
import { BpfError, LoadError } from '../errors.js';
import { Instruction, insn, slotIndices, width } from '../isa/instruction.js';
import { CORE_POISON_IMM } from '../isa/validate.js';
import {
  BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_H, BPF_JMP, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_W, BPF_X,
  CLASS_MASK, MODE_MASK, OP_LDDW, SIZE_MASK,
} from '../isa/opcodes.js';
import type { CorePoison, ObjectSpec, ProgramSpec } from './spec.js';

export type { CorePoison };

export { CORE_POISON_IMM };

/** Where CO-RE relocations are resolved against (LoadOptions.btf). */
export type TargetBtfSource = Btf | Uint8Array | string;

export interface CoreOptions {
  /**
   * The target kernel BTF for CO-RE relocations: a parsed Btf, raw BTF bytes (as
   * /sys/kernel/btf/vmlinux), an ELF object with a .BTF section, or a path to either.
   * Default: the object's own BTF (relocations resolve as compiled).
   */
  readonly btf?: TargetBtfSource;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Parses a target BTF; a file or bytes that are not BTF (nor an ELF with .BTF) are a LoadError. */
export function loadTargetBtf(source: TargetBtfSource): Btf {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) return source;
  const name = typeof source === 'string' ? `target BTF ${source}` : 'target BTF';
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new LoadError(name, `cannot read it: ${(e as Error).message}`, { cause: e });
    }
  } else {
    bytes = source;
  }
  try {
    if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
      const sec = parseElf(bytes).sectionByName('.BTF');
      if (!sec) throw new LoadError(name, 'an ELF file without a .BTF section');
      return parseBtf(sec.data);
    }
    return parseBtf(bytes);
  } catch (e) {
    if (e instanceof LoadError && e.where === name) throw e;
    if (e instanceof BpfError) throw new LoadError(name, `not a valid BTF: ${e.message}`, { cause: e });
    throw e;
  }
}

// ---- Relocation kinds (§4.2) ----

const FIELD_KINDS: ReadonlySet<CoreReloKind> = new Set(['FIELD_BYTE_OFFSET', 'FIELD_BYTE_SIZE', 'FIELD_EXISTS', 'FIELD_SIGNED', 'FIELD_LSHIFT_U64', 'FIELD_RSHIFT_U64']);
const TYPE_KINDS: ReadonlySet<CoreReloKind> = new Set(['TYPE_ID_LOCAL', 'TYPE_ID_TARGET', 'TYPE_EXISTS', 'TYPE_SIZE', 'TYPE_MATCHES']);
const ENUM_KINDS: ReadonlySet<CoreReloKind> = new Set(['ENUMVAL_EXISTS', 'ENUMVAL_VALUE']);

/** core_relo_kind_str. */
const KIND_STR: Readonly<Record<CoreReloKind, string>> = {
  FIELD_BYTE_OFFSET: 'byte_off', FIELD_BYTE_SIZE: 'byte_sz', FIELD_EXISTS: 'field_exists', FIELD_SIGNED: 'signed',
  FIELD_LSHIFT_U64: 'lshift_u64', FIELD_RSHIFT_U64: 'rshift_u64', TYPE_ID_LOCAL: 'local_type_id',
  TYPE_ID_TARGET: 'target_type_id', TYPE_EXISTS: 'type_exists', TYPE_MATCHES: 'type_matches', TYPE_SIZE: 'type_size',
  ENUMVAL_EXISTS: 'enumval_exists', ENUMVAL_VALUE: 'enumval_value',
};

/** A relocation that fails the load: libbpf's errno and warning. */
class CoreFailure extends Error {
  constructor(readonly errno: string, readonly reason: string) {
    super(`${reason}: ${errno}`);
  }
}
const fail = (errno: string, reason: string): never => { throw new CoreFailure(errno, reason); };

// ---- BTF helpers ----

/** btf_kind_str. */
function kindStr(t: BtfType): string {
  return t.kind === 'VOID' ? 'void' : t.kind.toLowerCase();
}

/** skip_mods_and_typedefs. */
function skip(btf: Btf, id: number): BtfType {
  return btf.resolve(id);
}

/** btf__resolve_size, with libbpf's error as a CoreFailure. */
function sizeOf(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch (e) {
    if (e instanceof LoadError) return fail('EINVAL', `cannot size type [${id}]: ${e.reason}`);
    throw e;
  }
}

const isComposite = (t: BtfType) => t.kind === 'STRUCT' || t.kind === 'UNION';
const isAnyEnum = (t: BtfType) => t.kind === 'ENUM' || t.kind === 'ENUM64';

/** btf_kind_core_compat: same kind, enum and enum64 counting as one. */
function kindCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

/** The BTF vlen of a type (members, enumerators, params with the variadic marker). */
function vlen(t: BtfType): number {
  switch (t.kind) {
    case 'STRUCT': case 'UNION': return t.members.length;
    case 'ENUM': case 'ENUM64': return t.values.length;
    case 'FUNC_PROTO': return t.params.length + (t.variadic ? 1 : 0);
    default: return 0;
  }
}

/** A FUNC_PROTO's params as BTF has them (the variadic marker as a last param of type 0). */
function protoParams(t: BtfType & { kind: 'FUNC_PROTO' }): number[] {
  const ids = t.params.map((p) => p.type);
  if (t.variadic) ids.push(0);
  return ids;
}

/** bpf_core_essential_name_len: the name up to its last `X___Y` flavour separator. */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}

// ---- Specs (§4.3) ----

interface Accessor {
  /** The composite (named member), the element type (array), or the enum. */
  readonly typeId: number;
  readonly idx: number;
  readonly name?: string;
}

interface CoreSpec {
  readonly btf: Btf;
  readonly rootId: number;
  readonly kind: CoreReloKind;
  /** High-level accessors. */
  readonly access: Accessor[];
  /** Low-level (raw) indexes. */
  readonly raw: number[];
  bitOffset: number;
}

const BPF_CORE_SPEC_MAX_LEN = 64;

/** bpf_core_parse_spec. */
function parseSpec(btf: Btf, relo: CoreRelo): CoreSpec {
  const s = relo.accessStr;
  if (s === '' || s.startsWith(':')) fail('EINVAL', `bad access string '${s}'`);
  const spec: CoreSpec = { btf, rootId: relo.typeId, kind: relo.kind, access: [], raw: [], bitOffset: 0 };
  if (TYPE_KINDS.has(relo.kind)) {
    if (s !== '0') fail('EINVAL', `access string '${s}' of a type relocation must be "0"`);
    return spec;
  }
  for (const part of s.split(':')) {
    if (!/^\d+$/.test(part) || Number(part) > 0x7fffffff) fail('EINVAL', `bad access string '${s}'`);
    if (spec.raw.length === BPF_CORE_SPEC_MAX_LEN) fail('E2BIG', `access string '${s}' has more than ${BPF_CORE_SPEC_MAX_LEN} indexes`);
    spec.raw.push(Number(part));
  }
  let t = skip(btf, relo.typeId);
  let id = t.id;
  const first = spec.raw[0]!;
  spec.access.push({ typeId: id, idx: first });
  if (ENUM_KINDS.has(relo.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || first >= vlen(t)) fail('EINVAL', `'${s}' is not an enumerator of [${relo.typeId}]`);
    (spec.access[0] as { name?: string }).name = (t as BtfType & { kind: 'ENUM' | 'ENUM64' }).values[first]!.name;
    return spec;
  }
  spec.bitOffset = first * sizeOf(btf, id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    t = skip(btf, id);
    id = t.id;
    const idx = spec.raw[i]!;
    if (t.kind === 'STRUCT' || t.kind === 'UNION') {
      if (idx >= t.members.length) fail('EINVAL', `member ${idx} of [${id}] ${kindStr(t)} ${t.name || '<anon>'} is out of range (${t.members.length} members)`);
      const m = t.members[idx]!;
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.access.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === 'ARRAY') {
      const elem = skip(btf, t.type);
      id = elem.id;
      if (!isFlexArray(btf, spec.access[spec.access.length - 1]!, t.nelems) && idx >= t.nelems) {
        fail('EINVAL', `index ${idx} of [${t.id}] array is out of range (${t.nelems} elements)`);
      }
      spec.access.push({ typeId: id, idx });
      spec.bitOffset += idx * sizeOf(btf, id) * 8;
    } else {
      fail('EINVAL', `relo for [${relo.typeId}] ${s} (at idx ${i}) captures type [${id}] of unexpected kind ${kindStr(t)}`);
    }
  }
  return spec;
}

/** is_flex_arr: nelems 0 and the last member of the enclosing struct. */
function isFlexArray(btf: Btf, acc: Accessor, nelems: number): boolean {
  if (acc.name === undefined || nelems > 0) return false;
  return acc.idx === vlen(btf.type(acc.typeId)) - 1;
}

/** bpf_core_format_spec. */
export function formatSpec(spec: CoreSpec): string {
  const t = spec.btf.type(spec.rootId);
  let out = `<${KIND_STR[spec.kind]}> [${spec.rootId}] ${kindStr(t)} ${t.name || '<anon>'}`;
  if (TYPE_KINDS.has(spec.kind)) return out;
  if (ENUM_KINDS.has(spec.kind)) {
    const e = skip(spec.btf, spec.rootId) as BtfType & { kind: 'ENUM' | 'ENUM64' };
    const v = e.values[spec.raw[0]!]!;
    return `${out}::${v.name} = ${v.value}`;
  }
  spec.access.forEach((a, i) => {
    if (a.name !== undefined) out += `.${a.name}`;
    else if (i > 0 || a.idx > 0) out += `[${a.idx}]`;
  });
  out += ` (${spec.raw.join(':')}`;
  out += spec.bitOffset % 8 ? ` @ offset ${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8})` : ` @ offset ${spec.bitOffset / 8})`;
  return out;
}

// ---- Compatibility relations (§4.6) ----

/** bpf_core_fields_are_compat. */
function fieldsCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (;;) {
    const l = skip(lb, lid);
    const t = skip(tb, tid);
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case 'PTR': case 'FLOAT': return true;
      case 'FWD': case 'ENUM': case 'ENUM64': {
        const ln = essentialName(l.name);
        const tn = essentialName(t.name);
        return ln === '' || tn === '' || ln === tn;
      }
      case 'INT': return l.bitOffset === 0 && (t as BtfType & { kind: 'INT' }).bitOffset === 0;
      case 'ARRAY':
        lid = l.type;
        tid = (t as BtfType & { kind: 'ARRAY' }).type;
        continue;
      default: return false;
    }
  }
}

/** __bpf_core_types_are_compat. */
function typesCompat(lb: Btf, lid: number, tb: Btf, tid: number, level = 32): boolean {
  if (!kindCompat(lb.type(lid), tb.type(tid))) return false;
  for (let depth = 32; ; ) {
    if (--depth < 0) fail('EINVAL', 'type compatibility check recursed too deep');
    const l = skip(lb, lid);
    const t = skip(tb, tid);
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case 'VOID': case 'STRUCT': case 'UNION': case 'ENUM': case 'FWD': case 'ENUM64': return true;
      case 'INT': return l.bitOffset === 0 && (t as BtfType & { kind: 'INT' }).bitOffset === 0;
      case 'PTR': case 'ARRAY':
        lid = l.type;
        tid = (t as BtfType & { kind: 'PTR' | 'ARRAY' }).type;
        continue;
      case 'FUNC_PROTO': {
        const tp = t as BtfType & { kind: 'FUNC_PROTO' };
        const lps = protoParams(l);
        const tps = protoParams(tp);
        if (lps.length !== tps.length) return false;
        for (let i = 0; i < lps.length; i++) {
          if (level <= 0) fail('EINVAL', 'type compatibility check recursed too deep');
          if (!typesCompat(lb, skip(lb, lps[i]!).id, tb, skip(tb, tps[i]!).id, level - 1)) return false;
        }
        lid = skip(lb, l.returnType).id;
        tid = skip(tb, tp.returnType).id;
        continue;
      }
      default: return false;
    }
  }
}

/** bpf_core_names_match: essential names; an anonymous target matches only an anonymous local. */
function namesMatch(local: string, target: string): boolean {
  if (target === '') return local === '';
  return essentialName(local) === essentialName(target);
}

/** __bpf_core_types_match. */
function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr: boolean, level: number): boolean {
  if (level <= 0) fail('EINVAL', 'type match recursed too deep');
  for (let depth = 32; ; ) {
    if (--depth < 0) fail('EINVAL', 'type match recursed too deep');
    const l = skip(lb, lid);
    const t = skip(tb, tid);
    if (!namesMatch(l.name, t.name)) return false;
    switch (l.kind) {
      case 'VOID': return t.kind === 'VOID';
      case 'FWD': {
        const lf = l.fwdKind === 'union';
        if (t.kind === 'FWD') return lf === (t.fwdKind === 'union');
        return behindPtr && ((t.kind === 'STRUCT' && !lf) || (t.kind === 'UNION' && lf));
      }
      case 'ENUM': case 'ENUM64': {
        if (t.kind !== 'ENUM' && t.kind !== 'ENUM64') return false;
        if (l.size !== t.size || l.values.length > t.values.length) return false;
        return l.values.every((lv) => t.values.some((tv) => namesMatch(lv.name, tv.name)));
      }
      case 'STRUCT': case 'UNION': {
        if (behindPtr) {
          if (l.kind === t.kind) return true;
          return t.kind === 'FWD' && (l.kind === 'UNION') === (t.fwdKind === 'union');
        }
        if (l.kind !== t.kind) return false;
        const tc = t as BtfType & { kind: 'STRUCT' | 'UNION' };
        if (l.members.length > tc.members.length) return false;
        return l.members.every((lm) => tc.members.some((tm) => namesMatch(lm.name, tm.name)
          && typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1)));
      }
      case 'INT':
        return t.kind === 'INT' && l.size === t.size && l.signed === t.signed;
      case 'PTR':
        if (t.kind !== 'PTR') return false;
        behindPtr = true;
        lid = l.type;
        tid = t.type;
        continue;
      case 'ARRAY':
        if (t.kind !== 'ARRAY' || l.nelems !== t.nelems) return false;
        lid = l.type;
        tid = t.type;
        continue;
      case 'FUNC_PROTO': {
        if (t.kind !== 'FUNC_PROTO') return false;
        const lps = protoParams(l);
        const tps = protoParams(t);
        if (lps.length !== tps.length) return false;
        for (let i = 0; i < lps.length; i++) if (!typesMatch(lb, lps[i]!, tb, tps[i]!, behindPtr, level - 1)) return false;
        lid = l.returnType;
        tid = t.returnType;
        continue;
      }
      default: return false;
    }
  }
}

// ---- Matching a candidate (§4.5) ----

/** bpf_core_match_member: searches `targId` (a composite) for the local accessor's member. */
function matchMember(local: CoreSpec, acc: Accessor, tb: Btf, targId: number, spec: CoreSpec): { found: boolean; next: number } {
  const tt = skip(tb, targId);
  if (tt.kind !== 'STRUCT' && tt.kind !== 'UNION') return { found: false, next: 0 };
  const lt = local.btf.type(acc.typeId) as BtfType & { kind: 'STRUCT' | 'UNION' };
  const lm = lt.members[acc.idx]!;
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    if (spec.raw.length === BPF_CORE_SPEC_MAX_LEN) fail('E2BIG', 'struct/union/array nesting too deep');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const r = matchMember(local, acc, tb, m.type, spec);
      if (r.found) return r;
    } else if (m.name === lm.name) {
      if (!fieldsCompat(local.btf, lm.type, tb, m.type)) return { found: false, next: 0 };
      spec.access.push({ typeId: tt.id, idx: i, name: m.name });
      return { found: true, next: m.type };
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return { found: false, next: 0 };
}

/** bpf_core_spec_match: the candidate's spec, or undefined when it does not match. */
function matchSpec(local: CoreSpec, tb: Btf, candId: number): CoreSpec | undefined {
  const spec: CoreSpec = { btf: tb, rootId: candId, kind: local.kind, access: [], raw: [], bitOffset: 0 };
  if (TYPE_KINDS.has(local.kind)) {
    const ok = local.kind === 'TYPE_MATCHES'
      ? typesMatch(local.btf, local.rootId, tb, candId, false, 32)
      : typesCompat(local.btf, local.rootId, tb, candId);
    return ok ? spec : undefined;
  }
  if (ENUM_KINDS.has(local.kind)) {
    const t = skip(tb, candId);
    if (t.kind !== 'ENUM' && t.kind !== 'ENUM64') return undefined;
    const want = essentialName(local.access[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    spec.access.push({ typeId: t.id, idx: i, name: t.values[i]!.name });
    spec.raw.push(i);
    return spec;
  }
  let targId = candId;
  for (let i = 0; i < local.access.length; i++) {
    const acc = local.access[i]!;
    const tt = skip(tb, targId);
    targId = tt.id;
    if (acc.name !== undefined) {
      const r = matchMember(local, acc, tb, targId, spec);
      if (!r.found) return undefined;
      targId = r.next;
    } else {
      if (i > 0) {
        if (tt.kind !== 'ARRAY') return undefined;
        if (!isFlexArray(tb, spec.access[spec.access.length - 1]!, tt.nelems) && acc.idx >= tt.nelems) return undefined;
        targId = skip(tb, tt.type).id;
      }
      if (spec.raw.length === BPF_CORE_SPEC_MAX_LEN) fail('E2BIG', 'struct/union/array nesting too deep');
      spec.access.push({ typeId: targId, idx: acc.idx });
      spec.raw.push(acc.idx);
      spec.bitOffset += acc.idx * sizeOf(tb, targId) * 8;
    }
  }
  return spec;
}

// ---- Computing values (§4.7) ----

interface FieldValue {
  val: bigint;
  /** Memory size of the field for load/store size adjustment (0: none). */
  size: number;
  typeId: number;
  validate: boolean;
}

const POISON = Symbol('poison');

/** bpf_core_calc_field_relo; POISON when there is no target. */
function calcField(relo: CoreRelo, spec: CoreSpec | undefined): FieldValue | typeof POISON {
  const out: FieldValue = { val: 0n, size: 0, typeId: 0, validate: true };
  if (relo.kind === 'FIELD_EXISTS') {
    out.val = spec ? 1n : 0n;
    return out;
  }
  if (!spec) return POISON;
  const { btf } = spec;
  const acc = spec.access[spec.access.length - 1]!;
  const elemSize = (id: number) => {
    let t = skip(btf, id);
    while (t.kind === 'ARRAY') t = skip(btf, t.type);
    return sizeOf(btf, t.id);
  };
  if (acc.name === undefined) {
    if (relo.kind === 'FIELD_BYTE_OFFSET') {
      out.val = BigInt(Math.floor(spec.bitOffset / 8));
      out.size = elemSize(acc.typeId);
      out.typeId = acc.typeId;
    } else if (relo.kind === 'FIELD_BYTE_SIZE') {
      out.val = BigInt(sizeOf(btf, acc.typeId));
    } else {
      fail('EINVAL', `relo ${CORE_RELO_KINDS.indexOf(relo.kind)} at insn #${relo.insnOff / 8} can't be applied to array access`);
    }
    return out;
  }
  const t = btf.type(acc.typeId) as BtfType & { kind: 'STRUCT' | 'UNION' };
  const m = t.members[acc.idx]!;
  const mt = skip(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = (mt as { size?: number }).size ?? 0;
    if (byteSz <= 0) fail('EINVAL', `bitfield ${m.name} has an unsized type`);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) fail('E2BIG', `relo ${CORE_RELO_KINDS.indexOf(relo.kind)} at insn #${relo.insnOff / 8} can't be satisfied for bitfield`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = sizeOf(btf, mt.id);
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  out.validate = !bitfield;
  switch (relo.kind) {
    case 'FIELD_BYTE_OFFSET':
      out.val = BigInt(byteOff);
      if (!bitfield) {
        out.size = elemSize(mt.id);
        out.typeId = mt.id;
      }
      break;
    case 'FIELD_BYTE_SIZE': out.val = BigInt(byteSz); break;
    case 'FIELD_SIGNED':
      out.val = (isAnyEnum(mt) && (mt as { signed: boolean }).signed) || (mt.kind === 'INT' && mt.signed) ? 1n : 0n;
      out.validate = true;
      break;
    case 'FIELD_LSHIFT_U64': out.val = BigInt.asUintN(64, BigInt(64 - (bitOff + bitSz - byteOff * 8))); break;
    case 'FIELD_RSHIFT_U64': out.val = BigInt(64 - bitSz); out.validate = true; break;
    default: fail('EOPNOTSUPP', `unrecognized CO-RE relocation ${relo.kind}`);
  }
  return out;
}

/** bpf_core_calc_type_relo. */
function calcType(relo: CoreRelo, spec: CoreSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (relo.kind) {
    case 'TYPE_ID_TARGET': return { val: BigInt(spec.rootId), validate: false };
    case 'TYPE_EXISTS': case 'TYPE_MATCHES': return { val: 1n, validate: true };
    case 'TYPE_SIZE': return { val: BigInt(sizeOf(spec.btf, spec.rootId)), validate: true };
    default: return fail('EOPNOTSUPP', `unrecognized CO-RE relocation ${relo.kind}`);
  }
}

/** bpf_core_calc_enumval_relo. */
function calcEnum(relo: CoreRelo, spec: CoreSpec | undefined): bigint | typeof POISON {
  if (relo.kind === 'ENUMVAL_EXISTS') return spec ? 1n : 0n;
  if (!spec) return POISON;
  const t = spec.btf.type(spec.access[0]!.typeId) as BtfType & { kind: 'ENUM' | 'ENUM64' };
  const v = t.values[spec.access[0]!.idx]!.value;
  // btf_enum's val is an s32: sign-extended into the u64 result, whatever the enum's signedness.
  return typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(v | 0));
}

/** struct bpf_core_relo_res. */
interface ReloResult {
  origVal: bigint;
  newVal: bigint;
  poison: boolean;
  validate: boolean;
  failMemszAdjust: boolean;
  origSz: number;
  newSz: number;
}

/** bpf_core_calc_relo. */
function calcRelo(relo: CoreRelo, local: CoreSpec, targ: CoreSpec | undefined): ReloResult {
  const res: ReloResult = { origVal: 0n, newVal: 0n, poison: false, validate: true, failMemszAdjust: false, origSz: 0, newSz: 0 };
  if (FIELD_KINDS.has(relo.kind)) {
    const o = calcField(relo, local);
    if (o === POISON) return fail('EINVAL', 'local spec does not resolve');
    const n = calcField(relo, targ);
    res.origVal = o.val;
    res.validate = o.validate;
    res.origSz = o.size;
    if (n === POISON) {
      res.poison = true;
      return res;
    }
    res.newVal = n.val;
    res.newSz = n.size;
    if (o.size !== n.size) {
      const ot = local.btf.type(o.typeId);
      const nt = targ!.btf.type(n.typeId);
      const unsignedInt = (t: BtfType) => t.kind === 'INT' && !t.signed;
      if (!((ot.kind === 'PTR' && nt.kind === 'PTR') || (unsignedInt(ot) && unsignedInt(nt)))) res.failMemszAdjust = true;
    }
  } else if (TYPE_KINDS.has(relo.kind)) {
    const o = calcType(relo, local);
    res.origVal = o.val;
    res.validate = o.validate;
    res.newVal = calcType(relo, targ).val;
  } else {
    const o = calcEnum(relo, local);
    if (o === POISON) return fail('EINVAL', 'local spec does not resolve');
    res.origVal = o;
    const n = calcEnum(relo, targ);
    if (n === POISON) res.poison = true;
    else res.newVal = n;
  }
  return res;
}

// ---- Candidates and several candidates (§4.4, §4.8) ----

/** bpf_core_add_cands over the main target BTF (no module BTFs: a target is the override). */
function findCandidates(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId);
  const want = essentialName(lt.name);
  const out: number[] = [];
  for (let id = 1; id < target.typeCount; id++) {
    const t = target.types[id]!;
    if (!kindCompat(t, lt) || t.name === '') continue;
    if (essentialName(t.name) === want) out.push(id);
  }
  return out;
}

interface Resolved {
  readonly res: ReloResult;
  /** bpf_core_format_spec of the local spec. */
  readonly description: string;
}

/** bpf_core_calc_relo_insn. `cands` undefined: the "self" target (the root is its own only candidate). */
function resolveRelo(relo: CoreRelo, local: Btf, target: Btf | undefined, cache: Map<number, number[]>): Resolved {
  const lt = local.type(relo.typeId);
  let spec: CoreSpec;
  try {
    spec = parseSpec(local, relo);
  } catch (e) {
    if (e instanceof CoreFailure) {
      throw new CoreFailure('EINVAL', `parsing [${relo.typeId}] ${kindStr(lt)} ${lt.name || '<anon>'} + ${relo.accessStr} failed: ${e.reason} (${e.errno})`);
    }
    throw e;
  }
  const description = formatSpec(spec);
  if (relo.kind === 'TYPE_ID_LOCAL') {
    const id = BigInt(relo.typeId);
    return { description, res: { origVal: id, newVal: id, poison: false, validate: false, failMemszAdjust: false, origSz: 0, newSz: 0 } };
  }
  if (lt.name === '') fail('EOPNOTSUPP', `<${KIND_STR[relo.kind]}> (${CORE_RELO_KINDS.indexOf(relo.kind)}) relocation doesn't support anonymous types`);
  const tb = target ?? local;
  let cands = cache.get(relo.typeId);
  if (!cands) {
    cands = target ? findCandidates(local, relo.typeId, target) : [relo.typeId];
    cache.set(relo.typeId, cands);
  }
  let chosen: { res: ReloResult; spec: CoreSpec } | undefined;
  const kept: number[] = [];
  for (const cand of cands) {
    const cspec = matchSpec(spec, tb, cand);
    if (!cspec) continue;
    const res = calcRelo(relo, spec, cspec);
    if (!chosen) {
      chosen = { res, spec: cspec };
    } else if (cspec.bitOffset !== chosen.spec.bitOffset) {
      fail('EINVAL', `field offset ambiguity: ${cspec.bitOffset} != ${chosen.spec.bitOffset} (candidates [${chosen.spec.rootId}] and [${cand}])`);
    } else if (res.poison !== chosen.res.poison || res.newVal !== chosen.res.newVal) {
      const say = (r: ReloResult) => `${r.poison ? 'failure' : 'success'} ${r.newVal}`;
      fail('EINVAL', `relocation decision ambiguity: ${say(res)} != ${say(chosen.res)} (candidates [${cand}] and [${chosen.spec.rootId}])`);
    }
    kept.push(cand);
  }
  if (kept.length > 0) cache.set(relo.typeId, kept);
  return { description, res: chosen ? chosen.res : calcRelo(relo, spec, undefined) };
}

// ---- Patching (§4.9) ----

function sizeBytes(opcode: number): number {
  switch (opcode & SIZE_MASK) {
    case BPF_DW: return 8;
    case BPF_W: return 4;
    case BPF_H: return 2;
    default: return 1;
  }
}

const SIZE_CODES: Readonly<Record<number, number>> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** The poison call bpf_core_poison_insn writes (one per slot). */
export function corePoisonInsn(): Instruction {
  return insn(BPF_JMP | BPF_CALL, 0, 0, 0, CORE_POISON_IMM);
}

/** bpf_core_patch_insn: the replacement instruction(s), or 'poison'. */
function patchInsn(ins: Instruction, r: ReloResult): Instruction | 'poison' {
  const cls = ins.opcode & CLASS_MASK;
  const u64 = (v: number) => BigInt.asUintN(64, BigInt(v));
  const show = (got: number | bigint) => `got ${got}, exp ${r.origVal} -> ${r.newVal}`;
  switch (cls) {
    case BPF_ALU: case BPF_ALU64:
      if (ins.opcode & BPF_X) return fail('EINVAL', `trying to relocate unrecognized insn (ALU with a register source), code:0x${ins.opcode.toString(16)}`);
      if (r.poison) return 'poison';
      if (r.validate && u64(ins.imm) !== r.origVal) fail('EINVAL', `unexpected insn (ALU/ALU64) value: ${show(ins.imm >>> 0)}`);
      return { ...ins, imm: Number(BigInt.asIntN(32, r.newVal)) };
    case BPF_LDX: case BPF_ST: case BPF_STX: {
      if (r.poison) return 'poison';
      if (r.validate && u64(ins.off) !== r.origVal) fail('EINVAL', `unexpected insn (LDX/ST/STX) value: ${show(ins.off & 0xffff)}`);
      if (r.newVal > 32767n) fail('ERANGE', `insn (LDX/ST/STX) value too big: ${r.newVal}`);
      if (r.failMemszAdjust) return 'poison'; // libbpf: "accesses field incorrectly"
      let opcode = ins.opcode;
      if (r.newSz !== r.origSz) {
        const got = sizeBytes(ins.opcode);
        if (got !== r.origSz) fail('EINVAL', `insn (LDX/ST/STX) unexpected mem size: got ${got}, exp ${r.origSz}`);
        const code = SIZE_CODES[r.newSz];
        if (code === undefined) fail('EINVAL', `insn (LDX/ST/STX) invalid new mem size: ${r.newSz}`);
        opcode = (ins.opcode & MODE_MASK) | code! | cls;
      }
      return { ...ins, opcode, off: Number(r.newVal) };
    }
    case BPF_LD: {
      if (ins.opcode !== OP_LDDW || ins.src !== 0 || ins.off !== 0) fail('EINVAL', 'insn (LDIMM64) has unexpected form');
      if (r.poison) return 'poison';
      const imm = (BigInt(ins.imm2 >>> 0) << 32n) | BigInt(ins.imm >>> 0);
      if (r.validate && imm !== r.origVal) fail('EINVAL', `unexpected insn (LDIMM64) value: ${show(imm)}`);
      return { ...ins, imm: Number(BigInt.asIntN(32, r.newVal)), imm2: Number(BigInt.asIntN(32, r.newVal >> 32n)) };
    }
    default:
      return fail('EINVAL', `trying to relocate unrecognized insn, code:0x${ins.opcode.toString(16)}, src:0x${ins.src.toString(16)}, dst:0x${ins.dst.toString(16)}, off:0x${(ins.off & 0xffff).toString(16)}, imm:0x${(ins.imm >>> 0).toString(16)}`);
  }
}

// ---- The object (bpf_object__relocate_core) ----

interface Placement { readonly program: number; readonly slot: number }

/**
 * Applies the object's CO-RE relocations against `target` (undefined: the "self" target) to the
 * programs in `autoload` (and every .text subprogram they include), in section and record
 * order, sharing one candidate cache. Returns a new ObjectSpec (the input is unchanged), or
 * `spec` itself when there is nothing to relocate. Throws LoadError for a relocation libbpf
 * fails the load for.
 */
export function applyCoreRelocations(spec: ObjectSpec, target: Btf | undefined, autoload: ReadonlySet<string>): ObjectSpec {
  const relos = spec.btfExt?.coreRelos;
  const local = spec.btf;
  if (!relos || relos.size === 0 || !local) return spec;
  const programs = spec.programs;
  const slotMaps = programs.map((p) => {
    const slots = slotIndices(p.insns);
    const byslot = new Map<number, number>();
    slots.forEach((s, i) => { if (i < p.insns.length) byslot.set(s, i); });
    return byslot;
  });
  const patches = programs.map(() => new Map<number, Instruction | 'poison'>());
  const poisons = programs.map(() => new Map<number, CorePoison>());
  const cache = new Map<number, number[]>();
  for (const [section, records] of relos) {
    records.forEach((relo, index) => {
      const sectionSlot = relo.insnOff / 8;
      const where = `CO-RE relocation #${index} of section ${section} (insn ${sectionSlot})`;
      // Every loaded program holding this instruction: the section's program, or each copy of a .text subprogram.
      const places: Placement[] = [];
      let owner: ProgramSpec | undefined;
      programs.forEach((p, k) => {
        for (const f of p.functions) {
          if (f.section !== section || sectionSlot < f.sectionSlot || sectionSlot >= f.sectionSlot + f.length) continue;
          if (f.start === 0) owner = p;
          if (autoload.has(p.name)) places.push({ program: k, slot: f.start + sectionSlot - f.sectionSlot });
        }
      });
      // libbpf: no program (an eliminated weak subprogram) → skipped; a program not autoloaded → skipped.
      if (places.length === 0) return;
      if (owner && !autoload.has(owner.name)) return;
      const first = places[0]!;
      const insIndex = slotMaps[first.program]!.get(first.slot);
      if (insIndex === undefined) throw new LoadError(where, 'points into the middle of an ld_imm64: EINVAL');
      const ins = programs[first.program]!.insns[insIndex]!;
      let patched: Instruction | 'poison';
      let resolved: Resolved;
      try {
        resolved = resolveRelo(relo, local, target, cache);
        patched = patchInsn(ins, resolved.res);
      } catch (e) {
        if (e instanceof CoreFailure) {
          const prog = programs[first.program]!.name;
          throw new LoadError(where, `prog '${prog}': relo #${index}: failed to relocate: ${e.reason}: ${e.errno}`, { cause: e });
        }
        throw e;
      }
      for (const p of places) {
        patches[p.program]!.set(p.slot, patched);
        if (patched === 'poison') poisons[p.program]!.set(p.slot, { relocation: resolved.description, section, index });
      }
    });
  }
  const out = programs.map((p, k) => {
    const patch = patches[k]!;
    if (patch.size === 0) return p;
    const insns: Instruction[] = [];
    let slot = 0;
    for (const ins of p.insns) {
      const w = width(ins);
      const to = patch.get(slot);
      if (to === undefined) insns.push(ins);
      else if (to === 'poison') for (let i = 0; i < w; i++) insns.push(corePoisonInsn());
      else insns.push(to);
      slot += w;
    }
    const corePoisons = poisons[k]!;
    return Object.freeze({ ...p, insns: Object.freeze(insns), ...(corePoisons.size ? { corePoisons } : {}) });
  });
  return Object.freeze({ ...spec, programs: Object.freeze(out) });
}

/** The relocated spec for a load: against the target `btf`, else the object's own BTF. */
export function relocateCore(spec: ObjectSpec, btf: TargetBtfSource | undefined, autoload: ReadonlySet<string>): ObjectSpec {
  if (!spec.btfExt?.coreRelos.size) return spec;
  return applyCoreRelocations(spec, btf === undefined ? undefined : loadTargetBtf(btf), autoload);
}
