/**
 * `.BTF.ext` parser: func_info, line_info and CO-RE relocation records grouped by ELF section
 * name, with their strings resolved against `.BTF` (elf-loading.md §2.5, §2.6, §4.1 item 9).
 *
 * Offsets stay as the file has them (`insnOff` in bytes within the ELF section); it does not
 * rebase records per program, match sections against the ELF, or resolve CO-RE relocations.
 */
import { ByteReader } from '../elf/reader.js';
import { LoadError } from '../errors.js';
import { hex } from '../text.js';
import { BTF_MAGIC, type Btf } from './btf.js';

/** `enum bpf_core_relo_kind`, indexed by value (§2.6). */
export const CORE_RELO_KINDS = [
  'FIELD_BYTE_OFFSET', 'FIELD_BYTE_SIZE', 'FIELD_EXISTS', 'FIELD_SIGNED', 'FIELD_LSHIFT_U64',
  'FIELD_RSHIFT_U64', 'TYPE_ID_LOCAL', 'TYPE_ID_TARGET', 'TYPE_EXISTS', 'TYPE_SIZE',
  'ENUMVAL_EXISTS', 'ENUMVAL_VALUE', 'TYPE_MATCHES',
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

export interface FuncInfo {
  /** Byte offset of the function's first instruction in its ELF section. */
  readonly insnOff: number;
  /** A BTF FUNC. */
  readonly typeId: number;
  /** The FUNC's name. */
  readonly name: string;
}

export interface LineInfo {
  readonly insnOff: number;
  readonly fileName: string;
  /** The source line's text, as clang stores it in the string table (§2.5). */
  readonly lineText: string;
  readonly line: number;
  readonly column: number;
}

export interface CoreRelo {
  readonly insnOff: number;
  /** The local BTF root type. */
  readonly typeId: number;
  /** "0:1:2"-style accessor (§2.6). */
  readonly accessStr: string;
  readonly kind: CoreReloKind;
}

export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreRelo[]>;
}

/** Decodes one record; `r` is named after the record, `at` is its first byte. */
type RecordParser<T> = (r: ByteReader, at: number, btf: Btf) => T;

interface Subsection<T> {
  readonly name: string;
  /** Header field offset of `{u32 off, u32 len}`. */
  readonly field: number;
  /** The record size clang 19 writes; larger is allowed (libbpf skips the tail). */
  readonly minRecSize: number;
  readonly parse: RecordParser<T>;
}

const EXT_HEADER_MIN = 24; // up to line_info; core_relo needs 32 (§2.5)

/** Parses `.BTF.ext`, resolving names and strings against `btf`. Throws LoadError if malformed. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const r = new ByteReader(bytes, '.BTF.ext header');
  const hdrLen = parseHeader(r);
  const read = <T>(s: Subsection<T>) => (hdrLen >= s.field + 8 ? parseSubsection(r, hdrLen, s, btf) : new Map());
  return Object.freeze({
    funcInfo: read({ name: 'func_info', field: 8, minRecSize: 8, parse: funcInfo }),
    lineInfo: read({ name: 'line_info', field: 16, minRecSize: 16, parse: lineInfo }),
    coreRelos: read({ name: 'core_relo', field: 24, minRecSize: 16, parse: coreRelo }),
  });
}

function parseHeader(r: ByteReader): number {
  if (r.length < 8) r.fail(`truncated: ${r.length} bytes`);
  const magic = r.u16(0);
  if (magic !== BTF_MAGIC) r.fail(`bad magic ${hex(magic)} (expected 0xeb9f)`);
  const version = r.u8(2);
  if (version !== 1) r.fail(`unsupported version ${version}`);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < EXT_HEADER_MIN || hdrLen > r.length) r.fail(`hdr_len ${hdrLen} is not in [${EXT_HEADER_MIN}, ${r.length}]`);
  return hdrLen;
}

/** `u32 rec_size`, then blocks of `{sec_name_off, num_info, records}` (§2.5). */
function parseSubsection<T>(file: ByteReader, hdrLen: number, s: Subsection<T>, btf: Btf): Map<string, readonly T[]> {
  const off = file.u32(s.field, `${s.name}_off`);
  const len = file.u32(s.field + 4, `${s.name}_len`);
  const out = new Map<string, T[]>();
  if (len === 0) return out;
  const r = file.at(`.BTF.ext ${s.name}`);
  const start = hdrLen + off;
  const end = start + len;
  r.need(start, len, `${s.name} (${len} bytes at ${hex(off)} after the header)`);
  const recSize = r.u32(start, 'rec_size');
  if (recSize < s.minRecSize || recSize % 4 !== 0) r.fail(`rec_size ${recSize} is below ${s.minRecSize} or not a multiple of 4`);
  let at = start + 4;
  let index = 0;
  while (at < end) {
    if (at + 8 > end) r.fail(`block header at ${hex(at - hdrLen)} is cut off`);
    const section = str(r, btf, r.u32(at, 'sec_name_off'));
    const count = r.u32(at + 4);
    if (count === 0) r.fail(`section '${section}' has no records`);
    at += 8;
    if (at + count * recSize > end) {
      r.fail(`section '${section}' has ${count} records of ${recSize} bytes, past the end of ${s.name} (${end - at} bytes left)`);
    }
    const list = out.get(section) ?? [];
    for (let i = 0; i < count; i++, index++, at += recSize) {
      list.push(Object.freeze(s.parse(file.at(`.BTF.ext ${s.name} record ${index}`), at, btf)));
    }
    out.set(section, list);
  }
  for (const list of out.values()) Object.freeze(list);
  return out;
}

function insnOff(r: ByteReader, at: number): number {
  const off = r.u32(at, 'insn_off');
  if (off % 8 !== 0) r.fail(`insn_off ${hex(off)} is not a multiple of 8`);
  return off;
}

/** Resolves a string offset, reporting it under the record's name. */
function str(r: ByteReader, btf: Btf, off: number): string {
  try {
    return btf.string(off);
  } catch (e) {
    if (e instanceof LoadError) r.fail(e.reason, { cause: e });
    throw e;
  }
}

const funcInfo: RecordParser<FuncInfo> = (r, at, btf) => {
  const typeId = r.u32(at + 4, 'type_id');
  const t = typeId < btf.typeCount ? btf.type(typeId) : undefined;
  if (t?.kind !== 'FUNC') return r.fail(`type_id ${typeId} is not a BTF FUNC`);
  return { insnOff: insnOff(r, at), typeId, name: t.name };
};

const lineInfo: RecordParser<LineInfo> = (r, at, btf) => {
  const lineCol = r.u32(at + 12, 'line_col');
  return {
    insnOff: insnOff(r, at),
    fileName: str(r, btf, r.u32(at + 4, 'file_name_off')),
    lineText: str(r, btf, r.u32(at + 8, 'line_off')),
    line: lineCol >>> 10,
    column: lineCol & 0x3ff,
  };
};

const coreRelo: RecordParser<CoreRelo> = (r, at, btf) => {
  const typeId = r.u32(at + 4, 'type_id');
  if (typeId >= btf.typeCount) r.fail(`type_id ${typeId} is out of range (${btf.typeCount} types)`);
  const kindNo = r.u32(at + 12, 'kind');
  const kind = CORE_RELO_KINDS[kindNo] ?? r.fail(`unknown CO-RE relocation kind ${kindNo}`);
  return { insnOff: insnOff(r, at), typeId, accessStr: str(r, btf, r.u32(at + 8, 'access_str_off')), kind };
};
