/**
 * The library API over an object file, in libbpf's skeleton shape:
 *
 *   const obj = openObject('prog.o');          // parsed: globals writable (.rodata too)
 *   obj.setGlobal('limit', 10);
 *   const loaded = obj.load();                 // maps created, programs checked; .rodata frozen
 *   const { retval } = loaded.program('main').run();
 *   loaded.global('counter').value;
 *
 * An ObjectSpec (src/loader) is immutable; open and load instantiate it.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BpfError, LoadError, RuntimeError, SourceLocation, UnknownKfuncError, VmError } from './errors.js';
import { createHelpers, createKfuncs } from './helpers/helpers.js';
import { toU64 } from './int64.js';
import { KernelOptions, SimKernel } from './kernel.js';
import { parseObject } from './loader/parse.js';
import type { ObjectSpec, ProgramSpec, VariableSpec } from './loader/spec.js';
import { BpfMap } from './maps/base.js';
import { createMap } from './maps/create.js';
import { ProgArrayMap } from './maps/progarray.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from './isa/opcodes.js';
import { HelperDef, NativeFn, RunResult } from './runtime.js';
import { Interpreter } from '../interp/interpreter.js';

export type Engine = 'interp' | 'jit';

export interface LoadOptions extends KernelOptions {
  /** kfuncs the programs may call, by name, in addition to the built-in ones. */
  readonly kfuncs?: ReadonlyMap<string, NativeFn> | Readonly<Record<string, NativeFn>>;
  /** Values of `__kconfig` externs (LINUX_KERNEL_VERSION and CONFIG_HZ have defaults). */
  readonly kconfig?: Readonly<Record<string, bigint | number>>;
}

export interface RunOptions {
  /** The context buffer (r1 points at a copy); none means r1 = NULL, as BPF_PROG_TEST_RUN does. */
  readonly ctx?: Uint8Array;
  readonly engine?: Engine;
  /** Stop with BudgetExceededError after this many instructions. */
  readonly instructionBudget?: number;
}

export interface ProgramRun {
  /** r0, unsigned 64-bit. */
  readonly retval: bigint;
  readonly instructions: number;
  /** The context after the run (programs may write it), if one was given. */
  readonly ctx?: Uint8Array;
}

/** A global variable's current bytes and, for integers and enums, its value. */
export interface GlobalValue {
  readonly name: string;
  readonly section: string;
  readonly bytes: Uint8Array;
  /** Signed or unsigned as BTF says; undefined for non-scalars and scalars wider than 8 bytes. */
  readonly value?: bigint;
}

/** The Linux version this runtime simulates, for LINUX_KERNEL_VERSION (KERNEL_VERSION(7, 1, 0)). */
export const SIMULATED_KERNEL_VERSION = (7 << 16) | (1 << 8);
const DEFAULT_KCONFIG: Readonly<Record<string, bigint>> = {
  LINUX_KERNEL_VERSION: BigInt(SIMULATED_KERNEL_VERSION),
  CONFIG_HZ: 250n,
};

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
    return new LoadedObject(this.spec, this.images, options);
  }
}

/** A loaded object: maps instantiated, programs validated and ready to run. */
export class LoadedObject {
  readonly kernel: SimKernel;
  readonly maps: ReadonlyMap<string, BpfMap>;
  readonly programs: readonly Program[];
  private readonly mapList: BpfMap[];
  private readonly mapHandles: bigint[];

