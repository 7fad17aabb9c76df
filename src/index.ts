/** bpfrun's public API. */
export { openObject, loadObject, BpfObject, LoadedObject, Program } from './object.js';
export type { MapAttributes, MapEntry, StructOps } from './object.js';
export type { LoadOptions, RunOptions, ProgramRun, GlobalValue } from './object.js';
export type { PendingTimer, TimerCallbackRun } from './kernel/timers.js';
export type { SpecialFields } from './maps/special-fields.js';
export { createEngine, DEFAULT_ENGINE, ENGINES, type EngineName } from './engines.js';
export { kernelProfile, DEFAULT_KERNEL, KERNEL_VERSIONS, type KernelProfile, type KernelVersion } from './kernel/profile.js';
export type { Engine, EngineKind } from './shell.js';
export type { ObjectSpec, ProgramSpec, MapDefinition, VariableSpec, ExternSpec } from './loader/spec.js';
export { parseObject } from './loader/parse.js';
export { BpfMap } from './maps/base.js';
export {
  BPF_F_ALL_CPUS, BPF_F_CPU, MapBatchError, type BatchDeleteOptions, type BatchLookupOptions, type BatchLookupResult, type BatchUpdateOptions,
} from './maps/batch.js';
export { assemble } from './asm/assembler.js';
export { disassemble, disassembleOne } from './asm/disassembler.js';
export { decode, encode, insn } from './isa/instruction.js';
export type { Instruction } from './isa/instruction.js';
export { validate } from './isa/validate.js';
export { AddressSpace } from './memory.js';
export type { CallContext, ExecEnv, NativeFn, HelperDef, RunResult } from './runtime.js';
export * from './errors.js';
export { defineKfunc } from './kfunc/api.js';
export type {
  KfuncSpec, KfuncArg, KfuncArgKind, KfuncCall, KfuncFlags, KfuncReturnKind, KernelApi, KfuncImpl,
} from './kfunc/api.js';
export { ArenaMap } from './maps/arena.js';
// The map types with host operations of their own (maps-and-kernel-objects §2.1-§2.4).
export { QueueStackMap } from './maps/queue-stack.js';
export { LpmTrieMap } from './maps/lpm-trie.js';
export { BloomFilterMap } from './maps/bloom-filter.js';
export { MapInMap, type MapRegistry } from './maps/map-in-map.js';
export {
  PerfEventArrayMap, BPF_F_CURRENT_CPU, BPF_F_CTXLEN_MASK, BPF_F_INDEX_MASK, DEFAULT_PERF_PAGES,
  PERF_RECORD_LOST, PERF_RECORD_MISC_KERNEL, PERF_RECORD_SAMPLE,
} from './maps/perf-event-array.js';
export type { PerfEventOptions, PerfRecord } from './maps/perf-event-array.js';
// The simulated kernel's BTF and the kernel objects behind pointers (maps-and-kernel-objects
// §3, §5.3): what CO-RE relocations target, `&map`, the current task, per-CPU ksyms.
export { kernelBtf, type KernelBtf, type PerCpuVar } from './kernel/kernel-btf.js';
export { BtfBuilder, type EncodedMember } from './btf/encode.js';
export { mapStructName, type TaskOptions, type SimTask } from './kernel/objects.js';
export { typesAreCompat } from './kernel/ksyms.js';
// The sched_ext host (sched-ext.md): run a scheduler object on a simulated machine.
export { runScheduler, prepareScheduler, loadScheduler, SCX_ENUM_VALUES, type SchedRunOptions, type PreparedScheduler } from './sched/loader.js';
export {
  SchedHost, SchedAttachError, SchedUnsupportedError, type SchedOptions, type SchedResult, type ExitInfo, type TaskReport, type CpuReport,
  type RunSlice, type OpRecord, type Wakeup,
} from './sched/host.js';
export { Machine, TopologyError, type TopologyOptions, type CidTopo } from './sched/machine.js';
export { parseWorkload, presetWorkload, parseDuration, PRESETS, WorkloadError, type WorkloadSpec, type TaskSpec, type Step } from './sched/workload.js';
export { chromeTrace, formatSchedReport, schedulerCounters, systrace } from './sched/report.js';
