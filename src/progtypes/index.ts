/**
 * Program types as first-class parts: one module per type (or family), one registry entry each.
 * A type owns its context model (which context fields may be read or written, and what each
 * access becomes), its test-run semantics (BPF_PROG_TEST_RUN: the input it accepts, with the
 * kernel's errnos, and what a run gives back) and the helpers it may call. Adding a type touches
 * this table and its own module only: the engines never see program types.
 */
import { FLOW_DISSECTOR } from './flow-dissector.js';
import { RAW_TRACEPOINT } from './raw-tp.js';
import { CGROUP_SKB, LWT_IN, LWT_OUT, LWT_XMIT, SCHED_ACT, SCHED_CLS, SOCKET_FILTER } from './skb.js';
import { SYSCALL } from './syscall.js';
import { TRACING } from './tracing.js';
import type { ProgramTypeDef } from './types.js';
import { XDP } from './xdp.js';

export type { ProgramTypeDef, TestRunInput, TestRunOutput, TestRunProgram, TestRunSetup } from './types.js';
export { ContextSites } from './context.js';
export { FlowDissectorContext } from './flow-dissector.js';

const PROGRAM_TYPES: ReadonlyMap<string, ProgramTypeDef> = new Map([
  SYSCALL, XDP, SOCKET_FILTER, SCHED_CLS, SCHED_ACT, CGROUP_SKB, LWT_IN, LWT_OUT, LWT_XMIT, FLOW_DISSECTOR, RAW_TRACEPOINT, TRACING,
].map((t) => [t.name, t]));

/**
 * The definition of a program type. Types without a model of their own yet run with the
 * syscall type's model (r1 = a copy of the context bytes, or NULL), as every type did before
 * program types existed; hasProgramTypeModel tells which have their own.
 */
export function programTypeDef(name: string): ProgramTypeDef {
  return PROGRAM_TYPES.get(name) ?? SYSCALL;
}

/** Whether `name` has a model of its own (not the syscall fallback). */
export function hasProgramTypeModel(name: string): boolean {
  return PROGRAM_TYPES.has(name);
}
