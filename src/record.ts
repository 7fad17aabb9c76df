/**
 * Run records: `bpfrun run --record FILE` writes the object's runs, stream messages and faults
 * (the run data, src/runs.ts) as a protobuf `RunRecord` (proto/run_record.proto, with
 * protobufjs); `bpfrun inspect` and `bpfrun tracelog` read one back. 64-bit fields go between
 * bigint and protobuf as integers, never through text.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import protobuf from 'protobufjs';
import { LoadError, SourceLocation } from './errors.js';
import { EVENT_LOG_LIMIT, FaultEvent, RunEvent, withoutUndefined } from './events.js';
import type { PerfRecord } from './maps/perf-event-array.js';
import { perfLines } from './report.js';
import type { PerfMapRecords, RunData } from './runs.js';

/** The schema, relative to the package root. */
const SCHEMA = join('proto', 'run_record.proto');

/**
 * The schema file: `proto/run_record.proto` in the nearest directory above this module that has
 * one, i.e. the package root whether this module runs from dist/src/, from src/ (type stripping,
 * ts-node) or from node_modules/bpfrun/. The .proto stays the one copy of the schema, the one
 * readers in other languages use; a bundle of bpfrun must ship proto/ beside it.
 */
export function schemaPath(from = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const path = join(dir, SCHEMA);
    if (existsSync(path)) return path;
    if (dirname(dir) === dir) throw new Error(`${SCHEMA} not found in any directory above ${from}`);
  }
}

let recordType: protobuf.Type | undefined;
function RunRecordType(): protobuf.Type {
  recordType ??= protobuf.loadSync(schemaPath()).lookupType('bpfrun.RunRecord');
  return recordType;
}

const u64 = (v: bigint | number) => (typeof v === 'bigint' ? Long.fromBigInt(v, true) : Long.fromNumber(v, true));

/** The schema's enums: value n + 1 is the n-th name (0 is UNSPECIFIED). */
const STREAMS = ['stdout', 'stderr'] as const;
const ORIGINS = ['program', 'kernel'] as const;
const ACCESSES = ['read', 'write'] as const;
const PATHS = ['exception-table', 'scratch-page', 'oops'] as const;
const PERF_TYPES = ['sample', 'lost'] as const;
const toEnum = <T>(names: readonly T[], name: T) => names.indexOf(name) + 1;
/** An enum value back to its name; an unknown value reads as `fallback`. */
const fromEnum = <T>(names: readonly T[], value: number, fallback: T): T => names[value - 1] ?? fallback;

function sourceLine(s: SourceLocation | undefined) {
  return s && { function: s.function, file: s.file, line: s.line, column: s.column, text: s.text };
}

/** The record of a `bpfrun run` of `objectFile` (the path as given): its run data, event log included. */
export function encodeRecord(objectFile: string, data: RunData): Uint8Array {
  const events = data.events.map((e) => e.kind === 'stream'
    ? {
      seq: u64(e.seq),
      stream: { program: e.program, stream: toEnum(STREAMS, e.stream), elements: e.elements, origin: toEnum(ORIGINS, e.origin) },
    }
    : { seq: u64(e.seq), fault: faultMessage(e) });
  const arena = data.arena;
  const message = {
    object: objectFile,
    engine: data.engine,
    runs: data.programs.map((p) => ({
      name: p.name, section: p.section, ok: p.error === undefined,
      retval: u64(p.retval ?? 0n), instructions: u64(p.instructions ?? 0), error: p.error?.message ?? '',
    })),
    events,
    droppedEvents: u64(data.droppedEvents),
    arena: arena && {
      userVmStart: u64(arena.userVmStart), kernVmStart: u64(arena.kernVmStart), globalsOffset: u64(arena.globalsOffset),
      pagesAllocated: arena.pagesAllocated, pagesScratched: arena.pagesScratched,
    },
    timers: [
      ...(data.callbacks ?? []).map((c) => ({
        wq: c.kind === 'wq', program: c.program ?? '', map: c.map, key: c.key, atNs: u64(c.atNs), ran: true,
        retval: u64(c.retval ?? 0n), instructions: u64(c.instructions ?? 0), error: c.error?.message ?? '',
      })),
      ...(data.timers ?? []).map((t) => ({ wq: t.kind === 'wq', program: t.program ?? '', map: t.map, key: t.key, atNs: u64(t.expiresNs), ran: false })),
    ],
    perf: (data.perf ?? []).map(({ map, records }) => ({
      map,
      records: records.map((r) => ({
        cpu: r.cpu, slot: r.slot, type: toEnum(PERF_TYPES, r.type), misc: r.misc, size: r.size, data: r.data,
        lost: u64(r.lost ?? 0), id: u64(r.id ?? 0),
      })),
    })),
  };
  const type = RunRecordType();
  const err = type.verify(message);
  if (err) throw new Error(`run record does not fit its schema: ${err}`);
  return type.encode(type.fromObject(message)).finish();
}

