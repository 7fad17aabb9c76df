/**
 * How wasm code reaches the program's memory. Regions (the stack, map values, the context, arena
 * pages, ...) are JavaScript byte arrays that helpers, maps and the host read and write; wasm
 * code can only address its own linear memory. So while a wasm engine runs, it works on mirrors:
 * copies of the regions it touches, made in the shared wasm memory (the heap), written back when
 * anything else may look — before every native call, before a packet load, and when the run ends
 * (normally or by an error) — and dropped then, since a native may change any region.
 *
 * Within that span, each region is either mirrored (every access goes to the copy) or direct
 * (every access goes through the slow path to the JavaScript bytes), so the two never disagree:
 * a region of at most a page is mirrored at its first access, a larger one once it has been
 * accessed MIRROR_AFTER times (a loop over it), and one larger than MAX_MIRROR never. A mirror is
 * written back only if it was written (`dirty`); the write window and write page table only
 * hold dirty mirrors, so the first store to a mirror takes the slow path that marks it.
 *
 * The stack is mirrored by frames from the top: the frames of the depth a run enters at (the
 * callers' frames may be reached through pointers) and each deeper one when a call enters it.
 */
import { PAGE_SIZE } from '../src/uapi.js';
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from '../src/isa/opcodes.js';
import { MemoryRegion } from '../src/memory.js';
import { STACK_BYTES } from '../src/shell.js';
import { HEAP_BASE, PT_READ, PT_WRITE, WIN, WIN_BYTES, WIN_CACHE, WIN_READ, WIN_WRITE, WINDOWS } from './layout.js';

/** Largest region mirrored (larger ones stay direct). */
const MAX_MIRROR = 64 << 20;
/** Largest heap: past it, regions stay direct until the next write-back frees the heap. */
const MAX_HEAP = 1 << 30;
/** Regions up to this size are mirrored at their first access. */
const EAGER_BYTES = PAGE_SIZE;
/** Accesses to a larger region through the slow path before it is mirrored. */
const MIRROR_AFTER = 8;

/** The WebAssembly memory every wasm engine shares (only the running one uses it; wasm/layout.ts). */
export class Heap {
  readonly memory = new WebAssembly.Memory({ initial: HEAP_BASE / 65536 + 16 });
  /** Views of the memory, remade when it grows (growing detaches the old buffer); only reserve() grows it. */
  u8 = new Uint8Array(this.memory.buffer);
  i32 = new Int32Array(this.memory.buffer);
  view = new DataView(this.memory.buffer);
  /** The stack mirror's bytes from frame k - 1 up to the top, for k = 1..MAX_CALL_FRAMES (index k). */
  stackFrom: Uint8Array[] = this.frameViews();

  private frameViews(): Uint8Array[] {
    return Array.from({ length: MAX_CALL_FRAMES + 1 }, (_, k) => this.u8.subarray(STACK_BYTES - MAX_BPF_STACK * k, STACK_BYTES));
  }

  /** Makes the memory at least `end` bytes long; false past MAX_HEAP. */
  reserve(end: number): boolean {
    if (end > MAX_HEAP) return false;
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    this.memory.grow(Math.ceil((end - have) / 65536));
    this.u8 = new Uint8Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.stackFrom = this.frameViews();
    return true;
  }
}

let shared: Heap | undefined;
/** The process's heap, made on first use. */
export function heap(): Heap {
  return shared ??= new Heap();
}

/**
 * What the mirrors know of a region: kept per region (weakly) across write-backs, valid in the
 * span of its `epoch` only (a write-back starts a new one instead of clearing every record).
 */
interface Mirror {
  readonly bytes: Uint8Array;
  epoch: number;
  /** Slow accesses in the epoch while not mirrored. */
  touches: number;
  /** The wasm address of the copy; -1 while not mirrored. */
  base: number;
  hi: number;
  start: number;
  writable: boolean;
  /** An arena page: reached through the page tables, not the window. */
  page: boolean;
  dirty: boolean;
}

