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
import { ksymAddress } from './addresses.js';
import { ArenaKernel, RunningProgram } from './kernel/arena-access.js';
import { createArenaKfuncs } from './kernel/arena-kfuncs.js';
import { isKfuncSpec, KfuncImpl, KfuncSpec } from './kfunc/api.js';
import { bindKfuncImpl, bindTypedKfunc, checkKfuncProto, KfuncBinding } from './kfunc/bind.js';
import { BpfError, LoadError, RuntimeError, SourceLocation, UnknownKfuncError, VmError } from './errors.js';
import { createHelpers, createKfuncs } from './helpers/helpers.js';
import { toU64 } from './int64.js';
import { encode, Instruction, width } from './isa/instruction.js';
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from './isa/opcodes.js';
import { KernelOptions, SimKernel } from './kernel/kernel.js';
import { parseObject } from './loader/parse.js';
import type { ObjectSpec, ProgramSpec, VariableSpec } from './loader/spec.js';
import { ArenaMap } from './maps/arena.js';
import { BpfMap } from './maps/base.js';
import { createMap } from './maps/create.js';
import { ProgArrayMap } from './maps/progarray.js';
import { EngineFrame, ExecEnv, FrameSource, HelperDef, Natives, NativeFn, RunResult } from './runtime.js';
import {
  bpfProgSymbol, createStreamKfuncs, ProgramStreams, progTag, reportArenaViolation, StackFrame, TaskInfo,
} from './streams/index.js';
import { latin1Text } from './text.js';
import { Interpreter } from '../interp/interpreter.js';
import { JitProgram } from '../jit/jit.js';

export type Engine = 'interp' | 'jit';

export interface LoadOptions extends KernelOptions {
  /** The engine programs run on unless a run says otherwise: 'jit' (default) or 'interp'. */
  readonly engine?: Engine;
  /**
   * kfuncs the programs may call, in addition to the built-in ones: typed definitions
   * (`defineKfunc`, checked against the object's BTF at load), or plain functions by name.
   */
  readonly kfuncs?: ReadonlyMap<string, KfuncImpl | KfuncSpec> | Readonly<Record<string, KfuncImpl | KfuncSpec>>
    | readonly KfuncSpec[];
  /** Enforce the GUARD_SZ / 2 contract on typed kfuncs' arena accesses (spec §3). */
  readonly strictKfuncContract?: boolean;
  /**
   * Where `__arena` globals go (spec §1.9): 'end' of the arena, as libbpf ≥ 1.7 does on kernels
   * with full-range ld_imm64 offsets (the default), or 'start' (offset 0), as on Linux 6.18.
   */
  readonly arenaGlobals?: 'start' | 'end';
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
  /** The object's arena map, if it has one (at most one, as libbpf). */
  readonly arena?: ArenaMap;
  /** Bytes from user_vm_start to the first `__arena` global. spec §1.9 */
  readonly arenaGlobalsOffset: number = 0;
  /** Kernel-side memory access and the arena page-fault handler. spec §3 */
  readonly arenaKernel: ArenaKernel;
  private readonly mapList: BpfMap[];
  private readonly mapHandles: bigint[];
  /** The program each engine instance runs (what bpf_prog_find_from_stack resolves). */
  private readonly byEngine = new Map<FrameSource, Program>();

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
    this.arenaKernel = new ArenaKernel(kernel, (source) => this.byEngine.get(source));
    this.arena = this.mapList.find((m): m is ArenaMap => m instanceof ArenaMap);
    if (this.arena) {
      this.arenaKernel.addArena(this.arena);
      // libbpf writes the globals through the user mapping. spec §1.9
      if (spec.arenaData) this.arenaGlobalsOffset = this.arena.placeGlobals(spec.arenaData, options.arenaGlobals ?? 'end');
    }

