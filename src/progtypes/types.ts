/** What a program type is: see src/progtypes/index.ts. */
import type { AddressSpace } from '../memory.js';

/** What a test run is given (the BPF_PROG_TEST_RUN attributes bpfrun supports). */
export interface TestRunInput {
  /** ctx_in: the context bytes, when given. */
  readonly ctx?: Uint8Array;
}

/** A test run set up in a kernel's memory: the program's arguments, then what it hands back. */
export interface TestRunSetup {
  /** r1..r5 for the program. */
  readonly args: readonly bigint[];
  /** After the run: ctx_out (the context as the program left it), when there is one. */
  finish(): { readonly ctx?: Uint8Array };
  /** Unmaps what the setup mapped; called after every run, failed or not. */
  release(): void;
}

export interface ProgramTypeDef {
  /** libbpf's name for the type (ProgramSpec.type.name). */
  readonly name: string;
  /** Maps what the program's context needs for one test run, in `memory`. */
  testRun(memory: AddressSpace, input: TestRunInput, program: string): TestRunSetup;
  /** The helper ids the type may call (the kernel's get_func_proto); undefined: every helper. */
  readonly helpers?: ReadonlySet<number>;
}
