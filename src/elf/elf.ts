/**
 * ELF64 reader for clang-built BPF objects: header, section headers, symbols and SHT_REL
 * relocations, as frozen data (elf-loading.md §1.1, §1.3, §1.4, §4.1 item 1).
 *
 * It does not classify sections, programs or maps, apply relocations or parse BTF: the loader
 * does that on top of this output. Every malformed input becomes a LoadError.
 */
import { LoadError } from '../errors.js';
import { hex } from '../text.js';
import { ByteReader } from './reader.js';

// ---- Constants (ELF gABI; values clang emits for BPF) ----

export const ET_REL = 1;
export const EM_BPF = 247;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_EXCLUDE = 0x80000000;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// elf-loading.md §1.4
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

/** Bytes a relocation of each type touches from r_offset: ld_imm64 is 16 bytes, call 8. */
const RELOC_WIDTH: ReadonlyMap<number, number> = new Map([
  [R_BPF_NONE, 0], [R_BPF_64_64, 16], [R_BPF_64_ABS64, 8], [R_BPF_64_ABS32, 4],
  [R_BPF_64_NODYLD32, 4], [R_BPF_64_32, 8],
]);

/** A few machines, so "not a BPF object" says what it is instead. */
const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [3, 'i386'], [8, 'MIPS'], [20, 'PowerPC'], [21, 'PowerPC64'], [22, 'S/390'], [40, 'ARM'],
  [62, 'x86-64'], [183, 'AArch64'], [243, 'RISC-V'], [258, 'LoongArch'],
]);

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
/** A .bss this large cannot become a map anyway; refusing it keeps hostile sizes from allocating. */
const MAX_NOBITS = 256 * 1024 * 1024;

// ---- Output types ----

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  readonly addralign: number;
  /** The section's bytes: a view into the file, or `size` zero bytes for NOBITS. */
  readonly data: Uint8Array;
  readonly isExec: boolean;
  readonly isWrite: boolean;
  readonly isAlloc: boolean;
}

export interface ElfSymbol {
  readonly index: number;
  /** For STT_SECTION symbols (empty name in strtab) this is the section's name (§1.3). */
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly bind: number;
  readonly type: number;
  readonly visibility: number;
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Byte offset in the target section. */
  readonly offset: number;
  readonly symbolIndex: number;
  readonly type: number;
}

