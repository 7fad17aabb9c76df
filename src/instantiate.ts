/**
 * Loading as a stage (cilium/ebpf's collectionLoader): an ObjectSpec and the section images
 * the host set before load become a running instance — a simulated kernel, the maps created
 * (`.rodata` and `.kconfig` frozen, kconfig values filled, `__arena` globals placed, PROG_ARRAY
 * slots seeded), the natives registry bound to the object's externs, and the programs
 * validated, checked against the verifier rules bpfrun emulates and ready to run.
 */
import { ArenaKernel } from './kernel/arena-access.js';
import { createArenaKfuncs } from './kernel/arena-kfuncs.js';
import { BpfError, LoadError } from './errors.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY, helperName } from './uapi.js';
import { DEFAULT_ENGINE, EngineName, hasEngine } from './engines.js';
import { createHelpers, createKfuncs } from './helpers/helpers.js';
import { createGraphKfuncs } from './helpers/graph.js';
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from './isa/opcodes.js';
import { SIMULATED_HZ, SIMULATED_KERNEL_CONFIG, VIRTUAL_KCONFIG } from './kernel/kconfig.js';
import { KernelOptions, SimKernel } from './kernel/kernel.js';
import { KernelProfile, kernelProfile, KERNEL_VERSIONS, KernelVersion } from './kernel/profile.js';
import { NativeRegistry, type KfuncEntry } from './kernel/natives.js';
import { KsymResolution, resolveKsyms, unresolvedExternError } from './kernel/ksyms.js';
import { isKfuncSpec, KfuncImpl, KfuncSpec, userKfuncs } from './kfunc/api.js';
import { bindKfuncImpl, bindTypedKfunc, checkKfuncProto, KfuncBinding } from './kfunc/bind.js';
import type { CoreOptions } from './loader/core.js';
import { kconfigType, KconfigSlot, KconfigValue, resolveKconfig } from './loader/kconfig.js';
import type { MapDefinition, ObjectSpec, ProgramSpec } from './loader/spec.js';
import { ArenaMap } from './maps/arena.js';
import { BpfMap, indexKey } from './maps/base.js';
import { MapInMap, type MapRegistry } from './maps/map-in-map.js';
import { createMap } from './maps/map.js';
import { checkSpecialFields, findSpecialFields } from './maps/special-fields.js';
import { timerQueue } from './kernel/timers.js';
import { createResLockKfuncs } from './helpers/locks.js';
import { createTimerKfuncs, createWqKfuncs } from './helpers/timers.js';
import { ProgArrayMap } from './maps/progarray.js';
import { Program } from './program.js';
import { ProgramTypeDef, programTypeDef } from './progtypes/index.js';
import { FrameSource, LdImm64Resolver } from './runtime.js';
import { createStreamKfuncs, reportResSpinLockFailure } from './streams/index.js';
import { checkExceptionCallback, checkSleepableKfuncs, checkSleepableMaps } from './verifier.js';

export interface LoadOptions extends KernelOptions, CoreOptions {
  /** The engine programs run on unless a run says otherwise (default: DEFAULT_ENGINE, the JIT). */
  readonly engine?: EngineName;
  /**
   * kfuncs the programs may call, in addition to the built-in ones: typed definitions
   * (`defineKfunc`, checked against the object's BTF at load), or plain functions by name.
   */
  readonly kfuncs?: ReadonlyMap<string, KfuncImpl | KfuncSpec> | Readonly<Record<string, KfuncImpl | KfuncSpec>>
    | readonly KfuncSpec[];
  /**
   * The kernel bpfrun emulates (src/kernel/profile.ts): '7.2' (default) or '6.18'. One switch for
   * every rule the specs mark per version (arena globals placement, stream kfunc names, scratch-page
   * recovery, registers after a faulting arena atomic, arena ALU narrowing, deferred frees).
   */
  readonly kernel?: KernelVersion;
  /**
   * kfuncs of a simulated kernel subsystem (the sched_ext host's, src/sched/kfuncs.ts), registered
   * as the kernel's own, with their flags, before the user's.
   */
  readonly kernelKfuncs?: readonly KfuncEntry[];
  /** Enforce the GUARD_SZ / 2 contract on typed kfuncs' arena accesses (spec §3). */
  readonly strictKfuncContract?: boolean;
  /**
   * Where `__arena` globals go (spec §1.9): 'end' of the arena, as libbpf ≥ 1.7 does on kernels
   * with full-range ld_imm64 offsets, or 'start' (offset 0); default: the kernel profile's
   * ('end' on 7.2, 'start' on 6.18).
   */
  readonly arenaGlobals?: 'start' | 'end';
  /**
   * Values of `__kconfig` externs, before the simulated kernel's config (src/kernel/kconfig.ts):
   * numbers, or values as a .config line writes them (`y`, `m`, `"text"`, `0x10`).
   */
  readonly kconfig?: Readonly<Record<string, KconfigValue>>;
  /** A Kconfig text (.config syntax) read after `kconfig`; `name` is where errors point (a file). */
  readonly kconfigText?: { readonly name: string; readonly content: string };
}

