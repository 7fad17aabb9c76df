/**
 * The user-space loader every upstream sched_ext scheduler runs (sched-ext.md §1.8), as the host
 * offers it: open the object, write the 44 `__SCX_*` enum values into `.rodata` (SCX_ENUM_INIT),
 * size the exit dump (UEI_SET_SIZE), apply the scheduler's options (rodata, struct_ops data,
 * RESIZE_ARRAY), load against the simulated kernel (CO-RE against its BTF, the sched_ext kfuncs),
 * attach the struct_ops map and run it on the simulated machine.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LoadError } from '../errors.js';
import { openObject, type BpfObject, type LoadedObject } from '../object.js';
import type { EngineName } from '../engines.js';
import { SchedHost, type SchedOptions, type SchedResult } from './host.js';
import { UserlandScheduler } from './userland.js';
import { createScxKfuncs, type HostRef } from './kfuncs.js';
import { Machine, type TopologyOptions } from './machine.js';
import { presetWorkload, type WorkloadSpec } from './workload.js';
import { SCX_EXIT_DUMP_DFL_LEN } from './constants.js';

const B63 = 1n << 63n;
/**
 * The values SCX_ENUM_INIT reads from a 7.2 kernel's BTF (§1.8): `__SCX_<NAME>` rodata
 * variables. Names whose enum (or enumerator) 7.2 lacks read 0.
 */
export const SCX_ENUM_VALUES: Readonly<Record<string, bigint>> = {
  OPS_NAME_LEN: 128n, SLICE_DFL: 20_000_000n, SLICE_INF: (1n << 64n) - 1n,
  RQ_ONLINE: 1n, RQ_CAN_STOP_TICK: 2n, RQ_BAL_PENDING: 0n, RQ_BAL_KEEP: 0n, RQ_BYPASSING: 0n, RQ_CLK_VALID: 0x20n,
  RQ_IN_WAKEUP: 0x10000n, RQ_IN_BALANCE: 0x20000n,
  DSQ_FLAG_BUILTIN: B63, DSQ_FLAG_LOCAL_ON: 1n << 62n, DSQ_INVALID: B63, DSQ_GLOBAL: B63 | 1n, DSQ_LOCAL: B63 | 2n,
  DSQ_LOCAL_ON: B63 | (1n << 62n), DSQ_LOCAL_CPU_MASK: 0xffffffffn,
  TASK_QUEUED: 1n, TASK_RESET_RUNNABLE_AT: 4n, TASK_DEQD_FOR_SLEEP: 8n, TASK_SUB_INIT: 0x10n, TASK_IMMED: 0x20n,
  TASK_STATE_SHIFT: 8n, TASK_STATE_BITS: 3n, TASK_STATE_MASK: 0x700n, TASK_CURSOR: 0xffffffff80000000n,
  TASK_NONE: 0n, TASK_INIT: 0n, TASK_READY: 0n, TASK_ENABLED: 0n, TASK_NR_STATES: 0n,
  TASK_DSQ_ON_PRIQ: 1n,
  KICK_IDLE: 1n, KICK_PREEMPT: 2n, KICK_WAIT: 4n,
  ENQ_WAKEUP: 1n, ENQ_HEAD: 0x10000n, ENQ_PREEMPT: 1n << 32n, ENQ_IMMED: 1n << 33n, ENQ_REENQ: 1n << 40n, ENQ_LAST: 1n << 41n,
  ENQ_CLEAR_OPSS: 1n << 56n, ENQ_DSQ_PRIQ: 1n << 57n,
  DEQ_SCHED_CHANGE: 1n << 33n,
};