export interface ElfFile {
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** SHT_REL entries keyed by target section index (the REL section's sh_info, §3.3 item 1). */
  readonly relocations: ReadonlyMap<number, readonly ElfRelocation[]>;
  /** The first section with this name. */
  sectionByName(name: string): ElfSection | undefined;
}

// ---- Parsing ----

interface Header {
  readonly shoff: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

/** Parses a relocatable ELF64 little-endian EM_BPF object. Throws LoadError on any malformation. */
export function parseElf(bytes: Uint8Array): ElfFile {
  const file = new ByteReader(bytes, 'ELF header');
  const header = parseHeader(file);
  const raw = readSectionHeaders(file, header);
  const names = sectionNames(file, raw, header.shstrndx);
  const sections = Object.freeze(raw.map((r, i) => makeSection(r, i, names[i]!)));
  const symtab = findSymtab(sections);
  const symbols = symtab ? parseSymbols(sections, symtab) : Object.freeze([]);
  const relocations = parseRelocations(sections, symbols, symtab);
  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  return Object.freeze({
    sections,
    symbols,
    relocations,
    sectionByName: (name: string) => byName.get(name),
  });
}

function parseHeader(r: ByteReader): Header {
  if (r.length < EHDR_SIZE) r.fail(`truncated: ${r.length} bytes, an ELF64 header needs ${EHDR_SIZE}`);
  if (r.u32(0) !== 0x464c457f) r.fail('bad magic (not an ELF file)');
  const cls = r.u8(4);
  if (cls !== 2) r.fail(`ELF class ${cls} is not ELFCLASS64`);
  const data = r.u8(5);
  if (data === 2) r.fail('big-endian objects are not supported (build with -target bpfel or -target bpf on a little-endian host)');
  if (data !== 1) r.fail(`unknown data encoding ${data}`);
  const type = r.u16(16);
  if (type !== ET_REL) r.fail(`e_type ${type} is not ET_REL (a relocatable .o)`);
  const machine = r.u16(18);
  if (machine !== EM_BPF) {
    const known = MACHINE_NAMES.get(machine);
    r.fail(`not a BPF object: machine ${machine}${known ? ` (${known})` : ''}`);
  }
  const shoff = r.u64n(40, 'e_shoff');
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shoff === 0) r.fail('no section header table');
  if (shentsize !== SHDR_SIZE) r.fail(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`);
  // Extended numbering: the real counts live in section 0 (gABI).
  if (shnum === 0) shnum = r.at('section 0').u64n(shoff + 32, 'sh_size (extended e_shnum)');
  if (shstrndx === SHN_XINDEX) shstrndx = r.at('section 0').u32(shoff + 40, 'sh_link (extended e_shstrndx)');
  if (shoff + shnum * SHDR_SIZE > r.length) {
    r.fail(`section header table (${shnum} × ${SHDR_SIZE} bytes at ${hex(shoff)}) is past the end of the file (${r.length} bytes)`);
  }
  if (shstrndx === SHN_UNDEF || shstrndx >= shnum) r.fail(`e_shstrndx ${shstrndx} is not a section (${shnum} sections)`);
  return { shoff, shnum, shstrndx };
}

/** A section header as read, before its name is looked up and its flags decoded. */
type RawSection = Omit<ElfSection, 'index' | 'name' | 'isExec' | 'isWrite' | 'isAlloc'> & { readonly nameOff: number };

function readSectionHeaders(file: ByteReader, h: Header): RawSection[] {
  const out: RawSection[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const r = file.at(`section ${i}`);
    const at = h.shoff + i * SHDR_SIZE;
    const type = r.u32(at + 4, 'sh_type');
    const offset = r.u64n(at + 24, 'sh_offset');
    const size = r.u64n(at + 32, 'sh_size');
    out.push({
      nameOff: r.u32(at, 'sh_name'),
      type,
      flags: r.u64n(at + 8, 'sh_flags'),
      offset,
      size,
      link: r.u32(at + 40, 'sh_link'),
      info: r.u32(at + 44, 'sh_info'),
      addralign: r.u64n(at + 48, 'sh_addralign'),
      entsize: r.u64n(at + 56, 'sh_entsize'),
      data: sectionData(r, type, offset, size),
    });
  }
  return out;
}

function sectionData(r: ByteReader, type: number, offset: number, size: number): Uint8Array {
  if (type === SHT_NULL) return new Uint8Array(0);
  if (type === SHT_NOBITS) {
    if (size > MAX_NOBITS) r.fail(`NOBITS size ${hex(size)} is larger than the ${MAX_NOBITS >> 20} MiB bpfrun accepts`);
    return new Uint8Array(size);
  }
  if (offset + size > r.length) r.fail(`contents (${size} bytes at ${hex(offset)}) are past the end of the file (${r.length} bytes)`);
  return r.bytes.subarray(offset, offset + size);
}

function sectionNames(file: ByteReader, raw: readonly RawSection[], shstrndx: number): string[] {
  const strtab = raw[shstrndx]!;
  if (strtab.type !== SHT_STRTAB) file.fail(`e_shstrndx ${shstrndx} is not a STRTAB section (type ${strtab.type})`);
  const names = new ByteReader(strtab.data, `section ${shstrndx} (section names)`);
  return raw.map((s, i) => {
    if (s.nameOff >= names.length) {
      throw new LoadError(`section ${i}`, `sh_name ${hex(s.nameOff)} is outside the section name table (${names.length} bytes)`);
    }
    return names.at(`section ${i}`).cstring(s.nameOff, 'sh_name');
  });
}

function makeSection(r: RawSection, index: number, name: string): ElfSection {
  const { nameOff: _, ...fields } = r;
  return Object.freeze({
    index,
    ...fields,
    name,
    isExec: (r.flags & SHF_EXECINSTR) !== 0,
    isWrite: (r.flags & SHF_WRITE) !== 0,
    isAlloc: (r.flags & SHF_ALLOC) !== 0,
  });
}

function where(s: ElfSection): string {
  return `section ${s.index} (${s.name})`;
}

function findSymtab(sections: readonly ElfSection[]): ElfSection | undefined {
  const all = sections.filter((s) => s.type === SHT_SYMTAB);
  if (all.length > 1) throw new LoadError(where(all[1]!), 'more than one SHT_SYMTAB section');
  return all[0];
}

// elf-loading.md §1.3: Elf64_Sym is 24 bytes.
function parseSymbols(sections: readonly ElfSection[], symtab: ElfSection): readonly ElfSymbol[] {
  const sr = new ByteReader(symtab.data, where(symtab));
  if (symtab.entsize !== SYM_SIZE) sr.fail(`sh_entsize ${symtab.entsize} is not ${SYM_SIZE}`);
  if (symtab.size % SYM_SIZE !== 0) sr.fail(`size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT_STRTAB) sr.fail(`sh_link ${symtab.link} is not a STRTAB section`);
  const names = new ByteReader(strtab.data, where(strtab));
  const out: ElfSymbol[] = [];
  for (let i = 0; i < symtab.size / SYM_SIZE; i++) {
    out.push(parseSymbol(sr.at(`symbol ${i}`), names, sections, i));
  }
  return Object.freeze(out);
}

function parseSymbol(r: ByteReader, names: ByteReader, sections: readonly ElfSection[], index: number): ElfSymbol {
  const at = index * SYM_SIZE;
  const nameOff = r.u32(at, 'st_name');
  const info = r.u8(at + 4);
  const other = r.u8(at + 5);
  const shndx = r.u16(at + 6, 'st_shndx');
  const value = r.u64n(at + 8, 'st_value');
  const size = r.u64n(at + 16, 'st_size');
  const type = info & 0xf;
  if (shndx === SHN_XINDEX) r.fail('extended section indices (SHN_XINDEX) are not supported');
  const section = shndx !== SHN_UNDEF && shndx < SHN_LORESERVE ? sections[shndx] : undefined;
  if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && !section) {
    r.fail(`st_shndx ${shndx} is not a section (${sections.length} sections)`);
  }
  if (nameOff >= names.length && nameOff !== 0) {
    r.fail(`st_name ${hex(nameOff)} is outside the string table (${names.length} bytes)`);
  }
  let name = names.length === 0 ? '' : names.at(`symbol ${index}`).cstring(nameOff, 'st_name');
  if (type === STT_SECTION && name === '') {
    if (!section) r.fail(`section symbol has st_shndx ${shndx}`);
    name = section.name;
  }
  // Functions and objects must lie inside their section (cilium/ebpf checks the same).
  if (section && (type === STT_FUNC || type === STT_OBJECT) && value + size > section.size) {
    r.fail(`'${name}' (${size} bytes at ${hex(value)}) extends past ${where(section)} (${section.size} bytes)`);
  }
  return Object.freeze({ index, name, value, size, bind: info >> 4, type, visibility: other & 3, shndx });
}