function faultMessage(e: FaultEvent) {
  return {
    program: e.program ?? '', access: toEnum(ACCESSES, e.access), path: toEnum(PATHS, e.path),
    userAddress: u64(e.userAddress ?? 0n), kernelAddress: u64(e.kernelAddress ?? 0n), insn: e.insn ?? -1, source: sourceLine(e.source),
    kfunc: e.kfunc ?? '', callInsn: e.callSite?.insn ?? -1, callSource: sourceLine(e.callSite?.source),
  };
}

/** A decoded record, as plain data (addresses as bigint). */
export interface RunRecordView {
  readonly object: string;
  readonly engine: string;
  readonly runs: ReadonlyArray<{ name: string; section: string; ok: boolean; retval: bigint; instructions: bigint; error: string }>;
  readonly events: readonly RunEvent[];
  /** Events past the log's limit, not recorded. */
  readonly droppedEvents: number;
  readonly arena?: { userVmStart: bigint; kernVmStart: bigint; globalsOffset: bigint; pagesAllocated: number; pagesScratched: number };
  /** Each PERF_EVENT_ARRAY's records after the runs (empty in records written before they were recorded). */
  readonly perf: readonly PerfMapRecords[];
  /** Timer and bpf_wq callbacks that ran as the clock advanced (`ran`), then those still armed. */
  readonly timers: readonly RecordedTimer[];
}

export interface RecordedTimer {
  readonly kind: 'timer' | 'wq';
  readonly program: string;
  readonly map: string;
  readonly key: Uint8Array;
  readonly atNs: bigint;
  readonly ran: boolean;
  readonly retval?: bigint;
  readonly instructions?: bigint;
  readonly error?: string;
}

/** The record as protobufjs `toObject` gives it (defaults filled, 64-bit fields as bigint). */
interface RawSource { function: string; file: string; line: number; column: number; text: string }
interface RawRecord {
  object: string;
  engine: string;
  runs: Array<{ name: string; section: string; ok: boolean; retval: bigint; instructions: bigint; error: string }>;
  events: Array<{
    seq: bigint;
    stream?: { program: string; stream: number; elements: string[]; origin: number };
    fault?: {
      program: string; access: number; path: number; userAddress: bigint; kernelAddress: bigint; insn: number;
      source?: RawSource; kfunc: string; callInsn: number; callSource?: RawSource;
    };
  }>;
  arena?: { userVmStart: bigint; kernVmStart: bigint; globalsOffset: bigint; pagesAllocated: number; pagesScratched: number };
  droppedEvents: bigint;
  perf: Array<{ map: string; records: Array<{ cpu: number; slot: number; type: number; misc: number; size: number; data: Uint8Array; lost: bigint; id: bigint }> }>;
  timers: Array<{ wq: boolean; program: string; map: string; key: Uint8Array; atNs: bigint; ran: boolean; retval: bigint; instructions: bigint; error: string }>;
}

const sourceOf = (program: string, s: RawSource | undefined): SourceLocation | undefined =>
  s?.file ? { program, function: s.function, file: s.file, line: s.line, column: s.column, text: s.text } : undefined;

export function decodeRecord(bytes: Uint8Array, where = 'run record'): RunRecordView {
  const type = RunRecordType();
  let raw: RawRecord;
  try {
    raw = type.toObject(type.decode(bytes), { defaults: true, longs: BigInt, enums: Number }) as RawRecord;
  } catch (e) {
    throw new LoadError(where, `not a run record (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const events = raw.events.map((e): RunEvent => {
    const seq = Number(e.seq);
    if (e.stream) {
      const s = e.stream;
      return { kind: 'stream', seq, program: s.program, stream: fromEnum(STREAMS, s.stream, 'stdout'), elements: s.elements, origin: fromEnum(ORIGINS, s.origin, 'program') };
    }
    if (!e.fault) throw new LoadError(where, `event #${seq} is neither a stream message nor a fault`);
    const f = e.fault;
    return withoutUndefined<FaultEvent>({
      kind: 'fault', seq, program: f.program || undefined, access: fromEnum(ACCESSES, f.access, 'read'),
      path: fromEnum(PATHS, f.path, 'oops'),
      userAddress: optional(f.userAddress), kernelAddress: optional(f.kernelAddress),
      insn: f.insn >= 0 ? f.insn : undefined, source: sourceOf(f.program, f.source), kfunc: f.kfunc || undefined,
      callSite: f.callInsn >= 0 ? withoutUndefined({ insn: f.callInsn, source: sourceOf(f.program, f.callSource) }) : undefined,
    });
  });
  const a = raw.arena;
  return {
    object: raw.object,
    engine: raw.engine,
    runs: raw.runs,
    events,
    droppedEvents: Number(raw.droppedEvents),
    arena: a && a.userVmStart !== 0n ? a : undefined,
    timers: raw.timers.map((t): RecordedTimer => ({
      kind: t.wq ? 'wq' : 'timer', program: t.program, map: t.map, key: new Uint8Array(t.key), atNs: t.atNs, ran: t.ran,
      ...(t.ran && (t.error ? { error: t.error } : { retval: t.retval, instructions: t.instructions })),
    })),
    perf: raw.perf.map(({ map, records }) => ({
      map,
      records: records.map((r): PerfRecord => {
        const type = fromEnum(PERF_TYPES, r.type, 'sample');
        const head = { cpu: r.cpu, slot: r.slot, type, misc: r.misc, size: r.size, data: new Uint8Array(r.data) };
        return type === 'lost' ? { ...head, lost: Number(r.lost), id: Number(r.id) } : head;
      }),
    })),
  };
}