/** The region the memory unit resolved last (its `resolved` callback). */
export interface Resolved { hi: number; start: number; bytes: Uint8Array; writable: boolean }

export class Mirrors {
  private readonly records = new WeakMap<Uint8Array, Mirror>();
  private epoch = 1;
  /** The epoch's mirrors, list[0..count). */
  private readonly list: Mirror[] = [];
  private count = 0;
  /** Arena page-table entries set in the epoch, pages[0..pageCount). */
  private readonly pages: number[] = [];
  private pageCount = 0;
  /** Window entries set in the epoch, windows[0..windowCount), and which are (windowUsed). */
  private readonly windows = new Int32Array(WINDOWS);
  private windowCount = 0;
  private readonly windowUsed = new Uint8Array(WINDOWS);
  private top = HEAP_BASE;
  /** Stack frames mirrored, from frame 0 down. */
  private frames = 0;

  /** The program's stack bytes from frame k - 1 up to the top (index k), as in Heap.stackFrom. */
  private readonly stackFrom: Uint8Array[];

  constructor(private readonly heap: Heap, private readonly stack: MemoryRegion, private readonly arena: boolean) {
    this.stackFrom = Array.from({ length: MAX_CALL_FRAMES + 1 }, (_, k) => stack.bytes.subarray(STACK_BYTES - MAX_BPF_STACK * k, STACK_BYTES));
  }

  /** A run (or callback) enters at `depth`: the frames 0..depth are copied in. */
  enter(depth: number): void {
    this.frames = depth + 1;
    this.heap.stackFrom[depth + 1].set(this.stackFrom[depth + 1]);
  }

  /** A call enters the frame at `depth`: copies in the frames not yet mirrored down to it. */
  enterFrame(depth: number): void {
    if (depth < this.frames) return;
    const from = STACK_BYTES - MAX_BPF_STACK * (depth + 1), to = STACK_BYTES - MAX_BPF_STACK * this.frames;
    this.heap.u8.set(this.stack.bytes.subarray(from, to), from);
    this.frames = depth + 1;
  }

  /** Writes the mirrored frames and every dirty mirror back to the program's memory. */
  flush(): void {
    if (this.frames > 0) this.stackFrom[this.frames].set(this.heap.stackFrom[this.frames]);
    const u8 = this.heap.u8;
    for (let k = 0; k < this.count; k++) {
      const m = this.list[k];
      if (m.dirty) m.bytes.set(u8.subarray(m.base, m.base + m.bytes.length)); // stays dirty: the window may still write it
    }
  }

  /**
   * Writes back what a neutral native (HelperDef.neutral) may read: the mirrored frames and the
   * dirty mirrors its arguments r1..r5 (`regs`, the register layout) point into. The mirrors stay.
   */
  flushArgs(regs: Int32Array): void {
    if (this.frames > 0) this.stackFrom[this.frames].set(this.heap.stackFrom[this.frames]);
    for (let k = 0; k < this.count; k++) {
      const m = this.list[k];
      if (!m.dirty) continue;
      for (let r = 1; r <= 5; r++) {
        const lo = regs[2 * r] >>> 0, hi = regs[2 * r + 1];
        if (hi === m.hi && lo >= m.start && lo < m.start + m.bytes.length) {
          m.bytes.set(this.heap.u8.subarray(m.base, m.base + m.bytes.length));
          break;
        }
      }
    }
  }

  /** Drops every mirror (after a flush): the heap, the window and the page tables are free. */
  drop(): void {
    this.frames = 0;
    this.epoch++;
    this.count = 0;
    this.top = HEAP_BASE;
    if (this.pageCount > 0) {
      const i32 = this.heap.i32;
      for (let k = 0; k < this.pageCount; k++) { i32[(PT_READ >> 2) + this.pages[k]] = 0; i32[(PT_WRITE >> 2) + this.pages[k]] = 0; }
      this.pageCount = 0;
    }
    if (this.windowCount > 0) {
      const i32 = this.heap.i32;
      i32.fill(0, WIN >> 2, (WIN + WIN_BYTES) >> 2);
      for (let k = 0; k < this.windowCount; k++) {
        const e = this.windows[k];
        i32.fill(0, (WIN_CACHE + e * WIN_BYTES) >> 2, (WIN_CACHE + (e + 1) * WIN_BYTES) >> 2);
        this.windowUsed[e] = 0;
      }
      this.windowCount = 0;
    }
  }

