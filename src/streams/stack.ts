/**
 * The stack dump BPF streams carry (`bpf_stream_stage_dump_stack`, spec §4.6), BPF program
 * symbols (`bpf_prog_<tag>_<name>`) and the program tag itself (`bpf_prog_calc_tag`).
 */
import { createHash } from 'node:crypto';
import { hex } from '../text.js';
import type { StreamStage } from './stream.js';

/** The task a dump names: `raw_smp_processor_id()`, the real cred's euid, `current->pid`/`comm`. */
export interface TaskInfo {
  readonly cpu: number;
  readonly uid: number;
  readonly pid: number;
  readonly comm: string;
}

/** One return address of the walk, innermost first, already symbolised as `%pS` would. */
export interface StackFrame {
  readonly symbol: string;
  /** Offset of the address in the symbol, and the symbol's size (`+0xoff/0xsize`). */
  readonly offset: number;
  readonly size: number;
  /** Line info, for BPF frames whose program has BTF line info. */
  readonly source?: { readonly text: string; readonly file: string; readonly line: number };
}

/** `TASK_COMM_LEN` is 16 with the NUL, so `comm` never has more than 15 chars. */
const COMM_MAX = 15;

/**
 * The dump's elements, one per `bpf_stream_stage_printk` of the kernel: the task line, "Call
 * trace:", one per frame (a BPF frame's source line rides with it) and a final empty line.
 */
export function stackDumpElements(task: TaskInfo, frames: readonly StackFrame[]): string[] {
  return [
    `CPU: ${task.cpu} UID: ${task.uid} PID: ${task.pid} Comm: ${task.comm.slice(0, COMM_MAX)}\n`,
    'Call trace:\n',
    ...frames.map(formatFrame),
    '\n',
  ];
}

/** The dump as text (§4.6). */
export function formatStackDump(task: TaskInfo, frames: readonly StackFrame[]): string {
  return stackDumpElements(task, frames).join('');
}

/** `%pS` (`symbol+0xoff/0xsize`), then for line info `  <line> @ <basename>:<n>` (dump_stack_cb). */
function formatFrame(frame: StackFrame): string {
  const head = `${frame.symbol}+${hex(frame.offset)}/${hex(frame.size)}\n`;
  if (!frame.source) return head;
  const { text, file, line } = frame.source;
  // bpf_prog_get_file_line: leading isspace() stripped, kbasename() of the path.
  return `${head}  ${text.replace(/^[ \t\n\v\f\r]+/, '')} @ ${file.slice(file.lastIndexOf('/') + 1)}:${line}\n`;
}

/**
 * Stages a dump the way the kernel does: stop at the first failed element (only -ENOMEM here,
 * for an element over 1024 bytes), and then skip the trailing empty line. Returns 0 or the error;
 * the caller commits whatever was staged either way (the `bpf_stream_stage` macro).
 */
export function stageStackDump(stage: StreamStage, task: TaskInfo, frames: readonly StackFrame[]): number {
  for (const element of stackDumpElements(task, frames)) {
    const err = stage.printk(element);
    if (err) return err;
  }
  return 0;
}

/**
 * Splits a dump made by formatStackDump back into its elements, so a caller that only has the
 * text stages the same elements (a frame's indented source line stays with its frame).
 */
export function splitStackDump(dump: string): string[] {
  const lines = dump.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && out.length > 0 && out[out.length - 1] !== 'Call trace:\n') out[out.length - 1] += line;
    else out.push(line);
  }
  return out;
}

/**
 * A BPF program's kallsyms name (`bpf_prog_ksym_set_name`): `bpf_prog_<tag>` plus `_<name>`
 * when the program (or subprog, by its BTF func name) has one.
 */
export function bpfProgSymbol(tag: string, name: string): string {
  return name ? `bpf_prog_${tag}_${name}` : `bpf_prog_${tag}`;
}

const LD_IMM64 = 0x18;
const BPF_PSEUDO_MAP_FD = 1;
const BPF_PSEUDO_MAP_VALUE = 2;

/**
 * `bpf_prog_calc_tag`: a hash of the instructions as loaded, with the fd immediates of
 * `ld_imm64` map references (src 1 = map fd, src 2 = map value; both halves) zeroed because
 * fds differ from run to run; the tag is the first 8 bytes as 16 hex digits. Kernels since
 * 6.18 hash with SHA-256 (`prog->digest`, whose first 8 bytes are the tag); earlier ones with
 * SHA-1. Other pseudo sources (map idx, BTF id, func) are hashed as they are.
 */
export function progTag(insnBytes: Uint8Array, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  if (insnBytes.length % 8 !== 0) throw new RangeError('instructions must be a multiple of 8 bytes');
  const dst = insnBytes.slice();
  const view = new DataView(dst.buffer);
  let wasLdMap = false;
  for (let at = 0; at < dst.length; at += 8) {
    const code = dst[at], regs = dst[at + 1], src = regs >> 4, off = view.getInt16(at + 2, true);
    if (!wasLdMap && code === LD_IMM64 && (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE)) {
      wasLdMap = true;
      view.setInt32(at + 4, 0, true);
    } else if (wasLdMap && code === 0 && regs === 0 && off === 0) {
      // The second half of the ld_imm64 (the map value offset for src 2).
      wasLdMap = false;
      view.setInt32(at + 4, 0, true);
    } else {
      wasLdMap = false;
    }
  }
  return createHash(algorithm).update(dst).digest('hex').slice(0, 16);
}
