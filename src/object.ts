/**
 * The library API over an object file, in libbpf's skeleton shape:
 *
 *   const obj = openObject('prog.o');          // parsed: globals writable (.rodata too)
 *   obj.setGlobal('limit', 10);
 *   const loaded = obj.load();                 // maps created, programs checked; .rodata frozen
 *   const { retval } = loaded.program('main').run();
 *   loaded.global('counter').value;
 *
 * An ObjectSpec (src/loader) is immutable; loading instantiates it (src/instantiate.ts).
 */
import { timerQueue, type PendingTimer, type TimerCallbackRun } from './kernel/timers.js';
import type { KernelProfile } from './kernel/profile.js';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ArenaKernel } from './kernel/arena-access.js';
import { LoadError, MapError } from './errors.js';
import { findVariable, GlobalValue, globalValue, writeVariable } from './globals.js';
import { Instance, instantiate, LoadOptions } from './instantiate.js';
import { kernelBtf } from './kernel/kernel-btf.js';
import { relocateCore } from './loader/core.js';
import type { SimKernel } from './kernel/kernel.js';
import type { NativeRegistry } from './kernel/natives.js';
import { adjustRingbufSize, parseObject } from './loader/parse.js';
import type { MapDefinition, ObjectSpec, ProgramSpec, StructOpsInfo, StructOpsMember, VariableSpec } from './loader/spec.js';
import { ArenaMap } from './maps/arena.js';
import type { BpfMap } from './maps/base.js';
import { roundUp8 } from './maps/types.js';
import type { Program } from './program.js';
import { BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, PAGE_SIZE, U32_MAX } from './uapi.js';

export type { GlobalValue } from './globals.js';
export { SIMULATED_KERNEL_VERSION, type LoadOptions } from './instantiate.js';
export { Program, type ProgramRun, type RunOptions } from './program.js';

/**
 * What a loader may change in a map's definition before load: libbpf's bpf_map__set_max_entries,
 * _set_key_size, _set_value_size, _set_map_flags, _set_numa_node and _set_map_extra.
 */
export interface MapAttributes {
  readonly maxEntries?: number;
  readonly keySize?: number;
  readonly valueSize?: number;
  readonly flags?: number;
  readonly numaNode?: number;
  readonly mapExtra?: bigint;
}

/** A map element as the host gives it: the key's and the value's raw bytes. */
export type MapEntry = readonly [key: Uint8Array, value: Uint8Array];

/** The key of an ARRAY map's only element (a global data section). */
const KEY_0 = new Uint8Array(4);

/** Parses an object file (path or bytes). */
export function openObject(source: string | Uint8Array, name?: string): BpfObject {
  const bytes = typeof source === 'string' ? readFileSync(source) : source;
  const spec = parseObject(bytes, name ?? (typeof source === 'string' ? basename(source) : 'object.o'));
  return new BpfObject(spec);
}

/** openObject + load. */
export function loadObject(source: string | Uint8Array, options: LoadOptions = {}): LoadedObject {
  return openObject(source).load(options);
}

/** An opened object: its spec, and section images the host may still change (as a skeleton). */
export class BpfObject {
  /** Initial bytes of each internal map, by map index; written by setGlobal before load. */
  private readonly images = new Map<number, Uint8Array>();
  /** The maps' definitions as they will be created: the object's, with what the host set. */
  private readonly mapDefs: MapDefinition[];
  /** Elements to write into each map right after creation, by map index. */
  private readonly entries = new Map<number, MapEntry[]>();
  /** The programs load() loads: libbpf's per-program autoload flag, off for SEC("?...") ones. */
  private readonly autoloads = new Set<string>();

  constructor(readonly spec: ObjectSpec) {
    this.mapDefs = [...spec.maps];
    spec.maps.forEach((m, i) => {
      if (m.origin === 'btf') return;
      const image = new Uint8Array(m.valueSize);
      if (m.initialValue) image.set(m.initialValue.subarray(0, m.valueSize));
      this.images.set(i, image);
    });
    for (const p of spec.programs) if (p.autoload) this.autoloads.add(p.name);
  }

  get programs(): readonly ProgramSpec[] { return this.spec.programs; }

