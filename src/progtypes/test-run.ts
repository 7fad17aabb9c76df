/**
 * The machinery every packet type's BPF_PROG_TEST_RUN shares (net/bpf/test_run.c):
 * bpf_ctx_init (the context buffer and its E2BIG rule), bpf_test_finish and bpf_ctx_finish (the
 * outputs with their ENOSPC partial copies). spec program-types §1.2
 */
import { TestRunError } from '../errors.js';
import { E2BIG, EINVAL, ENOSPC } from '../uapi.js';
import type { TestRunInput, TestRunOutput, TestRunProgram } from './types.js';

/** The largest ctx_in any type accepts (PAGE_SIZE). */
const MAX_CTX_IN = 4096;

/**
 * bpf_ctx_init: the context of `size` bytes (ctx_in copied, the rest zero), or undefined when
 * neither ctx_in nor ctx_out is given. spec §1.2.2
 */
export function ctxInit(input: TestRunInput, size: number, program: TestRunProgram): Uint8Array | undefined {
  const ctxIn = input.ctx;
  if (ctxIn === undefined && !ctxOutGiven(input)) return undefined;
  const ctx = new Uint8Array(size);
  if (ctxIn !== undefined) {
    if (ctxIn.length > MAX_CTX_IN) throw new TestRunError(program.name, E2BIG, `ctx_in is ${ctxIn.length} bytes (at most ${MAX_CTX_IN})`);
    for (let k = size; k < ctxIn.length; k++) {
      if (ctxIn[k] !== 0) throw new TestRunError(program.name, E2BIG, `ctx_in has a non-zero byte at ${k}, past the ${size}-byte context`);
    }
    ctx.set(ctxIn.subarray(0, size));
  }
  return ctx;
}

/** Whether ctx_out is given (non-NULL). */
export function ctxOutGiven(input: TestRunInput): boolean {
  return input.ctxSizeOut === undefined ? input.ctx !== undefined : input.ctxSizeOut > 0;
}

/** Requires `field` to be zero / absent for this type (the "must be 0 / NULL" rules, EINVAL). */
export function refuseNonZero(program: TestRunProgram, checks: ReadonlyArray<readonly [string, unknown]>): void {
  for (const [what, value] of checks) {
    const given = value instanceof Uint8Array ? true : value !== undefined && value !== 0;
    if (given) throw new TestRunError(program.name, EINVAL, `${what} must not be given for ${program.name}'s program type`);
  }
}

/**
 * bpf_test_finish, then bpf_ctx_finish when that succeeded: the packet (linear bytes, then
 * fragments — `packet` is them all) copied up to data_size_out, ENOSPC when it did not fit
 * (the full size is still reported); then the context up to ctx_size_out. spec §1.2.4
 * `recorded` is what the run's redirect helpers left (skb and XDP runs).
 */
export function testFinish(input: TestRunInput, packet: Uint8Array | undefined, ctx: Uint8Array | undefined,
  recorded?: Pick<TestRunOutput, 'redirect' | 'clones'>): TestRunOutput {
  let errno = 0;
  let data: Uint8Array | undefined;
  const dataSize = packet?.length ?? 0;
  if (packet !== undefined) {
    const room = input.dataSizeOut ?? 0;
    data = room !== 0 && packet.length > room ? packet.slice(0, room) : packet;
    if (data.length < packet.length) errno = ENOSPC;
  }
  let ctxOut: Uint8Array | undefined;
  let ctxSize = input.ctxSizeOut ?? 0;
  if (errno === 0 && ctx !== undefined && ctxOutGiven(input)) {
    const room = input.ctxSizeOut ?? ctx.length;
    if (ctx.length > room) errno = ENOSPC;
    ctxOut = ctx.slice(0, Math.min(room, ctx.length));
    ctxSize = ctx.length;
  }
  return { data, dataSize, errno, ctx: ctxOut, ctxSize, redirect: recorded?.redirect, clones: recorded?.clones };
}

/** Test runs repeat at least once (repeat 0 means 1). */
export function repeatCount(input: TestRunInput): number {
  return Math.max(1, input.repeat ?? 0);
}
