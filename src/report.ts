/**
 * What `bpfrun run`, `info` and `disasm FILE.o` print: a run report (also as JSON) formatted from
 * the run data (src/runs.ts), a summary of an object, and a per-program listing with relocations
 * named and source lines interleaved.
 */
import { disassembleOne } from './asm/disassembler.js';
import { causeLines, causeTexts } from './errors.js';
import { width } from './isa/instruction.js';
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, OP_CALL, OP_LDDW,
} from './isa/opcodes.js';
import type { ObjectSpec, ProgramSpec } from './loader/spec.js';
import { helperName, mapTypeName } from './uapi.js';
import type { GlobalValue } from './object.js';
import type { PerfMapRecords, RunData, StreamsText } from './runs.js';

/** A program's entry in the JSON report. */
export interface ProgramResult {
  readonly name: string;
  readonly section: string;
  /** u64 in decimal. */
  readonly retval?: string;
  readonly insns?: number;
  readonly error?: string;
  /** The error's causes as `causeTexts` shows them (a kfunc's exception as its stack), when there are any. */
  readonly causes?: readonly string[];
}

/** A global in the reports: its bytes in hex and, for integers and enums, its value in decimal. */
export interface GlobalReport {
  readonly section: string;
  readonly hex: string;
  readonly value?: string;
}

/** The arena in the JSON report. */
export interface ArenaReport {
  readonly user_vm_start: string;
  readonly kern_vm_start: string;
  /** Bytes from user_vm_start to the first __arena global. */
  readonly globals_offset: number;
  readonly pages_allocated: number;
  readonly pages_scratched: number;
}

/** What `bpfrun run --json` prints: the run data with 64-bit values as strings. */
export interface RunReport {
  readonly programs: readonly ProgramResult[];
  readonly globals: Readonly<Record<string, GlobalReport>>;
  /** What each program wrote to its BPF streams during this run. spec §4 */
  readonly streams: Readonly<Record<string, StreamsText>>;
  /** Lines written with bpf_trace_printk / bpf_trace_vprintk, in order. */
  readonly trace: readonly string[];
  readonly arena?: ArenaReport;
  /** Each PERF_EVENT_ARRAY's records, by map name (only for objects with such maps). spec program-types §4.9 */
  readonly perf?: Readonly<Record<string, readonly PerfRecordReport[]>>;
  /** bpf_timers still armed after the runs, in firing order (only when there are some). spec §6.3 */
  readonly timers?: ReadonlyArray<{ kind: 'timer' | 'wq'; program?: string; map: string; key: string; expires_ns: string }>;
}

/** A perf record in the JSON report: the header, and the raw bytes (padding included) in hex. */
export interface PerfRecordReport {
  readonly cpu: number;
  readonly slot: number;
  readonly type: 'sample' | 'lost';
  readonly misc: number;
  /** header.size: the whole record. */
  readonly size: number;
  /** Samples: raw_size, the length the reader's callback gets (a multiple of 8, minus 4). */
  readonly raw_size?: number;
  /** Samples: the raw bytes in hex. */
  readonly hex?: string;
  /** LOST records: the samples lost. */
  readonly lost?: number;
  readonly id?: number;
}

/** The perf records by map name, as the JSON reports show them. */
export function perfReport(perf: readonly PerfMapRecords[]): Record<string, PerfRecordReport[]> {
  const out: Record<string, PerfRecordReport[]> = {};
  for (const { map, records } of perf) {
    out[map] = records.map((r) => {
      const head = { cpu: r.cpu, slot: r.slot, type: r.type, misc: r.misc, size: r.size };
      return r.type === 'sample' ? { ...head, raw_size: r.data.length, hex: bytesHex(r.data) } : { ...head, lost: r.lost, id: r.id };
    });
  }
  return out;
}

