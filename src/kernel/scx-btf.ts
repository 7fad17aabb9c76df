/**
 * The sched_ext types of Linux 7.2 in the simulated kernel's BTF (src/kernel/kernel-btf.ts):
 * what CO-RE relocations of clang-compiled schedulers resolve against, and what the sched_ext
 * host lays kernel objects out from.
 *
 * // spec sched-ext §1.1 (the two struct_ops types and their bpf_struct_ops_* wrappers)
 * // spec sched-ext §1.2 (sched_ext_ops / sched_ext_ops_cid: members, order, offsets, sizes)
 * // spec sched-ext §1.8 (the enums the loader reads, with their 7.2 values; no scx_task_state)
 * // spec sched-ext §2.1, §2.7 (scx_ops_flags, scx_enq_flags, scx_deq_flags)
 * // spec sched-ext §2.5 (the argument structs), §2.9 (the kernel fields programs read)
 * // spec sched-ext §4.8 (scx_exit_kind, scx_exit_code, scx_exit_info), §4.10 (scx_event_stats)
 * // spec sched-ext §5.1 (scx_cid_topo), §5.4 (scx_cmask)
 *
 * Configuration: x86-64, CONFIG_SCHED_CLASS_EXT, CONFIG_EXT_GROUP_SCHED, CONFIG_CGROUPS,
 * CONFIG_SCHED_CORE, HZ 1000, NR_CPUS 8192 (struct cpumask is 1024 bytes).
 *
 * task_struct keeps the layout kernel-btf.ts gives it (Linux 6.18's on the test machine, which
 * other code depends on). The members 6.18 has (`se`, `sched_class`, `policy`, `nr_cpus_allowed`,
 * `cpus_ptr`, `migration_disabled`, `cgroups` …) sit at their 6.18 offsets; the two that do not
 * fit there — `scx` (7.2 puts it after `dl_server`) and the 1024-byte `cpus_mask` (6.18's is 32
 * bytes) — are appended after `thread`, and the struct grows. CO-RE never depends on where a
 * member is, only on its name and type.
 */
import type { BtfBuilder, EncodedMember } from '../btf/encode.js';

/** The ids of kernel-btf.ts's types that the sched_ext types use. */
export interface ScxBaseTypes {
  readonly int: number;
  readonly uint: number;
  readonly char: number;
  readonly ulong: number;
  readonly u8: number;
  readonly u16: number;
  readonly u32: number;
  readonly u64: number;
  readonly s64: number;
  readonly bool: number;
  readonly atomic: number;
  readonly atomicLong: number;
  readonly task: number;
}

/** The task_struct members this file adds (kernel-btf.ts merges them into its own). */
export interface ScxTypes {
  readonly taskMembers: EncodedMember[];
  /** task_struct's size with the appended members. */
  readonly taskSize: number;
}

/** Sizes fixed by this file (and asserted by test/scx-btf.test.ts). */
export const SCX_SIZES = {
  cpumask: 1024,
  sched_ext_entity: 232,
  sched_entity: 256,
  sched_ext_ops: 472,
  sched_ext_ops_cid: 456,
  bpf_struct_ops_value: 576,
  task_struct: 4544, // 3264 + sched_ext_entity + cpumask, rounded up to 64
} as const;

const u64max = (1n << 64n) - 1n;
const bit = (n: number) => 1n << BigInt(n);

/**
 * Adds the sched_ext types to `b` and returns the task_struct members that refer to them
 * (`task` must be declared, not yet defined).
 */
