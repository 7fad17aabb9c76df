// SPDX-License-Identifier: MIT
/*
 * kconfig.bpf.c - __kconfig externs of every type libbpf accepts (spec maps-and-kernel-objects
 * §5.1, §5.2), read by one syscall program that copies them into .bss.
 *
 * Values on bpfrun's simulated kernel (src/kernel/kconfig.ts) with no loader values:
 *   LINUX_KERNEL_VERSION = 0x07020d, LINUX_HAS_SYSCALL_WRAPPER = 1, LINUX_HAS_BPF_COOKIE = 1,
 *   CONFIG_NR_CPUS = 8192 (int), CONFIG_HZ = 250 (u64), CONFIG_BPF_JIT = 1 (bool),
 *   CONFIG_NF_CONNTRACK = TRI_MODULE (tristate), CONFIG_NET_SCH_INGRESS = 'm' (char),
 *   CONFIG_LOCALVERSION = "" (string), CONFIG_BPFRUN_NOT_SET = 0 (weak, unset),
 *   LINUX_BPFRUN_UNKNOWN = 0 (weak, unknown virtual).
 */
#include "bpfrun.h"
#include <stdbool.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern int CONFIG_NR_CPUS __kconfig;
extern unsigned long long CONFIG_HZ __kconfig;
extern bool CONFIG_BPF_JIT __kconfig;
extern enum libbpf_tristate CONFIG_NF_CONNTRACK __kconfig;
extern char CONFIG_NET_SCH_INGRESS __kconfig;
extern char CONFIG_LOCALVERSION[16] __kconfig;
extern int CONFIG_BPFRUN_NOT_SET __kconfig __weak;
extern int LINUX_BPFRUN_UNKNOWN __kconfig __weak;
extern short CONFIG_BPFRUN_SHORT __kconfig __weak;

struct {
	__u32 version, wrapper, cookie;
	__s32 nr_cpus;
	__u64 hz;
	__u32 jit, conntrack, ingress, not_set, unknown;
	__s32 short_value;
	char localversion[16];
} kc;

SEC("syscall")
int read_kconfig(void *ctx)
{
	kc.version = LINUX_KERNEL_VERSION;
	kc.wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	kc.cookie = LINUX_HAS_BPF_COOKIE;
	kc.nr_cpus = CONFIG_NR_CPUS;
	kc.hz = CONFIG_HZ;
	kc.jit = CONFIG_BPF_JIT;
	kc.conntrack = CONFIG_NF_CONNTRACK;
	kc.ingress = CONFIG_NET_SCH_INGRESS;
	kc.not_set = CONFIG_BPFRUN_NOT_SET;
	kc.unknown = LINUX_BPFRUN_UNKNOWN;
	kc.short_value = CONFIG_BPFRUN_SHORT;
	__builtin_memcpy(kc.localversion, CONFIG_LOCALVERSION, sizeof(kc.localversion));
	return 0;
}
