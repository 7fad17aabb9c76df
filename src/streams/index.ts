/** BPF streams (spec §4): per-program stdout/stderr, stack dumps, kernel reports, the kfuncs. */
export {
  BPF_STDERR, BPF_STDOUT, BPF_STREAM_ELEM_MAX, BPF_STREAM_MAX_CAPACITY, BpfStream, ProgramStreams, StreamStage,
  printfElement, type StreamObserver, type StreamOrigin,
} from './stream.js';
export {
  bpfProgSymbol, formatStackDump, progTag, splitStackDump, stackDumpElements, stageStackDump,
  type StackFrame, type TaskInfo,
} from './stack.js';
export { reportArenaViolation, reportMayGotoTimeout, reportResSpinLockFailure, type StackDumpSource } from './reports.js';
export { createStreamKfuncs, type StreamKfuncDeps } from './kfuncs.js';
