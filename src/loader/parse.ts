/**
 * Object file → ObjectSpec: program discovery, BTF-defined and internal maps, globals, externs,
 * relocation classification and subprogram linking, following libbpf
 * (elf-loading.md §1.1–§1.7, §2.4). Every failure is a LoadError naming the place.
 */
import { Btf, BtfComposite, parseBtf } from '../btf/btf.js';
import { BtfExt, LineInfo, parseBtfExt } from '../btf/ext.js';
import {
  ElfFile, ElfRelocation, ElfSection, ElfSymbol, parseElf, R_BPF_64_32, R_BPF_64_64, R_BPF_64_ABS64,
  SHN_LORESERVE, SHN_UNDEF, SHT_NOBITS, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE,
  STT_SECTION, STV_HIDDEN,
} from '../elf/elf.js';
import { BpfError, LoadError } from '../errors.js';
import { decode, Instruction, width } from '../isa/instruction.js';
import { BPF_MAX_SUBPROGS } from '../isa/validate.js';
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, OP_CALL, OP_LDDW,
} from '../isa/opcodes.js';
import type { MapSpec } from '../maps/types.js';
import { kconfigType, KconfigTypeInfo, layoutKconfig } from './kconfig.js';
import { hex, latin1Text } from '../text.js';
import {
  BPF_F_LINK, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_STRUCT_OPS, BPF_MAP_TYPE_USER_RINGBUF, PAGE_SIZE, U32_MAX,
} from '../uapi.js';
import { programTypeOf } from './sections.js';
import {
  ExternSpec, MapDefinition, ObjectSpec, PlacedFunction, ProgramSpec, ProgramType, StructOpsMember, VariableSpec,
} from './spec.js';

const TEXT = '.text';
const ARENA_SECTION = '.addr_space.1';
const KCONFIG = '.kconfig';
const STRUCT_OPS_SECTION = '.struct_ops';
const STRUCT_OPS_LINK_SECTION = '.struct_ops.link';

/** A function as it sits in its ELF section. */
interface SectionFunction {
  readonly name: string;
  readonly section: ElfSection;
  readonly start: number; // slot in section
  readonly length: number;
  readonly global: boolean;
}

/** One section's code, decoded once. */
interface SectionCode {
  readonly section: ElfSection;
  /** Instruction starting at each slot (undefined for second halves of ld_imm64). */
  readonly atSlot: ReadonlyArray<Instruction | undefined>;
  readonly relocs: ReadonlyMap<number, ElfRelocation>;
}

/** Parses an object file. `fileName` gives the object's name as libbpf derives it. */
export function parseObject(bytes: Uint8Array, fileName = 'object.o'): ObjectSpec {
  return new ObjectParser(bytes, fileName).parse();
}

class ObjectParser {
  private readonly elf: ElfFile;
  private readonly name: string;
  private btf?: Btf;
  private btfExt?: BtfExt;
  private readonly maps: MapDefinition[] = [];
  /** Map index by ELF section index (internal maps) and by .maps offset (BTF maps). */
  private readonly mapBySection = new Map<number, number>();
  private readonly mapByMapsOffset = new Map<number, number>();
  /** The BTF struct of each BTF-defined map, by map index. */
  private readonly mapStructs = new Map<number, BtfComposite>();
  private readonly externs: ExternSpec[] = [];
  private readonly externByName = new Map<string, number>();
  private readonly code = new Map<number, SectionCode>();
  private readonly functions: SectionFunction[] = [];
  /** By ELF section index: for each slot, the index in `functions` of the first function covering it, or -1. */
  private readonly functionBySlot = new Map<number, Int32Array>();
  private symbolIndex?: ReadonlyMap<string, ElfSymbol>;

  constructor(bytes: Uint8Array, fileName: string) {
    this.elf = parseElf(bytes);
    const base = fileName.split(/[\\/]/).pop() ?? fileName;
    this.name = base.split('.')[0] || 'object';
  }

  parse(): ObjectSpec {
    const { elf } = this;
    const btfSec = elf.sectionByName('.BTF');
    if (btfSec) this.btf = parseBtf(btfSec.data);
    const extSec = elf.sectionByName('.BTF.ext');
    if (extSec && this.btf) this.btfExt = parseBtfExt(extSec.data, this.btf);
    if (elf.sectionByName('maps')?.size) {
      throw new LoadError('section maps', 'legacy map definitions in \'maps\' section are not supported');
    }
    this.collectCode();
    this.collectBtfMaps();
    this.collectInternalMaps();
    this.collectExterns();
    this.collectStructOps();
    const variables = this.collectVariables();
    const programs = this.adjustStructOpsPrograms(this.functions
      .filter((f) => f.section.name !== TEXT)
      .map((f) => this.linkProgram(f)));
    this.collectProgArrayInits(programs);
    const license = elf.sectionByName('license');
    const arena = elf.sectionByName(ARENA_SECTION);
    const btfExt = this.btfExt;
    const lines = btfExt && new LineIndex(btfExt);
    const spec: ObjectSpec = {
      name: this.name,
      license: license ? cString(license.data) : '',
      programs,
      maps: this.maps,
      variables,
      externs: this.externs,
      btf: this.btf,
      btfExt,
      arenaData: arena?.data.slice(),
      lineOf: (prog, slot) => {
        const f = functionAt(prog, slot);
        return f && lines ? lines.at(f, f.sectionSlot + slot - f.start) : undefined;
      },
      originOf: (prog, slot) => {
        const f = functionAt(prog, slot);
        return f && { section: f.section, slot: f.sectionSlot + slot - f.start, function: f.name };
      },
    };
    return Object.freeze(spec);
  }