/** The perf records as text, one line per record, under a heading per map that has any. */
export function perfLines(perf: readonly PerfMapRecords[]): string[] {
  const lines: string[] = [];
  for (const { map, records } of perf) {
    if (records.length === 0) continue;
    lines.push('', `perf records (${map}):`);
    for (const r of records) {
      lines.push(r.type === 'sample'
        ? `  cpu ${r.cpu}  sample  ${r.data.length} bytes  ${bytesHex(r.data)}`
        : `  cpu ${r.cpu}  lost    ${r.lost} sample${r.lost === 1 ? '' : 's'}`);
    }
  }
  return lines;
}

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The JSON report of the runs (`bpfrun run --json`). */
export function runReportJson(data: RunData): string {
  const programs = data.programs.map((p): ProgramResult => {
    if (p.error === undefined) return { name: p.name, section: p.section, retval: p.retval.toString(), insns: p.instructions };
    const causes = causeTexts(p.error);
    return { name: p.name, section: p.section, error: p.error.message, ...(causes.length > 0 && { causes }) };
  });
  const a = data.arena;
  const report: RunReport = {
    programs, globals: globalsByName(data), streams: streamsByProgram(data), trace: data.trace,
    ...(a && {
      arena: {
        user_vm_start: hex(a.userVmStart),
        kern_vm_start: hex(a.kernVmStart),
        globals_offset: a.globalsOffset,
        pages_allocated: a.pagesAllocated,
        pages_scratched: a.pagesScratched,
      },
    }),
    ...(data.perf && data.perf.length > 0 && { perf: perfReport(data.perf) }),
    ...(data.callbacks && {
      callbacks: data.callbacks.map((c) => ({
        kind: c.kind, program: c.program, map: c.map, key: bytesHex(c.key), at_ns: c.atNs.toString(),
        ...(c.error ? { error: c.error.message } : { retval: String(c.retval), instructions: c.instructions }),
      })),
    }),
    ...(data.timers && {
      timers: data.timers.map((t) => ({ kind: t.kind, program: t.program, map: t.map, key: bytesHex(t.key), expires_ns: t.expiresNs.toString() })),
    }),
  };
  return JSON.stringify(report, null, 2);
}

const hex = (v: bigint) => '0x' + v.toString(16);

/** Globals by name (a later one of the same name wins), as the reports show them. */
function globalsByName(data: RunData): Record<string, GlobalReport> {
  const globals: Record<string, GlobalReport> = {};
  for (const g of data.globals) globals[g.name] = describeGlobal(g);
  return globals;
}

/** Each program's stream text, by program name (a program run twice shows its last run). */
function streamsByProgram(data: RunData): Record<string, StreamsText> {
  const streams: Record<string, StreamsText> = {};
  for (const p of data.programs) streams[p.name] = p.streams;
  return streams;
}

