/**
 * BPF_PROG_TYPE_SYSCALL (net/bpf/test_run.c bpf_prog_test_run_syscall): the context is the
 * caller's ctx_in bytes, copied in and copied back out after the run; without ctx_in, r1 is
 * NULL. Every helper bpfrun implements may be called. spec program-types §1.9
 */
import { TestRunError } from '../errors.js';
import { toU64 } from '../int64.js';
import { EINVAL } from '../uapi.js';
import { refuseNonZero } from './test-run.js';
import type { ProgramTypeDef } from './types.js';

const MAX_CTX = 65535;

export const SYSCALL: ProgramTypeDef = {
  name: 'syscall',
  testRun(kernel, input, program) {
    refuseNonZero(program, [['data_in', input.data], ['data_size_out', input.dataSizeOut], ['repeat', input.repeat],
      ['flags', input.flags], ['batch_size', input.batchSize]]);
    const bytes = input.ctx;
    if ((bytes?.length ?? 0) > MAX_CTX) throw new TestRunError(program.name, EINVAL, `ctx_in is ${bytes!.length} bytes (at most ${MAX_CTX})`);
    const ctx = bytes && kernel.memory.map(`ctx of ${program.name}`, bytes.slice());
    return {
      args: [ctx ? toU64(ctx.start, ctx.hi) : 0n],
      repeat: 1,
      // the (possibly modified) context is copied back into ctx_in
      finish: () => ({ ctx: ctx?.bytes.slice(), ctxSize: ctx?.bytes.length ?? 0, dataSize: 0, errno: 0 }),
      release: () => { if (ctx) kernel.memory.unmap(ctx); },
    };
  },
};