    const natives = this.natives(options);
    const programs: Program[] = [];
    for (const p of spec.programs) {
      try {
        const program = new Program(p, this, natives, options.engine ?? 'jit');
        programs.push(program);
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

  /** Helpers by id and kfuncs by extern index: built-ins, the arena and stream kfuncs, the user's. */
  private natives(options: LoadOptions): Natives {
    const { kernel, spec } = this;
    const userKfuncs: ReadonlyMap<string, KfuncImpl | KfuncSpec> = options.kfuncs instanceof Map ? options.kfuncs
      : Array.isArray(options.kfuncs) ? new Map(options.kfuncs.map((k: KfuncSpec) => [k.name, k]))
      : new Map(Object.entries((options.kfuncs ?? {}) as Record<string, KfuncImpl | KfuncSpec>));
    const running = () => this.arenaKernel.findProgFromStack() as Program | undefined;
    const builtin = new Map<string, NativeFn>([
      ...createKfuncs(kernel),
      ...createArenaKfuncs(kernel, () => running()?.spec.type.sleepable ?? true),
      ...createStreamKfuncs({
        kernel,
        streamsOf: () => running()?.streams,
        stackOf: (ctx) => running()?.stackFrames(ctx.frames()) ?? [],
      }),
    ]);
    const binding: KfuncBinding = { kernel, access: this.arenaKernel, caller: running, strict: options.strictKfuncContract ?? false };
    for (const [name, impl] of userKfuncs) {
      if (!isKfuncSpec(impl)) { builtin.set(name, bindKfuncImpl(name, impl, binding)); continue; }
      const ext = spec.externs.find((x) => x.kind === 'kfunc' && x.name === name);
      if (ext?.typeId !== undefined && spec.btf) checkKfuncProto(impl, spec.btf, ext.typeId);
      builtin.set(name, bindTypedKfunc(impl, binding));
      if (impl.flags?.sleepable) this.sleepableKfuncs.add(name);
    }
    const kfuncs = new Map<number, HelperDef>();
    spec.externs.forEach((ext, i) => {
      if (ext.kind === 'ksym' && !ext.weak) throw new LoadError(`extern ${ext.name}`, 'typed and typeless ksyms are not supported');
      if (ext.kind !== 'kfunc') return;
      const fn = builtin.get(ext.name);
      if (fn) kfuncs.set(i, { name: ext.name, fn });
      else if (!ext.weak) throw new LoadError(`extern ${ext.name}`, 'kfunc is not provided by the runtime (register it in LoadOptions.kfuncs)');
      else kfuncs.set(i, { name: ext.name, fn: (ctx) => { throw new UnknownKfuncError(ctx.index, ext.name); } });
    });
    this.provided = (name) => builtin.has(name);
    return { helpers: createHelpers(kernel), kfuncs };
  }

  /** @internal Records which program an engine instance runs. */
  registerEngine(engine: FrameSource, program: Program): void {
    this.byEngine.set(engine, program);
  }

  /** Typed kfuncs flagged sleepable (KF_SLEEPABLE): only sleepable programs may call them. */
  readonly sleepableKfuncs = new Set<string>();

  /** Whether the runtime provides a kfunc (for `bpf_ksym_exists`). */
  private provided: (name: string) => boolean = () => false;

  /** The engine environment of one program (its arena only if it uses the arena map). */
  envFor(program: ProgramSpec, owner: Program): Omit<ExecEnv, 'natives'> {
    const { kernel, spec } = this;
    const arenaIndex = this.arena ? this.mapList.indexOf(this.arena) : -1;
    const arena = this.arena && program.mapRefs.includes(arenaIndex) ? this.arena : undefined;
    const resolveLdImm64 = (kind: number, imm: number, imm2: number, index: number): bigint => {
      if (kind === BPF_PSEUDO_MAP_IDX) return this.mapHandles[imm];
      if (kind === BPF_PSEUDO_MAP_IDX_VALUE) {
        const map = this.mapList[imm];
        if (map instanceof ArenaMap) {
          // spec §1.9: the arena's "value" is user_vm_start; the offset must be inside it.
          const off = this.arenaGlobalsOffset + imm2;
          if (off >= map.sizeBytes) throw new LoadError(`instruction ${index}`, `arena offset ${off} is outside the arena (ERANGE)`);
          return map.userVmStart + BigInt(off);
        }
        return map.lookupElem(new Uint8Array(4), kernel.cpu) + BigInt(imm2);
      }
      if (kind === BPF_PSEUDO_BTF_ID) {
        // An extern's address: non-zero when the runtime provides it (`if (bpf_ksym_exists(f))`).
        const ext = spec.externs[imm];
        return ext.kind === 'kfunc' && this.provided(ext.name) ? ksymAddress(imm) : 0n;
      }
      throw new LoadError(`instruction ${index}`, `unexpected ld_imm64 pseudo source ${kind}`);
    };
    return {
      memory: kernel.memory,
      resolveLdImm64,
      shadow: kernel.shadow,
      tailCallTarget: (target: unknown, engine: Engine) => (target instanceof Program ? target.engine(engine) : undefined),
      arena: arena && {
        userVmStart: arena.userVmStart,
        noUserConv: arena.noUserConv,
        pageAt: (offset) => arena.pageAtOffset(offset),
        reportFault: (isWrite, address, frames) => {
          const insn = frames[0]?.kind === 'bpf' ? frames[0].pc : undefined;
          this.kernel.events.add({
            kind: 'fault', program: program.name, access: isWrite ? 'write' : 'read', path: 'exception-table',
            userAddress: address, insn, source: insn === undefined ? undefined : owner.sourceOf(insn),
          });
          owner.reportArenaViolation(isWrite, address, frames);
        },
      },
    };
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

  /** A global's current value, read from its map (for `__arena` globals: from the arena). */
  global(name: string): GlobalValue {
    const v = findVariable(this.spec, name);
    return globalValue(this.spec, v, this.valueBytes(v));
  }

  globals(): GlobalValue[] {
    return this.spec.variables.map((v) => globalValue(this.spec, v, this.valueBytes(v)));
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
    const image = map.lookup(new Uint8Array(4))!;
    writeVariable(this.spec, v, image, value);
    map.update(new Uint8Array(4), image);
  }

  /** Lines the programs wrote with bpf_trace_printk / bpf_trace_vprintk. */
  get trace(): readonly string[] { return this.kernel.trace; }

  /** Image of the section holding `v` (the arena globals are read without faulting pages in). */
  private valueBytes(v: VariableSpec): Uint8Array {
    const map = this.mapList[v.mapIndex];
    if (!(map instanceof ArenaMap)) return map.lookup(new Uint8Array(4))!;
    const image = new Uint8Array(v.offset + v.size);
    for (let k = v.offset; k < image.length; k++) {
      const lo32 = Number((map.userVmStart + BigInt(this.arenaGlobalsOffset + k)) & 0xffffffffn);
      image[k] = map.pageAtOffset(lo32)?.[lo32 & 4095] ?? 0;
    }
    return image;
  }
}

export class Program implements RunningProgram {
  /** The program's BPF streams (stdout 1, stderr 2). spec §4 */
  readonly streams: ProgramStreams;
  /** bpf_prog_arena(): the arena, when the program uses it. */
  readonly arena?: ArenaMap;
  private readonly env: ExecEnv;
  private readonly engines = new Map<Engine, Interpreter | JitProgram>();
  private readonly tags: readonly string[];
  /** bpf_loop call sites the verifier would inline (no helper frame in stack dumps). */
  private readonly inlinedLoops: ReadonlySet<number>;

  constructor(readonly spec: ProgramSpec, readonly object: LoadedObject, natives: Natives,
    /** The engine `run` uses unless told otherwise. */
    readonly defaultEngine: Engine) {
    const events = object.kernel.events;
    this.streams = new ProgramStreams((stream, elements, origin) =>
      events.add({ kind: 'stream', program: spec.name, stream, elements: elements.map(latin1Text), origin }));
    this.env = { ...object.envFor(spec, this), natives };
    this.arena = this.env.arena ? object.arena : undefined;
    this.engine('interp'); // validates the program at load, whichever engine runs it
    this.checkSleepableKfuncs(natives);
    this.tags = spec.functions.map((f) => progTag(encode(kernelView(spec.insns, f.start, f.length))));
    this.inlinedLoops = inlinableLoopCalls(spec.insns);
  }

  /** The verifier's KF_SLEEPABLE rule, at load: a non-sleepable program may not call a sleepable kfunc. */
  private checkSleepableKfuncs(natives: Natives): void {
    if (this.spec.type.sleepable) return;
    this.spec.insns.forEach((insn, i) => {
      if (insn.opcode !== (BPF_JMP | BPF_CALL) || insn.src !== BPF_PSEUDO_KFUNC_CALL) return;
      const name = natives.kfuncs.get(insn.imm)?.name;
      if (name === undefined || !this.object.sleepableKfuncs.has(name)) return;
      const src = this.sourceOf(i);
      throw new LoadError(`program ${this.name}`,
        `insn ${i}: program must be sleepable to call sleepable kfunc ${name}${src ? ` (${src.file}:${src.line})` : ''}`);
    });
  }

  /**
   * References held by this run: what KF_ACQUIRE kfuncs returned and KF_RELEASE kfuncs have not
   * taken back. The verifier proves every path releases them; we check the path that ran.
   */
  private readonly references = new Map<bigint, { id: number; insn: number }>();
  private nextReferenceId = 1;

  /** @internal A KF_ACQUIRE kfunc returned a (non-NULL) reference. */
  acquireReference(pointer: bigint, insn: number): void {
    this.references.set(pointer, { id: this.nextReferenceId++, insn });
  }

  /** @internal A KF_RELEASE kfunc takes its first argument back. */
  releaseReference(pointer: bigint, kfunc: string, insn: number): void {
    if (!this.references.delete(pointer)) throw new RuntimeError(insn, `release kernel function ${kfunc} expects refcounted PTR_TO_BTF_ID`);
  }

  /** The program's instance of an engine, made (compiled) on first use. */
  engine(kind: Engine): Interpreter | JitProgram {
    let e = this.engines.get(kind);
    if (e === undefined) {
      e = kind === 'jit' ? new JitProgram(this.spec.insns, this.env) : new Interpreter(this.spec.insns, this.env);
      this.engines.set(kind, e);
      this.object.registerEngine(e, this);
    }
    return e;
  }

  get name(): string { return this.spec.name; }
  get section(): string { return this.spec.section; }

  run(options: RunOptions = {}): ProgramRun {
    const engine = this.engine(options.engine ?? this.defaultEngine);
    const memory = this.object.kernel.memory;
    const ctx = options.ctx && memory.map(`ctx of ${this.name}`, options.ctx.slice());
    this.references.clear();
    this.nextReferenceId = 1;
    try {
      const args = ctx ? [toU64(ctx.start, ctx.hi)] : [0n];
      const result: RunResult = engine.run(args, { instructionBudget: options.instructionBudget });
      const leaked = this.references.values().next().value;
      if (leaked) throw new RuntimeError(leaked.insn, `Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}`);
      return { retval: result.r0, instructions: result.instructions, ctx: ctx?.bytes.slice() };
    } catch (e) {
      if (e instanceof VmError && e.location === undefined) e.locate(this.name, this.sourceOf(e.index));
      throw e;
    } finally {
      if (ctx) memory.unmap(ctx);
      // The deferred frees of non-sleepable programs run once the program is done. spec §2.3
      this.object.arena?.runDeferredFrees();
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

  /** Engine frames as the kernel's stack walker prints them (spec §4.6). */
  stackFrames(frames: readonly EngineFrame[]): StackFrame[] {
    const shown = frames.filter((f, k) => {
      const caller = frames[k + 1];
      return !(f.kind === 'native' && f.name === 'bpf_loop' && caller?.kind === 'bpf' && this.inlinedLoops.has(caller.pc));
    });
    return shown.map((f): StackFrame => {
      if (f.kind === 'native') return { symbol: f.name, offset: 0, size: 0 };
      const k = this.spec.functions.findIndex((fn) => f.pc >= fn.start && f.pc < fn.start + fn.length);
      const fn = this.spec.functions[k];
      const src = this.sourceOf(f.pc);
      return {
        symbol: bpfProgSymbol(this.tags[k], fn.name),
        offset: (f.pc - fn.start) * 8,
        size: fn.length * 8,
        source: src && { text: src.text, file: src.file, line: src.line },
      };
    });
  }

  /** Reports an arena violation to this program's stderr with the current stack. spec §3.4 */
  reportArenaViolation(isWrite: boolean, userAddress: bigint, frames: readonly EngineFrame[]): void {
    reportArenaViolation(this.streams, isWrite, userAddress, { task: this.task(), frames: this.stackFrames(frames) });
  }

  callTrace(source: FrameSource): string[] {
    return this.stackFrames(source.frames()).map((f) => `${f.symbol}+0x${f.offset.toString(16)}/0x${f.size.toString(16)}`);
  }

  private task(): TaskInfo {
    const k = this.object.kernel;
    return { cpu: k.cpu, uid: 0, pid: k.pid, comm: 'bpfrun' };
  }
}

/**
 * Slots of `call bpf_loop` whose flags argument (r4) the verifier knows to be 0: the last
 * write to r4 in the same basic block is `r4 = 0` / `w4 = 0`. The verifier inlines those
 * calls (its loop_flag_is_zero / fit_for_inline), so no bpf_loop frame appears in their stacks.
 */
function inlinableLoopCalls(insns: readonly Instruction[]): Set<number> {
  const slots: number[] = [];
  const targets = new Set<number>();
  let slot = 0;
  for (const ins of insns) {
    slots.push(slot);
    const cls = ins.opcode & 7;
    if ((cls === 5 || cls === 6) && (ins.opcode & 0xf0) !== 0x80 && (ins.opcode & 0xf0) !== 0x90) {
      targets.add(slot + 1 + (ins.opcode === 0x06 ? ins.imm : ins.off));
    }
    slot += width(ins);
  }
  const sites = new Set<number>();
  insns.forEach((ins, k) => {
    if (ins.opcode !== 0x85 || ins.src !== 0 || ins.imm !== 181) return;
    for (let j = k - 1; j >= 0 && !targets.has(slots[j + 1]); j--) {
      const w = insns[j];
      const cls = w.opcode & 7;
      if (cls === 5 || cls === 6) return; // a jump, call or exit ends the block
      if (w.dst !== 4 || cls === 2 || cls === 3) continue; // not a write of r4
      if ((w.opcode === 0xb7 || w.opcode === 0xb4) && w.imm === 0 && w.off === 0) sites.add(slots[k]);
      return;
    }
  });
  return sites;
}

/** A function's instructions as the kernel hashes them: map references as fd forms (src 1/2). */
function kernelView(insns: readonly Instruction[], start: number, length: number): Instruction[] {
  const out: Instruction[] = [];
  let slot = 0;
  for (const ins of insns) {
    if (slot >= start && slot < start + length) {
      out.push(ins.opcode === 0x18 && (ins.src === BPF_PSEUDO_MAP_IDX || ins.src === BPF_PSEUDO_MAP_IDX_VALUE)
        ? { ...ins, src: ins.src === BPF_PSEUDO_MAP_IDX ? 1 : 2 } : ins);
    }
    slot += width(ins);
  }
  return out;
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

