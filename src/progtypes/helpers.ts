/**
 * Which program types may call the packet helpers (the func-proto tables of net/core/filter.c):
 * spec program-types §4.0. A helper named here is refused at load for every type not listed
 * with it ("program of this type cannot use helper"); helpers not named here stay available to
 * every type (bpfrun's base set, as bpf_base_func_proto with CAP_PERFMON gives them).
 */
import { BPF_FUNC, type HelperName } from '../uapi.js';

/** The types of §4.0's columns. "lwt_xmit" is the XMIT-only mark; "lwt" means all three LWT types. */
export type HelperFamily = 'socket' | 'tc' | 'cgroup' | 'lwt_in' | 'lwt_out' | 'lwt_xmit' | 'xdp' | 'flow' | 'tracing';

const LWT: readonly HelperFamily[] = ['lwt_in', 'lwt_out', 'lwt_xmit'];

/** §4.0: the packet helpers and the types that have them. */
const PACKET_HELPERS: Readonly<Partial<Record<HelperName, readonly HelperFamily[]>>> = {
  skb_load_bytes: ['socket', 'tc', 'cgroup', ...LWT, 'flow'],
  skb_load_bytes_relative: ['socket', 'tc', 'cgroup'],
  skb_store_bytes: ['tc', 'lwt_xmit'],
  l3_csum_replace: ['tc', 'lwt_xmit'],
  l4_csum_replace: ['tc', 'lwt_xmit'],
  csum_diff: ['tc', ...LWT, 'xdp'],
  csum_update: ['tc', 'lwt_xmit'],
  csum_level: ['tc', 'lwt_xmit'],
  skb_pull_data: ['tc', ...LWT],
  skb_change_head: ['tc', 'lwt_xmit'],
  skb_change_tail: ['tc', 'lwt_xmit'],
  skb_adjust_room: ['tc'],
  skb_vlan_push: ['tc'],
  skb_vlan_pop: ['tc'],
  skb_change_proto: ['tc'],
  skb_change_type: ['tc'],
  get_hash_recalc: ['tc', ...LWT],
  set_hash: ['tc'],
  set_hash_invalid: ['tc', 'lwt_xmit'],
  redirect: ['tc', 'lwt_xmit', 'xdp'],
  redirect_map: ['xdp'],
  redirect_peer: ['tc'],
  redirect_neigh: ['tc'],
  clone_redirect: ['tc', 'lwt_xmit'],
  fib_lookup: ['tc', 'xdp'],
  check_mtu: ['tc', 'xdp'],
  skb_ecn_set_ce: ['tc', 'cgroup'],
  skb_cgroup_id: ['tc', 'cgroup'],
  get_socket_cookie: ['socket', 'tc', 'cgroup'],
  get_netns_cookie: ['socket', 'tc', 'cgroup'],
  sk_lookup_tcp: ['tc', 'cgroup', 'xdp'],
  sk_lookup_udp: ['tc', 'cgroup', 'xdp'],
  skc_lookup_tcp: ['tc', 'cgroup', 'xdp'],
  sk_release: ['tc', 'cgroup', 'xdp'],
  skb_get_tunnel_key: ['tc', 'lwt_xmit'],
  skb_set_tunnel_key: ['tc', 'lwt_xmit'],
  perf_event_output: ['socket', 'tc', 'cgroup', ...LWT, 'xdp', 'tracing'],
  xdp_adjust_head: ['xdp'],
  xdp_adjust_meta: ['xdp'],
  xdp_adjust_tail: ['xdp'],
  xdp_get_buff_len: ['xdp', 'tracing'],
  xdp_load_bytes: ['xdp'],
  xdp_store_bytes: ['xdp'],
  // bpf_tracing_func_proto: the compat probe reads, on x86 (non-overlapping address spaces).
  probe_read: ['tracing'],
  probe_read_str: ['tracing'],
};

/** The helper ids a type of `family` may call: every id except the packet helpers it lacks. */
export function helpersFor(family: HelperFamily): ReadonlySet<number> {
  const refused = new Set<number>();
  for (const [name, families] of Object.entries(PACKET_HELPERS) as [HelperName, readonly HelperFamily[]][]) {
    if (!families.includes(family)) refused.add(BPF_FUNC[name]);
  }
  return new Set(Object.values(BPF_FUNC).filter((id) => !refused.has(id)));
}