  // ---- programs and functions (§1.1, §1.3) ----

  private collectCode(): void {
    const { elf } = this;
    for (const section of elf.sections) {
      if (!section.isExec || section.size === 0) continue;
      if (section.size % 8 !== 0) throw new LoadError(`section ${section.name}`, `size ${section.size} is not a multiple of 8`);
      let insns: Instruction[];
      try {
        insns = decode(section.data);
      } catch (e) {
        // Bad bytes are the object's fault; anything else (a TypeError) is a bug in bpfrun, not a load error.
        if (!(e instanceof BpfError)) throw e;
        throw new LoadError(`section ${section.name}`, e.message, { cause: e });
      }
      const atSlot: Array<Instruction | undefined> = [];
      for (const i of insns) { atSlot.push(i); if (width(i) === 2) atSlot.push(undefined); }
      const relocs = new Map<number, ElfRelocation>();
      (elf.relocations.get(section.index) ?? []).forEach((r, k) => {
        if (r.offset % 8 !== 0) throw new LoadError(`relocation ${k} of ${section.name}`, `offset ${r.offset} is not instruction-aligned`);
        relocs.set(r.offset / 8, r);
      });
      this.code.set(section.index, { section, atSlot, relocs });
    }
    for (const sym of elf.symbols) {
      if (sym.type !== STT_FUNC) continue;
      const code = this.code.get(sym.shndx);
      if (!code) continue;
      const where = `function ${sym.name} in ${code.section.name}`;
      if (sym.value % 8 !== 0 || sym.size % 8 !== 0 || sym.size === 0) throw new LoadError(where, 'offset and size must be whole instructions');
      if (sym.value + sym.size > code.section.size) throw new LoadError(where, 'extends past the end of its section');
      if (code.section.name !== TEXT && sym.bind === STB_LOCAL) {
        throw new LoadError(where, 'program is static and not supported'); // libbpf's rule
      }
      this.functions.push({
        name: sym.name, section: code.section, start: sym.value / 8, length: sym.size / 8,
        global: sym.bind !== STB_LOCAL && sym.visibility !== STV_HIDDEN,
      });
    }
    this.functions.sort((a, b) => a.section.index - b.section.index || a.start - b.start);
    // One sweep per section, so finding a call's target is constant time, not a search of
    // every function (100 000 functions made linking quadratic). Sorted by start, the first
    // function covering a slot is the earliest-starting one: each slot is written once.
    let reach = 0;
    this.functions.forEach((f, k) => {
      let table = this.functionBySlot.get(f.section.index);
      if (!table) {
        table = new Int32Array(f.section.size / 8).fill(-1);
        this.functionBySlot.set(f.section.index, table);
        reach = 0;
      }
      for (let slot = Math.max(f.start, reach); slot < f.start + f.length; slot++) table[slot] = k;
      reach = Math.max(reach, f.start + f.length);
    });
  }

