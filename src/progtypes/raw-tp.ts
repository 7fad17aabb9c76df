/**
 * BPF_PROG_TYPE_RAW_TRACEPOINT (bpf_prog_test_run_raw_tp, net/bpf/test_run.c): the context is
 * the caller's array of u64 arguments (ctx_in, at most 12 of them), plain read-only memory; the
 * program runs once, on CPU `cpu` with BPF_F_TEST_RUN_ON_CPU. spec program-types §1.7, §2.7
 */
import { TestRunError } from '../errors.js';
import { toU64 } from '../int64.js';
import { EINVAL, ENXIO } from '../uapi.js';
import { refuseNonZero } from './test-run.js';
import type { ProgramTypeDef } from './types.js';
import { helpersFor } from './helpers.js';

/** MAX_BPF_FUNC_ARGS * 8. */
const MAX_ARGS_SIZE = 96;
const BPF_F_TEST_RUN_ON_CPU = 1;

export const RAW_TRACEPOINT: ProgramTypeDef = {
  name: 'raw_tracepoint',
  helpers: helpersFor('tracing'),
  testRun(kernel, input, program) {
    const fail = (errno: number, why: string) => new TestRunError(program.name, errno, why);
    refuseNonZero(program, [['data_in', input.data], ['data_size_out', input.dataSizeOut], ['repeat', input.repeat],
      ['batch_size', input.batchSize]]);
    if ((input.ctxSizeOut ?? 0) !== 0) throw fail(EINVAL, 'ctx_out must not be given for raw_tracepoint programs');
    const args = input.ctx ?? new Uint8Array(0);
    if (args.length < program.maxCtxOffset) throw fail(EINVAL, `ctx_in is ${args.length} bytes; the program reads ${program.maxCtxOffset}`);
    if (args.length > MAX_ARGS_SIZE) throw fail(EINVAL, `ctx_in is ${args.length} bytes (at most ${MAX_ARGS_SIZE})`);
    const onCpu = ((input.flags ?? 0) & BPF_F_TEST_RUN_ON_CPU) !== 0;
    const cpu = input.cpu ?? 0;
    if (cpu !== 0 && !onCpu) throw fail(EINVAL, 'cpu needs BPF_F_TEST_RUN_ON_CPU');
    if (onCpu && program.sleepable) throw fail(EINVAL, 'a sleepable program cannot run on a chosen CPU');
    if (onCpu && cpu !== kernel.cpu) throw fail(ENXIO, `cpu ${cpu}: bpfrun runs programs on CPU ${kernel.cpu} only`);
    const region = args.length > 0 ? kernel.memory.map(`raw_tp args of ${program.name}`, args.slice(), false) : undefined;
    return {
      args: [region ? toU64(region.start, region.hi) : 0n],
      repeat: 1,
      finish: () => ({ dataSize: 0, ctxSize: 0, errno: 0 }),
      release: () => { if (region) kernel.memory.unmap(region); },
    };
  },
};