export { SIMULATED_KERNEL_VERSION } from './kernel/kconfig.js';

/** The key of an ARRAY map's only element (a global data section). */
const KEY_0 = new Uint8Array(4);

/** What loading made: the result LoadedObject gives access to. */
export interface Instance {
  readonly kernel: SimKernel;
  /** The maps in ObjectSpec.maps order. */
  readonly maps: readonly BpfMap[];
  readonly programs: readonly Program[];
  /** The object's arena map, if it has one (at most one, as libbpf). */
  readonly arena?: ArenaMap;
  /** Bytes from user_vm_start to the first `__arena` global. spec §1.9 */
  readonly arenaGlobalsOffset: number;
  /** Kernel-side memory access and the arena page-fault handler. spec §3 */
  readonly arenaKernel: ArenaKernel;
  readonly natives: NativeRegistry;
  /** The kernel profile the object was loaded for. */
  readonly profile: KernelProfile;
  /** The program whose engine is running innermost now (bpf_prog_find_from_stack), if any. */
  readonly running: () => Program | undefined;
}

/**
 * libbpf's map_set_def_max_entries: a PERF_EVENT_ARRAY defined with max_entries 0 gets one slot
 * per possible CPU. spec maps-and-kernel-objects §2.9
 */
function libbpfMaxEntries(def: { type: number; maxEntries: number }, nrCpus: number): number {
  return def.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY && def.maxEntries === 0 ? nrCpus : def.maxEntries;
}

/**
 * Instantiates `spec`: `images` are the initial bytes of its internal maps, by map index;
 * `mapDefs` the map definitions as the host left them before load (default: the object's);
 * `autoload` the names of the programs to load (default: those whose ProgramSpec.autoload is
 * set, i.e. all but `SEC("?...")` ones). As libbpf's bpf_object__load_progs, a program not
 * autoloaded is neither validated nor loaded, and is not among Instance.programs.
 */