export function addScxTypes(b: BtfBuilder, t: ScxBaseTypes): ScxTypes {
  const m = (name: string, type: number, offset: number): EncodedMember => ({ name, type, offset });
  const arr = (elem: number, n: number) => b.array(elem, n, t.int);
  const ptr = (type: number) => b.ptr(type);
  const fwd = (name: string) => b.fwd(name);
  const s32 = b.typedef('s32', b.typedef('__s32', t.int));
  const taskPtr = ptr(t.task);
  const charPtr = ptr(t.char);
  const voidPtr = ptr(0);

  // Generic kernel types (include/linux/types.h, rbtree_types.h, rhashtable-types.h, refcount.h).
  const listHead = b.declare();
  b.struct('list_head', 16, [m('next', ptr(listHead), 0), m('prev', ptr(listHead), 8)], listHead);
  const rbNode = b.declare();
  b.struct('rb_node', 24, [m('__rb_parent_color', t.ulong, 0), m('rb_right', ptr(rbNode), 8), m('rb_left', ptr(rbNode), 16)], rbNode);
  const rhashHead = b.declare();
  b.struct('rhash_head', 8, [m('next', ptr(rhashHead), 0)], rhashHead);
  const refcount = b.typedef('refcount_t', b.struct('refcount_struct', 4, [m('refs', t.atomic, 0)]));
  const loadWeight = b.struct('load_weight', 16, [m('weight', t.ulong, 0), m('inv_weight', t.u32, 8)]);

  // struct cpumask (include/linux/cpumask_types.h), NR_CPUS 8192; struct bpf_cpumask (kernel/bpf/cpumask.c).
  const cpumask = b.struct('cpumask', SCX_SIZES.cpumask, [m('bits', arr(t.ulong, SCX_SIZES.cpumask / 8), 0)]);
  const cpumaskT = b.typedef('cpumask_t', cpumask);
  b.struct('bpf_cpumask', SCX_SIZES.cpumask + 8, [m('cpumask', cpumaskT, 0), m('usage', refcount, SCX_SIZES.cpumask)]);
  const constCpumaskPtr = ptr(b.const(cpumask));

  // kernfs_node (include/linux/kernfs.h) and cgroup (include/linux/cgroup-defs.h), 6.18 offsets.
  const kn = b.declare();
  b.struct('kernfs_node', 136, [
    m('count', t.atomic, 0), m('active', t.atomic, 4), m('__parent', ptr(kn), 8), m('name', ptr(b.const(t.char)), 16),
    m('rb', rbNode, 24), m('ns', ptr(b.const(0)), 48), m('hash', t.uint, 56), m('flags', t.u16, 60), m('mode', t.u16, 62),
    m('id', t.u64, 96), m('priv', voidPtr, 104),
  ], kn);
  const cgroup = b.declare();
  const cgroupPtr = ptr(cgroup);
  const css = b.declare();
  b.struct('cgroup_subsys_state', 208, [
    m('cgroup', cgroupPtr, 0), m('ss', ptr(fwd('cgroup_subsys')), 8), m('sibling', listHead, 40), m('children', listHead, 56),
    m('id', t.int, 72), m('flags', t.uint, 76), m('serial_nr', t.u64, 80), m('online_cnt', t.atomic, 88),
    m('parent', ptr(css), 184), m('nr_descendants', t.int, 192),
  ], css);
  b.struct('cgroup', 2240, [
    m('self', css, 0), m('flags', t.ulong, 208), m('level', t.int, 216), m('max_depth', t.int, 220),
    m('nr_descendants', t.int, 224), m('nr_dying_descendants', t.int, 228), m('max_descendants', t.int, 232),
    m('nr_populated_csets', t.int, 236), m('kn', ptr(kn), 256), m('ancestors', arr(cgroupPtr, 0), 2224),
  ], cgroup);

  // sched_entity (include/linux/sched.h), 6.18 offsets.
  const se = b.declare();
  b.struct('sched_entity', SCX_SIZES.sched_entity, [
    m('load', loadWeight, 0), m('run_node', rbNode, 16), m('deadline', t.u64, 40), m('min_vruntime', t.u64, 48),
    m('min_slice', t.u64, 56), m('max_slice', t.u64, 64), m('group_node', listHead, 72), m('on_rq', t.u8, 88),
    m('exec_start', t.u64, 96), m('sum_exec_runtime', t.u64, 104), m('prev_sum_exec_runtime', t.u64, 112),
    m('vruntime', t.u64, 120), m('slice', t.u64, 136), m('nr_migrations', t.u64, 144), m('depth', t.int, 152),
    m('parent', ptr(se), 160),
  ], se);

  // The DSQ list node and sched_ext_entity (include/linux/sched/ext.h).
  const dsqListNode = b.struct('scx_dsq_list_node', 24, [m('node', listHead, 0), m('flags', t.u32, 16), m('priv', t.u32, 20)]);
  const scxSched = fwd('scx_sched');
  const dsq = fwd('scx_dispatch_q');
  const scx = b.struct('sched_ext_entity', SCX_SIZES.sched_ext_entity, [
    m('sched', ptr(scxSched), 0), m('dsq', ptr(dsq), 8), m('ops_state', t.atomicLong, 16), m('ddsp_dsq_id', t.u64, 24),
    m('ddsp_enq_flags', t.u64, 32), m('dsq_list', dsqListNode, 40), m('dsq_priq', rbNode, 64), m('dsq_seq', t.u32, 88),
    m('dsq_flags', t.u32, 92), m('flags', t.u32, 96), m('weight', t.u32, 100), m('sticky_cpu', s32, 104),
    m('holding_cpu', s32, 108), m('selected_cpu', s32, 112), m('ops_qseq', t.u32, 116), m('kf_tasks', arr(taskPtr, 2), 120),
    m('runnable_node', listHead, 136), m('runnable_at', t.ulong, 152), m('core_sched_at', t.u64, 160), m('tid', t.u64, 168),
    m('tid_hash_node', rhashHead, 176), m('slice', t.u64, 184), m('dsq_vtime', t.u64, 192), m('disallow', t.bool, 200),
    m('cgrp_moving_from', cgroupPtr, 208), m('tasks_node', listHead, 216),
  ]);

  // The task_struct members (6.18 offsets where 6.18 has them; scx and cpus_mask appended).
  const taskMembers: EncodedMember[] = [
    m('usage', refcount, 40), m('wake_cpu', t.int, 100), m('on_rq', t.int, 104), m('rt_priority', t.uint, 120),
    m('se', se, 128), m('sched_class', ptr(b.const(fwd('sched_class'))), 704),
    m('sched_task_group', ptr(fwd('task_group')), 712), m('policy', t.uint, 780), m('nr_cpus_allowed', t.int, 792),
    m('cpus_ptr', ptr(b.const(cpumaskT)), 800), m('user_cpus_ptr', ptr(cpumaskT), 808),
    m('migration_disabled', t.u16, 856), m('migration_flags', t.u16, 858), m('tasks', listHead, 1056),
    m('exit_state', t.int, 1160), m('exit_code', t.int, 1164), m('cgroups', ptr(fwd('css_set')), 2376),
    m('cg_list', listHead, 2384), m('scx', scx, 3264), m('cpus_mask', cpumaskT, 3264 + SCX_SIZES.sched_ext_entity),
  ];

  // struct rq (kernel/sched/sched.h): opaque but for a few members; the kfuncs hand out pointers.
  b.struct('rq', 3584, [
    m('nr_running', t.uint, 4), m('curr', taskPtr, 2720), m('idle', taskPtr, 2736), m('stop', taskPtr, 2744),
    m('clock', t.u64, 2776), m('cpu', t.int, 2984), m('online', t.int, 2988),
  ]);

  // Enums (include/linux/sched/ext.h, kernel/sched/ext/{internal,types}.h, kernel/sched/sched.h, ext.c).
  const e32 = (name: string, values: [string, number][], signed = false) => b.enum(name, 4, values, signed);
  const e64 = (name: string, values: [string, bigint][]) => b.enum64(name, 8, values);
  e64('scx_public_consts', [['SCX_OPS_NAME_LEN', 128n], ['SCX_SLICE_DFL', 20_000_000n], ['SCX_SLICE_BYPASS', 5_000_000n], ['SCX_SLICE_INF', u64max]]);
  const builtin = bit(63), localOn = bit(62);
  e64('scx_dsq_id_flags', [
    ['SCX_DSQ_FLAG_BUILTIN', builtin], ['SCX_DSQ_FLAG_LOCAL_ON', localOn], ['SCX_DSQ_INVALID', builtin],
    ['SCX_DSQ_GLOBAL', builtin | 1n], ['SCX_DSQ_LOCAL', builtin | 2n], ['SCX_DSQ_BYPASS', builtin | 3n],
    ['SCX_DSQ_LOCAL_ON', builtin | localOn], ['SCX_DSQ_LOCAL_CPU_MASK', 0xffffffffn],
  ]);
  // SCX_TASK_CURSOR is 1 << 31, an int: negative, so the enum is signed (spec §1.8).
  e32('scx_ent_flags', [
    ['SCX_TASK_QUEUED', 1], ['SCX_TASK_IN_CUSTODY', 2], ['SCX_TASK_RESET_RUNNABLE_AT', 4], ['SCX_TASK_DEQD_FOR_SLEEP', 8],
    ['SCX_TASK_SUB_INIT', 0x10], ['SCX_TASK_IMMED', 0x20], ['SCX_TASK_STATE_SHIFT', 8], ['SCX_TASK_STATE_BITS', 3],
    ['SCX_TASK_STATE_MASK', 0x700], ['SCX_TASK_NONE', 0], ['SCX_TASK_INIT_BEGIN', 0x100], ['SCX_TASK_INIT', 0x200],
    ['SCX_TASK_READY', 0x300], ['SCX_TASK_ENABLED', 0x400], ['SCX_TASK_DEAD', 0x500], ['SCX_TASK_REENQ_REASON_SHIFT', 12],
    ['SCX_TASK_REENQ_REASON_BITS', 2], ['SCX_TASK_REENQ_REASON_MASK', 0x3000], ['SCX_TASK_REENQ_NONE', 0],
    ['SCX_TASK_REENQ_KFUNC', 0x1000], ['SCX_TASK_REENQ_IMMED', 0x2000], ['SCX_TASK_REENQ_PREEMPTED', 0x3000],
    ['SCX_TASK_CURSOR', -0x80000000],
  ], true);
  e32('scx_ent_dsq_flags', [['SCX_TASK_DSQ_ON_PRIQ', 1]]);
  e32('scx_dsq_lnode_flags', [['SCX_DSQ_LNODE_ITER_CURSOR', 1], ['__SCX_DSQ_LNODE_PRIV_SHIFT', 16]]);
  e32('scx_rq_flags', [
    ['SCX_RQ_ONLINE', 1], ['SCX_RQ_CAN_STOP_TICK', 2], ['SCX_RQ_CLK_VALID', 0x20], ['SCX_RQ_BAL_CB_PENDING', 0x40],
    ['SCX_RQ_IN_WAKEUP', 0x10000], ['SCX_RQ_IN_BALANCE', 0x20000],
  ]);
  const exitKind = e32('scx_exit_kind', [
    ['SCX_EXIT_NONE', 0], ['SCX_EXIT_DONE', 1], ['SCX_EXIT_UNREG', 64], ['SCX_EXIT_UNREG_BPF', 65], ['SCX_EXIT_UNREG_KERN', 66],
    ['SCX_EXIT_SYSRQ', 67], ['SCX_EXIT_PARENT', 68], ['SCX_EXIT_ERROR', 1024], ['SCX_EXIT_ERROR_BPF', 1025],
    ['SCX_EXIT_ERROR_STALL', 1026],
  ]);
  e64('scx_exit_code', [['SCX_ECODE_RSN_HOTPLUG', bit(32)], ['SCX_ECODE_RSN_CGROUP_OFFLINE', 2n << 32n], ['SCX_ECODE_ACT_RESTART', bit(48)]]);
  e32('scx_exit_flags', [['SCX_EFLAG_INITIALIZED', 1]]);
  e64('scx_ops_flags', [
    ['SCX_OPS_KEEP_BUILTIN_IDLE', 1n], ['SCX_OPS_ENQ_LAST', 2n], ['SCX_OPS_ENQ_EXITING', 4n], ['SCX_OPS_SWITCH_PARTIAL', 8n],
    ['SCX_OPS_ENQ_MIGRATION_DISABLED', 0x10n], ['SCX_OPS_ALLOW_QUEUED_WAKEUP', 0x20n], ['SCX_OPS_BUILTIN_IDLE_PER_NODE', 0x40n],
    ['SCX_OPS_ALWAYS_ENQ_IMMED', 0x80n], ['SCX_OPS_TID_TO_TASK', 0x100n], ['SCX_OPS_ALL_FLAGS', 0x1ffn],
    ['__SCX_OPS_INTERNAL_MASK', 0xffn << 56n], ['SCX_OPS_HAS_CPU_PREEMPT', bit(56)],
  ]);
  const preemptReason = e32('scx_cpu_preempt_reason', [['SCX_CPU_PREEMPT_RT', 0], ['SCX_CPU_PREEMPT_DL', 1], ['SCX_CPU_PREEMPT_STOP', 2], ['SCX_CPU_PREEMPT_UNKNOWN', 3]]);
  e32('scx_opi', [
    ['SCX_OPI_BEGIN', 0], ['SCX_OPI_NORMAL_BEGIN', 0], ['SCX_OPI_NORMAL_END', 31], ['SCX_OPI_CPU_HOTPLUG_BEGIN', 31],
    ['SCX_OPI_CPU_HOTPLUG_END', 33], ['SCX_OPI_END', 33],
  ]);
  e32('scx_wake_flags', [['SCX_WAKE_FORK', 4], ['SCX_WAKE_TTWU', 8], ['SCX_WAKE_SYNC', 0x10]]);
  e64('scx_enq_flags', [
    ['SCX_ENQ_WAKEUP', 1n], ['SCX_ENQ_HEAD', 0x10000n], ['SCX_ENQ_CPU_SELECTED', 0x100000n], ['SCX_ENQ_PREEMPT', bit(32)],
    ['SCX_ENQ_IMMED', bit(33)], ['SCX_ENQ_REENQ', bit(40)], ['SCX_ENQ_LAST', bit(41)], ['__SCX_ENQ_INTERNAL_MASK', 0xffn << 56n],
    ['SCX_ENQ_CLEAR_OPSS', bit(56)], ['SCX_ENQ_DSQ_PRIQ', bit(57)], ['SCX_ENQ_NESTED', bit(58)], ['SCX_ENQ_GDSQ_FALLBACK', bit(59)],
  ]);
  e64('scx_deq_flags', [['SCX_DEQ_SLEEP', 1n], ['SCX_DEQ_CORE_SCHED_EXEC', bit(32)], ['SCX_DEQ_SCHED_CHANGE', bit(33)]]);
  e64('scx_reenq_flags', [
    ['SCX_REENQ_ANY', 1n], ['__SCX_REENQ_FILTER_MASK', 0xffffn], ['__SCX_REENQ_USER_MASK', 1n],
    ['SCX_REENQ_TSR_RQ_OPEN', bit(32)], ['SCX_REENQ_TSR_NOT_FIRST', bit(33)], ['__SCX_REENQ_TSR_MASK', 0xfn << 32n],
  ]);
  e32('scx_pick_idle_cpu_flags', [['SCX_PICK_IDLE_CORE', 1], ['SCX_PICK_IDLE_IN_NODE', 2]]);
  e32('scx_kick_flags', [['SCX_KICK_IDLE', 1], ['SCX_KICK_PREEMPT', 2], ['SCX_KICK_WAIT', 4]]);
  e32('scx_tg_flags', [['SCX_TG_ONLINE', 1], ['SCX_TG_INITED', 2]]);
  e32('scx_enable_state', [['SCX_ENABLING', 0], ['SCX_ENABLED', 1], ['SCX_DISABLING', 2], ['SCX_DISABLED', 3]]);
  e32('scx_ops_state', [['SCX_OPSS_NONE', 0], ['SCX_OPSS_QUEUEING', 1], ['SCX_OPSS_QUEUED', 2], ['SCX_OPSS_DISPATCHING', 3], ['SCX_OPSS_QSEQ_SHIFT', 2]]);
  e32('scx_sched_pcpu_flags', [['SCX_SCHED_PCPU_BYPASSING', 1]]);
  e32('scx_dsq_iter_flags', [
    ['SCX_DSQ_ITER_REV', 0x10000], ['__SCX_DSQ_ITER_HAS_SLICE', 0x40000000], ['__SCX_DSQ_ITER_HAS_VTIME', 0x80000000],
    ['__SCX_DSQ_ITER_USER_FLAGS', 0x10000], ['__SCX_DSQ_ITER_ALL_FLAGS', 0xc0010000],
  ]);
  e32('scx_consts', [
    ['SCX_DSP_DFL_MAX_BATCH', 32], ['SCX_DSP_MAX_LOOPS', 32], ['SCX_WATCHDOG_MAX_TIMEOUT', 30 * 1000], ['SCX_TID_CHUNK', 1024],
    ['SCX_EXIT_BT_LEN', 64], ['SCX_EXIT_MSG_LEN', 1024], ['SCX_EXIT_DUMP_DFL_LEN', 32768], ['SCX_CPUPERF_ONE', 1024],
    ['SCX_TASK_ITER_BATCH', 32], ['SCX_BYPASS_HOST_NTH', 2], ['SCX_BYPASS_LB_DFL_INTV_US', 500_000],
    ['SCX_BYPASS_LB_DONOR_PCT', 125], ['SCX_BYPASS_LB_MIN_DELTA_DIV', 4], ['SCX_BYPASS_LB_BATCH', 256],
    ['SCX_REENQ_LOCAL_MAX_REPEAT', 256], ['SCX_SUB_MAX_DEPTH', 4],
  ]);

  // Argument and info structs (kernel/sched/ext/internal.h, types.h; ext.c, idle.c).
  const ulongPtr = ptr(t.ulong);
  const exitInfo = b.struct('scx_exit_info', 64, [
    m('kind', exitKind, 0), m('exit_cpu', s32, 4), m('exit_code', t.s64, 8), m('flags', t.u64, 16),
    m('reason', ptr(b.const(t.char)), 24), m('bt', ulongPtr, 32), m('bt_len', t.u32, 40), m('msg', charPtr, 48), m('dump', charPtr, 56),
  ]);
  const initTaskArgs = b.struct('scx_init_task_args', 16, [m('fork', t.bool, 0), m('cgroup', cgroupPtr, 8)]);
  const exitTaskArgs = b.struct('scx_exit_task_args', 1, [m('cancelled', t.bool, 0)]);
  const cgroupInitArgs = b.struct('scx_cgroup_init_args', 32, [
    m('weight', t.u32, 0), m('bw_period_us', t.u64, 8), m('bw_quota_us', t.u64, 16), m('bw_burst_us', t.u64, 24),
  ]);
  const acquireArgs = b.struct('scx_cpu_acquire_args', 0, []);
  const releaseArgs = b.struct('scx_cpu_release_args', 16, [m('reason', preemptReason, 0), m('task', taskPtr, 8)]);
  const dumpCtx = b.struct('scx_dump_ctx', 40, [
    m('kind', exitKind, 0), m('exit_code', t.s64, 8), m('reason', ptr(b.const(t.char)), 16), m('at_ns', t.u64, 24), m('at_jiffies', t.u64, 32),
  ]);
  const opsCpu = b.declare();
  const opsCid = b.declare();
  const attachArgs = b.struct('scx_sub_attach_args', 16, [m('ops', ptr(opsCpu), 0), m('cgroup_path', charPtr, 8)]);
  const detachArgs = b.struct('scx_sub_detach_args', 16, [m('ops', ptr(opsCpu), 0), m('cgroup_path', charPtr, 8)]);
  const cmask = b.struct('scx_cmask', 16, [
    m('base', t.u32, 0), m('nr_cids', t.u32, 4), m('alloc_words', t.u32, 8), m('bits', arr(t.u64, 0), 16),
  ]);
  b.struct('scx_cid_topo', 24, ['core_cid', 'core_idx', 'llc_cid', 'llc_idx', 'node_cid', 'node_idx'].map((n, i) => m(n, s32, i * 4)));
  const events = [
    'SELECT_CPU_FALLBACK', 'DISPATCH_LOCAL_DSQ_OFFLINE', 'DISPATCH_KEEP_LAST', 'ENQ_SKIP_EXITING', 'ENQ_SKIP_MIGRATION_DISABLED',
    'REENQ_IMMED', 'REENQ_LOCAL_REPEAT', 'REFILL_SLICE_DFL', 'BYPASS_DURATION', 'BYPASS_DISPATCH', 'BYPASS_ACTIVATE',
    'INSERT_NOT_OWNED', 'SUB_BYPASS_DISPATCH',
  ];
  b.struct('scx_event_stats', events.length * 8, events.map((n, i) => m(`SCX_EV_${n}`, t.s64, i * 8)));
  b.struct('scx_bpf_dsq_insert_vtime_args', 32, [m('dsq_id', t.u64, 0), m('slice', t.u64, 8), m('vtime', t.u64, 16), m('enq_flags', t.u64, 24)]);
  b.struct('scx_bpf_select_cpu_and_args', 24, [m('prev_cpu', s32, 0), m('wake_flags', t.u64, 8), m('flags', t.u64, 16)]);
  b.struct('bpf_iter_scx_dsq', 48, [m('__opaque', arr(t.u64, 6), 0)]);
  b.struct('bpf_iter_scx_dsq_kern', 48, [m('cursor', dsqListNode, 0), m('dsq', ptr(dsq), 24), m('slice', t.u64, 32), m('vtime', t.u64, 40)]);

  // sched_ext_ops and sched_ext_ops_cid (spec §1.2): 35 callbacks, then the data members.
  const fn = (ret: number, params: [string, number][]) => ptr(b.funcProto(ret, params));
  const none = 0;
  const cmaskPtr = ptr(b.const(cmask));
  const callbacks = (cid: boolean): [string, number][] => {
    const cpu = cid ? 'cid' : 'cpu';
    return [
      [cid ? 'select_cid' : 'select_cpu', fn(s32, [['p', taskPtr], [cid ? 'prev_cid' : 'prev_cpu', s32], ['wake_flags', t.u64]])],
      ['enqueue', fn(none, [['p', taskPtr], ['enq_flags', t.u64]])],
      ['dequeue', fn(none, [['p', taskPtr], ['deq_flags', t.u64]])],
      ['dispatch', fn(none, [[cpu, s32], ['prev', taskPtr]])],
      ['tick', fn(none, [['p', taskPtr]])],
      ['runnable', fn(none, [['p', taskPtr], ['enq_flags', t.u64]])],
      ['running', fn(none, [['p', taskPtr]])],
      ['stopping', fn(none, [['p', taskPtr], ['runnable', t.bool]])],
      ['quiescent', fn(none, [['p', taskPtr], ['deq_flags', t.u64]])],
      ['yield', fn(t.bool, [['from', taskPtr], ['to', taskPtr]])],
      ['core_sched_before', fn(t.bool, [['a', taskPtr], ['b', taskPtr]])],
      ['set_weight', fn(none, [['p', taskPtr], ['weight', t.u32]])],
      cid ? ['set_cmask', fn(none, [['p', taskPtr], ['cmask', cmaskPtr]])] : ['set_cpumask', fn(none, [['p', taskPtr], ['cpumask', constCpumaskPtr]])],
      ['update_idle', fn(none, [[cpu, s32], ['idle', t.bool]])],
      ['init_task', fn(s32, [['p', taskPtr], ['args', ptr(initTaskArgs)]])],
      ['exit_task', fn(none, [['p', taskPtr], ['args', ptr(exitTaskArgs)]])],
      ['enable', fn(none, [['p', taskPtr]])],
      ['disable', fn(none, [['p', taskPtr]])],
      ['dump', fn(none, [['ctx', ptr(dumpCtx)]])],
      [cid ? 'dump_cid' : 'dump_cpu', fn(none, [['ctx', ptr(dumpCtx)], [cpu, s32], ['idle', t.bool]])],
      ['dump_task', fn(none, [['ctx', ptr(dumpCtx)], ['p', taskPtr]])],
      ['cgroup_init', fn(s32, [['cgrp', cgroupPtr], ['args', ptr(cgroupInitArgs)]])],
      ['cgroup_exit', fn(none, [['cgrp', cgroupPtr]])],
      ['cgroup_prep_move', fn(s32, [['p', taskPtr], ['from', cgroupPtr], ['to', cgroupPtr]])],
      ['cgroup_move', fn(none, [['p', taskPtr], ['from', cgroupPtr], ['to', cgroupPtr]])],
      ['cgroup_cancel_move', fn(none, [['p', taskPtr], ['from', cgroupPtr], ['to', cgroupPtr]])],
      ['cgroup_set_weight', fn(none, [['cgrp', cgroupPtr], ['weight', t.u32]])],
      ['cgroup_set_bandwidth', fn(none, [['cgrp', cgroupPtr], ['period_us', t.u64], ['quota_us', t.u64], ['burst_us', t.u64]])],
      ['cgroup_set_idle', fn(none, [['cgrp', cgroupPtr], ['idle', t.bool]])],
      ['sub_attach', fn(s32, [['args', ptr(attachArgs)]])],
      ['sub_detach', fn(none, [['args', ptr(detachArgs)]])],
      [cid ? 'cid_online' : 'cpu_online', fn(none, [[cpu, s32]])],
      [cid ? 'cid_offline' : 'cpu_offline', fn(none, [[cpu, s32]])],
      ['init', fn(s32, [])],
      ['exit', fn(none, [['info', ptr(exitInfo)]])],
    ];
  };
  const opsMembers = (cid: boolean): EncodedMember[] => [
    ...callbacks(cid).map(([n, ty], i) => m(n, ty, i * 8)),
    m('dispatch_max_batch', t.u32, 280), m('flags', t.u64, 288), m('timeout_ms', t.u32, 296), m('exit_dump_len', t.u32, 300),
    m('hotplug_seq', t.u64, 304), m('sub_cgroup_id', t.u64, 312), m('name', arr(t.char, 128), 320), m('priv', voidPtr, 448),
  ];
  b.struct('sched_ext_ops', SCX_SIZES.sched_ext_ops, [
    ...opsMembers(false),
    m('cpu_acquire', fn(none, [['cpu', s32], ['args', ptr(acquireArgs)]]), 456),
    m('cpu_release', fn(none, [['cpu', s32], ['args', ptr(releaseArgs)]]), 464),
  ], opsCpu);
  b.struct('sched_ext_ops_cid', SCX_SIZES.sched_ext_ops_cid, opsMembers(true), opsCid);

  // The struct_ops value wrappers (include/linux/bpf.h BPF_STRUCT_OPS_TYPE: the common value,
  // then `data` cacheline-aligned).
  const state = b.enum('bpf_struct_ops_state', 4, [
    ['BPF_STRUCT_OPS_STATE_INIT', 0], ['BPF_STRUCT_OPS_STATE_INUSE', 1], ['BPF_STRUCT_OPS_STATE_TOBEFREE', 2], ['BPF_STRUCT_OPS_STATE_READY', 3],
  ]);
  const common = b.struct('bpf_struct_ops_common_value', 8, [m('refcnt', refcount, 0), m('state', state, 4)]);
  b.struct('bpf_struct_ops_sched_ext_ops', SCX_SIZES.bpf_struct_ops_value, [m('common', common, 0), m('data', opsCpu, 64)]);
  b.struct('bpf_struct_ops_sched_ext_ops_cid', SCX_SIZES.bpf_struct_ops_value, [m('common', common, 0), m('data', opsCid, 64)]);

  return { taskMembers, taskSize: SCX_SIZES.task_struct };
}
