/**
 * The simulated kernel's virtual address map: every kind of address a program can see, in one
 * table, as the kernel's Documentation/arch/x86/x86_64/mm.rst draws x86-64's (4-level paging).
 * The windows sit where their kernel counterparts do, so addresses in reports look familiar.
 * test/addresses.test.ts checks that the windows are disjoint and that each owner hands out
 * addresses inside its own.
 *
 *   start               end (exclusive)      size     what                                owner
 *   ==================  ===================  =======  ==================================  ==================
 *   0000000000000000    0000800000000000     128 TiB  user space (TASK_SIZE_MAX + 4 KiB);  -
 *                                                     bpf_probe_read_kernel refuses it
 *    00007d0000000000   00007f0000000000       2 TiB  arena user mappings, 8 GiB each,    arena/geometry.ts
 *                                                     top-down (unless map_extra says)
 *   ffff888100000000    ffffa00000000000      94 TiB  data regions (the direct map),      memory.ts map()
 *                                                     one 4 GiB window each
 *   ffffa00000000000    ffffa00100000000       4 GiB  map handles (struct bpf_map *), one  kernel/kernel.ts,
 *                                                     page a map from +0x1000, mapped      kernel/objects.ts
 *                                                     read-only: the map's kernel struct
 *   ffffc90000000000    ffffd00000000000       7 TiB  stacks (vmalloc space), one 4 GiB   memory.ts mapStack()
 *                                                     window each, at +0x400000
 *   ffffd00000000000    ffffd20000000000       2 TiB  arena kernel windows (vmalloc       arena/geometry.ts
 *                                                     space), 8 GiB each
 *   ffffffffa0000000    ffffffffc0000000     512 MiB  code: a function's slot × 8          runtime.ts
 *                                                     (module space, where the JIT puts
 *                                                     BPF images)
 *   ffffffffc0de0000    ffffffffc0e00000     128 KiB  kfunc addresses (`bpf_ksym_exists`), object.ts
 *                                                     16 bytes an extern
 *
 * memory.ts gives each region a window never used before while the kind's window lasts (6015
 * data regions, 1792 stacks), then one an unmapped region gave back, and fails when none is
 * free. Nothing checks the arena windows: an address space with more than 256 arenas runs into
 * the next window.
 */

/** One window of the map. */
export interface AddressWindow {
  readonly what: string;
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
}

const window = (what: string, start: bigint, end: bigint): AddressWindow => Object.freeze({ what, start, end });

/** The high 32 bits of a window's start in the engines' int32 form. */
/** The high half (int32 form) of a window's first address. */
export const hiOf = (w: AddressWindow): number => Number(w.start >> 32n) | 0;

/** x86-64 TASK_SIZE_MAX + PAGE_SIZE: user space ends here. */
export const USER_SPACE = window('user space', 0n, 0x0000_8000_0000_0000n);
/** Where the simulated mmap() hands out arena ranges, top-down from the end. */
export const ARENA_USER_WINDOW = window('arena user mappings', 0x7d00_0000_0000n, 0x7f00_0000_0000n);
export const DATA_WINDOW = window('data regions', 0xffff8881_00000000n, 0xffffa000_00000000n);
export const MAP_HANDLE_WINDOW = window('map handles', 0xffffa000_00000000n, 0xffffa001_00000000n);
export const STACK_WINDOW = window('stacks', 0xffffc900_00000000n, 0xffffd000_00000000n);
export const ARENA_KERNEL_WINDOW = window('arena kernel windows', 0xffffd000_00000000n, 0xffffd200_00000000n);
/** The values of runtime.ts's CODE_HI and CODE_BASE (it does not import them from here yet). */
export const CODE_WINDOW = window('code', 0xffffffff_a0000000n, 0xffffffff_c0000000n);
export const KSYM_WINDOW = window('kfunc addresses', 0xffffffff_c0de0000n, 0xffffffff_c0e00000n);

/** Every window, in address order. */
export const ADDRESS_MAP: readonly AddressWindow[] = Object.freeze([
  USER_SPACE, ARENA_USER_WINDOW, DATA_WINDOW, MAP_HANDLE_WINDOW, STACK_WINDOW, ARENA_KERNEL_WINDOW, CODE_WINDOW, KSYM_WINDOW,
]);

/** High half of the first data region; each further region takes the next 4 GiB window. */
export const DATA_HI = hiOf(DATA_WINDOW);
/** High half of the end of the data windows (exclusive). */
export const DATA_HI_END = Number(DATA_WINDOW.end >> 32n) | 0;
/** High half of the first stack window. */
export const STACK_HI = hiOf(STACK_WINDOW);
/** High half of the end of the stack windows (exclusive). */
export const STACK_HI_END = Number(STACK_WINDOW.end >> 32n) | 0;
/** Low half of a stack's first byte in its window. */
export const STACK_START = 0x0040_0000;
/** High half of every map handle; the low half is (map index + 1) << 12. */
export const MAP_HANDLE_HI = hiOf(MAP_HANDLE_WINDOW);
/** Each arena's slot, in user space and in the kernel's vmalloc space (4 GiB + GUARD_SZ fit). */
export const ARENA_SLOT_SIZE = 1n << 33n;

/** The address `ld_imm64 src=3` yields for extern `index` when the runtime provides it. */
export function ksymAddress(index: number): bigint {
  return KSYM_WINDOW.start + BigInt(index) * 16n;
}
