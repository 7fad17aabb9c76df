/** What a program type is: see src/progtypes/index.ts. */
import type { SimKernel } from '../kernel/kernel.js';
import type { ClonedPacket, RedirectRecord } from '../net/skb.js';
import type { ContextModel } from './context.js';

/** The BPF_PROG_TEST_RUN attributes (spec program-types §1.1), as the library takes them. */
export interface TestRunInput {
  /** data_in: the packet. */
  readonly data?: Uint8Array;
  /** ctx_in: the context bytes. */
  readonly ctx?: Uint8Array;
  /** data_size_out: room for the output packet; 0 or undefined: unlimited (the legacy rule). */
  readonly dataSizeOut?: number;
  /**
   * ctx_size_out: room for the output context. Undefined: ctx_out is given (unlimited) when
   * ctx_in is, NULL otherwise; 0: ctx_out NULL.
   */
  readonly ctxSizeOut?: number;
  /** Runs on the same context; 0 or undefined: 1. */
  readonly repeat?: number;
  /** BPF_F_TEST_RUN_ON_CPU 1, BPF_F_TEST_XDP_LIVE_FRAMES 2, BPF_F_TEST_SKB_CHECKSUM_COMPLETE 4. */
  readonly flags?: number;
  readonly cpu?: number;
  readonly batchSize?: number;
  /**
   * Tracing programs only: run the program on these arguments (its u64 context array) instead
   * of the kernel's test run, which never runs it (spec program-types §1.8).
   */
  readonly tracingArgs?: readonly bigint[];
}

/** What the program under test is, as its type's test run needs to know it. */
export interface TestRunProgram {
  readonly name: string;
  /** The SEC() name: it gives the expected attach type (xdp/devmap, cgroup_skb/egress). */
  readonly section: string;
  /** One past the highest context byte the program reads (max_ctx_offset). */
  readonly maxCtxOffset: number;
  readonly sleepable: boolean;
}

/** What a test run hands back after the last repetition. */
export interface TestRunOutput {
  /** data_out as copied (a prefix when ENOSPC), if the type has one. */
  readonly data?: Uint8Array;
  /** data_size_out: the full output size. */
  readonly dataSize: number;
  /** ctx_out as copied, when written. */
  readonly ctx?: Uint8Array;
  readonly ctxSize: number;
  /** 0, or ENOSPC when an output did not fit (the outputs and retval are still written). */
  readonly errno: number;
  /** The redirect target the last bpf_redirect* call recorded (test_run never sends). spec §4.6 */
  readonly redirect?: RedirectRecord;
  /** The clones bpf_clone_redirect would have sent, in call order, over every repetition. */
  readonly clones?: readonly ClonedPacket[];
  /** retval when the test run computes it without running the program (tracing, §1.8). */
  readonly retval?: number;
}

/** A test run set up in a kernel: the program's arguments, its context, then what it hands back. */
export interface TestRunSetup {
  /** r1..r5 for the program; absent: r1 is the address of its converted context. */
  readonly args?: readonly bigint[];
  /** The kernel object behind a converted context (an skb, an xdp_buff), if the type has one. */
  readonly context?: unknown;
  /** How many times to run (on the same context). */
  readonly repeat: number;
  /** Before each run (the flow dissector zeroes its keys). */
  beforeEach?(): void;
  /** After the last run, with its r0. */
  finish(r0: bigint): TestRunOutput;
  /** Unmaps what the setup mapped; called after every run, failed or not. */
  release(): void;
}

export interface ProgramTypeDef {
  /** libbpf's name for the type (ProgramSpec.type.name). */
  readonly name: string;
  /**
   * Sets up a test run (bpf_prog_test_run_*): validates the input as the kernel does, throwing
   * TestRunError with its errno, and maps what the program's context needs.
   */
  testRun(kernel: SimKernel, input: TestRunInput, program: TestRunProgram): TestRunSetup;
  /** How context accesses are checked and converted; undefined: the context is plain memory. */
  readonly context?: ContextModel<unknown>;
  /** The helper ids the type may call (the kernel's get_func_proto); undefined: every helper. */
  readonly helpers?: ReadonlySet<number>;
}