export interface SchedRunOptions {
  /** The machine: a CPU count, or a topology. Default 4 CPUs. */
  readonly cpus?: number;
  readonly topology?: Omit<TopologyOptions, 'cpus'>;
  /** A workload, or the name of a preset (default 'mixed'). */
  readonly workload?: WorkloadSpec | string;
  /** Simulated time to run (ns). Default 1 s. */
  readonly durationNs?: number;
  readonly engine?: EngineName;
  /** Seed of bpf_get_prandom_u32. */
  readonly seed?: number;
  readonly hz?: number;
  /** Which struct_ops map to attach when the object has several. */
  readonly ops?: string;
  /** Rodata values the scheduler's loader sets (its options), by variable name. */
  readonly rodata?: Readonly<Record<string, bigint | number | boolean>>;
  /** struct_ops data members to set (flags, timeout_ms, exit_dump_len, ...). */
  readonly opsData?: Readonly<Record<string, bigint | number>>;
  /** RESIZE_ARRAY: arrays (last variables of their sections) to resize, by name. */
  readonly resize?: Readonly<Record<string, number>>;
  readonly opTrace?: boolean;
  /** Check the host's invariants after every event (SchedOptions.selfCheck). */
  readonly selfCheck?: boolean;
  readonly onProgress?: (nowNs: number) => void;
  readonly progressEveryNs?: number;
}

/**
 * What the upstream loaders set before load without any option (§6), by struct_ops map name:
 * scx_central's `central_cpu`, `nr_cpu_ids`, `slice_ns` and its two RESIZE_ARRAYs; scx_qmap's
 * `slice_ns` and `max_tasks`; scx_flatcg's `nr_cpus` and `cgrp_slice_ns`; scx_userland's
 * `num_possible_cpus` and `usersched_pid` (its user-space scheduler, a task of the workload). The caller's options override them.
 */
function loaderDefaults(opsName: string, nrCpus: number): Pick<SchedRunOptions, 'rodata' | 'resize'> {
  switch (opsName) {
    case 'userland_ops':
      // The loader's own process is the user-space scheduler (./userland.ts).
      return { rodata: { num_possible_cpus: nrCpus, usersched_pid: USERSCHED_PID } };
    case 'central_ops':
      return { rodata: { central_cpu: 0, nr_cpu_ids: nrCpus, slice_ns: SCX_ENUM_VALUES.SLICE_DFL }, resize: { cpu_gimme_task: nrCpus, cpu_started_at: nrCpus } };
    case 'qmap_ops':
      return { rodata: { slice_ns: SCX_ENUM_VALUES.SLICE_DFL, max_tasks: 16384 } };
    case 'flatcg_ops':
      return { rodata: { nr_cpus: nrCpus, cgrp_slice_ns: SCX_ENUM_VALUES.SLICE_DFL } };
    default:
      return {};
  }
}

/** A scheduler opened and prepared as its loader would, ready to load. */
export interface PreparedScheduler {
  readonly object: BpfObject;
  readonly opsName: string;
  readonly machine: Machine;
  /** The workload, with the tasks the scheduler's loader adds (scx_userland's own process). */
  readonly workload: WorkloadSpec;
}

/**
 * scx_userland's process is the loader itself, running before the scheduler is attached: the
 * host puts it first (pid 100), so it wakes before the tasks it schedules.
 */
const USERSCHED_PID = 100;