  global(name: string): GlobalValue {
    const v = findVariable(this.spec, name);
    return globalValue(this.spec, v, this.imageOf(v));
  }

  /**
   * Whether load() loads the program (libbpf's bpf_program__autoload): on, except for programs
   * in a `SEC("?...")` section.
   */
  autoload(name: string): boolean {
    this.programSpec(name);
    return this.autoloads.has(name);
  }

  /**
   * libbpf's bpf_program__set_autoload: a program with autoload off is not validated nor loaded
   * by load(), and is not among LoadedObject.programs, so a program the runtime would refuse no
   * longer spoils the object. Returns the object, to chain.
   */
  setAutoload(name: string, on: boolean): this {
    this.programSpec(name);
    if (on) this.autoloads.add(name);
    else this.autoloads.delete(name);
    return this;
  }

  private programSpec(name: string): ProgramSpec {
    const p = this.spec.programs.find((x) => x.name === name);
    if (!p) throw new LoadError(`program ${name}`, `no such program (have: ${this.spec.programs.map((x) => x.name).join(', ')})`);
    return p;
  }

  /** Sets a global before load (including `const volatile` ones in .rodata). */
  setGlobal(name: string, value: bigint | number | Uint8Array): void {
    const v = findVariable(this.spec, name);
    writeVariable(this.spec, v, this.imageOf(v), value);
  }

  /**
   * A data member of a struct_ops map as load() will create it (libbpf's shadow data,
   * `skel->struct_ops.<map>-><member>`).
   */
  structOpsData(map: string, member: string): GlobalValue {
    const v = structOpsVariable(this.spec, map, member, 'data');
    return globalValue(this.spec, v, this.images.get(v.mapIndex)!);
  }

  /**
   * Writes a data member of a struct_ops map before load, as a loader writes `ops.flags`,
   * `timeout_ms` or `name` through the skeleton: an integer, or exactly the member's bytes.
   * Function-pointer members come from the object's relocations and cannot be written.
   */
  setStructOpsData(map: string, member: string, value: bigint | number | Uint8Array): void {
    const v = structOpsVariable(this.spec, map, member, 'data');
    writeVariable(this.spec, v, this.images.get(v.mapIndex)!, value);
  }

  /** The definition a map will be created with. */
  mapDefinition(name: string): MapDefinition {
    return this.mapDefs[this.mapIndex(name)];
  }

  /**
   * Changes a map's definition before load, as libbpf's bpf_map__set_* setters do; the
   * kernel's checks of the result happen at load. A ring buffer's size is rounded up to a
   * power-of-2 number of pages, as libbpf rounds it. Global data sections keep the layout of
   * their section: their variables are set with setGlobal.
   */
  setMapAttributes(name: string, attributes: MapAttributes): void {
    const index = this.userMapIndex(name, 'its attributes');
    const def = this.mapDefs[index];
    const u32 = (what: string, v: number | undefined, fallback: number): number => {
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new LoadError(`map ${name}`, `${what} must be an integer in 0..${U32_MAX}, got ${v}`);
      return v;
    };
    const extra = attributes.mapExtra ?? def.mapExtra;
    if (extra < 0n || extra >= 1n << 64n) throw new LoadError(`map ${name}`, `map_extra must be a u64, got ${extra}`);
    let maxEntries = u32('max_entries', attributes.maxEntries, def.maxEntries);
    if (attributes.maxEntries !== undefined && (def.type === BPF_MAP_TYPE_RINGBUF || def.type === BPF_MAP_TYPE_USER_RINGBUF)) {
      maxEntries = adjustRingbufSize(maxEntries);
    }
    this.mapDefs[index] = Object.freeze({
      ...def,
      maxEntries,
      keySize: u32('key_size', attributes.keySize, def.keySize),
      valueSize: u32('value_size', attributes.valueSize, def.valueSize),
      flags: u32('map_flags', attributes.flags, def.flags),
      numaNode: attributes.numaNode === undefined ? def.numaNode : u32('numa_node', attributes.numaNode, 0),
      mapExtra: extra,
    });
  }

