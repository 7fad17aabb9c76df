/**
 * The memory a program can reach: a set of regions, each a byte buffer at a simulated 64-bit
 * address. Every region lies inside one 4 GiB-aligned window (its addresses share the high 32
 * bits), so the engines can find a region from the high half and check bounds on the low half
 * with int32 arithmetic only. Addresses look like the kernel's: data regions in the direct map,
 * stacks in vmalloc space (the windows are in ./addresses.ts).
 */
import { DATA_HI, DATA_HI_END, STACK_HI, STACK_HI_END, STACK_START } from './addresses.js';
import { MemoryAccessError } from './errors.js';
import { toU64 } from './int64.js';
import { hex } from './text.js';

export interface MemoryRegion {
  /** What the region is, for error messages ("stack", "input", "map value of counts", ...). */
  readonly name: string;
  /** High 32 bits of every address in the region (int32 form). */
  readonly hi: number;
  /** Low 32 bits of the region's first byte (unsigned). */
  readonly start: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly writable: boolean;
}

/** How many windows each dense kind has. */
const DATA_WINDOWS = (DATA_HI_END - DATA_HI) >>> 0;
const STACK_WINDOWS = (STACK_HI_END - STACK_HI) >>> 0;

export class AddressSpace {
  private readonly list: MemoryRegion[] = [];
  /**
   * Each region owns its 4 GiB window, so the high half finds it: data and stack windows by
   * their number in the kind's range (an array read, for the engines' and helpers' every
   * access), the few others (map handles, arena windows) by high half.
   */
  private readonly dataWindows: (MemoryRegion | undefined)[] = [];
  private readonly stackWindows: (MemoryRegion | undefined)[] = [];
  private readonly otherWindows = new Map<number, MemoryRegion>();
  private nextHi = DATA_HI;
  private nextStackHi = STACK_HI;

  /** Regions in the order they were mapped. */
  get regions(): readonly MemoryRegion[] {
    return this.list;
  }

  /**
   * Maps a buffer at a fresh address window, its first byte at low half `start`; the buffer is
   * shared, not copied.
   */
  map(name: string, bytes: Uint8Array, writable = true, start = 0): MemoryRegion {
    if (bytes.length > 0x80000000) throw new RangeError(`region ${name} is larger than 2 GiB`);
    const hi = this.freeWindow(this.nextHi, DATA_HI, DATA_HI_END, name);
    if (hi === this.nextHi) this.nextHi = (hi + 1) | 0;
    return this.add(name, hi, start, bytes, writable);
  }

  /**
   * Maps a buffer in a window outside the data and stack windows that its owner manages itself
   * (the map handles' kernel objects, src/kernel/objects.ts); replaces what that window held.
   */
  mapInWindow(name: string, hi: number, start: number, bytes: Uint8Array, writable: boolean): MemoryRegion {
    const old = this.windowAt(hi);
    if (old) this.unmap(old);
    return this.add(name, hi, start, bytes, writable);
  }

  /** Maps an engine's stack (all call frames, contiguous) in a window of its own. */
  mapStack(bytes: Uint8Array): MemoryRegion {
    const hi = this.freeWindow(this.nextStackHi, STACK_HI, STACK_HI_END, 'stack');
    if (hi === this.nextStackHi) this.nextStackHi = (hi + 1) | 0;
    return this.add('stack', hi, STACK_START, bytes, true);
  }

  /**
   * The window (high half) for a new region of a kind whose windows are [first, end): the next
   * one never used, so addresses stay distinct while they last; after that, one an unmapped
   * region gave back (./addresses.ts).
   */
  private freeWindow(next: number, first: number, end: number, name: string): number {
    if (next !== end) return next;
    for (let hi = first; hi !== end; hi = (hi + 1) | 0) if (this.windowAt(hi) === undefined) return hi;
    throw new RangeError(`no free address window for region ${name}`);
  }

