/**
 * SEC() names → program types, after libbpf's section_defs[] (elf-loading.md §1.2): "x" matches
 * exactly, "x+" matches x or x/anything, "x/" needs the prefix. A leading '?' means "do not
 * autoload". Unknown names are kept as type "unknown" rather than failing the load.
 */
import type { ProgramType } from './spec.js';

interface SectionDef { readonly pattern: string; readonly name: string; readonly id: number; readonly sleepable?: boolean }

// Kernel enum bpf_prog_type values.
const DEFS: readonly SectionDef[] = [
  { pattern: 'syscall', name: 'syscall', id: 31, sleepable: true },
  { pattern: 'struct_ops+', name: 'struct_ops', id: 27 },
  { pattern: 'struct_ops.s+', name: 'struct_ops', id: 27, sleepable: true },
  { pattern: 'socket', name: 'socket_filter', id: 1 },
  { pattern: 'kprobe+', name: 'kprobe', id: 2 },
  { pattern: 'kretprobe+', name: 'kprobe', id: 2 },
  { pattern: 'uprobe+', name: 'kprobe', id: 2 },
  { pattern: 'uretprobe+', name: 'kprobe', id: 2 },
  { pattern: 'uprobe.s+', name: 'kprobe', id: 2, sleepable: true },
  { pattern: 'tc', name: 'sched_cls', id: 3 },
  { pattern: 'classifier', name: 'sched_cls', id: 3 },
  { pattern: 'tc/ingress', name: 'sched_cls', id: 3 },
  { pattern: 'tc/egress', name: 'sched_cls', id: 3 },
  { pattern: 'tcx/ingress', name: 'sched_cls', id: 3 },
  { pattern: 'tcx/egress', name: 'sched_cls', id: 3 },
  { pattern: 'action', name: 'sched_act', id: 4 },
  { pattern: 'tracepoint+', name: 'tracepoint', id: 5 },
  { pattern: 'tp+', name: 'tracepoint', id: 5 },
  { pattern: 'xdp.frags', name: 'xdp', id: 6 },
  { pattern: 'xdp+', name: 'xdp', id: 6 },
  { pattern: 'perf_event', name: 'perf_event', id: 7 },
  { pattern: 'cgroup_skb/ingress', name: 'cgroup_skb', id: 8 },
  { pattern: 'cgroup_skb/egress', name: 'cgroup_skb', id: 8 },
  { pattern: 'cgroup/skb', name: 'cgroup_skb', id: 8 },
  { pattern: 'raw_tracepoint+', name: 'raw_tracepoint', id: 17 },
  { pattern: 'raw_tp+', name: 'raw_tracepoint', id: 17 },
  { pattern: 'tp_btf+', name: 'tracing', id: 26 },
  { pattern: 'fentry+', name: 'tracing', id: 26 },
  { pattern: 'fexit+', name: 'tracing', id: 26 },
  { pattern: 'fmod_ret+', name: 'tracing', id: 26 },
  { pattern: 'fentry.s+', name: 'tracing', id: 26, sleepable: true },
  { pattern: 'fexit.s+', name: 'tracing', id: 26, sleepable: true },
  { pattern: 'iter+', name: 'tracing', id: 26 },
  { pattern: 'iter.s+', name: 'tracing', id: 26, sleepable: true },
  { pattern: 'lsm+', name: 'lsm', id: 29 },
  { pattern: 'lsm.s+', name: 'lsm', id: 29, sleepable: true },
  { pattern: 'netfilter', name: 'netfilter', id: 32 },
  { pattern: 'flow_dissector', name: 'flow_dissector', id: 22 },
  { pattern: 'lwt_in', name: 'lwt_in', id: 10 },
  { pattern: 'lwt_out', name: 'lwt_out', id: 11 },
  { pattern: 'lwt_xmit', name: 'lwt_xmit', id: 12 },
  { pattern: 'sk_lookup', name: 'sk_lookup', id: 30 },
];

function matches(pattern: string, sec: string): boolean {
  if (pattern.endsWith('+')) {
    const base = pattern.slice(0, -1);
    return sec === base || sec.startsWith(base + '/');
  }
  if (pattern.endsWith('/')) return sec.startsWith(pattern);
  return sec === pattern;
}

export function programTypeOf(sectionName: string): { section: string; type: ProgramType; autoload: boolean } {
  const autoload = !sectionName.startsWith('?');
  const section = autoload ? sectionName : sectionName.slice(1);
  const def = DEFS.find((d) => matches(d.pattern, section));
  const type: ProgramType = def
    ? { name: def.name, id: def.id, sleepable: def.sleepable ?? false }
    : { name: 'unknown', id: 0, sleepable: false };
  return { section, type, autoload };
}
