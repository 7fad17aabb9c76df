/**
 * The arena's address model, below the maps: geometry, the page table and the range tree. The map
 * itself is ArenaMap in src/maps/arena.ts; the kernel's side (kfunc accesses, the page-fault
 * handler, the arena kfuncs) is in src/kernel/.
 */
export * from './geometry.js';
export { PageTable, FIRST_SLOT, END_SLOT } from './page-table.js';
export { RangeTree } from './range-tree.js';
