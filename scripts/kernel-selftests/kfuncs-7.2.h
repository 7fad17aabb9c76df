/* Prototypes of Linux 7.2 kfuncs that a vmlinux.h dumped by an older bpftool, or from an older
 * kernel's BTF, lacks (bpftool >= 7.5 dumps kfunc prototypes from BTF decl tags). Written from
 * the kernel's definitions (net/core/filter.c, kernel/bpf/helpers.c). build.sh force-includes
 * this header into the files listed in its NEEDS_KFUNCS_H only. */
struct xdp_md;
struct __sk_buff;
struct bpf_dynptr;
extern int bpf_xdp_pull_data(struct xdp_md *x, unsigned int len) __attribute__((section(".ksyms"))) __attribute__((weak));
extern int bpf_dynptr_from_skb(struct __sk_buff *s, unsigned long long flags, struct bpf_dynptr *ptr__uninit) __attribute__((section(".ksyms"))) __attribute__((weak));
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, unsigned long long offset, void *buffer__opt, unsigned long long buffer__szk) __attribute__((section(".ksyms"))) __attribute__((weak));
extern void __bpf_trap(void) __attribute__((section(".ksyms"))) __attribute__((weak));
