/**
 * The arena kfuncs (spec §2.1, §2.3, §2.4): bpf_arena_alloc_pages, free_pages and
 * reserve_pages, on the arena map a program passes.
 */
import { ArenaMap } from '../maps/arena.js';
import { CallContext, NativeFn } from '../runtime.js';
import { EINVAL } from '../uapi.js';
import { SimKernel } from './kernel.js';

/**
 * bpf_arena_alloc_pages / free_pages / reserve_pages (spec §2.1, §2.3, §2.4). `sleepable`
 * says whether the call runs in a sleepable context (the calling program's type on 6.18, the
 * call site on 7.2, spec §2): the verifier swaps in the non-sleepable variants otherwise
 * (deferred frees).
 */
export function createArenaKfuncs(kernel: SimKernel, sleepable: (ctx: CallContext) => boolean): Map<string, NativeFn> {
  const arenaOf = (ctx: CallContext): ArenaMap | undefined => {
    const map = kernel.mapOfHandle(ctx.arg(1));
    return map instanceof ArenaMap ? map : undefined;
  };
  const s32 = (ctx: CallContext, n: number) => ctx.argLo(n);
  const u32 = (ctx: CallContext, n: number) => ctx.argLo(n) >>> 0;
  return new Map<string, NativeFn>([
    ['bpf_arena_alloc_pages', (ctx) => {
      const arena = arenaOf(ctx);
      return arena ? arena.allocPages(ctx.arg(2), u32(ctx, 3), s32(ctx, 4), ctx.arg(5), sleepable(ctx)) : 0; // NULL, never an errno
    }],
    ['bpf_arena_free_pages', (ctx) => {
      arenaOf(ctx)?.freePages(ctx.arg(2), u32(ctx, 3), sleepable(ctx));
    }],
    ['bpf_arena_reserve_pages', (ctx) => {
      const arena = arenaOf(ctx);
      return arena ? arena.reservePages(ctx.arg(2), u32(ctx, 3)) : -EINVAL;
    }],
  ]);
}

