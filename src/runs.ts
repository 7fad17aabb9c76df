/**
 * The runs of a loaded object as plain data: which programs ran, on which engine, what each
 * returned or why it stopped, what it wrote to its streams, and what the kernel logged. Built once
 * from the runs (`runPrograms`); the text and JSON reports (report.ts) format it and the run
 * record (record.ts) encodes it. This module formats nothing.
 */
import { BpfError } from './errors.js';
import type { RunEvent } from './events.js';
import type { EngineName } from './engines.js';
import type { PendingTimer, TimerCallbackRun } from './kernel/timers.js';
import { PerfEventArrayMap, type PerfRecord } from './maps/perf-event-array.js';
import type { GlobalValue, LoadedObject, RunOptions } from './object.js';

/** What one program wrote to its BPF streams during its run. spec §4 */
export interface StreamsText {
  readonly stdout: string;
  readonly stderr: string;
}

/** One program's run: its result (r0 and the instruction count) or the error that ended it. */
export type ProgramRunData = {
  readonly name: string;
  readonly section: string;
  readonly engine: EngineName;
  readonly streams: StreamsText;
} & (
  | {
    /** r0, unsigned 64-bit. */
    readonly retval: bigint;
    readonly instructions: number;
    readonly error?: undefined;
  }
  | { readonly error: BpfError; readonly retval?: undefined; readonly instructions?: undefined }
);

/** The arena after the runs. */
export interface ArenaState {
  readonly userVmStart: bigint;
  readonly kernVmStart: bigint;
  /** Bytes from user_vm_start to the first __arena global. */
  readonly globalsOffset: number;
  readonly pagesAllocated: number;
  readonly pagesScratched: number;
}

/** The records a PERF_EVENT_ARRAY's reader found after the runs. spec program-types §4.9 */
export interface PerfMapRecords {
  readonly map: string;
  /** Every slot's records, slot by slot, each ring in order (samples and LOST records). */
  readonly records: readonly PerfRecord[];
}

/**
 * The reader's poll of every PERF_EVENT_ARRAY of a loaded object: what is in their rings,
 * consumed (the rings are empty afterwards, as after libbpf's perf_buffer__consume).
 */
export function drainPerfMaps(loaded: LoadedObject): PerfMapRecords[] {
  const out: PerfMapRecords[] = [];
  for (const [map, m] of loaded.maps) if (m instanceof PerfEventArrayMap) out.push({ map, records: m.drain() });
  return out;
}

/** The runs of one loaded object, in the order they ran, and the object's state after them. */
export interface RunData {
  /** The engine the programs were asked to run on. */
  readonly engine: EngineName;
  readonly programs: readonly ProgramRunData[];
  /** Every global variable (`__arena` ones too) after the runs. */
  readonly globals: readonly GlobalValue[];
  /** Lines written with bpf_trace_printk / bpf_trace_vprintk, in order. */
  readonly trace: readonly string[];
  /** The kernel's event log: every stream message and fault, in order (src/events.ts). */
  readonly events: readonly RunEvent[];
  /** Events past the log's limit: counted, not kept. */
  readonly droppedEvents: number;
  readonly arena?: ArenaState;
  /** Each PERF_EVENT_ARRAY's records after the runs (none without such maps). */
  readonly perf?: readonly PerfMapRecords[];
  /**
   * bpf_timers armed and not yet fired after the runs, in firing order (absent when none): their
   * callbacks run only when the host advances the clock (LoadedObject.advanceTime). spec §6.3
   */
  readonly timers?: readonly PendingTimer[];
  /** The timer and workqueue callbacks that ran when the clock was advanced after the runs. */
  readonly callbacks?: readonly TimerCallbackRun[];
}

/**
 * Runs the named programs (all autoloaded `syscall` ones by default) in order on one loaded
 * object, each with `options` (its context, instruction budget and timeout, as Program.run
 * takes them). A program that fails with a BpfError ends its run and the next one runs; any
 * other exception is a bug in bpfrun and propagates.
 */
export function runPrograms(loaded: LoadedObject, names: readonly string[], engine: EngineName,
  options: Omit<RunOptions, 'engine'> = {}, advanceNs?: bigint): RunData {
  const chosen = names.length > 0 ? names.map((n) => loaded.program(n))
    : loaded.programs.filter((p) => p.spec.type.name === 'syscall' && p.spec.autoload);
  const programs = chosen.map((p): ProgramRunData => {
    const streams = (): StreamsText => ({ stdout: p.streams.stdout.readAll(), stderr: p.streams.stderr.readAll() });
    const run = { name: p.name, section: p.section, engine };
    try {
      const r = p.run({ ...options, engine });
      return { ...run, streams: streams(), retval: r.retval, instructions: r.instructions };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      return { ...run, streams: streams(), error: e };
    }
  });
  // Then the simulated clock moves on: the timer callbacks due by then run, in order. spec §6.3
  const callbacks = advanceNs === undefined ? [] : loaded.advanceTime(advanceNs);
  for (const [k, p] of chosen.entries()) {
    const more = { stdout: p.streams.stdout.readAll(), stderr: p.streams.stderr.readAll() };
    if (more.stdout || more.stderr) {
      const r = programs[k];
      programs[k] = { ...r, streams: { stdout: r.streams.stdout + more.stdout, stderr: r.streams.stderr + more.stderr } };
    }
  }
  const arena = loaded.arena;
  const timers = loaded.pendingTimers();
  return {
    engine,
    programs,
    globals: loaded.globals(),
    trace: [...loaded.trace],
    events: [...loaded.kernel.events.events],
    droppedEvents: loaded.kernel.events.dropped,
    perf: drainPerfMaps(loaded),
    ...(timers.length > 0 && { timers }),
    ...(callbacks.length > 0 && { callbacks }),
    ...(arena && {
      arena: {
        userVmStart: arena.userVmStart,
        kernVmStart: arena.kernVmStart,
        globalsOffset: loaded.arenaGlobalsOffset,
        pagesAllocated: arena.pagesAllocated,
        pagesScratched: arena.pagesScratched,
      },
    }),
  };
}