export function instantiate(
  spec: ObjectSpec, images: ReadonlyMap<number, Uint8Array>, options: LoadOptions = {}, mapDefs: readonly MapDefinition[] = spec.maps,
  autoload: ReadonlySet<string> = new Set(spec.programs.filter((p) => p.autoload).map((p) => p.name)),
): Instance {
  if (options.kernel !== undefined && !KERNEL_VERSIONS.includes(options.kernel)) {
    throw new LoadError('options', `unknown kernel profile '${options.kernel}' (have: ${KERNEL_VERSIONS.join(', ')})`);
  }
  const profile = kernelProfile(options.kernel);
  // CONFIG_HZ is also the simulated tick rate (bpf_jiffies64).
  const hz = options.kconfig?.CONFIG_HZ;
  const kernel = new SimKernel({ ...options, hz: hz === undefined || (typeof hz === 'string' && !/^\d+$/.test(hz)) ? SIMULATED_HZ : Number(hz) });
  // A struct_ops map is kept as a one-element ARRAY holding the struct's bytes (libbpf's shadow
  // data, as the host set them): the kernel side of BPF_MAP_TYPE_STRUCT_OPS (registration,
  // sched-ext.md §1.5) is the host's, not a map type bpfrun implements yet.
  const maps = mapDefs.map((def, i) => createMap(
    def.origin === 'struct_ops'
      ? { ...def, type: BPF_MAP_TYPE_ARRAY, flags: 0, valueTypeId: undefined, initialValue: images.get(i) ?? def.initialValue }
      : { ...def, maxEntries: libbpfMaxEntries(def, kernel.nrCpus), initialValue: images.get(i) ?? def.initialValue },
    kernel.memory, { nrCpus: kernel.nrCpus }));
  attachSpecialFields(spec, maps); // spec §6.1: bpf_spin_lock / bpf_timer offsets from BTF
  const handles = maps.map((m) => kernel.addMap(m));
  // Map-in-map: map ids are positions + 1, handles the ld_imm64 values (map-in-map.ts);
  // then libbpf's init_map_in_map_slots. spec maps-and-kernel-objects §2.4
  const mapIds: MapRegistry = {
    byId: (id) => (Number.isInteger(id) && id >= 1 ? kernel.allMaps()[id - 1] : undefined),
    idOf: (m) => { const i = kernel.allMaps().indexOf(m); return i < 0 ? undefined : i + 1; },
    handleOf: (m) => { const i = maps.indexOf(m); return i < 0 ? 0n : handles[i]; },
  };
  maps.forEach((m, i) => {
    if (!(m instanceof MapInMap)) return;
    m.attachRegistry(mapIds);
    for (const init of mapDefs[i].initialMaps ?? []) {
      const inner = maps[mapDefs.findIndex((d) => d.name === init.map)];
      try {
        m.setInner(indexKey(init.slot), inner);
      } catch (e) {
        if (e instanceof BpfError) throw new LoadError(`map ${m.name}`, `initial slot ${init.slot} (${init.map}): ${e.message}`, { cause: e });
        throw e;
      }
    }
  });
  fillKconfig(spec, maps, options);
  spec.maps.forEach((def, i) => { if (def.origin === 'rodata' || def.origin === 'kconfig') maps[i].freeze(); });
  kernel.objects.refreshMaps(); // `frozen` in the maps' kernel structs (spec §3.4)

  // The program each engine instance runs: what bpf_prog_find_from_stack resolves. spec §5
  const byEngine = new Map<FrameSource, Program>();
  const running = (): Program | undefined => {
    const source = kernel.shadow.innermost();
    return source && byEngine.get(source);
  };
  const arenaKernel = new ArenaKernel(kernel, (source) => byEngine.get(source), profile);
  timerQueue(kernel).programOf = (engine) => byEngine.get(engine as unknown as FrameSource); // timer callbacks run as their program (spec §6.3)
  const arena = maps.find((m): m is ArenaMap => m instanceof ArenaMap);
  let arenaGlobalsOffset = 0;
  if (arena) {
    arenaKernel.addArena(arena);
    // libbpf writes the globals through the user mapping. spec §1.9
    if (spec.arenaData) arenaGlobalsOffset = arena.placeGlobals(spec.arenaData, options.arenaGlobals ?? profile.arenaGlobals);
  }

  const registry = nativeRegistry(spec, kernel, arenaKernel, running, options, profile);
  const natives = registry.bind(spec.externs);
  const ksyms = resolveKsyms(spec, kernel, registry, profile.absentKfuncs); // spec §5.3: per program, below
  const resolveLdImm64 = ldImm64Resolver(spec, kernel, maps, handles, arenaGlobalsOffset, ksyms);
  const arenaIndex = arena ? maps.indexOf(arena) : -1;
  const programs = spec.programs.filter((p) => autoload.has(p.name)).map((p) => {
    try {
      const unresolved = unresolvedExternError(p, ksyms); // spec §5.4: only programs using it fail
      if (unresolved) throw unresolved;
      const program = new Program(p, {
        objectSpec: spec, kernel, natives, resolveLdImm64,
        arena: arena && p.mapRefs.includes(arenaIndex) ? arena : undefined,
        objectArena: arena,
        profile,
        tailCallTarget: (target, engine) => (target instanceof Program && hasEngine(engine) ? target.engine(engine) : undefined),
        defaultEngine: options.engine ?? DEFAULT_ENGINE,
        onEngine: (engine, owner) => byEngine.set(engine, owner),
      });
      checkHelperCalls(p, programTypeDef(p.type.name), registry);
      checkSleepableKfuncs(p, natives, (name) => registry.kfuncForExtern(name)?.sleepable ?? false, (slot) => program.sourceOf(slot));
      checkExceptionCallback(p, spec.btf);
      checkSleepableMaps(p, spec.maps);
      checkStructOpsProgram(p, spec.license);
      return program;
    } catch (e) {
      if (e instanceof BpfError && !(e instanceof LoadError)) throw new LoadError(`program ${p.name}`, e.message, { cause: e });
      throw e;
    }
  });
  spec.maps.forEach((def, i) => {
    for (const init of def.initialPrograms) {
      const program = programs.find((p) => p.name === init.program);
      if (!program) {
        // libbpf's init_prog_array_slots writes the program's fd, -1 when it was not loaded:
        // the map update fails with EBADF and so does the load.
        const why = spec.programs.some((p) => p.name === init.program) ? 'it is not loaded (autoload off): EBADF'
          : `no such program (have: ${programs.map((x) => x.name).join(', ')})`;
        throw new LoadError(`map ${def.name}`, `failed to initialize slot [${init.slot}] to prog '${init.program}': ${why}`);
      }
      (maps[i] as ProgArrayMap).set(init.slot, program);
    }
  });
  return { kernel, maps, programs, arena, arenaGlobalsOffset, arenaKernel, natives: registry, profile, running };
}