/** SCX_OPS_OPEN + options + UEI_SET_SIZE, on an object (path or bytes). */
export function prepareScheduler(source: string | Uint8Array, options: SchedRunOptions = {}, name?: string): PreparedScheduler {
  const bytes = typeof source === 'string' ? readFileSync(source) : source;
  const object = openObject(bytes, name ?? (typeof source === 'string' ? basename(source) : 'scheduler.o'));
  const machine = new Machine({ cpus: options.cpus ?? 4, ...options.topology });
  const given = typeof options.workload === 'object' ? options.workload : presetWorkload(options.workload ?? 'mixed', machine.nrCpus);
  const candidates = object.spec.maps.filter((m) => m.structOps && /^sched_ext_ops(_cid)?(___.*)?$/.test(m.structOps.typeName)
    && !m.section.startsWith('?'));
  let opsName = options.ops;
  if (opsName === undefined) {
    if (candidates.length !== 1) {
      throw new LoadError('scheduler', candidates.length === 0 ? 'the object has no sched_ext_ops struct_ops map'
        : `the object has ${candidates.length} sched_ext struct_ops maps (${candidates.map((m) => m.name).join(', ')}): choose one`);
    }
    opsName = candidates[0].name;
  }
  if (!object.spec.maps.some((m) => m.name === opsName && m.structOps)) {
    throw new LoadError('scheduler', `no struct_ops map ${opsName} (have: ${candidates.map((m) => m.name).join(', ') || 'none'})`);
  }
  // SCX_ENUM_INIT.
  for (const [name, value] of Object.entries(SCX_ENUM_VALUES)) {
    if (hasVariable(object, `__SCX_${name}`)) object.setGlobal(`__SCX_${name}`, value);
  }
  const defaults = loaderDefaults(opsName, machine.nrCpus);
  const workload = opsName === 'userland_ops' ? { ...given, tasks: [UserlandScheduler.task(), ...given.tasks] } : given;
  for (const [member, value] of Object.entries(options.opsData ?? {})) object.setStructOpsData(opsName, member, value);
  const rodata = { ...defaults.rodata, ...options.rodata };
  for (const [name, value] of Object.entries(rodata)) object.setGlobal(name, typeof value === 'boolean' ? Number(value) : value);
  for (const [name, count] of Object.entries({ ...defaults.resize, ...options.resize })) object.resizeArray(name, count);
  // UEI_SET_SIZE: every upstream scheduler needs it (§1.8 step 3).
  const dumpLen = Number(object.structOpsData(opsName, 'exit_dump_len').value) || SCX_EXIT_DUMP_DFL_LEN;
  if (hasVariable(object, 'uei_dump_len')) object.setGlobal('uei_dump_len', dumpLen);
  if (hasVariable(object, 'uei_dump')) object.resizeArray('uei_dump', dumpLen);
  // Every struct_ops map but the one attached stays uncreated: its programs are not loaded.
  for (const m of object.spec.maps) {
    if (!m.structOps || m.name === opsName) continue;
    for (const member of m.structOps.members) if (member.program) object.setAutoload(member.program, false);
  }
  return { object, opsName, machine, workload };
}

function hasVariable(object: BpfObject, name: string): boolean {
  return object.spec.variables.some((v) => v.name === name);
}

/** Loads a prepared scheduler against the simulated kernel with the sched_ext kfuncs. */
export function loadScheduler(prepared: PreparedScheduler, options: SchedRunOptions = {}): { loaded: LoadedObject; ref: HostRef } {
  const ref: HostRef = {};
  const loaded = prepared.object.load({
    nrCpus: prepared.machine.nrCpus, engine: options.engine, seed: options.seed, btf: 'simulated', clockStepNs: 0n,
    kconfig: { CONFIG_HZ: options.hz ?? 1000 },
    kernelKfuncs: createScxKfuncs(ref),
  });
  return { loaded, ref };
}

/**
 * Attaches a loaded scheduler to a simulated machine: the host, with the loader-side behaviours
 * its workload needs (scx_userland's scheduler loop). `host.run()` runs it.
 */
export function attachScheduler(prepared: PreparedScheduler, loaded: LoadedObject, ref: HostRef,
  options: SchedRunOptions & Pick<SchedOptions, 'onProgress' | 'progressEveryNs'> = {}): SchedHost {
  const calls: Record<string, () => void> = {};
  if (prepared.opsName === 'userland_ops') {
    const usersched = new UserlandScheduler(loaded);
    calls.userland = () => usersched.round();
  }
  const host = new SchedHost(loaded, loaded.structOps(prepared.opsName), prepared.machine, prepared.workload, {
    engine: options.engine, durationNs: options.durationNs ?? 1e9, hz: options.hz, opTrace: options.opTrace,
    onProgress: options.onProgress, progressEveryNs: options.progressEveryNs, calls, selfCheck: options.selfCheck,
  });
  ref.host = host;
  return host;
}

/**
 * Opens, prepares, loads, attaches and runs a scheduler (the `bpfrun sched` command): the run's
 * result, and the loaded object (its maps and globals after the run, as the loader reads them).
 */
export function runScheduler(source: string | Uint8Array, options: SchedRunOptions = {}): { result: SchedResult; loaded: LoadedObject } {
  const prepared = prepareScheduler(source, options);
  const { loaded, ref } = loadScheduler(prepared, options);
  return { result: attachScheduler(prepared, loaded, ref, options).run(), loaded };
}
