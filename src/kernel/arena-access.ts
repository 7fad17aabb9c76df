/**
 * Kernel-side memory access, as kfunc code performs it (spec §3): every access is translated
 * through the simulated page tables as the MMU would; an access to an empty arena slot is a
 * page fault that goes to `bpf_arena_handle_page_fault`, which finds the running program with
 * `bpf_prog_find_from_stack` (spec §5), installs the arena's scratch page and reports; anything
 * the handler does not recover is a simulated kernel oops — a typed error, never a host crash.
 *
 * This path is separate from the BPF instructions' fault path (the exception table in the
 * engines, spec §6): an instruction fault never comes here, a kfunc fault never uses the table.
 *
 * Accesses into an arena window can be checked by a guard (the strict kfunc contract is one,
 * src/kfunc/contract.ts): each kernel call in progress has a place on a guard stack, and the
 * innermost call's guard checks the accesses made.
 */
import { HALF_GUARD as HALF_GUARD_BYTES } from '../arena/geometry.js';
import { KernelOopsError, SourceLocation } from '../errors.js';
import { ArenaMap } from '../maps/arena.js';
import { EngineFrame, FrameSource } from '../runtime.js';
import { PAGE_SIZE } from '../uapi.js';
import { SimKernel } from './kernel.js';
import { KernelProfile, kernelProfile } from './profile.js';

const FOUR_GIB = 1n << 32n;
const PAGE = BigInt(PAGE_SIZE);
const HALF_GUARD = BigInt(HALF_GUARD_BYTES);

/** What the kernel knows about a running program: its arena, and how to report to its stderr. */
export interface RunningProgram {
  readonly name: string;
  /** bpf_prog_arena(prog): the program's arena, if it uses one. spec §3.1 */
  readonly arena?: ArenaMap;
  /** Reports an arena violation to the program's stderr, with the stack `frames`. */
  reportArenaViolation(isWrite: boolean, userAddress: bigint, frames: readonly EngineFrame[]): void;
  /** The program's call stack as the kernel prints it ("Call Trace"), innermost first. */
  callTrace(source: FrameSource): string[];
  /** The C source line of an instruction, when line info has it. */
  sourceOf?(insn: number): SourceLocation | undefined;
}

/** A check of one kernel-side access [addr, addr + size) into an arena window; throws to refuse it. */
export type AccessGuard = (addr: bigint, size: number) => void;

export class ArenaKernel {
  /** Every arena of this kernel, to find which window a kernel address falls in. */
  private readonly arenas: ArenaMap[] = [];
  /** One entry per kernel call in progress, outermost first: its guard, or undefined (unchecked). */
  private readonly guards: (AccessGuard | undefined)[] = [];

  constructor(
    private readonly kernel: SimKernel,
    /** The running program an engine belongs to (engines register on the shadow stack). */
    private readonly programOf: (source: FrameSource) => RunningProgram | undefined,
    /** The kernel profile: scratch-page recovery is 7.2's (spec §3.2); on 6.18 the fault oopses. */
    private readonly profile: KernelProfile = kernelProfile(),
  ) {}

  addArena(arena: ArenaMap): void {
    this.arenas.push(arena);
  }

  /**
   * Enters a kernel call whose arena accesses `guard` checks (undefined: none are). Until the
   * matching popGuard, only this guard applies: a call made from inside it (a kfunc that a BPF
   * callback calls) pushes its own, and its accesses are checked by its own rule alone.
   * Returns the mark to pop to.
   */
  pushGuard(guard: AccessGuard | undefined): number {
    this.guards.push(guard);
    return this.guards.length - 1;
  }

  /**
   * Leaves the call that pushGuard returned `mark` for, and any inner one an exception skipped:
   * the enclosing call's guard applies again.
   */
  popGuard(mark: number): void {
    this.guards.length = mark;
  }

  /**
   * bpf_prog_find_from_stack(): the main program of the innermost BPF frame on the stack, or
   * undefined when no BPF program is running. spec §5
   */
  findProgFromStack(): RunningProgram | undefined {
    const source = this.kernel.shadow.innermost();
    return source && this.programOf(source);
  }

  /** The BPF instruction that called into the kernel (the innermost program's call), if one runs. */
  callerInsn(): number | undefined {
    const caller = this.kernel.shadow.innermost()?.frames().find((f) => f.kind === 'bpf');
    return caller?.kind === 'bpf' ? caller.pc : undefined;
  }

