/**
 * The layout of the WebAssembly memory every wasm engine shares (wasm/heap.ts). Only the
 * engine running at the moment owns it: an engine writes everything back to the program's
 * memory before any native runs and when its run ends (wasm/mirror.ts).
 *
 *   [0, STACK_BYTES)     the stack mirror: every frame's 512 bytes, the layout of the stack region
 *   REGS                 r0..r10 as little-endian i64 (the engines' register exchange layout)
 *   EX                   what an import returns besides its result: a high half, a fault flag
 *   SCRATCH              8 bytes a slow access reads from or writes to when no mirror holds it
 *   WIN                  the window: the mirrored region accessed last (see below)
 *   PT_READ, PT_WRITE    arena page tables: the wasm address of each mirrored arena page (4 MiB
 *                        each, one u32 per page of the 4 GiB kernel window; 0 = not mirrored;
 *                        the write table only holds pages that may be written)
 *   HEAP_BASE..          mirrors of regions and arena pages, allocated per run
 */
import { STACK_BYTES } from '../src/shell.js';

export const REGS = STACK_BYTES;
export const EX = REGS + 96;
export const SCRATCH = EX + 16;
/**
 * The window: +0 the region's first address (i64), +8 its wasm address (u32); at WIN_READ and
 * WIN_WRITE, for access sizes 1, 2, 4, 8, the count of valid start offsets (i64; 0 = none):
 * an access at `a` hits when a - start < count.
 */
export const WIN = SCRATCH + 16;
export const WIN_READ = WIN + 16;
export const WIN_WRITE = WIN_READ + 32;
export const WIN_END = WIN_WRITE + 32;
export const PT_READ = 0x10000;
export const PT_WRITE = PT_READ + (1 << 22);
export const HEAP_BASE = PT_WRITE + (1 << 22);
