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
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ArenaKernel } from './kernel/arena-access.js';
import { LoadError } from './errors.js';
import { findVariable, GlobalValue, globalValue, writeVariable } from './globals.js';
import { Instance, instantiate, LoadOptions } from './instantiate.js';
import type { SimKernel } from './kernel/kernel.js';
import type { NativeRegistry } from './kernel/natives.js';
import { parseObject } from './loader/parse.js';
import type { ObjectSpec, ProgramSpec, VariableSpec } from './loader/spec.js';
import { ArenaMap } from './maps/arena.js';
import type { BpfMap } from './maps/base.js';
import type { Program } from './program.js';
import { PAGE_SIZE } from './uapi.js';

export type { GlobalValue } from './globals.js';
export { SIMULATED_KERNEL_VERSION, type LoadOptions } from './instantiate.js';
export { Program, type ProgramRun, type RunOptions } from './program.js';

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

  constructor(readonly spec: ObjectSpec) {
    spec.maps.forEach((m, i) => {
      if (m.origin === 'btf') return;
      const image = new Uint8Array(m.valueSize);
      if (m.initialValue) image.set(m.initialValue.subarray(0, m.valueSize));
      this.images.set(i, image);
    });
  }

  get programs(): readonly ProgramSpec[] { return this.spec.programs; }

  global(name: string): GlobalValue {
    const v = findVariable(this.spec, name);
    return globalValue(this.spec, v, this.imageOf(v));
  }

  /** Sets a global before load (including `const volatile` ones in .rodata). */
  setGlobal(name: string, value: bigint | number | Uint8Array): void {
    const v = findVariable(this.spec, name);
    writeVariable(this.spec, v, this.imageOf(v), value);
  }

  private imageOf(v: VariableSpec): Uint8Array {
    const image = this.images.get(v.mapIndex);
    if (!image) throw new LoadError(`variable ${v.name}`, `section ${v.section} is not available before load`);
    return image;
  }

  load(options: LoadOptions = {}): LoadedObject {
    return new LoadedObject(this.spec, instantiate(this.spec, this.images, options));
  }
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
  }

  program(name: string): Program {
    const p = this.programs.find((x) => x.name === name);
    if (!p) throw new LoadError(`program ${name}`, `no such program (have: ${this.programs.map((x) => x.name).join(', ')})`);
    return p;
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
