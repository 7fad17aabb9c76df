/**
 * Pieces both engines share, so that they cannot drift apart: the record of natives in
 * progress that the shadow call stack is built from, the read-modify-write atomics, and views
 * of arena pages.
 */
import { PAGE_SIZE } from './uapi.js';
import { MemoryAccessError } from './errors.js';
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from './isa/opcodes.js';
import {
  ATOMIC_ADD, ATOMIC_AND, ATOMIC_FETCH_ADD, ATOMIC_FETCH_AND, ATOMIC_FETCH_OR, ATOMIC_FETCH_XOR, ATOMIC_OR,
  ATOMIC_XCHG, ATOMIC_XOR,
} from './isa/xop.js';
import { out, toU64 } from './int64.js';
import { AddressSpace, MemoryRegion } from './memory.js';
import { ArenaInfo, EngineFrame } from './runtime.js';

/**
 * The natives in progress in one engine, outermost first (a callback's helper, then a kfunc
 * inside the callback, ...), and which frames were entered from a native (callbacks). With the
 * engine's own record of local call sites this gives the frames the kernel's stack walker
 * would see (spec §4.6, §5). Preallocated: a native call costs a few array stores.
 */
export class NativeCalls {
  readonly pc = new Int32Array(MAX_CALL_FRAMES * 2);
  readonly depth = new Int32Array(MAX_CALL_FRAMES * 2);
  readonly name: string[] = [];
  count = 0;
  /** callbackBase[d] is 1 when the frame at depth d was entered from a native. */
  readonly callbackBase = new Uint8Array(MAX_CALL_FRAMES);

  reset(): void {
    this.count = 0;
    this.callbackBase.fill(0);
  }

  /** Records a native call at `pc`, made from the frame at `depth`; returns the mark to pop to. */
  push(pc: number, depth: number, name: string): number {
    const k = this.count++;
    this.pc[k] = pc;
    this.depth[k] = depth;
    this.name[k] = name;
    return k;
  }

  /**
   * The live frames while a native runs, innermost first: the native, then BPF frames.
   * `callSite(d)` is the instruction the frame at depth d is calling from (a local call).
   */
  frames(callSite: (depth: number) => number): EngineFrame[] {
    const top = this.count - 1;
    if (top < 0) return [];
    return [{ kind: 'native', name: this.name[top] }, ...this.bpfFrames(this.pc[top], this.depth[top], top, callSite)];
  }

  /**
   * BPF frames from (pc, depth) outward: a local call's caller is at its call site, a
   * callback's caller is the native that called it (and that native's own BPF frame).
   */
  bpfFrames(pc: number, depth: number, native: number, callSite: (depth: number) => number): EngineFrame[] {
    const frames: EngineFrame[] = [];
    for (;;) {
      frames.push({ kind: 'bpf', pc });
      if (depth === 0) return frames;
      if (this.callbackBase[depth] && native > 0) {
        native--;
        frames.push({ kind: 'native', name: this.name[native] });
        pc = this.pc[native];
        depth = this.depth[native];
      } else {
        depth--;
        pc = callSite(depth);
      }
    }
  }
}

const pageViews = new WeakMap<Uint8Array, DataView>();
/** A DataView of an arena page, made once per page (pages live as long as the arena). */
export function pageView(page: Uint8Array): DataView {
  let view = pageViews.get(page);
  if (view === undefined) {
    view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    pageViews.set(page, view);
  }
  return view;
}

/**
 * The read-modify-write `variant` (an ATOMIC_* of src/isa/xop.ts) at `o` in `view` (4 or 8
 * bytes); returns the old value (high half in out.hi, zero for 32 bits). cmpxchg compares with
 * r0 (its low half for 32 bits). spec §8.5
 */
