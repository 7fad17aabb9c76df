/**
 * Program types as first-class parts: one module per type, one registry entry each. A type
 * owns its context model and test-run semantics (how BPF_PROG_TEST_RUN sets up r1..r5 and what
 * a run gives back) and the helpers it may call. Adding a type touches this table and its own
 * module only: the engines never see program types. (The return range the verifier enforces
 * per type, check_return_code, joins the definition with the first type that has one.)
 */
import { SYSCALL } from './syscall.js';
import type { ProgramTypeDef } from './types.js';

export type { ProgramTypeDef, TestRunInput, TestRunSetup } from './types.js';

const PROGRAM_TYPES: ReadonlyMap<string, ProgramTypeDef> = new Map([SYSCALL].map((t) => [t.name, t]));

/**
 * The definition of a program type. Types without a module of their own yet run with the
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