  constructor(readonly spec: ObjectSpec, images: ReadonlyMap<number, Uint8Array>, options: LoadOptions) {
    this.kernel = new SimKernel(options);
    const kernel = this.kernel;
    this.mapList = spec.maps.map((def, i) => createMap({ ...def, initialValue: images.get(i) ?? def.initialValue }, kernel.memory, { nrCpus: kernel.nrCpus }));
    this.mapHandles = this.mapList.map((m) => kernel.addMap(m));
    this.fillKconfig(options.kconfig ?? {});
    const maps = new Map<string, BpfMap>();
    spec.maps.forEach((def, i) => {
      maps.set(def.name, this.mapList[i]);
      if (def.origin === 'rodata' || def.origin === 'kconfig') this.mapList[i].freeze();
    });
    this.maps = maps;

    const helpers = createHelpers(kernel);
    const builtinKfuncs = createKfuncs(kernel);
    const userKfuncs = options.kfuncs instanceof Map ? options.kfuncs
      : new Map(Object.entries((options.kfuncs ?? {}) as Record<string, NativeFn>));
    const kfuncs = new Map<number, HelperDef>();
    spec.externs.forEach((ext, i) => {
      if (ext.kind !== 'kfunc') return;
      const fn = userKfuncs.get(ext.name) ?? builtinKfuncs.get(ext.name);
      if (fn) kfuncs.set(i, { name: ext.name, fn });
      else if (!ext.weak) throw new LoadError(`extern ${ext.name}`, 'kfunc is not provided by the runtime (register it in LoadOptions.kfuncs)');
      else kfuncs.set(i, { name: ext.name, fn: (ctx) => { throw new UnknownKfuncError(ctx.index, ext.name); } });
    });
    for (const ext of spec.externs) {
      if (ext.kind === 'ksym' && !ext.weak) throw new LoadError(`extern ${ext.name}`, 'typed and typeless ksyms are not supported');
    }

    const resolveLdImm64 = (kind: number, imm: number, imm2: number, index: number): bigint => {
      if (kind === BPF_PSEUDO_MAP_IDX) return this.mapHandles[imm];
      if (kind === BPF_PSEUDO_MAP_IDX_VALUE) {
        if (imm < 0) throw new LoadError(`instruction ${index}`, '__arena globals need the arena runtime, which is not implemented yet');
        const base = this.mapList[imm].lookupElem(new Uint8Array(4), kernel.cpu);
        return base + BigInt(imm2);
      }
      if (kind === BPF_PSEUDO_BTF_ID) {
        // An extern's address: non-zero when the runtime provides it (`if (bpf_ksym_exists(f))`).
        const ext = spec.externs[imm];
        const provided = ext.kind === 'kfunc' && (userKfuncs.has(ext.name) || builtinKfuncs.has(ext.name));
        return provided ? toU64((0xc0de0000 + imm * 16) | 0, 0xffffffff | 0) : 0n;
      }
      throw new LoadError(`instruction ${index}`, `unexpected ld_imm64 pseudo source ${kind}`);
    };
    const programs: Program[] = [];
    const env = {
      memory: kernel.memory,
      natives: { helpers, kfuncs },
      resolveLdImm64,
      tailCallTarget: (target: unknown) => (target instanceof Program ? target.interpreter : undefined),
    };
    for (const p of spec.programs) {
      try {
        programs.push(new Program(p, this, new Interpreter(p.insns, env)));
      } catch (e) {
        if (e instanceof BpfError && !(e instanceof LoadError)) throw new LoadError(`program ${p.name}`, e.message);
        throw e;
      }
    }
    this.programs = programs;
    spec.maps.forEach((def, i) => {
      for (const init of def.initialPrograms) {
        (this.mapList[i] as ProgArrayMap).set(init.slot, this.program(init.program));
      }
    });
  }

  private fillKconfig(values: Readonly<Record<string, bigint | number>>): void {
    const index = this.spec.maps.findIndex((m) => m.origin === 'kconfig');
    if (index < 0) return;
    const image = new Uint8Array(this.spec.maps[index].valueSize);
    for (const ext of this.spec.externs) {
      if (ext.kind !== 'kconfig') continue;
      const value = values[ext.name] ?? DEFAULT_KCONFIG[ext.name];
      if (value === undefined) {
        if (!ext.weak) throw new LoadError(`extern ${ext.name}`, 'unknown kconfig value (give it in LoadOptions.kconfig)');
        continue;
      }
      writeScalar(image, ext.offset!, ext.size!, BigInt(value));
    }
    this.mapList[index].update(new Uint8Array(4), image);
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

  /** A global's current value, read from its map. */
  global(name: string): GlobalValue {
    const v = findVariable(this.spec, name);
    return globalValue(this.spec, v, this.valueBytes(v));
  }

  globals(): GlobalValue[] {
    return this.spec.variables.filter((v) => v.mapIndex >= 0).map((v) => globalValue(this.spec, v, this.valueBytes(v)));
  }

  /** Writes a global (the host's mmap of .data/.bss); .rodata is frozen after load. */
  setGlobal(name: string, value: bigint | number | Uint8Array): void {
    const v = findVariable(this.spec, name);
    const map = this.mapList[v.mapIndex];
    const image = map.lookup(new Uint8Array(4))!;
    writeVariable(this.spec, v, image, value);
    map.update(new Uint8Array(4), image);
  }

  /** Lines the programs wrote with bpf_trace_printk / bpf_trace_vprintk. */
  get trace(): readonly string[] { return this.kernel.trace; }

  private valueBytes(v: VariableSpec): Uint8Array {
    return this.mapList[v.mapIndex].lookup(new Uint8Array(4))!;
  }
}

export class Program {
  constructor(readonly spec: ProgramSpec, readonly object: LoadedObject, /** @internal */ readonly interpreter: Interpreter) {}

