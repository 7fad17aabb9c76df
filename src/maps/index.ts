/** The map implementations: create with createMap(), use through BpfMap. */
export { BpfMap, createMap, type MapOptions } from './map.js';
export { ArrayMap } from './array.js';
export { HashMap } from './hash.js';
export { RingBufMap } from './ringbuf.js';
export { ProgArrayMap, type ResolvedProgram } from './progarray.js';
export { ArenaMap } from './arena.js';
export {
  BPF_F_CTXLEN_MASK, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, DEFAULT_PERF_PAGES, PERF_RECORD_LOST, PERF_RECORD_MISC_KERNEL, PERF_RECORD_SAMPLE,
  PerfEventArrayMap, type PerfEventOptions, type PerfRecord,
} from './perf-event-array.js';
export { flagsValue, flagsWithoutLock, hasLockFlag, roundUp8, type MapSpec } from './types.js';
/** The constants maps are written in (map types, flags, errno), as this module exported them before ../uapi.ts. */
export * from '../uapi.js';
export { QueueStackMap } from './queue-stack.js';
export { LpmTrieMap } from './lpm-trie.js';
export { BloomFilterMap, bloomBitsetMask } from './bloom-filter.js';
export { MapInMap, innerMapMismatch, type MapRegistry } from './map-in-map.js';
export { jhash } from './jhash.js';
export { BPF_F_ALL_CPUS, BPF_F_CPU, MapBatchError, type BatchDeleteOptions, type BatchLookupOptions, type BatchLookupResult, type BatchUpdateOptions } from './batch.js';