  /**
   * bpf_arena_handle_page_fault(addr, is_write, fault_ip), the final semantics of spec §3.3:
   * true when the fault was recovered (the access is retried and hits the scratch page).
   */
  handlePageFault(addr: bigint, isWrite: boolean, faultIp: string): boolean {
    // The hook is the May 2026 series' (7.2): older kernels oops here. spec §3.2, §3.3
    if (!this.profile.scratchRecovery) return false;
    const source = this.kernel.shadow.innermost();
    const prog = source && this.programOf(source); // step 1: bpf_prog_find_from_stack
    const arena = prog?.arena; // step 2
    if (!source || !prog || !arena) return false;
    const pageAddr = addr & ~(PAGE - 1n); // step 3: body and the upper half guard only
    const kbase = arena.kernVmStart;
    if (pageAddr < kbase || pageAddr >= kbase + FOUR_GIB + HALF_GUARD) return false;
    const install = arena.installScratch(pageAddr); // step 4: best effort; losing a race is fine
    if (!install.inRange) return false;
    this.recordFault('scratch-page', addr, isWrite, faultIp, source, prog, install.userPageAddr);
    prog.reportArenaViolation(isWrite, install.userPageAddr, source.frames()); // step 5: page-aligned
    return true; // step 6
  }

  /** Reads kernel memory at `addr` (a kernel virtual address) on behalf of `faultIp`. */
  read(addr: bigint, len: number, faultIp: string): Uint8Array {
    const out = new Uint8Array(len);
    this.access(addr, len, false, faultIp, (bytes, offset, at, n) => out.set(bytes.subarray(offset, offset + n), at));
    return out;
  }

  write(addr: bigint, data: Uint8Array, faultIp: string): void {
    this.access(addr, data.length, true, faultIp, (bytes, offset, at, n) => bytes.set(data.subarray(at, at + n), offset));
  }

  /** Walks [addr, addr + len) page by page (arena windows) or region by region (the rest). */
  private access(addr: bigint, len: number, isWrite: boolean, faultIp: string,
    visit: (bytes: Uint8Array, offset: number, at: number, n: number) => void): void {
    const guard = this.guards[this.guards.length - 1];
    if (guard && this.arenaWindowOf(addr)) guard(addr, len);
    let at = 0;
    while (at < len) {
      const cur = addr + BigInt(at);
      const arena = this.arenaWindowOf(cur);
      if (arena) {
        let page = arena.pageAt(cur);
        if (page === undefined) {
          // The MMU finds no PTE: a kernel-mode page fault. spec §3.2, §3.3
          if (!this.handlePageFault(cur, isWrite, faultIp)) throw this.oops(cur, isWrite, faultIp);
          page = arena.pageAt(cur);
          if (page === undefined) throw this.oops(cur, isWrite, faultIp);
        }
        const offset = Number(cur & (PAGE - 1n));
        const n = Math.min(len - at, PAGE_SIZE - offset);
        visit(page, offset, at, n);
        at += n;
        continue;
      }
      const found = this.kernel.memory.locate(cur, 1);
      if (!found || (isWrite && !found.region.writable)) throw this.oops(cur, isWrite, faultIp);
      const n = Math.min(len - at, found.region.bytes.length - found.offset);
      visit(found.region.bytes, found.offset, at, n);
      at += n;
    }
  }

  private arenaWindowOf(addr: bigint): ArenaMap | undefined {
    return this.arenas.find((a) => addr >= a.kernVmStart - HALF_GUARD && addr < a.kernVmStart + FOUR_GIB + HALF_GUARD);
  }

  /** A kernel-side fault in the event log: the kfunc, and the BPF instruction that called it. */
  private recordFault(path: 'scratch-page' | 'oops', addr: bigint, isWrite: boolean, kfunc: string,
    source: FrameSource | undefined, prog: RunningProgram | undefined, userAddress?: bigint): void {
    const caller = source?.frames().find((f) => f.kind === 'bpf');
    this.kernel.events.add({
      kind: 'fault', program: prog?.name, access: isWrite ? 'write' : 'read', path, userAddress, kernelAddress: addr, kfunc,
      callSite: caller?.kind === 'bpf' && prog ? { insn: caller.pc, source: prog.sourceOf?.(caller.pc) } : undefined,
    });
  }

  /** The report of an unrecovered kernel page fault, shaped like x86's. */
  private oops(addr: bigint, isWrite: boolean, faultIp: string): KernelOopsError {
    const source = this.kernel.shadow.innermost();
    const prog = source && this.programOf(source);
    this.recordFault('oops', addr, isWrite, faultIp, source, prog);
    const trace = source && prog ? prog.callTrace(source) : [faultIp];
    return new KernelOopsError(addr, isWrite ? 'write' : 'read', faultIp, trace);
  }
}
