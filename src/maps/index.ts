/** The map implementations: create with createMap(), use through BpfMap. */
export { BpfMap, createMap, type MapOptions } from './map.js';
export { ArrayMap } from './array.js';
export { HashMap } from './hash.js';
export { RingBufMap } from './ringbuf.js';
export { ProgArrayMap, type ResolvedProgram } from './progarray.js';
export { ArenaMap } from './arena.js';
export * from './types.js';
