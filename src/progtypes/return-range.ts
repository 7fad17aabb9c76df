/**
 * The return values the verifier allows at the exit of a program's main function, by type and
 * attach type (spec program-types §5.1, kernel/bpf/verifier.c return_retval_range): R0's 64-bit
 * signed bounds must lie inside the range, else the load fails with EINVAL. Types not named
 * here accept any scalar. LSM hooks (ranges per hook) and kprobe sessions are not modelled.
 */

/** An inclusive range of signed 64-bit return values. */
export interface ReturnRange {
  readonly min: number;
  readonly max: number;
}

const ZERO_OR_ONE: ReturnRange = { min: 0, max: 1 };

/** The range for a program of libbpf type `type` in SEC(`section`); undefined: any value. */
export function returnRange(type: string, section: string): ReturnRange | undefined {
  switch (type) {
    // BPF_CGROUP_INET_EGRESS may also ask for congestion notification (bit 1); a program
    // without an attach type (SEC("cgroup/skb")) counts as ingress.
    case 'cgroup_skb': return section === 'cgroup_skb/egress' ? { min: 0, max: 3 } : ZERO_OR_ONE;
    case 'sk_lookup':
    case 'netfilter':
      return ZERO_OR_ONE;
    case 'tracing':
      if (/^(fentry|fexit|fsession)(\.s)?(\/|$)/.test(section)) return { min: 0, max: 0 };
      if (/^iter(\.s)?(\/|$)/.test(section)) return ZERO_OR_ONE;
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The verifier's message for a return value outside the range (verbose_invalid_scalar, as it
 * prints a known constant).
 */
export function returnRangeMessage(value: bigint, range: ReturnRange): string {
  return `At program exit the register R0 has smin=${value} smax=${value} should have been in [${range.min}, ${range.max}]`;
}