  /**
   * Elements written into a map right after the maps are created and before any program runs,
   * in order, with BPF_ANY: what a loader's bpf_map_update_elem calls between load and attach
   * do. Each is checked as the kernel checks an update (a wrong size, a full map: a LoadError
   * naming the map and the element). A per-CPU map takes every CPU's value, or one value for
   * all CPUs.
   */
  addMapEntries(name: string, entries: Iterable<MapEntry>): void {
    const index = this.userMapIndex(name, 'its contents');
    const list = this.entries.get(index) ?? [];
    for (const [key, value] of entries) list.push([key.slice(), value.slice()]);
    this.entries.set(index, list);
  }

  private mapIndex(name: string): number {
    const index = this.mapDefs.findIndex((m) => m.name === name);
    if (index < 0) throw new LoadError(`map ${name}`, `no such map (have: ${this.mapDefs.map((m) => m.name).join(', ')})`);
    return index;
  }

  /**
   * libbpf's bpf_map__set_value_size on a global data section whose last variable is an array
   * (the schedulers' RESIZE_ARRAY, sched-ext.md §1.8): the section grows or shrinks so that the
   * array `name` has `count` elements; bytes past the old end are zero.
   */
  resizeArray(name: string, count: number): void {
    const v = findVariable(this.spec, name);
    const btf = this.spec.btf;
    const t = btf && v.typeId !== undefined ? btf.resolve(v.typeId) : undefined;
    const others = this.spec.variables.filter((x) => x.mapIndex === v.mapIndex && x !== v);
    if (!t || t.kind !== 'ARRAY' || others.some((x) => x.offset > v.offset)) {
      throw new LoadError(`variable ${name}`, 'only an array that is the last variable of its section can be resized (libbpf: EINVAL)');
    }
    if (!Number.isInteger(count) || count < 1) throw new LoadError(`variable ${name}`, `cannot resize to ${count} elements`);
    const elem = t.nelems > 0 ? v.size / t.nelems : btf!.sizeOf(t.type);
    const size = v.offset + elem * count;
    const image = this.imageOf(v);
    const next = new Uint8Array(size);
    next.set(image.subarray(0, Math.min(size, image.length)));
    this.images.set(v.mapIndex, next);
    this.mapDefs[v.mapIndex] = Object.freeze({ ...this.mapDefs[v.mapIndex], valueSize: size });
  }

  private userMapIndex(name: string, what: string): number {
    const index = this.mapIndex(name);
    if (this.mapDefs[index].origin !== 'btf') {
      throw new LoadError(`map ${name}`, `a global data section: ${what} come from the object (set its variables with setGlobal)`);
    }
    return index;
  }

  private imageOf(v: VariableSpec): Uint8Array {
    const image = this.images.get(v.mapIndex);
    if (!image) throw new LoadError(`variable ${v.name}`, `section ${v.section} is not available before load`);
    return image;
  }

  load(options: LoadOptions = {}): LoadedObject {
    // CO-RE first, as libbpf's bpf_object__relocate_core (spec maps-and-kernel-objects §4).
    // CO-RE against the given kernel BTF; 'simulated': the simulated kernel's (src/kernel/kernel-btf.ts).
    const spec = relocateCore(this.spec, options.btf === 'simulated' ? kernelBtf().btf : options.btf, this.autoloads);
    const instance = instantiate(spec, this.images, options, this.mapDefs, this.autoloads);
    for (const [index, list] of this.entries) {
      const map = instance.maps[index];
      list.forEach(([key, value], k) => {
        const all = map.hostValueSize !== value.length && value.length === map.valueSize ? replicate(value, map.hostValueSize / roundUp8(map.valueSize)) : value;
        try {
          map.update(key, all);
        } catch (e) {
          if (e instanceof MapError) throw new LoadError(`map ${map.spec.name} element ${k}`, e.message, { cause: e });
          throw e;
        }
      });
    }
    return new LoadedObject(spec, instance);
  }
}

/** One value for every CPU of a per-CPU map, each padded to 8 bytes. */
function replicate(value: Uint8Array, cpus: number): Uint8Array {
  const stride = roundUp8(value.length);
  const out = new Uint8Array(stride * cpus);
  for (let c = 0; c < cpus; c++) out.set(value, c * stride);
  return out;
}