  /** libbpf's append model: the entry function, then each subprogram it reaches, once. */
  private linkProgram(entry: SectionFunction): ProgramSpec {
    // One entry per slot (undefined for the second half of an ld_imm64), so slot arithmetic
    // for call offsets stays direct; the halves are dropped at the end.
    const out: Array<Instruction | undefined> = [];
    const placed: PlacedFunction[] = [];
    const placedFrom: SectionFunction[] = [];
    const placedAt = new Map<SectionFunction, number>();
    const mapRefs = new Set<number>();
    const place = (f: SectionFunction): number => {
      // The kernel's add_subprog: "too many subprograms" (E2BIG) past BPF_MAX_SUBPROGS.
      if (placed.length === BPF_MAX_SUBPROGS) {
        throw new LoadError(`program ${entry.name}`, `too many subprograms: ${f.name} would be number ${BPF_MAX_SUBPROGS + 1}, past BPF_MAX_SUBPROGS (${BPF_MAX_SUBPROGS})`);
      }
      const start = out.length;
      placedAt.set(f, start);
      placedFrom.push(f);
      placed.push({ name: f.name, start, length: f.length, section: f.section.name, sectionSlot: f.start });
      const code = this.code.get(f.section.index)!;
      if (code.atSlot[f.start] === undefined) throw new LoadError(`function ${f.name}`, 'starts in the middle of an ld_imm64');
      for (let s = f.start; s < f.start + f.length; s++) out.push(code.atSlot[s]);
      return start;
    };
    place(entry);
    // Walk the growing program; appended functions get processed as the walk reaches them.
    for (let k = 0; k < placed.length; k++) {
      const f = placed[k];
      const sf = placedFrom[k]!;
      const code = this.code.get(sf.section.index)!;
      for (let s = 0; s < f.length; s++) {
        const at = f.start + s;
        const ins = code.atSlot[f.sectionSlot + s];
        if (ins === undefined) continue;
        const reloc = code.relocs.get(f.sectionSlot + s);
        const where = `${code.section.name} instruction ${f.sectionSlot + s} (in ${f.name})`;
        const callTarget = (target: SectionFunction, targetSlot: number): number => {
          const start = placedAt.get(target) ?? place(target);
          return start + (targetSlot - target.start) - at - 1;
        };
        if (reloc) {
          out[at] = this.applyReloc(ins, reloc, where, code, mapRefs, callTarget);
        } else if (ins.opcode === OP_CALL && ins.src === BPF_PSEUDO_CALL) {
          // A call without relocation is pc-relative inside its own section (§1.4).
          const targetSlot = f.sectionSlot + s + ins.imm + 1;
          const target = this.functionAt(code.section, targetSlot, where);
          out[at] = { ...ins, imm: callTarget(target, targetSlot) };
        }
      }
    }
    const insns = out.filter((ins): ins is Instruction => ins !== undefined);
    const t = programTypeOf(entry.section.name);
    return Object.freeze({
      name: entry.name,
      section: t.section,
      type: t.type,
      autoload: t.autoload,
      insns,
      functions: placed,
      mapRefs: [...mapRefs].sort((a, b) => a - b),
    });
  }

  /** The first symbol named `name` in section `shndx`, through an index built once. */
  private symbolIn(shndx: number, name: string): ElfSymbol | undefined {
    this.symbolIndex ??= firstByName(this.elf.symbols, (sym) => `${sym.shndx}\0${sym.name}`);
    return this.symbolIndex.get(`${shndx}\0${name}`);
  }

  private functionAt(section: ElfSection, slot: number, where: string): SectionFunction {
    const k = this.functionBySlot.get(section.index)?.[slot] ?? -1;
    const f = k >= 0 ? this.functions[k] : undefined;
    if (!f) throw new LoadError(where, `call target ${slot} in ${section.name} is not inside a function`);
    if (section.name !== TEXT) throw new LoadError(where, `call into ${section.name}: subprograms must be in .text`);
    return f;
  }

  // ---- relocations (§1.5, §1.6) ----

