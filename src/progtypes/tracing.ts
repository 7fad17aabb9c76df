/**
 * BPF_PROG_TYPE_TRACING (fentry, fexit, fsession, fmod_ret, tp_btf, iter) as
 * bpf_prog_test_run_tracing runs it (spec program-types §1.8): the program under test is NOT
 * executed. For fentry/fexit/fsession the kernel calls its bpf_fentry_test* functions (which
 * would run attached programs; nothing is attached in a test run) and answers retval 0; for
 * fmod_ret it calls bpf_modify_return_test and _test2 and answers
 * (side_effect << 16) | (16-bit sum of their returns) = 0x20021; tp_btf and iter are EFAULT.
 * flags, cpu or batch_size non-zero → EINVAL (refuseNonZero); data, ctx and repeat are ignored.
 *
 * Running a tracing program on an argument array — what the kernel's test run never does — is
 * the explicitly named direct mode: RunOptions.tracingArgs (one u64 per argument, the
 * context §2.7 gives the program).
 */
import { TestRunError } from '../errors.js';
import { toU64 } from '../int64.js';
import { EFAULT } from '../uapi.js';
import { helpersFor } from './helpers.js';
import { refuseNonZero } from './test-run.js';
import type { ProgramTypeDef, TestRunSetup } from './types.js';

/** (side_effect 2 << 16) | (4 + 29): bpf_modify_return_test and _test2 with nothing attached. */
const FMOD_RET_RETVAL = (2 << 16) | 33;

export const TRACING: ProgramTypeDef = {
  name: 'tracing',
  helpers: helpersFor('tracing'),
  testRun(kernel, input, program): TestRunSetup {
    refuseNonZero(program, [['flags', input.flags], ['cpu', input.cpu], ['batch_size', input.batchSize]]);
    const direct = input.tracingArgs;
    if (direct !== undefined) {
      // Direct mode: the arguments as the program's u64 context array.
      const ctx = new Uint8Array(8 * Math.max(1, direct.length));
      const view = new DataView(ctx.buffer);
      direct.forEach((a, k) => view.setBigUint64(8 * k, BigInt.asUintN(64, a), true));
      const region = kernel.memory.map(`arguments of ${program.name}`, ctx, false);
      return {
        args: [toU64(region.start, region.hi)], repeat: 1,
        finish: () => ({ dataSize: 0, ctxSize: 0, errno: 0 }),
        release: () => kernel.memory.unmap(region),
      };
    }
    let retval: number;
    if (/^(fentry|fexit|fsession)(\.multi)?(\.s)?(\/|$)/.test(program.section)) retval = 0;
    else if (/^fmod_ret(\.s)?(\/|$)/.test(program.section)) retval = FMOD_RET_RETVAL;
    else throw new TestRunError(program.name, EFAULT, `${program.section}: BPF_PROG_TEST_RUN of tp_btf and iter programs is EFAULT`);
    return { repeat: 0, finish: () => ({ dataSize: 0, ctxSize: 0, errno: 0, retval }), release: () => undefined };
  },
};