/** A loaded object: maps instantiated, programs validated and ready to run. */
export class LoadedObject {
  readonly kernel: SimKernel;
  readonly maps: ReadonlyMap<string, BpfMap>;
  readonly programs: readonly Program[];
  /** The object's arena map, if it has one (at most one, as libbpf). */
  readonly arena?: ArenaMap;
  /** Bytes from user_vm_start to the first `__arena` global. spec §1.9 */
  readonly arenaGlobalsOffset: number;
  /** Kernel-side memory access and the arena page-fault handler. spec §3 */
  readonly arenaKernel: ArenaKernel;
  /** The helpers and kfuncs the programs may call. */
  readonly natives: NativeRegistry;
  /** The kernel profile the object was loaded for (LoadOptions.kernel; default Linux 7.2). */
  readonly profile: KernelProfile;
  private readonly mapList: readonly BpfMap[];

  constructor(readonly spec: ObjectSpec, instance: Instance) {
    this.kernel = instance.kernel;
    this.mapList = instance.maps;
    this.maps = new Map(spec.maps.map((def, i) => [def.name, instance.maps[i]]));
    this.programs = instance.programs;
    this.arena = instance.arena;
    this.arenaGlobalsOffset = instance.arenaGlobalsOffset;
    this.arenaKernel = instance.arenaKernel;
    this.natives = instance.natives;
    this.profile = instance.profile;
    this.runningProgram = instance.running;
  }

  /** The program running innermost now (a kfunc asking who called it), if any. */
  readonly runningProgram: () => Program | undefined;

  program(name: string): Program {
    const p = this.programs.find((x) => x.name === name);
    if (p) return p;
    if (this.spec.programs.some((x) => x.name === name)) {
      throw new LoadError(`program ${name}`, 'not loaded: its autoload was off (SEC("?...") programs start with it off; BpfObject.setAutoload)');
    }
    throw new LoadError(`program ${name}`, `no such program (have: ${this.programs.map((x) => x.name).join(', ')})`);
  }

  /**
   * A struct_ops map as the host (e.g. a sched_ext host) calls it: its struct's name, whether it
   * is a `.struct_ops.link` map, the loaded program of each function-pointer member (members
   * without a program, or whose program is not loaded, are absent) and its data members, read
   * from the map's bytes.
   */
  structOps(name: string): StructOps {
    const index = this.spec.maps.findIndex((m) => m.name === name && m.structOps);
    if (index < 0) {
      const have = this.spec.maps.filter((m) => m.structOps).map((m) => m.name);
      throw new LoadError(`struct_ops map ${name}`, `no such struct_ops map (have: ${have.join(', ') || 'none'})`);
    }
    const info = this.spec.maps[index].structOps!;
    const programs = new Map<string, Program>();
    for (const m of info.members) {
      const p = m.program === undefined ? undefined : this.programs.find((x) => x.name === m.program);
      if (p) programs.set(m.name, p);
    }
    return {
      name, typeName: info.typeName, link: info.link, members: info.members, programs,
      map: this.mapList[index],
      data: (member) => {
        const v = structOpsVariable(this.spec, name, member, 'data');
        return globalValue(this.spec, v, this.mapList[index].lookup(KEY_0)!);
      },
    };
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new LoadError(`map ${name}`, `no such map (have: ${[...this.maps.keys()].join(', ')})`);
    return m;
  }

  /** A global's current value, read from its map (for `__arena` globals: from the arena). */
  global(name: string): GlobalValue {
    const v = findVariable(this.spec, name);
    return globalValue(this.spec, v, this.valueBytes(v));
  }

  globals(): GlobalValue[] {
    // One copy of each section, not one per variable (150 000 globals would copy it as often).
    const sections = new Map<number, Uint8Array>();
    return this.spec.variables.map((v) => {
      const map = this.mapList[v.mapIndex];
      let image = sections.get(v.mapIndex);
      if (image === undefined) {
        image = this.valueBytes(v);
        if (!(map instanceof ArenaMap)) sections.set(v.mapIndex, image);
      }
      return globalValue(this.spec, v, image);
    });
  }