function describeGlobal(g: GlobalValue): GlobalReport {
  const bytes = Array.from(g.bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return g.value === undefined ? { section: g.section, hex: bytes } : { section: g.section, hex: bytes, value: g.value.toString() };
}

/** The text report of the runs (`bpfrun run`); an error's causes are indented under it (`causeLines`). */
export function formatRunReport(data: RunData): string {
  const lines: string[] = [];
  for (const p of data.programs) {
    if (p.error === undefined) {
      lines.push(`${p.name} (${p.section}): retval ${p.retval} (${BigInt.asIntN(64, p.retval)}), ${p.instructions} instructions`);
      continue;
    }
    lines.push(`${p.name} (${p.section}): error: ${p.error.message}`);
    for (const l of causeLines(p.error)) lines.push('  ' + l);
  }
  const globals = globalsByName(data);
  const names = Object.keys(globals);
  if (names.length > 0) {
    lines.push('', 'globals:');
    // A loop, not Math.max(...): a spread of 150 000 names overflows the stack.
    const w = names.reduce((m, n) => Math.max(m, n.length), 0);
    for (const n of names) {
      const g = globals[n];
      lines.push(`  ${n.padEnd(w)}  ${g.section.padEnd(14)} ${g.value ?? '0x' + g.hex}`);
    }
  }
  for (const [name, out] of Object.entries(streamsByProgram(data))) {
    for (const [which, text] of [['stdout', out.stdout], ['stderr', out.stderr]] as const) {
      if (text === '') continue;
      lines.push('', `${name} ${which}:`);
      for (const l of text.replace(/\n$/, '').split('\n')) lines.push('  ' + l);
    }
  }
  if (data.arena) {
    const a = data.arena;
    lines.push('', `arena: user_vm_start ${hex(a.userVmStart)}, kern_vm_start ${hex(a.kernVmStart)}, ` +
      `globals at +0x${a.globalsOffset.toString(16)}, ${a.pagesAllocated} pages allocated, ${a.pagesScratched} scratched`);
  }
  lines.push(...perfLines(data.perf ?? []));
  if (data.callbacks) {
    lines.push('', 'timer callbacks run as the clock advanced:');
    for (const c of data.callbacks) {
      const what = c.error ? `error: ${c.error.message}` : `returned ${c.retval}, ${c.instructions} instructions`;
      lines.push(`  at ${c.atNs} ns: ${c.kind === 'wq' ? 'bpf_wq' : 'bpf_timer'} ${c.map}[${bytesHex(c.key)}] of ${c.program ?? '?'}: ${what}`);
    }
  }
  if (data.timers) {
    lines.push('', 'pending timers (callbacks run when the clock advances):');
    for (const t of data.timers) {
      lines.push(`  ${t.map}[${bytesHex(t.key)}]: ${t.kind === 'wq' ? 'bpf_wq queued at' : 'expires at'} ${t.expiresNs} ns, callback of ${t.program ?? '?'}`);
    }
  }
  if (data.trace.length > 0) {
    lines.push('', 'trace:');
    for (const t of data.trace) lines.push('  ' + t.replace(/\n$/, ''));
  }
  return lines.join('\n');
}

/** `bpfrun info`: programs, maps, globals and externs of an object. */
export function describeObject(spec: ObjectSpec): string {
  const lines = [`object ${spec.name}, license "${spec.license}"`, '', 'programs:'];
  for (const p of spec.programs) {
    const subs = p.functions.slice(1).map((f) => f.name);
    lines.push(`  ${p.name}  section ${p.section}  type ${p.type.name}${p.type.sleepable ? ' (sleepable)' : ''}` +
      `${p.autoload ? '' : '  (not autoloaded)'}  ${p.insns.length} instructions` +
      (subs.length ? `  calls ${subs.join(', ')}` : ''));
  }
  lines.push('', 'maps:');
  for (const m of spec.maps) {
    lines.push(`  ${m.name}  ${mapTypeName(m.type)}  key ${m.keySize}  value ${m.valueSize}  max_entries ${m.maxEntries}` +
      `  flags 0x${m.flags.toString(16)}${m.mapExtra ? `  map_extra 0x${m.mapExtra.toString(16)}` : ''}  (${m.origin === 'btf' ? '.maps' : m.section})`);
  }
  lines.push('', 'globals:');
  for (const v of spec.variables) {
    lines.push(`  ${v.name}  ${v.section}+${v.offset}  ${v.size} bytes  ${spec.btf?.typeName(v.typeId) ?? ''}`);
  }
  if (spec.externs.length > 0) {
    lines.push('', 'externs:');
    for (const e of spec.externs) lines.push(`  ${e.name}  ${e.kind}${e.weak ? '  weak' : ''}`);
  }
  return lines.join('\n');
}

/** `bpfrun disasm FILE.o`: each program, relocations named, source lines interleaved. */
export function disassembleObject(spec: ObjectSpec): string {
  const out: string[] = [];
  for (const p of spec.programs) {
    out.push(`${p.name} (section ${p.section}, ${p.type.name}):`);
    let slot = 0;
    let lastLine = '';
    for (const ins of p.insns) {
      const fn = p.functions.find((f) => f.start === slot);
      if (fn && slot > 0) out.push(`${fn.name}:`);
      const line = spec.lineOf(p, slot);
      const key = line ? `${line.fileName}:${line.line}` : '';
      if (line && key !== lastLine) out.push(`; ${line.lineText.trim()}  [${line.fileName.split('/').pop()}:${line.line}]`);
      lastLine = key;
      const note = relocationNote(spec, p, ins.opcode, ins.src, ins.imm, ins.imm2, slot);
      out.push(`${String(slot).padStart(6)}:  ${disassembleOne(ins, slot)}${note ? `\t# ${note}` : ''}`);
      slot += width(ins);
    }
    out.push('');
  }
  return out.join('\n');
}

function relocationNote(spec: ObjectSpec, p: ProgramSpec, opcode: number, src: number, imm: number, imm2: number, slot: number): string | undefined {
  if (opcode === OP_LDDW) {
    if (src === BPF_PSEUDO_MAP_IDX) return `map ${spec.maps[imm]?.name}`;
    if (src === BPF_PSEUDO_MAP_IDX_VALUE) {
      const section = imm < 0 ? '.addr_space.1' : spec.maps[imm]?.section;
      const v = spec.variables.find((x) => x.section === section && imm2 >= x.offset && imm2 < x.offset + Math.max(x.size, 1));
      return `${section}+${imm2}${v ? ` (${v.name}${imm2 > v.offset ? `+${imm2 - v.offset}` : ''})` : ''}`;
    }
    if (src === BPF_PSEUDO_FUNC) return `callback ${functionAtSlot(p, slot + 1 + imm)}`;
    if (src === BPF_PSEUDO_BTF_ID) return `address of ${spec.externs[imm]?.name}`;
  }
  if (opcode === OP_CALL) {
    if (src === BPF_PSEUDO_CALL) return functionAtSlot(p, slot + 1 + imm);
    if (src === BPF_PSEUDO_KFUNC_CALL) return `kfunc ${spec.externs[imm]?.name}`;
    if (src === 0) return helperName(imm);
  }
  return undefined;
}

function functionAtSlot(p: ProgramSpec, slot: number): string {
  const f = p.functions.find((x) => x.start === slot);
  return f ? f.name : `slot ${slot}`;
}