/** license_is_gpl_compatible (include/linux/license.h). */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

/**
 * The kernel's check_struct_ops_btf_id at BPF_PROG_LOAD: a struct_ops program needs a
 * GPL-compatible license (EINVAL) and an attach_btf_id, which libbpf sets only for a program some
 * struct_ops map member points at (bpf_map__init_kern_struct_ops); without one, attach_btf_id is
 * 0 (ENOTSUPP). sched-ext.md §1.4
 */
function checkStructOpsProgram(p: ProgramSpec, license: string): void {
  if (p.type.name !== 'struct_ops') return;
  if (!GPL_COMPATIBLE.has(license)) {
    throw new LoadError(`program ${p.name}`, `struct ops programs must have a GPL compatible license (license is '${license}'): EINVAL`);
  }
  if (!p.structOpsRefs?.length) {
    throw new LoadError(`program ${p.name}`, 'attach_btf_id 0 is not a supported struct: no struct_ops map member points at this program (ENOTSUPP; turn its autoload off)');
  }
}

/**
 * map_check_btf's special fields (spec §1.1, §6.1): each map's value type is searched for
 * bpf_spin_lock, bpf_res_spin_lock, bpf_timer and bpf_wq; a kind in a map type that may not
 * hold it fails the load with the map creation's errno.
 */
function attachSpecialFields(spec: ObjectSpec, maps: readonly BpfMap[]): void {
  if (!spec.btf) return;
  for (const [i, m] of maps.entries()) {
    // A global data section's value type is its DATASEC, as libbpf gives it to the kernel.
    const def = spec.maps[i];
    if (def.origin === 'struct_ops') continue; // no special fields in an ops table
    const typeId = def.origin === 'btf' ? m.spec.valueTypeId : spec.btf.datasec(def.section)?.id;
    if (typeId === undefined) continue;
    const fields = findSpecialFields(spec.btf, typeId);
    if (!fields) continue;
    checkSpecialFields(m, fields);
    m.specialFields = fields;
  }
}

/** Writes the `__kconfig` externs' values into the .kconfig map. */
function fillKconfig(spec: ObjectSpec, maps: readonly BpfMap[], options: LoadOptions): void {
  const index = spec.maps.findIndex((m) => m.origin === 'kconfig');
  if (index < 0) return;
  const slots = spec.externs.flatMap((ext): KconfigSlot[] => {
    const info = ext.kind === 'kconfig' && spec.btf ? kconfigType(spec.btf, ext.typeId!) : undefined;
    return info ? [{ ...info, name: ext.name, weak: ext.weak, offset: ext.offset! }] : [];
  });
  const image = resolveKconfig(slots, spec.maps[index].valueSize, {
    given: options.kconfig, text: options.kconfigText, kernel: SIMULATED_KERNEL_CONFIG, virtual: VIRTUAL_KCONFIG,
  });
  maps[index].update(KEY_0, image);
}

