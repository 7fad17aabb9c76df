/**
 * Kernel profiles: the one switch for every rule the specs mark per kernel version. bpfrun
 * emulates Linux 7.2 by default (the reference kernel of spec kernel-arena-streams, checked
 * against 7.2.13) and Linux 6.18 on request (`LoadOptions.kernel`, `--kernel 6.18`).
 *
 * Each rule is a named field, read once where the rule is implemented, at load or compile time
 * (the JIT emits different code, the interpreter picks a handler, the lowering rewrites an
 * instruction): no rule is decided per instruction executed.
 */

export type KernelVersion = '7.2' | '6.18';

export const KERNEL_VERSIONS: readonly KernelVersion[] = ['7.2', '6.18'];

/** The default profile: Linux 7.2, the reference kernel. */
export const DEFAULT_KERNEL: KernelVersion = '7.2';

export interface KernelProfile {
  readonly version: KernelVersion;
  /**
   * Where libbpf places `__arena` globals (spec §1.9): at the end of the arena on kernels with
   * full-range ld_imm64 offsets (7.2: probe_ldimm64_full_range_off succeeds), at offset 0 on
   * 6.18. LoadOptions.arenaGlobals overrides it.
   */
  readonly arenaGlobals: 'start' | 'end';
  /**
   * The stream printk kfunc the kernel links (spec §4.2, §10 item 9): 7.2 has the 4-argument
   * `bpf_stream_vprintk` (KF_IMPLICIT_ARGS), 6.18 the 5-argument `bpf_stream_vprintk_impl`.
   */
  readonly streamVprintk: 'bpf_stream_vprintk' | 'bpf_stream_vprintk_impl';
  /**
   * kfuncs this kernel does not have, with the verifier's refusal of a (non-weak) call to one.
   * 7.2: `bpf_stream_vprintk_impl` (spec §4.2: "cannot find address for kernel function",
   * -EINVAL). 6.18: the 2026 `bpf_stream_vprintk` and the 7.0 `bpf_stream_print_stack`
   * (spec §4.2, §4.3).
   */
  readonly absentKfuncs: ReadonlyMap<string, string>;
  /**
   * Kernel-side arena faults (a kfunc touching an empty arena page) are recovered through the
   * scratch page and reported (spec §3.2, §3.3: the May 2026 series, in 7.2); on 6.18 the same
   * fault is an oops.
   */
  readonly scratchRecovery: boolean;
  /**
   * A faulting arena atomic zeroes the register it loads into: src for fetch ops and xchg, r0
   * for cmpxchg (spec §1.8, §6.2, 7.2's populate_extable with bpf_atomic_load_reg). 6.18 leaves
   * the registers untouched.
   */
  readonly atomicFaultZeroes: boolean;
  /**
   * ALU64 ops on an arena pointer run as 32-bit ALU (spec §1.7, verifier.c
   * adjust_reg_min_max_vals + fixups.c needs_zext): 'any-operand' on 7.2 (either operand
   * PTR_TO_ARENA, the result takes the arena type); 'dst' on 6.18 (only a PTR_TO_ARENA
   * destination, the 6.9 rule [I]: 7.2's changelog names the src operand case as new).
   */
  readonly arenaAluNarrowing: 'any-operand' | 'dst';
  /**
   * How the deferred (non-sleepable) arena free / alloc is chosen (spec §2): per call site on
   * 7.2 (also inside bpf_spin_lock, RCU, preempt-off, IRQ-off regions), per program type on
   * 6.18.
   */
  readonly deferredFree: 'call-site' | 'program';
}

const PROFILES: Readonly<Record<KernelVersion, KernelProfile>> = {
  '7.2': {
    version: '7.2',
    arenaGlobals: 'end',
    streamVprintk: 'bpf_stream_vprintk',
    absentKfuncs: new Map([
      ['bpf_stream_vprintk_impl', 'cannot find address for kernel function bpf_stream_vprintk_impl (EINVAL)'],
    ]),
    scratchRecovery: true,
    atomicFaultZeroes: true,
    arenaAluNarrowing: 'any-operand',
    deferredFree: 'call-site',
  },
  '6.18': {
    version: '6.18',
    arenaGlobals: 'start',
    streamVprintk: 'bpf_stream_vprintk_impl',
    absentKfuncs: new Map([
      ['bpf_stream_vprintk', 'kfunc bpf_stream_vprintk is not in Linux 6.18 (it has bpf_stream_vprintk_impl; the 4-argument form is 7.2\'s)'],
      ['bpf_stream_print_stack', 'kfunc bpf_stream_print_stack is not in Linux 6.18 (added in 7.0)'],
    ]),
    scratchRecovery: false,
    atomicFaultZeroes: false,
    arenaAluNarrowing: 'dst',
    deferredFree: 'program',
  },
};

/** The profile of `version` (default: Linux 7.2); throws on an unknown version. */
export function kernelProfile(version: string = DEFAULT_KERNEL): KernelProfile {
  const p = (PROFILES as Record<string, KernelProfile | undefined>)[version];
  if (!p) throw new RangeError(`unknown kernel profile '${version}' (have: ${KERNEL_VERSIONS.join(', ')})`);
  return p;
}