  /** Writes a global (the host's mmap of .data/.bss/the arena); .rodata is frozen after load. */
  setGlobal(name: string, value: bigint | number | Uint8Array): void {
    const v = findVariable(this.spec, name);
    const map = this.mapList[v.mapIndex];
    if (map instanceof ArenaMap) {
      const bytes = new Uint8Array(v.offset + v.size);
      writeVariable(this.spec, v, bytes, value);
      map.userWrite(map.userVmStart + BigInt(this.arenaGlobalsOffset + v.offset), bytes.subarray(v.offset));
      return;
    }
    const image = map.lookup(KEY_0)!;
    writeVariable(this.spec, v, image, value);
    map.update(KEY_0, image);
  }

  /**
   * Moves the simulated clock `ns` nanoseconds on, running the bpf_timer callbacks that fall
   * due on the way, in expiry order, each at its expiry (spec maps-and-kernel-objects §6.3).
   * Returns the callbacks' runs (an error inside one is in its entry, located in its program).
   */
  advanceTime(ns: bigint | number): TimerCallbackRun[] {
    return timerQueue(this.kernel).advance(BigInt(ns));
  }

  /** Runs the timer callbacks due at or before `untilNs` on the simulated clock (spec §6.3). */
  runTimers(untilNs: bigint | number = this.kernel.clockNow()): TimerCallbackRun[] {
    return timerQueue(this.kernel).runUntil(BigInt(untilNs));
  }

  /** The armed bpf_timers, in firing order. */
  pendingTimers(): PendingTimer[] {
    return timerQueue(this.kernel).pending();
  }

  /** Lines the programs wrote with bpf_trace_printk / bpf_trace_vprintk. */
  get trace(): readonly string[] { return this.kernel.trace; }

  /** Image of the section holding `v` (the arena globals are read without faulting pages in). */
  private valueBytes(v: VariableSpec): Uint8Array {
    const map = this.mapList[v.mapIndex];
    if (!(map instanceof ArenaMap)) return map.lookup(KEY_0)!;
    const image = new Uint8Array(v.offset + v.size);
    for (let k = v.offset; k < image.length; k++) {
      const lo32 = Number((map.userVmStart + BigInt(this.arenaGlobalsOffset + k)) & 0xffffffffn);
      image[k] = map.pageAtOffset(lo32)?.[lo32 & (PAGE_SIZE - 1)] ?? 0;
    }
    return image;
  }
}

/** A loaded struct_ops map (LoadedObject.structOps). */
export interface StructOps {
  readonly name: string;
  /** The struct's BTF name (`sched_ext_ops`, ...). */
  readonly typeName: string;
  /** From `.struct_ops.link`: attached as a link (BPF_F_LINK). */
  readonly link: boolean;
  readonly members: StructOpsInfo['members'];
  /** Function-pointer member name → its loaded program. */
  readonly programs: ReadonlyMap<string, Program>;
  /** The map holding the struct's bytes (a one-element array in bpfrun). */
  readonly map: BpfMap;
  /** A data member's current value. */
  data(member: string): GlobalValue;
}

/** A struct_ops member as a variable of its map, so globals' reading and writing apply. */
function structOpsVariable(spec: ObjectSpec, map: string, member: string, kind: StructOpsMember['kind']): VariableSpec {
  const mapIndex = spec.maps.findIndex((m) => m.name === map && m.structOps);
  if (mapIndex < 0) {
    const have = spec.maps.filter((m) => m.structOps).map((m) => m.name);
    throw new LoadError(`struct_ops map ${map}`, `no such struct_ops map (have: ${have.join(', ') || 'none'})`);
  }
  const def = spec.maps[mapIndex];
  const m = def.structOps!.members.find((x) => x.name === member);
  if (!m) throw new LoadError(`struct_ops map ${map}`, `${def.structOps!.typeName} has no member ${member} (have: ${def.structOps!.members.map((x) => x.name).join(', ')})`);
  if (m.kind !== kind) throw new LoadError(`struct_ops map ${map}`, `member ${member} is a function pointer, not a data member (its program comes from the object)`);
  return { name: `${map}.${member}`, section: def.section, mapIndex, offset: m.offset, size: m.size, typeId: m.typeId };
}
