/**
 * Which sched_ext kfuncs an op may call (sched-ext.md §2.8, §3.1): the kfunc sets of Linux 7.2
 * and each member's allow mask (the "kf" column of §1.2), and the members that may be sleepable
 * programs (the "S" column).
 */

export type KfuncGroup = 'ENQUEUE' | 'DISPATCH' | 'CPU_RELEASE' | 'UNLOCKED' | 'SELECT_CPU' | 'INIT';

const SETS: Readonly<Record<KfuncGroup, readonly string[]>> = {
  ENQUEUE: ['scx_bpf_dsq_insert', 'scx_bpf_dsq_insert___v2', '__scx_bpf_dsq_insert_vtime', 'scx_bpf_dsq_insert_vtime'],
  DISPATCH: ['scx_bpf_dispatch_nr_slots', 'scx_bpf_dispatch_cancel', 'scx_bpf_dsq_move_to_local', 'scx_bpf_dsq_move_to_local___v2',
    'scx_bpf_dsq_move_set_slice', 'scx_bpf_dsq_move_set_vtime', 'scx_bpf_dsq_move', 'scx_bpf_dsq_move_vtime', 'scx_bpf_sub_dispatch'],
  CPU_RELEASE: ['scx_bpf_reenqueue_local'],
  UNLOCKED: ['scx_bpf_create_dsq', 'scx_bpf_dsq_move_set_slice', 'scx_bpf_dsq_move_set_vtime', 'scx_bpf_dsq_move', 'scx_bpf_dsq_move_vtime',
    '__scx_bpf_select_cpu_and', 'scx_bpf_select_cpu_and', 'scx_bpf_select_cpu_dfl'],
  SELECT_CPU: ['scx_bpf_select_cpu_dfl', '__scx_bpf_select_cpu_and', 'scx_bpf_select_cpu_and'],
  INIT: ['scx_bpf_cid_override'],
};

/** The groups each filtered kfunc belongs to (a kfunc in no group is always allowed). */
export const KFUNC_GROUPS: ReadonlyMap<string, readonly KfuncGroup[]> = (() => {
  const m = new Map<string, KfuncGroup[]>();
  for (const [g, names] of Object.entries(SETS) as [KfuncGroup, readonly string[]][]) for (const n of names) m.set(n, [...(m.get(n) ?? []), g]);
  return m;
})();

const UNLOCKED_OPS = ['init_task', 'dump', 'cgroup_init', 'cgroup_exit', 'cgroup_prep_move', 'cgroup_cancel_move', 'cgroup_set_weight',
  'cgroup_set_bandwidth', 'cgroup_set_idle', 'sub_attach', 'sub_detach', 'cpu_online', 'cpu_offline', 'cid_online', 'cid_offline', 'exit'];

/** Member → the groups its programs may call (§1.2 "kf"). */
const ALLOW: ReadonlyMap<string, readonly KfuncGroup[]> = new Map<string, KfuncGroup[]>([
  ['select_cpu', ['SELECT_CPU', 'ENQUEUE']], ['select_cid', ['SELECT_CPU', 'ENQUEUE']], ['enqueue', ['SELECT_CPU', 'ENQUEUE']],
  ['dispatch', ['ENQUEUE', 'DISPATCH']], ['init', ['UNLOCKED', 'INIT']], ['cpu_release', ['CPU_RELEASE']],
  ...UNLOCKED_OPS.map((op): [string, KfuncGroup[]] => [op, ['UNLOCKED']]),
]);

export function opAllows(member: string, groups: readonly KfuncGroup[]): boolean {
  const allowed = ALLOW.get(member) ?? [];
  return groups.some((g) => allowed.includes(g));
}

/** Members that may be sleepable (struct_ops.s) programs (bpf_scx_check_member). */
export const SLEEPABLE_MEMBERS: ReadonlySet<string> = new Set(['init_task', 'cgroup_init', 'cgroup_exit', 'cgroup_prep_move', 'sub_attach',
  'sub_detach', 'cpu_online', 'cpu_offline', 'cid_online', 'cid_offline', 'init', 'exit']);

/** scx_kfunc_ids_cpu_only: refused in a cid-form scheduler (§2.8 rule 5). */
export const CPU_ONLY_KFUNCS: ReadonlySet<string> = new Set(['scx_bpf_kick_cpu', 'scx_bpf_task_cpu', 'scx_bpf_cpu_rq', 'scx_bpf_cpu_curr',
  'scx_bpf_cpu_node', 'scx_bpf_cpuperf_cap', 'scx_bpf_cpuperf_cur', 'scx_bpf_cpuperf_set', 'scx_bpf_get_possible_cpumask',
  'scx_bpf_get_online_cpumask', 'scx_bpf_put_cpumask', 'scx_bpf_select_cpu_dfl', '__scx_bpf_select_cpu_and', 'scx_bpf_select_cpu_and',
  'scx_bpf_get_idle_cpumask', 'scx_bpf_get_idle_cpumask_node', 'scx_bpf_get_idle_smtmask', 'scx_bpf_get_idle_smtmask_node',
  'scx_bpf_put_idle_cpumask', 'scx_bpf_test_and_clear_cpu_idle', 'scx_bpf_pick_idle_cpu', 'scx_bpf_pick_idle_cpu_node',
  'scx_bpf_pick_any_cpu', 'scx_bpf_pick_any_cpu_node']);
