/**
 * The engines this build has. Benchmarks, the differential fuzzer and the CLI take their list
 * from here, so a new engine (the JIT) is one entry away from being measured and fuzzed.
 */
import type { EngineName } from './conformance.js';

export const ENGINES: readonly EngineName[] = ['interp', 'jit'];

/** Whether `name` is an engine of this build. */
export function hasEngine(name: string): name is EngineName {
  return (ENGINES as readonly string[]).includes(name);
}
