/**
 * Messages the kernel itself writes to a program's stderr, each followed by the stack dump and
 * committed as one staged message (spec §3.4, §4.4, §4.7). They go to the **main** program's
 * streams (§5): the caller passes those.
 */
import { hex } from '../text.js';
import { type StackFrame, type TaskInfo, splitStackDump, stackDumpElements } from './stack.js';
import type { ProgramStreams, StreamStage } from './stream.js';

/** A dump to append: the text of formatStackDump, or the task and frames to format. */
export type StackDumpSource = string | { readonly task: TaskInfo; readonly frames: readonly StackFrame[] };

/**
 * Stages `lines` then the dump on stderr and commits: 0, or -ENOSPC when the whole message
 * does not fit (nothing of it is stored then). A failed element (> 1024 bytes) ends the
 * staging early, as in the kernel, and what was staged is still committed.
 */
function report(streams: ProgramStreams, lines: readonly string[], dump: StackDumpSource): number {
  const stage: StreamStage = streams.stderr.stage();
  const dumpElements = typeof dump === 'string' ? splitStackDump(dump) : stackDumpElements(dump.task, dump.frames);
  for (const element of [...lines, ...dumpElements]) {
    if (stage.printk(element)) break;
  }
  return stage.commit();
}

/**
 * `bpf_prog_report_arena_violation` (§3.4): `userAddr` is the faulting address in user form
 * (`clear_lo32(user_vm_start)` + the 32-bit offset; page aligned for kernel-side faults, §4.7).
 */
export function reportArenaViolation(streams: ProgramStreams, isWrite: boolean, userAddr: bigint, dump: StackDumpSource): number {
  const addr = hex(BigInt.asUintN(64, userAddr));
  return report(streams, [`ERROR: Arena ${isWrite ? 'WRITE' : 'READ'} access at unmapped address ${addr}\n`], dump);
}

/** `bpf_prog_report_may_goto_violation` (§4.7): a timed may_goto loop ran past its budget. */
export function reportMayGotoTimeout(streams: ProgramStreams, dump: StackDumpSource): number {
  return report(streams, ['ERROR: Timeout detected for may_goto instruction\n'], dump);
}

/**
 * The rqspinlock report of `bpf_res_spin_lock[_irqsave]` failures (§4.7): `timeout` selects
 * "Timeout detected" (-ETIMEDOUT) over "AA or ABBA deadlock detected"; addresses print as
 * `0x%px` (16 zero-padded hex digits); one staged printk per line. The caller lists at most
 * RES_NR_HELD held locks while `Total held locks` is the real count, as rqspinlock.c prints.
 */
export function reportResSpinLockFailure(
  streams: ProgramStreams,
  opts: {
    readonly timeout: boolean;
    readonly irqsave: boolean;
    readonly attempted: bigint;
    readonly held: readonly bigint[];
    readonly heldCount?: number;
  },
  dump: StackDumpSource,
): number {
  const px = (a: bigint) => hex(BigInt.asUintN(64, a), 16);
  const what = opts.timeout ? 'Timeout detected' : 'AA or ABBA deadlock detected';
  const lines = [
    `ERROR: ${what} for bpf_res_spin_lock${opts.irqsave ? '_irqsave' : ''}\n`,
    `Attempted lock   = ${px(opts.attempted)}\n`,
    `Total held locks = ${opts.heldCount ?? opts.held.length}\n`,
    ...opts.held.map((a, i) => `Held lock[${String(i).padStart(2)}] = ${px(a)}\n`),
  ];
  return report(streams, lines, dump);
}
