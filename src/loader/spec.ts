/**
 * The immutable description of an object file, as parsing produces it (elf-loading.md §1–§2).
 * Nothing here depends on the running system: instantiating maps, resolving kfuncs against a
 * registry and running programs happen in the loaded object (src/object.ts).
 */
import type { Btf } from '../btf/btf.js';
import type { BtfExt, LineInfo } from '../btf/ext.js';
import type { Instruction } from '../isa/instruction.js';
import type { MapSpec } from '../maps/types.js';

export interface ProgramType {
  /** libbpf's name for the type ("syscall", "sched_cls", "struct_ops", ...), or "unknown". */
  readonly name: string;
  /** The kernel's enum bpf_prog_type value, 0 when unknown. */
  readonly id: number;
  readonly sleepable: boolean;
}

/** Where a slot of a linked program came from: its section and slot there. */
export interface CodeOrigin {
  readonly section: string;
  readonly slot: number;
}

/** One function placed in a linked program (the entry first, then appended subprograms). */
export interface PlacedFunction {
  readonly name: string;
  /** First slot in the linked program. */
  readonly start: number;
  /** Slot count. */
  readonly length: number;
  readonly section: string;
  /** First slot in its ELF section. */
  readonly sectionSlot: number;
}

/** A slot a failed CO-RE relocation poisoned (src/loader/core.ts): libbpf's log for it. */
export interface CorePoison {
  /** bpf_core_format_spec of the local spec: `<byte_off> [7] struct foo.x (0:1 @ offset 4)`. */
  readonly relocation: string;
  /** The record's section and index in it. */
  readonly section: string;
  readonly index: number;
}

export interface ProgramSpec {
  readonly name: string;
  /** SEC() name without a leading '?'. */
  readonly section: string;
  readonly type: ProgramType;
  /** False for '?'-prefixed sections (libbpf does not load them by default). */
  readonly autoload: boolean;
  /**
   * The linked program: the entry function, then every subprogram it reaches (libbpf's append
   * model, elf-loading.md §1.7), with relocations applied as pseudo forms:
   * maps → ld_imm64 src 5 (map index); globals → src 6 (map index, offset); callbacks → src 4;
   * kfunc calls → call src 2 (imm = extern index); extern addresses → src 3 (extern index).
   */
  readonly insns: readonly Instruction[];
  readonly functions: readonly PlacedFunction[];
  /** Indices (in ObjectSpec.maps) of the maps the program references. */
  readonly mapRefs: readonly number[];
  /**
   * Slots CO-RE relocation poisoned (`call 0xbad2310`), with libbpf's description of the failed
   * relocation (src/loader/core.ts); a run reaching one fails with a CoreRelocationError.
   */
  readonly corePoisons?: ReadonlyMap<number, CorePoison>;
  /**
   * struct_ops programs: the struct_ops map members pointing at it (relocations in
   * `.rel.struct_ops*`, sched-ext.md §1.4). Empty for a struct_ops program no map references.
   */
  readonly structOpsRefs?: ReadonlyArray<{ readonly map: string; readonly member: string }>;
}

export type MapOrigin = 'btf' | 'data' | 'rodata' | 'bss' | 'kconfig' | 'struct_ops';

/** One member of a struct_ops map's struct, in BTF order. */
export interface StructOpsMember {
  readonly name: string;
  /** Position in the struct's BTF members (what libbpf stores as expected_attach_type). */
  readonly index: number;
  /** Byte offset and size in the struct. */
  readonly offset: number;
  readonly size: number;
  /** Whether the member is a function pointer (a program slot) or a data member. */
  readonly kind: 'program' | 'data';
  /** Function-pointer members: the program its relocation names, if any. */
  readonly program?: string;
  /** BTF type id of the member's type. */
  readonly typeId: number;
}

/** What makes a map a struct_ops map (libbpf init_struct_ops_maps, sched-ext.md §1.4). */
export interface StructOpsInfo {
  /** The struct's BTF name and id (local BTF). */
  readonly typeName: string;
  readonly typeId: number;
  /** Section `.struct_ops.link`: the map is created with BPF_F_LINK and attached as a link. */
  readonly link: boolean;
  /** False for a `?`-prefixed section: libbpf does not create the map by default. */
  readonly autocreate: boolean;
  /** Offset of the variable in its section. */
  readonly sectionOffset: number;
  readonly members: readonly StructOpsMember[];
}

export interface MapDefinition extends MapSpec {
  readonly origin: MapOrigin;
  /** The ELF section the map comes from (.maps for BTF maps). */
  readonly section: string;
  /** PROG_ARRAY initial slots from `.rel.maps` (elf-loading.md §2.4). */
  readonly initialPrograms: ReadonlyArray<{ readonly slot: number; readonly program: string }>;
  /** ARRAY_OF_MAPS/HASH_OF_MAPS initial slots from `.rel.maps`: the inner maps, by name. */
  readonly initialMaps?: ReadonlyArray<{ readonly slot: number; readonly map: string }>;
  /** struct_ops maps (type BPF_MAP_TYPE_STRUCT_OPS): the struct, its members and programs. */
  readonly structOps?: StructOpsInfo;
}

export interface VariableSpec {
  /** BTF name: globals by name, function-scope statics as clang names them (`func.var`). */
  readonly name: string;
  readonly section: string;
  /** Index in ObjectSpec.maps of the map holding it (the arena map for `__arena` globals). */
  readonly mapIndex: number;
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type. */
  readonly typeId: number;
}

export type ExternKind = 'kfunc' | 'ksym' | 'kconfig';

export interface ExternSpec {
  readonly name: string;
  readonly kind: ExternKind;
  readonly weak: boolean;
  /** kconfig externs: offset in the .kconfig map and size. */
  readonly offset?: number;
  readonly size?: number;
  readonly typeId?: number;
}

export interface ObjectSpec {
  /** libbpf's object name: the file name up to its first dot. */
  readonly name: string;
  readonly license: string;
  readonly programs: readonly ProgramSpec[];
  readonly maps: readonly MapDefinition[];
  readonly variables: readonly VariableSpec[];
  readonly externs: readonly ExternSpec[];
  readonly btf?: Btf;
  readonly btfExt?: BtfExt;
  /** Bytes of `.addr_space.1` (arena globals), if any. */
  readonly arenaData?: Uint8Array;
  /** Source line of a slot of a program (the last line_info record at or before it). */
  lineOf(program: ProgramSpec, slot: number): LineInfo | undefined;
  /** Function and section slot of a slot of a program. */
  originOf(program: ProgramSpec, slot: number): (CodeOrigin & { readonly function: string }) | undefined;
}