  private applyReloc(ins: Instruction, reloc: ElfRelocation, where: string, code: SectionCode, mapRefs: Set<number>,
    callTarget: (target: SectionFunction, targetSlot: number) => number): Instruction {
    const sym = this.elf.symbols[reloc.symbolIndex];
    const isCall = ins.opcode === OP_CALL;
    if (!isCall && ins.opcode !== OP_LDDW) {
      throw new LoadError(where, `relocation against ${sym.name || 'a symbol'} sits on opcode ${hex(ins.opcode)}, not a call or ld_imm64`);
    }
    const type = reloc.type;
    if (type !== (isCall ? R_BPF_64_32 : R_BPF_64_64)) {
      throw new LoadError(where, `relocation type ${type} is not valid on ${isCall ? 'a call' : 'ld_imm64'}`);
    }
    if (isExtern(sym)) {
      const ext = this.externByName.get(sym.name);
      if (ext === undefined) throw new LoadError(where, `extern ${sym.name} has no BTF declaration`);
      const spec = this.externs[ext];
      if (isCall) {
        if (spec.kind !== 'kfunc') throw new LoadError(where, `call to ${sym.name}, which is not a function`);
        return { ...ins, src: BPF_PSEUDO_KFUNC_CALL, imm: ext, off: 0 };
      }
      if (spec.kind === 'kconfig') {
        const kc = this.mapBySection.get(-1)!;
        mapRefs.add(kc);
        return { ...ins, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: kc, imm2: spec.offset! };
      }
      return { ...ins, src: BPF_PSEUDO_BTF_ID, imm: ext, imm2: 0 };
    }
    if (isCall) {
      const section = this.elf.sections[sym.shndx];
      if (ins.src !== BPF_PSEUDO_CALL || !section || section.name !== TEXT || sym.value % 8 !== 0) {
        throw new LoadError(where, `call relocation against ${sym.name}: not a function in .text`);
      }
      const targetSlot = sym.value / 8 + ins.imm + 1;
      return { ...ins, imm: callTarget(this.functionAt(section, targetSlot, where), targetSlot) };
    }
    if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE) {
      throw new LoadError(where, `relocation against ${sym.name} in section ${sym.shndx} (forgot to initialize a global variable?)`);
    }
    const section = this.elf.sections[sym.shndx];
    if (!section) throw new LoadError(where, `symbol ${sym.name} is in a section that does not exist`);
    if (section.name === TEXT && (sym.type === STT_SECTION || sym.type === STT_FUNC)) {
      // A callback: a function address, which the kernel marks BPF_PSEUDO_FUNC.
      const targetSlot = (sym.value + ins.imm) / 8;
      if (!Number.isInteger(targetSlot)) throw new LoadError(where, 'function address is not instruction-aligned');
      return { ...ins, src: BPF_PSEUDO_FUNC, imm: callTarget(this.functionAt(section, targetSlot, where), targetSlot), imm2: 0 };
    }
    if (section.name === '.maps') {
      const m = this.mapByMapsOffset.get(sym.value);
      if (m === undefined) throw new LoadError(where, `${sym.name} is not a map definition in .maps`);
      mapRefs.add(m);
      return { ...ins, src: BPF_PSEUDO_MAP_IDX, imm: m, imm2: 0 };
    }
    if (section.name === ARENA_SECTION) {
      // Arena globals: a value of the arena map at the offset inside .addr_space.1; the load
      // adds where the globals sit in the arena. elf-loading.md §1.5, §1.8
      const arena = this.maps.findIndex((m) => m.type === BPF_MAP_TYPE_ARENA);
      if (arena < 0) throw new LoadError(where, `${sym.name} is an __arena global but the object has no arena map`);
      mapRefs.add(arena);
      return { ...ins, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: arena, imm2: ins.imm + sym.value };
    }
    const m = this.mapBySection.get(section.index);
    if (m === undefined) throw new LoadError(where, `relocation against ${sym.name} in section ${section.name}, which is not data`);
    mapRefs.add(m);
    const offset = ins.imm + sym.value;
    if (offset < 0 || offset > this.maps[m].valueSize) throw new LoadError(where, `offset ${offset} is outside ${section.name}`);
    return { ...ins, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: m, imm2: offset };
  }

  // ---- maps (§2.4) ----

  private collectBtfMaps(): void {
    this.collectBtfMapDefs();
    if (this.maps.filter((m) => m.type === BPF_MAP_TYPE_ARENA).length > 1) {
      throw new LoadError('section .maps', 'only one arena map per object is supported (as libbpf)');
    }
  }

  private collectBtfMapDefs(): void {
    const section = this.elf.sectionByName('.maps');
    if (!section) return;
    const btf = this.btf;
    const datasec = btf?.datasec('.maps');
    if (!btf || !datasec) throw new LoadError('section .maps', 'BTF-defined maps need .BTF with a .maps DATASEC');
    for (const v of datasec.vars) {
      const variable = btf.type(v.type);
      if (variable.kind !== 'VAR') throw new LoadError('DATASEC .maps', `entry ${v.type} is not a VAR`);
      const name = variable.name;
      const sym = this.symbolIn(section.index, name);
      if (!sym) throw new LoadError(`map ${name}`, 'no symbol in .maps');
      const def = btf.resolve(variable.type);
      if (def.kind !== 'STRUCT') throw new LoadError(`map ${name}`, `definition is a ${def.kind}, not a struct`);
      const spec = parseMapDef(btf, name, def);
      this.mapByMapsOffset.set(sym.value, this.maps.length);
      this.mapStructs.set(this.maps.length, def);
      this.maps.push(Object.freeze({ ...spec, origin: 'btf', section: '.maps', initialPrograms: [] }));
    }
  }

  /** One ARRAY map per .data*, .rodata*, .bss* section (libbpf's internal maps, §1.1). */
  private collectInternalMaps(): void {
    for (const section of this.elf.sections) {
      const origin = internalOrigin(section.name);
      if (!origin || section.size === 0) continue;
      if (section.isExec) continue;
      const hasDatasec = this.btf?.datasec(section.name) !== undefined;
      const flags = origin === 'rodata'
        ? BPF_F_RDONLY_PROG | (hasDatasec ? BPF_F_MMAPABLE : 0) // .rodata.str1.1 has no DATASEC: not mmapable
        : BPF_F_MMAPABLE;
      this.mapBySection.set(section.index, this.maps.length);
      this.maps.push(Object.freeze({
        name: internalMapName(this.name, section.name),
        type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: section.size, maxEntries: 1, flags, mapExtra: 0n,
        initialValue: section.type === SHT_NOBITS ? undefined : section.data.slice(),
        origin, section: section.name, initialPrograms: [],
      }));
    }
  }

  /**
   * struct_ops maps: one STRUCT_OPS map per variable of a `.struct_ops[.link]` section (a leading
   * `?`: not autocreated), function-pointer members from `.rel.struct_ops*` (libbpf
   * init_struct_ops_maps and bpf_object__collect_st_ops_relos; sched-ext.md §1.4,
   * elf-loading.md §1.9).
   */
  private collectStructOps(): void {
    for (const section of this.elf.sections) {
      const bare = section.name.startsWith('?') ? section.name.slice(1) : section.name;
      if (bare !== STRUCT_OPS_SECTION && bare !== STRUCT_OPS_LINK_SECTION) continue;
      const where = `section ${section.name}`;
      const btf = this.btf;
      if (!btf) throw new LoadError(where, 'struct_ops maps need .BTF');
      const datasec = btf.datasec(section.name);
      if (!datasec) throw new LoadError(where, 'has no BTF DATASEC');
      if (section.type === SHT_NOBITS) throw new LoadError(where, 'has no data (SHT_NOBITS)');
      const link = bare === STRUCT_OPS_LINK_SECTION;
      const mine: Array<{ index: number; offset: number; size: number; struct: BtfComposite; members: Array<{ -readonly [K in keyof StructOpsMember]: StructOpsMember[K] }> }> = [];
      for (const v of datasec.vars) {
        const variable = btf.type(v.type);
        if (variable.kind !== 'VAR') throw new LoadError(where, `DATASEC entry [${v.type}] is a ${variable.kind}, not a VAR`);
        const vwhere = `struct_ops variable ${variable.name} in ${section.name}`;
        const struct = btf.resolve(variable.type);
        if (struct.kind !== 'STRUCT') throw new LoadError(vwhere, `is a ${struct.kind}, not a struct`);
        // clang leaves DATASEC offsets 0; libbpf's btf_fixup_datasec takes them from the symbols,
        // which is where a second variable of the section really is.
        const sym = variable.linkage === 'static' ? undefined : this.symbolIn(section.index, variable.name);
        const offset = sym ? sym.value : v.offset;
        if (offset + struct.size > section.size) {
          throw new LoadError(vwhere, `[${offset}, ${offset + struct.size}) is outside the section (${section.size} bytes)`);
        }
        const members = struct.members.map((m, index) => {
          const mt = btf.resolve(m.type);
          const isFuncPtr = mt.kind === 'PTR' && btf.resolve(mt.type).kind === 'FUNC_PROTO';
          if (m.bitfieldSize) throw new LoadError(vwhere, `member ${m.name} is a bitfield (libbpf refuses struct_ops bitfields)`);
          return { name: m.name, index, offset: m.bitOffset / 8, size: btf.sizeOf(m.type), kind: isFuncPtr ? 'program' as const : 'data' as const, typeId: m.type, program: undefined as string | undefined };
        });
        mine.push({ index: this.maps.length, offset, size: struct.size, struct, members });
        this.maps.push(Object.freeze({
          name: variable.name, type: BPF_MAP_TYPE_STRUCT_OPS, keySize: 4, valueSize: struct.size, maxEntries: 1,
          flags: link ? BPF_F_LINK : 0, mapExtra: 0n, valueTypeId: variable.type,
          initialValue: section.data.slice(offset, offset + struct.size),
          origin: 'struct_ops', section: section.name, initialPrograms: [],
          structOps: { typeName: struct.name, typeId: struct.id, link, autocreate: section.name === bare, sectionOffset: offset, members: [] },
        }));
      }
      (this.elf.relocations.get(section.index) ?? []).forEach((r, k) => {
        const rwhere = `relocation ${k} of ${section.name} at ${hex(r.offset)}`;
        if (r.type !== R_BPF_64_ABS64) throw new LoadError(rwhere, `relocation type ${r.type} is not R_BPF_64_ABS64`);
        const owner = mine.find((m) => r.offset >= m.offset && r.offset < m.offset + m.size);
        if (!owner) throw new LoadError(rwhere, 'is not inside a struct_ops variable');
        const def = this.maps[owner.index];
        const moff = r.offset - owner.offset;
        const member = owner.members.find((m) => m.offset === moff);
        if (!member) throw new LoadError(rwhere, `struct_ops map ${def.name}: no member of ${owner.struct.name} at offset ${moff}`);
        if (member.kind !== 'program') throw new LoadError(rwhere, `struct_ops map ${def.name}: member ${member.name} is not a function pointer`);
        const sym = this.elf.symbols[r.symbolIndex];
        if (!sym || sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE) {
          throw new LoadError(rwhere, `struct_ops map ${def.name}.${member.name}: symbol ${sym?.name ?? r.symbolIndex} is undefined or in a reserved section`);
        }
        const fn = this.functions.find((f) => f.section.index === sym.shndx && f.start * 8 === sym.value);
        const owningSection = this.elf.sections[sym.shndx];
        if (!fn || fn.section.name === TEXT) {
          throw new LoadError(rwhere, `struct_ops map ${def.name}.${member.name}: symbol ${sym.name} (in ${owningSection?.name ?? sym.shndx}) is not a program`);
        }
        if (programTypeOf(fn.section.name).type.name !== 'struct_ops') {
          throw new LoadError(rwhere, `struct_ops map ${def.name}.${member.name}: program ${fn.name} (SEC("${fn.section.name}")) is not a struct_ops program`);
        }
        member.program = fn.name;
      });
      for (const m of mine) {
        const def = this.maps[m.index];
        const members = m.members.map((x) => Object.freeze({ ...x }));
        this.maps[m.index] = Object.freeze({ ...def, structOps: Object.freeze({ ...def.structOps!, members: Object.freeze(members) }) });
      }
    }
  }

  /**
   * libbpf's bpf_object_adjust_struct_ops_autoload: a struct_ops program some struct_ops map
   * references is loaded iff one of those maps is created (a `?` on its own section does not
   * matter then); one no map references keeps its own autoload (the kernel then refuses it:
   * instantiate's checkStructOpsProgram). Each gets the map members that point at it.
   */
  private adjustStructOpsPrograms(programs: ProgramSpec[]): ProgramSpec[] {
    const refs = new Map<string, Array<{ map: string; member: string }>>();
    const used = new Set<string>();
    for (const def of this.maps) {
      for (const m of def.structOps?.members ?? []) {
        if (m.program === undefined) continue;
        if (!refs.has(m.program)) refs.set(m.program, []);
        refs.get(m.program)!.push({ map: def.name, member: m.name });
        if (def.structOps!.autocreate) used.add(m.program);
      }
    }
    return programs.map((p) => p.type.name !== 'struct_ops' ? p : Object.freeze({
      ...p,
      autoload: refs.has(p.name) ? used.has(p.name) : p.autoload,
      structOpsRefs: Object.freeze(refs.get(p.name) ?? []),
    }));
  }

  /** Externs: UND symbols, typed through the .ksyms / .kconfig DATASECs (§1.1, §1.3). */
  private collectExterns(): void {
    const btf = this.btf;
    const kconfig = btf?.datasec(KCONFIG);
    // By name, the first of each, as a search would find it (one search per extern was quadratic).
    const kconfigVars = btf && kconfig && firstByName(kconfig.vars, (v) => btf.type(v.type).name);
    const kconfigExterns: Array<KconfigTypeInfo & { name: string; weak: boolean; index: number }> = [];
    for (const sym of this.elf.symbols) {
      if (!isExtern(sym)) continue;
      const where = `extern ${sym.name}`;
      if (!btf) throw new LoadError(where, 'externs need .BTF');
      const weak = sym.bind === STB_WEAK;
      const func = btf.findByName(sym.name, 'FUNC');
      let spec: ExternSpec;
      if (func && func.linkage === 'extern') {
        spec = { name: sym.name, kind: 'kfunc', weak, typeId: func.type };
      } else {
        const entry = kconfigVars?.get(sym.name);
        if (entry) {
          const variable = btf.type(entry.type);
          const typeId = variable.kind === 'VAR' ? variable.type : entry.type;
          const info = kconfigType(btf, typeId);
          if (!info) throw new LoadError(where, 'type is unsupported (a __kconfig extern is a bool, char, integer, libbpf_tristate or char array)');
          kconfigExterns.push({ ...info, name: sym.name, weak, index: this.externs.length });
          spec = { name: sym.name, kind: 'kconfig', weak, offset: 0, size: info.size, typeId };
        } else {
          spec = { name: sym.name, kind: 'ksym', weak };
        }
      }
      this.externByName.set(sym.name, this.externs.length);
      this.externs.push(Object.freeze(spec));
    }
    // libbpf's layout of the .kconfig map (§5.1): alignment descending, size ascending, name.
    const { slots, size: kconfigSize } = layoutKconfig(kconfigExterns);
    const indexOf = new Map(kconfigExterns.map((e) => [e.name, e.index]));
    for (const slot of slots) {
      const index = indexOf.get(slot.name)!;
      this.externs[index] = Object.freeze({ ...this.externs[index], offset: slot.offset });
    }
    if (kconfigSize > 0) {
      this.mapBySection.set(-1, this.maps.length);
      this.maps.push(Object.freeze({
        name: internalMapName(this.name, KCONFIG), type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: kconfigSize,
        maxEntries: 1, flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, mapExtra: 0n,
        origin: 'kconfig', section: KCONFIG, initialPrograms: [],
      }));
    }
  }

  /** Global variables by BTF name, with offsets from the symtab for globals (§2.1 notes). */
  private collectVariables(): VariableSpec[] {
    const btf = this.btf;
    if (!btf) return [];
    const out: VariableSpec[] = [];
    for (const section of this.elf.sections) {
      const isArena = section.name === ARENA_SECTION;
      const mapIndex = isArena ? this.maps.findIndex((m) => m.type === BPF_MAP_TYPE_ARENA) : this.mapBySection.get(section.index);
      if (mapIndex === undefined || mapIndex < 0) continue;
      const datasec = btf.datasec(section.name);
      if (!datasec) continue;
      for (const v of datasec.vars) {
        const variable = btf.type(v.type);
        if (variable.kind !== 'VAR') continue;
        const sym = variable.linkage === 'static' ? undefined
          : this.symbolIn(section.index, variable.name);
        const offset = sym ? sym.value : v.offset;
        const size = v.size || btf.sizeOf(variable.type);
        if (offset + size > section.size) {
          throw new LoadError(`variable ${variable.name}`, `[${offset}, ${offset + size}) is outside ${section.name} (${section.size} bytes)`);
        }
        out.push(Object.freeze({ name: variable.name, section: section.name, mapIndex, offset, size, typeId: variable.type }));
      }
    }
    return out;
  }

  /** PROG_ARRAY `values` initialisers: R_BPF_64_ABS64 in .rel.maps (§2.4). */
  private collectProgArrayInits(programs: readonly ProgramSpec[]): void {
    const section = this.elf.sectionByName('.maps');
    if (!section) return;
    for (const r of this.elf.relocations.get(section.index) ?? []) {
      const where = `.rel.maps at ${hex(r.offset)}`;
      if (r.type !== R_BPF_64_ABS64) throw new LoadError(where, `relocation type ${r.type} is not R_BPF_64_ABS64`);
      const owner = [...this.mapByMapsOffset.entries()].filter(([off]) => off <= r.offset).sort((a, b) => b[0] - a[0])[0];
      if (!owner) throw new LoadError(where, 'not inside a map definition');
      const [mapOff, index] = owner;
      const def = this.maps[index];
      const sym = this.elf.symbols[r.symbolIndex];
      const values = this.mapStructs.get(index)!.members.find((m) => m.name === 'values');
      if (!values) throw new LoadError(where, `map ${def.name} has no values member`);
      const slot = (r.offset - mapOff - values.bitOffset / 8) / 8;
      if (!Number.isInteger(slot) || slot < 0 || slot >= def.maxEntries) throw new LoadError(where, `slot ${slot} is outside map ${def.name}`);
      if (def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || def.type === BPF_MAP_TYPE_HASH_OF_MAPS) {
        // libbpf init_map_in_map_slots: slot i gets the map the symbol names (key i).
        const inner = this.maps.find((m) => m.origin === 'btf' && m.name === sym.name);
        if (!inner) throw new LoadError(where, `map ${def.name} slot ${slot} points to ${sym.name}, which is not a map`);
        this.maps[index] = Object.freeze({ ...def, initialMaps: [...(def.initialMaps ?? []), { slot, map: sym.name }] });
        continue;
      }
      if (def.type !== BPF_MAP_TYPE_PROG_ARRAY) throw new LoadError(where, `map ${def.name}: initial values are only for PROG_ARRAY and map-in-map maps`);
      if (!programs.some((p) => p.name === sym.name)) throw new LoadError(where, `map ${def.name} slot ${slot} points to ${sym.name}, which is not a program`);
      this.maps[index] = Object.freeze({ ...def, initialPrograms: [...def.initialPrograms, { slot, program: sym.name }] });
    }
  }
}

