/**
 * What `bpfrun run`, `info` and `disasm FILE.o` print: a run report (also as JSON), a summary
 * of an object, and a per-program listing with relocations named and source lines interleaved.
 */
import { disassembleOne } from './asm/disassembler.js';
import { BpfError } from './errors.js';
import { width } from './isa/instruction.js';
import {
  BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE, OP_CALL, OP_LDDW,
} from './isa/opcodes.js';
import type { ObjectSpec, ProgramSpec } from './loader/spec.js';
import { mapTypeName } from './maps/types.js';
import type { EngineName } from './engines.js';
import { GlobalValue, LoadedObject } from './object.js';
import { helperName } from './helpers/helpers.js';

export interface ProgramResult {
  readonly name: string;
  readonly section: string;
  /** u64 in decimal. */
  readonly retval?: string;
  readonly insns?: number;
  readonly error?: string;
}

export interface ArenaReport {
  readonly user_vm_start: string;
  readonly kern_vm_start: string;
  /** Bytes from user_vm_start to the first __arena global. */
  readonly globals_offset: number;
  readonly pages_allocated: number;
  readonly pages_scratched: number;
}

export interface RunReport {
  readonly programs: readonly ProgramResult[];
  readonly globals: Readonly<Record<string, { section: string; hex: string; value?: string }>>;
  /** What each program wrote to its BPF streams during this run. spec §4 */
  readonly streams: Readonly<Record<string, { stdout: string; stderr: string }>>;
  /** Lines written with bpf_trace_printk / bpf_trace_vprintk, in order. */
  readonly trace: readonly string[];
  readonly arena?: ArenaReport;
}

/** Runs the named programs (all `syscall` ones by default) in order on one loaded object. */
export function runPrograms(loaded: LoadedObject, names: readonly string[], engine: EngineName, ctx?: Uint8Array): RunReport {
  const chosen = names.length > 0 ? names.map((n) => loaded.program(n))
    : loaded.programs.filter((p) => p.spec.type.name === 'syscall' && p.spec.autoload);
  const streams: Record<string, { stdout: string; stderr: string }> = {};
  const programs = chosen.map((p): ProgramResult => {
    const read = () => { streams[p.name] = { stdout: p.streams.stdout.readAll(), stderr: p.streams.stderr.readAll() }; };
    try {
      const r = p.run({ engine, ctx });
      read();
      return { name: p.name, section: p.section, retval: r.retval.toString(), insns: r.instructions };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      read();
      return { name: p.name, section: p.section, error: e.message };
    }
  });
  const globals: Record<string, { section: string; hex: string; value?: string }> = {};
  for (const g of loaded.globals()) globals[g.name] = describeGlobal(g);
  const arena = loaded.arena;
  return {
    programs, globals, streams, trace: [...loaded.trace],
    ...(arena && {
      arena: {
        user_vm_start: '0x' + arena.userVmStart.toString(16),
        kern_vm_start: '0x' + arena.kernVmStart.toString(16),
        globals_offset: loaded.arenaGlobalsOffset,
        pages_allocated: arena.pagesAllocated,
        pages_scratched: arena.pagesScratched,
      },
    }),
  };
}

function describeGlobal(g: GlobalValue): { section: string; hex: string; value?: string } {
  const hex = Array.from(g.bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return g.value === undefined ? { section: g.section, hex } : { section: g.section, hex, value: g.value.toString() };
}

export function formatRunReport(report: RunReport): string {
  const lines: string[] = [];
  for (const p of report.programs) {
    lines.push(p.error !== undefined
      ? `${p.name} (${p.section}): error: ${p.error}`
      : `${p.name} (${p.section}): retval ${p.retval} (${BigInt.asIntN(64, BigInt(p.retval!))}), ${p.insns} instructions`);
  }
  const names = Object.keys(report.globals);
  if (names.length > 0) {
    lines.push('', 'globals:');
    const w = Math.max(...names.map((n) => n.length));
    for (const n of names) {
      const g = report.globals[n];
      lines.push(`  ${n.padEnd(w)}  ${g.section.padEnd(14)} ${g.value ?? '0x' + g.hex}`);
    }
  }
  for (const [name, out] of Object.entries(report.streams)) {
    for (const [which, text] of [['stdout', out.stdout], ['stderr', out.stderr]] as const) {
      if (text === '') continue;
      lines.push('', `${name} ${which}:`);
      for (const l of text.replace(/\n$/, '').split('\n')) lines.push('  ' + l);
    }
  }
  if (report.arena) {
    const a = report.arena;
    lines.push('', `arena: user_vm_start ${a.user_vm_start}, kern_vm_start ${a.kern_vm_start}, globals at +0x${a.globals_offset.toString(16)}, ` +
      `${a.pages_allocated} pages allocated, ${a.pages_scratched} scratched`);
  }
  if (report.trace.length > 0) {
    lines.push('', 'trace:');
    for (const t of report.trace) lines.push('  ' + t.replace(/\n$/, ''));
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
