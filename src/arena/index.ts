/** The arena's engine-independent parts; the map itself is ArenaMap in src/maps/arena.ts. */
export * from './geometry.js';
export { PageTable, FIRST_SLOT, END_SLOT } from './page-table.js';
export { RangeTree } from './range-tree.js';