/** Reads a BTF map definition struct (libbpf parse_btf_map_def, §2.4). */
function parseMapDef(btf: Btf, name: string, def: BtfComposite): MapSpec {
  const where = `map ${name}`;
  const spec: { -readonly [K in keyof MapSpec]: MapSpec[K] } = {
    name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, mapExtra: 0n,
  };
  let keySizeSet = false, valueSizeSet = false;
  const uint = (member: string, typeId: number): number => {
    const ptr = btf.type(typeId);
    const arr = ptr.kind === 'PTR' ? btf.type(ptr.type) : undefined;
    if (!arr || arr.kind !== 'ARRAY') throw new LoadError(where, `attr '${member}': expected PTR to ARRAY, got ${ptr.kind}`);
    return arr.nelems;
  };
  const typed = (member: string, typeId: number): { id: number; size: number } => {
    const ptr = btf.type(typeId);
    if (ptr.kind !== 'PTR') throw new LoadError(where, `attr '${member}': expected PTR, got ${ptr.kind}`);
    return { id: ptr.type, size: btf.sizeOf(ptr.type) };
  };
  for (const m of def.members) {
    switch (m.name) {
      case 'type': spec.type = uint(m.name, m.type); break;
      case 'max_entries': spec.maxEntries = uint(m.name, m.type); break;
      case 'map_flags': spec.flags = uint(m.name, m.type); break;
      case 'numa_node': spec.numaNode = uint(m.name, m.type); break;
      case 'pinning': spec.pinning = uint(m.name, m.type); break;
      case 'key_size': spec.keySize = uint(m.name, m.type); keySizeSet = true; break;
      case 'value_size': spec.valueSize = uint(m.name, m.type); valueSizeSet = true; break;
      case 'key': {
        const t = typed(m.name, m.type);
        if (keySizeSet && spec.keySize !== t.size) throw new LoadError(where, `conflicting key size ${spec.keySize} != ${t.size}`);
        spec.keySize = t.size; spec.keyTypeId = t.id;
        break;
      }
      case 'value': {
        const t = typed(m.name, m.type);
        if (valueSizeSet && spec.valueSize !== t.size) throw new LoadError(where, `conflicting value size ${spec.valueSize} != ${t.size}`);
        spec.valueSize = t.size; spec.valueTypeId = t.id;
        break;
      }
      case 'values': {
        const arr = btf.type(m.type);
        if (arr.kind !== 'ARRAY' || arr.nelems !== 0) throw new LoadError(where, "attr 'values': expected a flexible ARRAY");
        if (m !== def.members[def.members.length - 1]) throw new LoadError(where, "'values' must be the last member");
        if (valueSizeSet && spec.valueSize !== 4) throw new LoadError(where, `conflicting value size ${spec.valueSize} != 4`);
        spec.valueSize = 4;
        // Map-in-map: `__array(values, struct {...})` is an array of pointers to the inner map's
        // definition, which libbpf creates as the template `<outer>.inner`
        // (parse_btf_map_def's inner_def; maps-and-kernel-objects §2.4).
        const elem = btf.type(arr.type);
        const inner = elem.kind === 'PTR' ? btf.resolve(elem.type) : undefined;
        if (inner?.kind === 'STRUCT') spec.innerMap = parseMapDef(btf, `${name}.inner`, inner);
        break;
      }
      case 'map_extra': {
        const t = btf.type(m.type);
        if (t.kind === 'PTR') spec.mapExtra = BigInt(uint(m.name, m.type));
        else if ((t.kind === 'ENUM' || t.kind === 'ENUM64') && t.values.length === 1) spec.mapExtra = BigInt.asUintN(64, BigInt(t.values[0].value));
        else throw new LoadError(where, `attr 'map_extra': expected PTR or a one-value ENUM/ENUM64, got ${t.kind}`);
        break;
      }
      default:
        throw new LoadError(where, `unknown attribute '${m.name}'`);
    }
  }
  if (spec.type === 0) throw new LoadError(where, "missing 'type'");
  if (spec.type === BPF_MAP_TYPE_RINGBUF || spec.type === BPF_MAP_TYPE_USER_RINGBUF) spec.maxEntries = adjustRingbufSize(spec.maxEntries);
  return Object.freeze(spec);
}

