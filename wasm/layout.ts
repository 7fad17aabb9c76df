/**
 * The layout of the WebAssembly memory every wasm engine shares (wasm/heap.ts). Only the
 * engine running at the moment owns it: an engine writes everything back to the program's
 * memory before any native runs and when its run ends (wasm/mirror.ts).
 *
 *   [0, STACK_BYTES)     the stack mirror: every frame's 512 bytes, the layout of the stack region
 *   REGS                 r0..r10 as little-endian i64 (the engines' register exchange layout)
 *   EX                   what an import returns besides its result: a high half, a fault flag
 *   SCRATCH              8 bytes a slow access reads from or writes to when no mirror holds it
 *   WIN                  the windows: the mirrored region resolved last, then a cache of mirrored
 *                        regions by their address window (below)
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
 * The windows, WIN_BYTES each: at WIN the mirrored region resolved last (checked first, at a
 * constant address), then WINDOWS entries at WIN_CACHE: every region owns a 4 GiB address window
 * (src/memory.ts), so the low bits of an address's upper half pick the one entry that may hold
 * its mirror. A window: +0 the region's first address (i64), +8 its wasm address (u32);
 * at +WIN_READ and +WIN_WRITE, for access sizes 1, 2, 4, 8, the count of valid start offsets
 * (i64; 0 = none): an access at `a` hits when a - start < count (another region's address
 * never does).
 */
export const WIN = SCRATCH + 16;
export const WIN_READ = 16;
export const WIN_WRITE = WIN_READ + 32;
export const WIN_BYTES = WIN_WRITE + 32;
export const WIN_CACHE = WIN + WIN_BYTES;
export const WINDOWS = 256;
export const WIN_END = WIN_CACHE + WINDOWS * WIN_BYTES;
export const PT_READ = 0x10000; // past WIN_END
export const PT_WRITE = PT_READ + (1 << 22);
export const HEAP_BASE = PT_WRITE + (1 << 22);