/** Built-in helpers and kfuncs, the arena and stream kfuncs, then the user's kfuncs. */
function nativeRegistry(spec: ObjectSpec, kernel: SimKernel, arenaKernel: ArenaKernel, running: () => Program | undefined,
  options: LoadOptions, profile: KernelProfile): NativeRegistry {
  const registry = new NativeRegistry(createHelpers(kernel));
  registry.addKfuncs(createKfuncs(kernel));
  registry.addKfuncs(createGraphKfuncs(kernel, (id) => {
    const t = spec.btf?.resolve(id);
    return t && (t.kind === 'STRUCT' || t.kind === 'UNION') ? t.size : undefined;
  }));
  // Sleepable per call site on 7.2, per program type on 6.18 (Program.sleepableAt). spec §2
  registry.addKfuncs(createArenaKfuncs(kernel, (ctx) => running()?.sleepableAt(ctx.index) ?? true));
  registry.addKfuncs(createStreamKfuncs({
    kernel,
    streamsOf: () => running()?.streams,
    stackOf: (ctx) => running()?.stackFrames(ctx.frames()) ?? [],
  }));
  // spec §6.2, §6.3: res spin locks (reports to the running program's stderr), timer kfuncs.
  registry.addKfuncs(createResLockKfuncs({
    kernel,
    report: (ctx, failure) => {
      const program = running();
      if (program) reportResSpinLockFailure(program.streams, failure, { task: kernel.task(), frames: program.stackFrames(ctx.frames()) });
    },
  }));
  registry.addKfuncs(createTimerKfuncs(kernel));
  registry.addKfuncs(createWqKfuncs(kernel));
  // The stream kfuncs this kernel links: bpf_stream_vprintk on 7.2, _impl on 6.18. spec §4.2
  for (const name of profile.absentKfuncs.keys()) registry.removeKfunc(name);
  for (const entry of options.kernelKfuncs ?? []) registry.addKfunc(entry);
  const user = userKfuncs(options.kfuncs); // each checked once: a LoadError names a malformed one
  const binding: KfuncBinding = { kernel, access: arenaKernel, caller: running, strict: options.strictKfuncContract ?? false };
  for (const [name, impl] of user) {
    if (!isKfuncSpec(impl)) {
      registry.addKfunc({ name, fn: bindKfuncImpl(name, impl, binding) });
      continue;
    }
    const ext = spec.externs.find((x) => x.kind === 'kfunc' && x.name === name);
    if (ext?.typeId !== undefined && spec.btf) checkKfuncProto(impl, spec.btf, ext.typeId);
    registry.addKfunc({ name, fn: bindTypedKfunc(impl, binding), sleepable: impl.flags?.sleepable });
  }
  return registry;
}

/** Values of the object's `ld_imm64` pseudo forms: map handles, map values, extern addresses. */
function ldImm64Resolver(spec: ObjectSpec, kernel: SimKernel, maps: readonly BpfMap[], handles: readonly bigint[], arenaGlobalsOffset: number,
  ksyms: KsymResolution): LdImm64Resolver {
  return (kind, imm, imm2, index) => {
    if (kind === BPF_PSEUDO_MAP_IDX) return handles[imm];
    if (kind === BPF_PSEUDO_MAP_IDX_VALUE) {
      const map = maps[imm];
      if (map instanceof ArenaMap) {
        // spec §1.9: the arena's "value" is user_vm_start; the offset must be inside it.
        const off = arenaGlobalsOffset + imm2;
        if (off >= map.sizeBytes) throw new LoadError(`instruction ${index}`, `arena offset ${off} is outside the arena (ERANGE)`);
        return map.userVmStart + BigInt(off);
      }
      return map.lookupElem(KEY_0, kernel.cpu) + BigInt(imm2);
    }
    if (kind === BPF_PSEUDO_BTF_ID) {
      // An extern's address (./kernel/ksyms.ts): a kfunc's when the runtime provides it
      // (`if (bpf_ksym_exists(f))`), a ksym's in the simulated kernel; 0 when unresolved.
      return ksyms.address(imm);
    }
    throw new LoadError(`instruction ${index}`, `unexpected ld_imm64 pseudo source ${kind}`);
  };
}

/** The helpers a program calls must be ones its type may call (check_helper_call). */
export function checkHelperCalls(p: ProgramSpec, type: ProgramTypeDef, registry: NativeRegistry): void {
  const allowed = type.helpers;
  if (allowed === undefined) return;
  p.insns.forEach((insn, i) => {
    if (insn.opcode !== (BPF_JMP | BPF_CALL) || insn.src !== 0 || allowed.has(insn.imm) || !registry.helper(insn.imm)) return;
    throw new LoadError(`program ${p.name}`, `insn ${i}: program of this type cannot use helper ${helperName(insn.imm)}#${insn.imm}`);
  });
}