/**
 * libbpf's adjust_ringbuf_sz (fill_map_from_def, bpf_map__set_max_entries): a ring buffer's
 * size is rounded up to a power-of-2 multiple of the page size; 0 stays 0 (the kernel refuses
 * it), and a size no such multiple can hold is left for the kernel to refuse.
 */
export function adjustRingbufSize(size: number): number {
  if (size === 0) return 0;
  if (size % PAGE_SIZE === 0 && isPowerOf2(size / PAGE_SIZE)) return size;
  for (let mul = 1; mul <= Math.floor(U32_MAX / PAGE_SIZE); mul *= 2) if (mul * PAGE_SIZE > size) return mul * PAGE_SIZE;
  return size;
}

function isPowerOf2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function isExtern(sym: ElfSymbol): boolean {
  return sym.shndx === SHN_UNDEF && sym.type === STT_NOTYPE && (sym.bind === STB_GLOBAL || sym.bind === STB_WEAK) && sym.name !== '';
}

function internalOrigin(name: string): 'data' | 'rodata' | 'bss' | undefined {
  if (name === '.data' || name.startsWith('.data.')) return 'data';
  if (name === '.rodata' || name.startsWith('.rodata.')) return 'rodata';
  if (name === '.bss' || name.startsWith('.bss.')) return 'bss';
  return undefined;
}

