/**
 * sched_ext constants of Linux 7.2 (sched-ext.md §1.8, §2.1, §2.3, §2.7, §4.4, §4.8):
 * enqueue/dequeue/wake/kick flags, ops flags, exit kinds, slices.
 */

// Core ENQUEUE_* / DEQUEUE_* flags and their SCX aliases (§2.3, §2.7).
export const ENQ_WAKEUP = 0x1n;
export const ENQ_RESTORE = 0x2n;
export const ENQ_MOVE = 0x4n;
export const ENQ_NOCLOCK = 0x8n;
export const SCX_ENQ_HEAD = 1n << 16n;
export const ENQ_MIGRATED = 0x40000n;
export const ENQ_INITIAL = 0x80000n;
export const SCX_ENQ_CPU_SELECTED = 0x100000n;
export const SCX_ENQ_PREEMPT = 1n << 32n;
export const SCX_ENQ_IMMED = 1n << 33n;
export const SCX_ENQ_REENQ = 1n << 40n;
export const SCX_ENQ_LAST = 1n << 41n;
/** The top 8 bits are the kernel's own: an insert passing any of them is an error. */
export const SCX_ENQ_INTERNAL_MASK = 0xffn << 56n;
export const SCX_ENQ_DSQ_PRIQ = 1n << 57n;

/** p->scx.flags bits 12–13: why a task is re-enqueued (§2.7). */
export const SCX_TASK_REENQ_KFUNC = 0x1000;

export const DEQ_SLEEP = 0x1n;
export const DEQ_SAVE = 0x2n;
export const DEQ_MOVE = 0x4n;
export const DEQ_NOCLOCK = 0x8n;
export const SCX_DEQ_SCHED_CHANGE = 1n << 33n;

export const SCX_WAKE_FORK = 0x4n;
export const SCX_WAKE_TTWU = 0x8n;

export const SCX_KICK_IDLE = 1n;
export const SCX_KICK_PREEMPT = 2n;
export const SCX_KICK_WAIT = 4n;

export const SCX_PICK_IDLE_CORE = 1n;
export const SCX_PICK_IDLE_IN_NODE = 2n;

// Ops flags (§2.1).
export const SCX_OPS_KEEP_BUILTIN_IDLE = 1n << 0n;
export const SCX_OPS_ENQ_LAST = 1n << 1n;
export const SCX_OPS_ENQ_EXITING = 1n << 2n;
export const SCX_OPS_SWITCH_PARTIAL = 1n << 3n;
export const SCX_OPS_BUILTIN_IDLE_PER_NODE = 1n << 6n;
export const SCX_OPS_ALWAYS_ENQ_IMMED = 1n << 7n;
export const SCX_OPS_TID_TO_TASK = 1n << 8n;
export const SCX_OPS_ALL_FLAGS = 0x1ffn;

// Exit kinds (§4.8) and exit codes.
export const SCX_EXIT_NONE = 0;
export const SCX_EXIT_DONE = 1;
export const SCX_EXIT_UNREG = 64;
export const SCX_EXIT_UNREG_BPF = 65;
export const SCX_EXIT_UNREG_KERN = 66;
export const SCX_EXIT_SYSRQ = 67;
export const SCX_EXIT_ERROR = 1024;
export const SCX_EXIT_ERROR_BPF = 1025;
export const SCX_EXIT_ERROR_STALL = 1026;
export const SCX_EFLAG_INITIALIZED = 1n;
/** scx_exit_code: bits 32–47 the system reason, 48–63 the action (§4.8). */
export const SCX_ECODE_RSN_HOTPLUG = 1n << 32n;
export const SCX_ECODE_ACT_RESTART = 1n << 48n;

export const EXIT_REASONS: Readonly<Record<number, string>> = {
  [SCX_EXIT_UNREG]: 'unregistered from user space',
  [SCX_EXIT_UNREG_BPF]: 'unregistered from BPF',
  [SCX_EXIT_UNREG_KERN]: 'unregistered from the main kernel',
  [SCX_EXIT_SYSRQ]: 'disabled by sysrq-S',
  [SCX_EXIT_ERROR]: 'runtime error',
  [SCX_EXIT_ERROR_BPF]: 'scx_bpf_error',
  [SCX_EXIT_ERROR_STALL]: 'runnable task stall',
};

// Slices (§4.4).
export const SCX_SLICE_DFL = 20_000_000n;
export const SCX_SLICE_BYPASS = 5_000_000n;
export const SCX_SLICE_INF = (1n << 64n) - 1n;

export const SCX_DSP_DFL_MAX_BATCH = 32;
export const SCX_DSP_MAX_LOOPS = 32;
export const SCX_EXIT_DUMP_DFL_LEN = 32768;
export const SCX_EXIT_MSG_LEN = 1024;
export const SCX_EXIT_REASON_LEN = 128;
/** SCX_WATCHDOG_MAX_TIMEOUT: 30 s, also the default. */
export const SCX_WATCHDOG_MAX_TIMEOUT_MS = 30_000;

/** Task flags (include/linux/sched.h). */
export const PF_IDLE = 0x2;
export const PF_EXITING = 0x4;
export const PF_KTHREAD = 0x200000;

/** The 13 event counters, in struct scx_event_stats order (§4.10). */
export const EVENT_NAMES = [
  'SCX_EV_SELECT_CPU_FALLBACK', 'SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE', 'SCX_EV_DISPATCH_KEEP_LAST', 'SCX_EV_ENQ_SKIP_EXITING',
  'SCX_EV_ENQ_SKIP_MIGRATION_DISABLED', 'SCX_EV_REENQ_IMMED', 'SCX_EV_REENQ_LOCAL_REPEAT', 'SCX_EV_REFILL_SLICE_DFL',
  'SCX_EV_BYPASS_DURATION', 'SCX_EV_BYPASS_DISPATCH', 'SCX_EV_BYPASS_ACTIVATE', 'SCX_EV_INSERT_NOT_OWNED', 'SCX_EV_SUB_BYPASS_DISPATCH',
] as const;
export type EventName = typeof EVENT_NAMES[number];

/**
 * sched_prio_to_weight (kernel/sched/core.c), nice -20..19, then sched_weight_to_cgroup:
 * round(w × 100 / 1024) clamped to 1..10000 (§7.3).
 */
const PRIO_TO_WEIGHT = [
  88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991,
  1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
];
export function niceToScxWeight(nice: number): number {
  const w = PRIO_TO_WEIGHT[nice + 20];
  return Math.min(10000, Math.max(1, Math.round((w * 100) / 1024)));
}
