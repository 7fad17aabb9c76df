/**
 * BPF_PROG_TYPE_SYSCALL (net/bpf/test_run.c bpf_prog_test_run_syscall): the context is the
 * caller's ctx_in bytes, copied in and copied back out after the run; without ctx_in, r1 is
 * NULL. Every helper bpfrun implements may be called. spec program-types.md.
 */
import { toU64 } from '../int64.js';
import type { ProgramTypeDef } from './types.js';

export const SYSCALL: ProgramTypeDef = {
  name: 'syscall',
  testRun(memory, input, program) {
    const ctx = input.ctx && memory.map(`ctx of ${program}`, input.ctx.slice());
    return {
      args: [ctx ? toU64(ctx.start, ctx.hi) : 0n],
      finish: () => ({ ctx: ctx?.bytes.slice() }),
      release: () => { if (ctx) memory.unmap(ctx); },
    };
  },
};