/**
 * libbpf internal_map_name: a prefix of the object name, then the section name, in 15
 * characters. The suffix always reserves 7 characters (so `.bss` maps get 8 characters of the
 * object name, `net_extr.bss`, and `.kconfig` 7); a section with a second dot (`.rodata.foo`,
 * a custom section) gets no prefix. elf-loading.md §2.4, libbpf.c internal_map_name
 */
export function internalMapName(objName: string, section: string): string {
  const suffix = Math.min(Math.max(7, section.length), 15);
  const prefix = section.indexOf('.', 1) >= 0 ? 0 : Math.min(16 - suffix - 1, objName.length);
  // Characters the kernel does not allow in a map name become '_'.
  return (objName.slice(0, prefix) + section.slice(0, suffix)).replace(/[^A-Za-z0-9_.]/g, '_');
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return latin1Text(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Each item under its key, the first one where keys repeat. */
function firstByName<T>(items: readonly T[], key: (item: T) => string): ReadonlyMap<string, T> {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (!out.has(k)) out.set(k, item);
  }
  return out;
}

function functionAt(prog: ProgramSpec, slot: number): PlacedFunction | undefined {
  return prog.functions.find((p) => slot >= p.start && slot < p.start + p.length);
}

/** Line records by section, sorted by offset once, so a lookup is a binary search (disasm asks per instruction). */
class LineIndex {
  private readonly sorted = new Map<string, readonly LineInfo[]>();
  constructor(private readonly ext: BtfExt) {}

  /** The line record covering a section slot: the last one at or before it in its function (§2.5). */
  at(f: PlacedFunction, sectionSlot: number): LineInfo | undefined {
    let list = this.sorted.get(f.section);
    if (!list) {
      // A stable sort: of records at the same offset, the later one wins, as it always has.
      list = [...(this.ext.lineInfo.get(f.section) ?? [])].sort((a, b) => a.insnOff - b.insnOff);
      this.sorted.set(f.section, list);
    }
    let lo = 0;
    let hi = list.length; // the first record past sectionSlot
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.insnOff / 8 <= sectionSlot) lo = mid + 1;
      else hi = mid;
    }
    const best = list[lo - 1];
    return best && best.insnOff / 8 >= f.sectionSlot ? best : undefined;
  }
}

export type { ProgramType };
