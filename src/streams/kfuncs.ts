/**
 * The stream kfuncs (spec §4.2, §4.3): `bpf_stream_vprintk` (2026, 4 args, the verifier
 * appends `aux`), `bpf_stream_vprintk_impl` (6.18, 5 args with a NULL `aux__prog`) and
 * `bpf_stream_print_stack` (7.0). They write to the streams of the calling **main** program
 * (§5): the engine says which, and what the stack looks like, through StreamKfuncDeps.
 */
import { RuntimeError } from '../errors.js';
import { bpfFormat, memoryFormat } from '../helpers/printf.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { CallContext, NativeFn } from '../runtime.js';
import { hex, latin1Bytes, latin1Text } from '../text.js';
import { E2BIG, EINVAL, ENOENT } from '../uapi.js';
import { type StackFrame, type TaskInfo, stageStackDump } from './stack.js';
import { BPF_STREAM_ELEM_MAX, type ProgramStreams } from './stream.js';

/** MAX_BPRINTF_VARARGS (§4.1): `len__sz` is at most 12 u64 slots. */
const MAX_BPRINTF_VARARGS = 12;
/** Longest format string we look for a NUL in (the verifier already proved it constant). */
const MAX_FORMAT = 1 << 16;

export interface StreamKfuncDeps {
  /** Memory of the format string, the args array and %s strings. */
  readonly kernel: SimKernel;
  /** Streams of the calling program's main program; undefined makes the kfuncs return -ENOENT. */
  streamsOf(ctx: CallContext): ProgramStreams | undefined;
  /** The stack at the call, innermost frame first (what arch_bpf_stack_walk would visit). */
  stackOf(ctx: CallContext): readonly StackFrame[];
  /** The current task; default: the kernel's cpu and pid, uid 0, comm "bpfrun". */
  taskOf?(ctx: CallContext): TaskInfo;
  /**
   * Output of 1024 chars or more (§4.2). 'enomem' (default, mainline 6.17–7.x): exactly 1024
   * stores 1023 chars and a NUL; longer is -ENOMEM with its length left charged against the
   * capacity. 'e2big' (the newest, unmerged draft): -E2BIG before anything is charged.
   */
  readonly overlong?: 'enomem' | 'e2big';
}

/** The stream kfuncs by name, for an engine's kfunc table. */
export function createStreamKfuncs(deps: StreamKfuncDeps): Map<string, NativeFn> {
  const { kernel } = deps;
  const mem = kernel.memory;
  const overlong = deps.overlong ?? 'enomem';
  const taskOf = deps.taskOf ?? (() => kernel.task());
  const formatMemory = memoryFormat(mem);

  /** `fmt__str`: the verifier guarantees a NUL-terminated constant, so anything else is a bug. */
  const formatString = (ctx: CallContext): string => {
    const address = ctx.arg(2);
    const s = mem.readString(address, MAX_FORMAT);
    if (!s || !s.terminated) {
      throw new RuntimeError(ctx.index, `bpf_stream_vprintk: format at ${hex(address)} is not a NUL-terminated string`);
    }
    return latin1Text(s.bytes);
  };

  const vprintk: NativeFn = (ctx) => {
    // The order of the checks is the kernel's: stream, then args, then format.
    const stream = deps.streamsOf(ctx)?.get(ctx.argLo(1));
    if (!stream) return -ENOENT;
    const len = ctx.argLo(4) >>> 0;
    const argsAddress = ctx.arg(3);
    if (len % 8 !== 0 || len > MAX_BPRINTF_VARARGS * 8 || (len !== 0 && argsAddress === 0n)) return -EINVAL;
    const fmt = formatString(ctx);
    const raw = len === 0 ? new Uint8Array(0) : kernel.readOrFail(ctx.index, argsAddress, len);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const args = Array.from({ length: len / 8 }, (_, k) => view.getBigUint64(8 * k, true));
    const text = bpfFormat(fmt, args, formatMemory);
    if (typeof text === 'number') return text;
    if (text.length >= BPF_STREAM_ELEM_MAX) {
      if (overlong === 'e2big') return -E2BIG;
      // bstr_printf kept 1023 chars and the NUL but returned the full length; the push
      // charges that length, then fails to allocate anything over 1024 bytes.
      if (text.length > BPF_STREAM_ELEM_MAX) return stream.push(new Uint8Array(text.length));
      return stream.push(latin1Bytes(text.slice(0, BPF_STREAM_ELEM_MAX - 1) + '\0'));
    }
    return stream.push(latin1Bytes(text));
  };

  const printStack: NativeFn = (ctx) => {
    const stream = deps.streamsOf(ctx)?.get(ctx.argLo(1));
    if (!stream) return -ENOENT;
    // bpf_stream_stage(): stage the dump, commit what was staged; errors are not returned.
    const stage = stream.stage();
    stageStackDump(stage, taskOf(ctx), deps.stackOf(ctx));
    stage.commit();
    return 0;
  };

  return new Map<string, NativeFn>([
    ['bpf_stream_vprintk', vprintk],
    ['bpf_stream_vprintk_impl', vprintk],
    ['bpf_stream_print_stack', printStack],
  ]);
}