// elf-loading.md §1.4, §3.3 item 1: targets come from sh_info, never from the name.
function parseRelocations(
  sections: readonly ElfSection[], symbols: readonly ElfSymbol[], symtab: ElfSection | undefined,
): ReadonlyMap<number, readonly ElfRelocation[]> {
  const out = new Map<number, ElfRelocation[]>();
  for (const s of sections) {
    if (s.type === SHT_RELA) throw new LoadError(where(s), 'RELA relocations are not used by BPF objects');
    if (s.type !== SHT_REL) continue;
    const target = relocationTarget(s, sections, symtab);
    const list = out.get(target.index) ?? [];
    for (const rel of parseRelSection(s, target, symbols)) list.push(rel); // no spread: data-sized
    out.set(target.index, list);
  }
  for (const list of out.values()) Object.freeze(list);
  return out;
}

function relocationTarget(s: ElfSection, sections: readonly ElfSection[], symtab: ElfSection | undefined): ElfSection {
  const r = new ByteReader(s.data, where(s));
  if (s.entsize !== REL_SIZE) r.fail(`sh_entsize ${s.entsize} is not ${REL_SIZE}`);
  if (s.size % REL_SIZE !== 0) r.fail(`size ${s.size} is not a multiple of ${REL_SIZE}`);
  if (!symtab || s.link !== symtab.index) r.fail(`sh_link ${s.link} is not the symbol table`);
  const target = sections[s.info];
  if (s.info === 0 || !target) r.fail(`sh_info ${s.info} is not a section (${sections.length} sections)`);
  return target;
}

function parseRelSection(s: ElfSection, target: ElfSection, symbols: readonly ElfSymbol[]): ElfRelocation[] {
  const out: ElfRelocation[] = [];
  for (let i = 0; i < s.size / REL_SIZE; i++) {
    const r: ByteReader = new ByteReader(s.data, `${where(s)}, relocation ${i}`);
    const offset = r.u64n(i * REL_SIZE, 'r_offset');
    const type = r.u32(i * REL_SIZE + 8, 'r_info type');
    const symbolIndex = r.u32(i * REL_SIZE + 12, 'r_info symbol');
    const width = RELOC_WIDTH.get(type);
    if (width === undefined) r.fail(`unknown relocation type ${type}`);
    if (symbolIndex >= symbols.length) r.fail(`symbol index ${symbolIndex} is out of range (${symbols.length} symbols)`);
    if (offset + width > target.size) {
      r.fail(`offset ${hex(offset)} (+${width}) is past the end of ${where(target)} (${target.size} bytes)`);
    }
    out.push(Object.freeze({ offset, symbolIndex, type }));
  }
  return out;
}
