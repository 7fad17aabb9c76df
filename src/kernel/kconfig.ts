/**
 * The simulated kernel's configuration: what libbpf would read from /boot/config-$(uname -r)
 * for `CONFIG_*` externs no loader value gives (spec maps-and-kernel-objects §5.2), and the
 * virtual `LINUX_*` values. The options are those of Debian's linux-image-7.2 for amd64 that
 * BPF objects commonly read; an extern named here nowhere reads as unset (0 if weak, a load
 * error if strong), as on a kernel built without it.
 */

/** KERNEL_VERSION(7, 2, 13): the release the simulation follows (its specs are checked against 7.2.13). */
export const SIMULATED_KERNEL_VERSION = (7 << 16) | (2 << 8) | 13;

/** The CONFIG_HZ the simulated clock ticks at (bpf_jiffies64), unless a loader value says otherwise. */
export const SIMULATED_HZ = 250;

export const SIMULATED_KERNEL_CONFIG = `# Linux/x86 7.2.13 Kernel Configuration (bpfrun's simulated kernel)
CONFIG_64BIT=y
CONFIG_X86_64=y
CONFIG_X86=y
CONFIG_SMP=y
CONFIG_NR_CPUS=8192
CONFIG_HZ_250=y
CONFIG_HZ=${SIMULATED_HZ}
CONFIG_PAGE_SHIFT=12
CONFIG_PREEMPT_DYNAMIC=y
# CONFIG_PREEMPT_RT is not set
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_BPF_JIT_ALWAYS_ON=y
CONFIG_BPF_EVENTS=y
CONFIG_BPF_LSM=y
CONFIG_DEBUG_INFO_BTF=y
CONFIG_SCHED_CLASS_EXT=y
CONFIG_CGROUPS=y
CONFIG_CGROUP_BPF=y
CONFIG_NET=y
CONFIG_INET=y
CONFIG_IPV6=y
CONFIG_NET_CLS_ACT=y
CONFIG_NET_SCH_INGRESS=m
CONFIG_XDP_SOCKETS=y
CONFIG_NETFILTER=y
CONFIG_NF_CONNTRACK=m
CONFIG_NET_CLS_BPF=m
CONFIG_NET_ACT_BPF=m
CONFIG_LWTUNNEL_BPF=y
CONFIG_KPROBES=y
CONFIG_FTRACE=y
CONFIG_FUNCTION_TRACER=y
# CONFIG_KASAN is not set
CONFIG_LOCALVERSION=""
`;

/** The virtual externs libbpf fills itself (bpf_object__resolve_externs), for this kernel. */
export const VIRTUAL_KCONFIG: Readonly<Record<string, bigint>> = {
  LINUX_KERNEL_VERSION: BigInt(SIMULATED_KERNEL_VERSION),
  LINUX_HAS_BPF_COOKIE: 1n,
  LINUX_HAS_SYSCALL_WRAPPER: 1n, // x86-64 syscalls go through __x64_sys_* wrappers
};
