/** The map implementations: create with createMap(), use through BpfMap. */
export { BpfMap, createMap, type MapOptions } from './map.js';
export { ArrayMap } from './array.js';
export { HashMap } from './hash.js';
export { RingBufMap } from './ringbuf.js';
export { ProgArrayMap, type ResolvedProgram } from './progarray.js';
export { ArenaMap } from './arena.js';
export { flagsValue, flagsWithoutLock, hasLockFlag, roundUp8, type MapSpec } from './types.js';
/** The constants maps are written in (map types, flags, errno), as this module exported them before ../uapi.ts. */
export * from '../uapi.js';