  private add(name: string, hi: number, start: number, bytes: Uint8Array, writable: boolean): MemoryRegion {
    const region: MemoryRegion = {
      name, hi, start, bytes, writable,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
    this.list.push(region);
    this.setWindow(hi, region);
    return region;
  }

  /** The region in window `hi`, if any. */
  private windowAt(hi: number): MemoryRegion | undefined {
    const d = (hi - DATA_HI) >>> 0;
    if (d < DATA_WINDOWS) return this.dataWindows[d];
    const s = (hi - STACK_HI) >>> 0;
    if (s < STACK_WINDOWS) return this.stackWindows[s];
    return this.otherWindows.get(hi);
  }

  private setWindow(hi: number, region: MemoryRegion | undefined): void {
    const d = (hi - DATA_HI) >>> 0, s = (hi - STACK_HI) >>> 0;
    if (d < DATA_WINDOWS) this.dataWindows[d] = region;
    else if (s < STACK_WINDOWS) this.stackWindows[s] = region;
    else if (region === undefined) this.otherWindows.delete(hi);
    else this.otherWindows.set(hi, region);
  }

  /**
   * Replaces a region by a view of other bytes in the same window, starting at `start` (low
   * half): a packet whose data moved (bpf_xdp_adjust_head and the like) keeps its addresses.
   */
  remap(region: MemoryRegion, bytes: Uint8Array, start: number): MemoryRegion {
    this.unmap(region);
    return this.add(region.name, region.hi, start, bytes, region.writable);
  }

  /** Removes a region; later accesses to its addresses fail. */
  unmap(region: MemoryRegion): void {
    const i = this.list.indexOf(region);
    if (i >= 0) this.list.splice(i, 1);
    if (this.windowAt(region.hi) === region) this.setWindow(region.hi, undefined);
  }

  /** The region holding [addr, addr + size), or undefined. */
  find(lo: number, hi: number, size: number): MemoryRegion | undefined {
    // windowAt, by hand: find is hot (helpers' pointers, the engines' region-cache misses), and
    // too deep in the engines' resolve for windowAt to be inlined.
    const d = (hi - DATA_HI) >>> 0, s = (hi - STACK_HI) >>> 0;
    const r = d < DATA_WINDOWS ? this.dataWindows[d] : s < STACK_WINDOWS ? this.stackWindows[s] : this.otherWindows.get(hi);
    if (r === undefined) return undefined;
    const off = (lo >>> 0) - r.start;
    return off >= 0 && off + size <= r.bytes.length ? r : undefined;
  }

  /** The region holding a 64-bit address (as a BigInt), and the offset in it; for host code. */
  locate(address: bigint, size: number): { region: MemoryRegion; offset: number } | undefined {
    const lo = Number(address & 0xffffffffn) | 0;
    const hi = Number((address >> 32n) & 0xffffffffn) | 0;
    const region = this.find(lo, hi, size);
    return region && { region, offset: (lo >>> 0) - region.start };
  }

  /** A copy of `len` bytes at `address`, or undefined unless one region holds them all. */
  read(address: bigint, len: number): Uint8Array | undefined {
    const at = this.locate(address, len);
    return at && at.region.bytes.slice(at.offset, at.offset + len);
  }

  /** Writes `bytes` at `address` if one writable region holds them all; false otherwise. */
  write(address: bigint, bytes: Uint8Array): boolean {
    const at = this.locate(address, bytes.length);
    if (!at || !at.region.writable) return false;
    at.region.bytes.set(bytes, at.offset);
    return true;
  }

  /**
   * The NUL-terminated string at `address`, reading at most `max` bytes (without the NUL), or
   * undefined if its first byte is unmapped. Stops at the end of the region.
   */
  readString(address: bigint, max: number): { bytes: Uint8Array; terminated: boolean } | undefined {
    const at = this.locate(address, 1);
    if (!at) return undefined;
    const { region, offset } = at;
    const limit = Math.min(region.bytes.length, offset + max);
    let end = offset;
    while (end < limit && region.bytes[end] !== 0) end++;
    return { bytes: region.bytes.slice(offset, end), terminated: end < limit };
  }

  /** Full 64-bit address of a byte offset inside a region. */
  static address(region: MemoryRegion, offset = 0): bigint {
    return toU64((region.start + offset) | 0, region.hi);
  }

  /**
   * User-space address ranges of the arenas in this address space, [start, end): a program
   * dereferencing one of those addresses without `addr_space_cast` goes through a scalar.
   */
  readonly arenaUserRanges: { readonly name: string; readonly start: bigint; readonly end: bigint }[] = [];

  /** The error for an access that no region holds, listing what is mapped. */
  outOfBounds(index: number, access: 'read' | 'write', lo: number, hi: number, size: number): MemoryAccessError {
    const inRegion = this.list.find((r) => r.hi === hi && (lo >>> 0) >= r.start && (lo >>> 0) < r.start + r.bytes.length);
    const address = toU64(lo, hi);
    const arena = this.arenaUserRanges.find((a) => address >= a.start && address < a.end);
    let detail: string;
    if (arena) {
      // The verifier types a value loaded from memory as a scalar; only addr_space_cast(r, 0, 1)
      // makes it an arena pointer (spec kernel-arena-streams §1.6), so it refuses this access.
      detail = `is in the user mapping of arena ${arena.name}, reached through a register that was never cast with `
        + 'addr_space_cast (the kernel\'s verifier refuses this program at load: invalid mem access \'scalar\')';
    } else if (inRegion && access === 'write' && !inRegion.writable && this.find(lo, hi, size)) {
      detail = `is in read-only ${inRegion.name}`;
    } else if (inRegion) {
      detail = `runs past the end of ${inRegion.name} (${describe(inRegion)})`;
    } else {
      detail = `is outside every memory region (${this.list.map((r) => `${r.name} ${describe(r)}`).join(', ') || 'none mapped'})`;
    }
    return new MemoryAccessError(index, access, address, size, detail);
  }
}

function describe(r: MemoryRegion): string {
  const start = AddressSpace.address(r);
  return `[${hex(start)}, ${hex(start + BigInt(r.bytes.length))})`;
}