  get name(): string { return this.spec.name; }
  get section(): string { return this.spec.section; }

  run(options: RunOptions = {}): ProgramRun {
    if ((options.engine ?? 'interp') !== 'interp') {
      throw new RuntimeError(0, `engine '${options.engine}' is not available yet; use 'interp'`);
    }
    const memory = this.object.kernel.memory;
    const ctx = options.ctx && memory.map(`ctx of ${this.name}`, options.ctx.slice());
    try {
      const args = ctx ? [toU64(ctx.start, ctx.hi)] : [0n];
      const result: RunResult = this.interpreter.run(args, { instructionBudget: options.instructionBudget });
      return { retval: result.r0, instructions: result.instructions, ctx: ctx?.bytes.slice() };
    } catch (e) {
      if (e instanceof VmError && e.location === undefined) e.locate(this.name, this.sourceOf(e.index));
      throw e;
    } finally {
      if (ctx) memory.unmap(ctx);
    }
  }

  /** The C source line of a slot of this program, from line_info. */
  sourceOf(slot: number): SourceLocation | undefined {
    const spec = this.object.spec;
    const line = spec.lineOf(this.spec, slot);
    const origin = spec.originOf(this.spec, slot);
    if (!line || !origin) return undefined;
    return { program: this.name, function: origin.function, file: line.fileName, line: line.line, column: line.column, text: line.lineText };
  }
}

function findVariable(spec: ObjectSpec, name: string): VariableSpec {
  const v = spec.variables.find((x) => x.name === name);
  if (!v) throw new LoadError(`variable ${name}`, `no such global (have: ${spec.variables.map((x) => x.name).join(', ')})`);
  return v;
}

function globalValue(spec: ObjectSpec, v: VariableSpec, image: Uint8Array): GlobalValue {
  const bytes = image.slice(v.offset, v.offset + v.size);
  const scalar = spec.btf?.scalarInfo(v.typeId);
  let value: bigint | undefined;
  if (scalar && scalar.size <= 8 && scalar.size === v.size) {
    let u = 0n;
    for (let k = bytes.length - 1; k >= 0; k--) u = (u << 8n) | BigInt(bytes[k]);
    value = scalar.signed ? BigInt.asIntN(8 * scalar.size, u) : u;
  }
  return { name: v.name, section: v.section, bytes, value };
}

function writeVariable(spec: ObjectSpec, v: VariableSpec, image: Uint8Array, value: bigint | number | Uint8Array): void {
  if (value instanceof Uint8Array) {
    if (value.length !== v.size) throw new LoadError(`variable ${v.name}`, `needs ${v.size} bytes, got ${value.length}`);
    image.set(value, v.offset);
    return;
  }
  const scalar = spec.btf?.scalarInfo(v.typeId);
  if (!scalar || scalar.size > 8) throw new LoadError(`variable ${v.name}`, 'is not an integer; write it as bytes');
  writeScalar(image, v.offset, v.size, BigInt(value));
}

function writeScalar(image: Uint8Array, offset: number, size: number, value: bigint): void {
  let u = BigInt.asUintN(8 * size, value);
  for (let k = 0; k < size; k++, u >>= 8n) image[offset + k] = Number(u & 0xffn);
}