export function atomicRmw(view: DataView, o: number, size: number, variant: number,
  bLo: number, bHiIn: number, r0lo: number, r0hi: number): number {
  const oldLo = view.getInt32(o, true);
  const oldHi = size === 8 ? view.getInt32(o + 4, true) : 0;
  const bHi = size === 8 ? bHiIn : 0;
  let newLo: number, newHi: number;
  switch (variant) {
    case ATOMIC_ADD: case ATOMIC_FETCH_ADD:
      newLo = (oldLo + bLo) | 0;
      newHi = (oldHi + bHi + ((oldLo >>> 0) + (bLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
      break;
    case ATOMIC_OR: case ATOMIC_FETCH_OR: newLo = oldLo | bLo; newHi = oldHi | bHi; break;
    case ATOMIC_AND: case ATOMIC_FETCH_AND: newLo = oldLo & bLo; newHi = oldHi & bHi; break;
    case ATOMIC_XOR: case ATOMIC_FETCH_XOR: newLo = oldLo ^ bLo; newHi = oldHi ^ bHi; break;
    case ATOMIC_XCHG: newLo = bLo; newHi = bHi; break;
    default: { // ATOMIC_CMPXCHG
      const eq = size === 8 ? oldLo === r0lo && oldHi === r0hi : oldLo === r0lo;
      newLo = eq ? bLo : oldLo; newHi = eq ? bHi : oldHi;
    }
  }
  view.setInt32(o, newLo, true);
  if (size === 8) view.setInt32(o + 4, newHi, true);
  out.hi = oldHi;
  return oldLo;
}

/**
 * The memory side of an instruction, shared by the engines: resolves base + off to a region
 * (the engine's stack, within the current frame and its callers'; a map value, the context, ...)
 * or, for a base whose upper half is 0 in a program with an arena, to an arena page
 * (PROBE_MEM32: kern_vm_start + (u32)reg + (s16)off, spec §1.7). After `resolve`, `bytes` and
 * `view` hold the resolved memory. An arena access to an empty page is reported (spec §1.8,
 * §6.2) and gives -1: the caller applies the fixup (load 0, store dropped, an atomic's load register zeroed on
 * 7.2 or left alone on 6.18).
 */
export class MemoryUnit {
  bytes: Uint8Array;
  view: DataView;
  private readonly arenaUserBase: bigint;

  constructor(
    private readonly memory: AddressSpace,
    private readonly stack: MemoryRegion,
    private readonly arena: ArenaInfo | undefined,
    /** The BPF frames at (pc, depth), for fault reports. */
    private readonly framesAt: (pc: number, depth: number) => EngineFrame[],
    /** Told of every non-stack region or arena page resolved (the JIT's region cache). */
    private readonly resolved?: (hi: number, start: number, bytes: Uint8Array, view: DataView, writable: boolean) => void,
  ) {
    this.bytes = stack.bytes;
    this.view = stack.view;
    // clear_lo32(user_vm_start): arena offsets become user addresses in reports. spec §1.3
    this.arenaUserBase = arena ? (arena.userVmStart >> 32n) << 32n : 0n;
  }

  /**
   * An unaligned arena access that crosses into the next page (spec §1.7: the JIT's one mov on
   * kern_vm_start + off works across pages, and faults as a whole when the second page is
   * empty, reported at the access's own address): its bytes gathered here. A write leaves
   * `splitPending` set; the engine then calls flushSplit() to copy them back.
   */
  private readonly split = new Uint8Array(8);
  private readonly splitView = new DataView(this.split.buffer);
  splitPending = false;
  private splitFirst: Uint8Array = this.split;
  private splitSecond: Uint8Array = this.split;
  private splitAt = 0;
  private splitSize = 0;

  private crossing(aoff: number, inPage: number, size: number, write: boolean, page: Uint8Array, pc: number, depth: number): number {
    const next = this.arena!.pageAt(aoff - inPage + PAGE_SIZE);
    if (next === undefined) {
      this.arena!.reportFault(write, this.arenaUserBase + BigInt(aoff), this.framesAt(pc, depth));
      return -1;
    }
    const first = PAGE_SIZE - inPage;
    this.split.set(page.subarray(inPage), 0);
    this.split.set(next.subarray(0, size - first), first);
    this.bytes = this.split;
    this.view = this.splitView;
    if (write) {
      this.splitPending = true;
      this.splitFirst = page; this.splitSecond = next; this.splitAt = inPage; this.splitSize = size;
    }
    return 0; // not handed to the region cache: the buffer is not the pages
  }

  /** Copies a page-crossing write back to its two pages. */
  flushSplit(): void {
    const first = PAGE_SIZE - this.splitAt;
    this.splitFirst.set(this.split.subarray(0, first), this.splitAt);
    this.splitSecond.set(this.split.subarray(first, this.splitSize), 0);
    this.splitPending = false;
  }

  resolve(bl: number, bh: number, off: number, size: number, write: boolean, pc: number, depth: number): number {
    const arena = this.arena;
    if (bh === 0 && arena !== undefined) {
      const aoff = (bl >>> 0) + off;
      const page = arena.pageAt(aoff);
      const inPage = aoff - Math.floor(aoff / PAGE_SIZE) * PAGE_SIZE;
      if (page === undefined) {
        arena.reportFault(write, this.arenaUserBase + BigInt(aoff), this.framesAt(pc, depth));
        return -1;
      }
      if (inPage + size > PAGE_SIZE) return this.crossing(aoff, inPage, size, write, page, pc, depth);
      this.bytes = page;
      this.view = pageView(page);
      this.resolved?.(0, aoff - inPage, page, this.view, true);
      return inPage;
    }
    const sum = (bl >>> 0) + off;
    const lo = sum | 0;
    const hi = (bh + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
    const stack = this.stack;
    if (hi === stack.hi) {
      const o = (lo >>> 0) - stack.start;
      // The frame at `depth` owns the 512 bytes under its r10; its callers' frames lie above.
      const floor = stack.bytes.length - MAX_BPF_STACK * (depth + 1);
      if (o >= floor && o + size <= stack.bytes.length) { this.bytes = stack.bytes; this.view = stack.view; return o; }
      if (o >= 0 && o < floor) {
        throw new MemoryAccessError(pc, write ? 'write' : 'read', toU64(lo, hi), size,
          `is below the current frame's stack (frame ${depth} owns the ${MAX_BPF_STACK} bytes under r10)`);
      }
    } else {
      const r = this.memory.find(lo, hi, size);
      if (r !== undefined && (r.writable || !write)) {
        this.bytes = r.bytes;
        this.view = r.view;
        this.resolved?.(hi, r.start, r.bytes, r.view, r.writable);
        return (lo >>> 0) - r.start;
      }
    }
    throw this.memory.outOfBounds(pc, write ? 'write' : 'read', lo, hi, size);
  }
}
