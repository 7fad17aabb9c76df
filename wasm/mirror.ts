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
import { HEAP_BASE, PT_READ, PT_WRITE, WIN, WIN_END, WIN_READ, WIN_WRITE } from './layout.js';

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

/** A region mirrored in the heap. */
interface Mirror {
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly hi: number;
  readonly start: number;
  readonly writable: boolean;
  /** An arena page: reached through the page tables, not the window. */
  readonly page: boolean;
  dirty: boolean;
}

/** The region the memory unit resolved last (its `resolved` callback). */
export interface Resolved { hi: number; start: number; bytes: Uint8Array; writable: boolean }

export class Mirrors {
  private readonly byBytes = new Map<Uint8Array, Mirror>();
  private readonly list: Mirror[] = [];
  private readonly touches = new Map<Uint8Array, number>();
  /** Arena page-table entries set, to clear. */
  private readonly pages: number[] = [];
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
    if (this.list.length === 0) return;
    const u8 = this.heap.u8;
    for (const m of this.list) {
      if (m.dirty) m.bytes.set(u8.subarray(m.base, m.base + m.bytes.length)); // stays dirty: the window may still write it
    }
  }

  /** Drops every mirror (after a flush): the heap, the window and the page tables are free. */
  drop(): void {
    this.frames = 0;
    if (this.list.length === 0 && this.touches.size === 0) return;
    const i32 = this.heap.i32;
    for (const idx of this.pages) { i32[(PT_READ >> 2) + idx] = 0; i32[(PT_WRITE >> 2) + idx] = 0; }
    this.pages.length = 0;
    this.byBytes.clear();
    this.list.length = 0;
    this.touches.clear();
    this.top = HEAP_BASE;
    i32.fill(0, WIN >> 2, WIN_END >> 2);
  }

  /** Writes back, then drops the mirrors of the arena pages at these offsets (a page-crossing access goes direct). */
  unmirrorPages(offsets: readonly number[]): void {
    let any = false;
    for (const m of this.list) if (m.page && offsets.some((o) => o - (o % PAGE_SIZE) === m.start)) any = true;
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
    let m = this.byBytes.get(r.bytes);
    if (m === undefined) {
      const len = r.bytes.length;
      if (len > MAX_MIRROR) return undefined;
      if (len > EAGER_BYTES) {
        const seen = (this.touches.get(r.bytes) ?? 0) + 1;
        this.touches.set(r.bytes, seen);
        if (seen < MIRROR_AFTER) return undefined;
      }
      const base = (this.top + 7) & ~7;
      if (!this.heap.reserve(base + len)) return undefined;
      this.top = base + len;
      this.heap.u8.set(r.bytes, base);
      m = { bytes: r.bytes, base, hi: r.hi, start: r.start, writable: r.writable, page: this.arena && r.hi === 0, dirty: false };
      this.byBytes.set(r.bytes, m);
      this.list.push(m);
    }
    if (write) m.dirty = true;
    if (m.page) this.mapPage(m);
    else this.setWindow(m);
    return m;
  }

  private mapPage(m: Mirror): void {
    const idx = m.start >>> 12;
    const i32 = this.heap.i32;
    if (i32[(PT_READ >> 2) + idx] === 0) this.pages.push(idx);
    i32[(PT_READ >> 2) + idx] = m.base;
    if (m.dirty) i32[(PT_WRITE >> 2) + idx] = m.base;
  }

  private setWindow(m: Mirror): void {
    const i32 = this.heap.i32, w = WIN >> 2;
    i32[w] = m.start; i32[w + 1] = m.hi; i32[w + 2] = m.base;
    const len = m.bytes.length;
    [1, 2, 4, 8].forEach((size, k) => {
      const count = len >= size ? len - size + 1 : 0;
      i32[(WIN_READ >> 2) + 2 * k] = count; i32[(WIN_READ >> 2) + 2 * k + 1] = 0;
      i32[(WIN_WRITE >> 2) + 2 * k] = m.dirty && m.writable ? count : 0; i32[(WIN_WRITE >> 2) + 2 * k + 1] = 0;
    });
  }
}