/** Address 0 is "not recorded" (proto3 has no presence for scalars). */
const optional = (v: bigint): bigint | undefined => (v === 0n ? undefined : v);

export interface InspectFilter {
  readonly stream?: 'stdout' | 'stderr';
  readonly faults?: boolean;
  readonly prog?: string;
}

/** The events a filter keeps: `--stream` keeps that stream's messages, `--faults` the faults. */
export function filterEvents(record: RunRecordView, filter: InspectFilter): RunEvent[] {
  const kinds = filter.stream || filter.faults;
  return record.events.filter((e) => {
    if (filter.prog && e.program !== filter.prog) return false;
    if (!kinds) return true;
    return (filter.faults && e.kind === 'fault') || (filter.stream !== undefined && e.kind === 'stream' && e.stream === filter.stream);
  });
}

const hex = (v: bigint | undefined) => (v === undefined ? '-' : '0x' + v.toString(16));
const at = (s: SourceLocation | undefined) => (s ? ` at ${s.file.split('/').pop()}:${s.line} (${s.text.trim()})` : '');

/** `bpfrun inspect`, as text. */
export function formatInspect(record: RunRecordView, filter: InspectFilter): string {
  const lines = [`${record.object} (${record.engine})`];
  for (const r of record.runs) {
    if (filter.prog && r.name !== filter.prog) continue;
    lines.push(`  ${r.name} (${r.section}): ${r.ok ? `retval ${r.retval}, ${r.instructions} instructions` : `error: ${r.error}`}`);
  }
  for (const e of filterEvents(record, filter)) {
    if (e.kind === 'stream') {
      lines.push(`#${e.seq} ${e.program} ${e.stream} (${e.origin}, ${e.elements.length} element${e.elements.length === 1 ? '' : 's'}): ${JSON.stringify(e.elements.join(''))}`);
    } else {
      const where = e.path === 'exception-table' ? `insn ${e.insn}${at(e.source)}`
        : `kfunc ${e.kfunc}${e.callSite ? `, called at insn ${e.callSite.insn}${at(e.callSite.source)}` : ''}`;
      lines.push(`#${e.seq} ${e.program ?? '(no program)'} fault: ${e.access.toUpperCase()} user ${hex(e.userAddress)}${e.kernelAddress === undefined ? '' : ` kernel ${hex(e.kernelAddress)}`}, ${e.path}, ${where}`);
    }
  }
  if (record.droppedEvents > 0) lines.push(`(${record.droppedEvents} later events not recorded: the log keeps ${EVENT_LOG_LIMIT})`);
  if (record.arena) {
    const a = record.arena;
    lines.push(`arena: user_vm_start ${hex(a.userVmStart)}, kern_vm_start ${hex(a.kernVmStart)}, ${a.pagesAllocated} pages allocated, ${a.pagesScratched} scratched`);
  }
  lines.push(...perfLines(record.perf).filter((l) => l !== ''));
  for (const t of record.timers) {
    const what = `${t.kind === 'wq' ? 'bpf_wq' : 'bpf_timer'} ${t.map}[${Buffer.from(t.key).toString('hex')}] of ${t.program || '?'}`;
    lines.push(t.ran ? `timer callback at ${t.atNs} ns: ${what}: ${t.error ? `error: ${t.error}` : `returned ${t.retval}, ${t.instructions} instructions`}`
      : `timer armed: ${what}, expires at ${t.atNs} ns`);
  }
  return lines.join('\n');
}

/** `bpfrun tracelog {stdout|stderr}`: the stream's text, as `bpftool prog tracelog` prints it. */
export function tracelog(record: RunRecordView, stream: 'stdout' | 'stderr', prog?: string): string {
  return record.events
    .filter((e) => e.kind === 'stream' && e.stream === stream && (!prog || e.program === prog))
    .map((e) => (e.kind === 'stream' ? e.elements.join('') : ''))
    .join('');
}

/** `bpfrun inspect --json`: the filtered record; addresses as hex strings, other 64-bit values as decimal strings. */
export function recordJson(record: RunRecordView, filter: InspectFilter): string {
  const view = {
    ...record,
    runs: record.runs.filter((r) => !filter.prog || r.name === filter.prog),
    events: filterEvents(record, filter),
  };
  return JSON.stringify(view, (key, v) => {
    if (typeof v === 'bigint') return /Address$|VmStart$/.test(key) ? hex(v) : v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex'); // perf record bytes
    return v;
  }, 2);
}