  /** Writes back, then drops the mirrors of the arena pages at these offsets (a page-crossing access goes direct). */
  unmirrorPages(offsets: readonly number[]): void {
    let any = false;
    for (let k = 0; k < this.count; k++) {
      const m = this.list[k];
      if (m.page && offsets.some((o) => o - (o % PAGE_SIZE) === m.start)) any = true;
    }
    if (!any) return;
    const frames = this.frames;
    this.flush();
    this.drop();
    this.frames = 0;
    if (frames > 0) this.enterFrame(frames - 1);
  }

  /**
   * The mirror of a resolved region for an access (made now when the policy says so; marked
   * dirty by a write), with the window or page tables pointing at it; undefined: go direct.
   */
  mirror(r: Resolved, write: boolean): Mirror | undefined {
    let m = this.records.get(r.bytes);
    if (m === undefined) {
      m = { bytes: r.bytes, epoch: 0, touches: 0, base: -1, hi: 0, start: 0, writable: false, page: false, dirty: false };
      this.records.set(r.bytes, m);
    }
    if (m.epoch !== this.epoch) { m.epoch = this.epoch; m.touches = 0; m.base = -1; m.dirty = false; }
    if (m.base < 0) {
      const len = r.bytes.length;
      if (len > MAX_MIRROR) return undefined;
      if (len > EAGER_BYTES && ++m.touches < MIRROR_AFTER) return undefined;
      const base = (this.top + 7) & ~7;
      if (!this.heap.reserve(base + len)) return undefined;
      this.top = base + len;
      this.heap.u8.set(r.bytes, base);
      m.base = base; m.hi = r.hi; m.start = r.start; m.writable = r.writable; m.page = this.arena && r.hi === 0;
      this.list[this.count++] = m;
    }
    if (write) m.dirty = true;
    if (m.page) this.mapPage(m);
    else this.setWindow(m);
    return m;
  }

  private mapPage(m: Mirror): void {
    const idx = m.start >>> 12;
    const i32 = this.heap.i32;
    if (i32[(PT_READ >> 2) + idx] === 0) this.pages[this.pageCount++] = idx;
    i32[(PT_READ >> 2) + idx] = m.base;
    if (m.dirty) i32[(PT_WRITE >> 2) + idx] = m.base;
  }

  /** Points the window of the last region and the cache entry of the mirror's address window at it. */
  private setWindow(m: Mirror): void {
    const e = m.hi & (WINDOWS - 1);
    if (this.windowUsed[e] === 0) { this.windowUsed[e] = 1; this.windows[this.windowCount++] = e; }
    this.writeWindow(m, WIN);
    this.writeWindow(m, WIN_CACHE + e * WIN_BYTES);
  }

  private writeWindow(m: Mirror, at: number): void {
    const i32 = this.heap.i32, w = at >> 2;
    i32[w] = m.start; i32[w + 1] = m.hi; i32[w + 2] = m.base;
    const len = m.bytes.length;
    for (let k = 0, size = 1; k < 4; k++, size *= 2) {
      const count = len >= size ? len - size + 1 : 0;
      i32[w + (WIN_READ >> 2) + 2 * k] = count; i32[w + (WIN_READ >> 2) + 2 * k + 1] = 0;
      i32[w + (WIN_WRITE >> 2) + 2 * k] = m.dirty && m.writable ? count : 0; i32[w + (WIN_WRITE >> 2) + 2 * k + 1] = 0;
    }
  }
}
