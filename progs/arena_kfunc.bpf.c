// SPDX-License-Identifier: GPL-2.0
/*
 * arena_kfunc.bpf.c - kernel-side arena accesses by a kfunc, the scratch
 * page recovery of the arena direct-access series, and how it interacts
 * with BPF-instruction faults, allocation and free. Spec:
 * kernel-arena-streams.md §1.8, §2, §3.3, §3.4, §4.6, §4.7, §5.
 *
 * Test kfuncs, implemented by the test harness in TypeScript (LoadOptions
 * .kfuncs); "the kernel side rebases": kaddr = kern_vm_start + lo32(ptr):
 *   int   bpfrun_test_arena_write(void *ptr, __u32 val)   u32 store, returns 0
 *   __u32 bpfrun_test_arena_read(void *ptr)               u32 load
 *   __u32 bpfrun_test_arena_read_off(void *ptr, int off)  u32 load at kaddr + off
 * The programs pass arena pointers cast to (void *), i.e. the 32-bit arena
 * offset (addr_space_cast as1 -> as0).
 *
 * Map `arena`: ARENA, BPF_F_MMAPABLE, 16 pages, map_extra = 1 << 44
 * (user_vm_start 0x100000000000, lo32 = 0). No __arena globals, so the
 * globals placement changes nothing here. PG(n) = 0x100000000000 + n*0x1000.
 * The scratch page is per arena, allocated zeroed at map creation, shared by
 * every scratched slot and never cleared (§3.3). All programs are
 * SEC("syscall") (sleepable: frees are immediate).
 *
 * Run in file order once, fresh load, no ctx:
 *
 *  # | program              | return value
 * ---+----------------------+--------------------------------------------
 *  1 | kf_alloc_write       | 0
 *  2 | kf_unalloc_write     | 0
 *  3 | kf_fault_orders      | 0
 *  4 | kf_alloc_free_scratch| 0
 *  5 | kf_from_subprog      | 0
 *  6 | kf_from_loop_cb      | 1  (bpf_loop's return: 1 iteration)
 *  7 | kf_from_loop_inlined | 1
 *  8 | kf_lower_guard       | SEC("?syscall"), not run by default: kernel oops
 * Every program returns (number of failed checks) except 6 and 7, which
 * return bpf_loop()'s result; stdout of every program is empty.
 *
 * 1 kf_alloc_write: p0 = alloc(1) = PG(0); the kfunc writes 0xa1b2c3d4 at
 *   PG(0)+0x10 (page present: no fault). .bss: a_page = 0x100000000000,
 *   a_ret = 0, a_prog_read = 0xa1b2c3d4 (BPF load), a_kread = 0xa1b2c3d4
 *   (kfunc load). stderr: empty.
 * 2 kf_unalloc_write: PG(3) and PG(5) were never allocated.
 *   b_ret = 0         kfunc writes 0x11111111 at PG(3)+0x40: kernel fault,
 *                     scratch installed at PG(3), report (page aligned)
 *   b_read40 = 0x11111111  BPF load at PG(3)+0x40: scratch, no fault
 *   b_read44 = 0           BPF load at PG(3)+0x44: scratch (zeroed), no fault
 *                     BPF store 0x22222222 at PG(3)+0x80: scratch, no fault
 *   b_kread5 = 0x11111111  kfunc load at PG(5)+0x40: kernel fault, scratch
 *                     installed at PG(5) (same shared page), report
 *   b_kread5_80 = 0x22222222  kfunc load at PG(5)+0x80: no fault
 *   b_read5 = 0x11111111   BPF load at PG(5)+0x40: no fault
 *   stderr (2 reports, each + stack dump):
 *     "ERROR: Arena WRITE access at unmapped address 0x100000003000\n"
 *     "ERROR: Arena READ access at unmapped address 0x100000005000\n"
 * 3 kf_fault_orders:
 *   page 7, BPF first: c_read_first = 0 (BPF load at PG(7)+0x24: exception
 *     table, 0, report of the exact byte address, page NOT scratched);
 *     c_kret = 0 (kfunc writes 0x33333333 at PG(7)+0x24: kernel fault,
 *     scratch installed, report page aligned); c_read_after = 0x33333333
 *     (BPF load, no fault).
 *   page 9, kfunc first: c_kret9 = 0 (kfunc writes 0x44444444 at
 *     PG(9)+0x30: kernel fault, scratch, report); c_read9 = 0x44444444 (BPF
 *     load, no fault).
 *   shared scratch: c_shared24 = 0x33333333 and c_shared30 = 0x44444444
 *     (BPF loads at PG(3)+0x24 and PG(3)+0x30, no fault).
 *   stderr (3 reports):
 *     "ERROR: Arena READ access at unmapped address 0x100000007024\n"
 *     "ERROR: Arena WRITE access at unmapped address 0x100000007000\n"
 *     "ERROR: Arena WRITE access at unmapped address 0x100000009000\n"
 * 4 kf_alloc_free_scratch:
 *   d_page3 = 0x100000003000 (explicit alloc at the scratched PG(3)
 *     succeeds: the scratch PTE is replaced by a fresh zeroed page; final
 *     semantics after f64c7237, §3.3); d_read_new = 0 (BPF load at
 *     PG(3)+0x40, no fault); BPF store 0x55555555 there;
 *   d_kread_new = 0x55555555 (kfunc load at PG(3)+0x40: the real page);
 *   d_scratch5 = 0x11111111 (BPF load at PG(5)+0x40: the scratch page
 *     is untouched by the allocation);
 *   free(PG(5)) (never allocated, scratched: the free clears the scratch
 *     PTE); d_read5 = 0 (BPF load at PG(5)+0x40: fault, report);
 *   free(PG(3)) (the real page); d_read3 = 0 (BPF load at PG(3)+0x40:
 *     fault, report);
 *   d_kread5 = 0x11111111 (kfunc load at PG(5)+0x40: kernel fault again,
 *     scratch re-installed, report; the scratch contents survive).
 *   stderr (3 reports):
 *     "ERROR: Arena READ access at unmapped address 0x100000005040\n"
 *     "ERROR: Arena READ access at unmapped address 0x100000003040\n"
 *     "ERROR: Arena READ access at unmapped address 0x100000005000\n"
 * 5 kf_from_subprog: subprogram kwrite_sub() calls the kfunc, writing
 *   0x66666666 at PG(11)+0x8: e_sub_ret = 0, e_sub_read = 0x66666666.
 *   stderr: "ERROR: Arena WRITE access at unmapped address 0x10000000b000\n"
 * 6 kf_from_loop_cb: bpf_loop(1, loop_cb, &page, loop_flags) with
 *   loop_flags a .bss 0 (unknown to the verifier, so the call is not
 *   inlined); loop_cb calls the kfunc writing 0x77777777 at PG(12)+0x8:
 *   e_cb_ret = 0, e_cb_idx_sum = 0, e_cb_read = 0x77777777.
 *   stderr: "ERROR: Arena WRITE access at unmapped address 0x10000000c000\n"
 * 7 kf_from_loop_inlined: the same with flags = constant 0 and loop_cb2,
 *   page 13, 0x88888888: e_in_ret = 0, e_in_read = 0x88888888.
 *   stderr: "ERROR: Arena WRITE access at unmapped address 0x10000000d000\n"
 * 8 kf_lower_guard (?syscall): bpfrun_test_arena_read_off(PG(0), -8)
 *   touches kern_vm_start - 8, in the 32 KiB LOWER guard: the fault hook
 *   refuses the lower guard (§3.3 step 3), so this is a kernel oops (the
 *   task dies in the syscall; no stream report, no return value, no
 *   global changes). bpfrun: the run ends with a KernelOopsError for a read
 *   at kern_vm_start - 8.
 *
 * Stack dump after each ERROR line (§4.6; machine-dependent content):
 *   "CPU: <cpu> UID: <uid> PID: <pid> Comm: <comm>\n" "Call trace:\n"
 *   <frames, innermost first> "\n"
 * BPF-instruction faults (reports in programs 3 and 4 with an exact
 * address): [reporting/exception-table frames of the kernel]
 *   "bpf_prog_<tag>_<prog>+0x../0x..\n" "  <source line> @ arena_kfunc.bpf.c:<n>\n"
 *   [bpf_prog_test_run_syscall, __sys_bpf, ... syscall entry].
 * Kernel faults (page-aligned reports): [reporting and page-fault frames:
 *   bpf_arena_handle_page_fault, exc_page_fault, ...], then
 *   "bpfrun_test_arena_write+0x../0x..\n" (or _read), then the BPF frames
 *   innermost first, each with its source line:
 *   programs 2-4: the program's frame;
 *   program 5: kwrite_sub, then kf_from_subprog;
 *   program 6: loop_cb, then "bpf_loop+0x../0x..\n" (the helper, no source
 *     line), then kf_from_loop_cb;
 *   program 7: loop_cb2, then kf_from_loop_inlined (the verifier inlines
 *     bpf_loop when flags is a known 0: no bpf_loop frame);
 *   then [bpf_prog_test_run_syscall, ... syscall entry].
 *
 * Other globals: failed[0..7] all 0 (failed[n] counts program n's failed
 * checks), loop_flags = 0, arena_base = 0x100000000000, g_read =
 * 0xffffffff (only program 8 would write it).
 *
 * Range tree at the end: PG(0) allocated; PG(3) allocated then freed; the
 * free tree is [1,15]. Scratched slots at the end: PG(5), PG(7), PG(9),
 * PG(11), PG(12), PG(13) (all free in the range tree). Scratch page
 * contents: 0x11111111 at 0x40, 0x8 = 0x88888888 (last kernel write at
 * offset 8), 0x24 = 0x33333333, 0x30 = 0x44444444, 0x80 = 0x22222222.
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

extern int bpfrun_test_arena_write(void *ptr, __u32 val) __ksym;
extern __u32 bpfrun_test_arena_read(void *ptr) __ksym;
extern __u32 bpfrun_test_arena_read_off(void *ptr, int off) __ksym;

/* .data: the arena base, read at run time so that no address is folded */
__u64 arena_base = 1ULL << 44;

/*
 * Makes a program use the arena map (an ld_imm64 of &arena, no call): only
 * then does the verifier associate the arena with the program
 * (prog->aux->arena), which addr_space_cast needs (§1.5) and which the
 * kernel fault hook looks up (§3.3 step 2: no arena -> oops).
 */
#define USE_ARENA() asm volatile("" : : "r"(&arena) : "memory")

#define UPTR(n, off) ((__u32 __arena *)(arena_base + (__u64)(n) * __PAGE_SIZE + (off)))
#define KPTR(n, off) ((void *)UPTR(n, off))

/* .bss results */
__u64 a_page;
int a_ret;
__u32 a_prog_read, a_kread;

int b_ret;
__u32 b_read40, b_read44, b_kread5, b_kread5_80, b_read5;

__u32 c_read_first = 0xffffffff, c_read_after, c_read9, c_shared24, c_shared30;
int c_kret = -1, c_kret9 = -1;

__u64 d_page3;
__u32 d_read_new = 0xffffffff, d_kread_new, d_scratch5, d_kread5;
__u32 d_read5 = 0xffffffff, d_read3 = 0xffffffff;

int e_sub_ret = -1, e_cb_ret = -1, e_in_ret = -1;
__u32 e_sub_read, e_cb_read, e_in_read;
__u64 e_cb_idx_sum = ~0ULL, loop_flags;

__u32 g_read = 0xffffffff;

int failed[8];

#define CHECK(p, v, want) do { if ((v) != (want)) failed[p]++; } while (0)

SEC("syscall")
int kf_alloc_write(void *ctx)
{
	__u32 __arena *p = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	volatile __u32 __arena *v;

	if (!p)
		return -1;
	a_page = (__u64)p;
	v = (volatile __u32 __arena *)UPTR(0, 0x10);
	a_ret = bpfrun_test_arena_write((void *)v, 0xa1b2c3d4);
	a_prog_read = *v;
	a_kread = bpfrun_test_arena_read((void *)v);
	CHECK(1, a_page, 1ULL << 44);
	CHECK(1, a_ret, 0);
	CHECK(1, a_prog_read, 0xa1b2c3d4);
	CHECK(1, a_kread, 0xa1b2c3d4);
	return failed[1];
}

SEC("syscall")
int kf_unalloc_write(void *ctx)
{
	volatile __u32 __arena *v;

	USE_ARENA();

	b_ret = bpfrun_test_arena_write(KPTR(3, 0x40), 0x11111111);
	v = UPTR(3, 0x40);
	b_read40 = *v;
	v = UPTR(3, 0x44);
	b_read44 = *v;
	v = UPTR(3, 0x80);
	*v = 0x22222222;
	b_kread5 = bpfrun_test_arena_read(KPTR(5, 0x40));
	b_kread5_80 = bpfrun_test_arena_read(KPTR(5, 0x80));
	v = UPTR(5, 0x40);
	b_read5 = *v;
	CHECK(2, b_ret, 0);
	CHECK(2, b_read40, 0x11111111);
	CHECK(2, b_read44, 0);
	CHECK(2, b_kread5, 0x11111111);
	CHECK(2, b_kread5_80, 0x22222222);
	CHECK(2, b_read5, 0x11111111);
	return failed[2];
}

SEC("syscall")
int kf_fault_orders(void *ctx)
{
	volatile __u32 __arena *v;

	USE_ARENA();

	/* page 7: the program reads first, then the kfunc writes */
	v = UPTR(7, 0x24);
	c_read_first = *v;
	c_kret = bpfrun_test_arena_write(KPTR(7, 0x24), 0x33333333);
	c_read_after = *v;
	/* page 9: the kfunc writes first, then the program reads */
	c_kret9 = bpfrun_test_arena_write(KPTR(9, 0x30), 0x44444444);
	v = UPTR(9, 0x30);
	c_read9 = *v;
	/* one scratch page behind every scratched slot */
	v = UPTR(3, 0x24);
	c_shared24 = *v;
	v = UPTR(3, 0x30);
	c_shared30 = *v;
	CHECK(3, c_read_first, 0);
	CHECK(3, c_kret, 0);
	CHECK(3, c_read_after, 0x33333333);
	CHECK(3, c_kret9, 0);
	CHECK(3, c_read9, 0x44444444);
	CHECK(3, c_shared24, 0x33333333);
	CHECK(3, c_shared30, 0x44444444);
	return failed[3];
}

SEC("syscall")
int kf_alloc_free_scratch(void *ctx)
{
	volatile __u32 __arena *v;
	void __arena *p;

	p = bpf_arena_alloc_pages(&arena, (void __arena *)UPTR(3, 0), 1, NUMA_NO_NODE, 0);
	d_page3 = (__u64)p;
	v = UPTR(3, 0x40);
	d_read_new = *v;
	*v = 0x55555555;
	d_kread_new = bpfrun_test_arena_read(KPTR(3, 0x40));
	v = UPTR(5, 0x40);
	d_scratch5 = *v;

	bpf_arena_free_pages(&arena, (void __arena *)UPTR(5, 0), 1);
	v = UPTR(5, 0x40);
	d_read5 = *v;
	bpf_arena_free_pages(&arena, (void __arena *)UPTR(3, 0), 1);
	v = UPTR(3, 0x40);
	d_read3 = *v;
	d_kread5 = bpfrun_test_arena_read(KPTR(5, 0x40));

	CHECK(4, d_page3, (1ULL << 44) + 3 * __PAGE_SIZE);
	CHECK(4, d_read_new, 0);
	CHECK(4, d_kread_new, 0x55555555);
	CHECK(4, d_scratch5, 0x11111111);
	CHECK(4, d_read5, 0);
	CHECK(4, d_read3, 0);
	CHECK(4, d_kread5, 0x11111111);
	return failed[4];
}

static __noinline int kwrite_sub(__u64 uaddr, __u32 val)
{
	return bpfrun_test_arena_write((void *)(__u32 __arena *)uaddr, val);
}

SEC("syscall")
int kf_from_subprog(void *ctx)
{
	volatile __u32 __arena *v = UPTR(11, 0x8);

	USE_ARENA();

	e_sub_ret = kwrite_sub((__u64)v, 0x66666666);
	e_sub_read = *v;
	CHECK(5, e_sub_ret, 0);
	CHECK(5, e_sub_read, 0x66666666);
	return failed[5];
}

static long loop_cb(__u64 idx, void *data)
{
	__u64 uaddr = *(__u64 *)data;

	e_cb_ret = bpfrun_test_arena_write((void *)(__u32 __arena *)uaddr, 0x77777777);
	e_cb_idx_sum = idx;
	return 0;
}

SEC("syscall")
int kf_from_loop_cb(void *ctx)
{
	volatile __u32 __arena *v = UPTR(12, 0x8);
	__u64 uaddr = (__u64)v;
	long n;

	USE_ARENA();

	n = bpf_loop(1, loop_cb, &uaddr, loop_flags);
	e_cb_read = *v;
	return n;
}

static long loop_cb2(__u64 idx, void *data)
{
	__u64 uaddr = *(__u64 *)data;

	e_in_ret = bpfrun_test_arena_write((void *)(__u32 __arena *)uaddr, 0x88888888);
	return 0;
}

SEC("syscall")
int kf_from_loop_inlined(void *ctx)
{
	volatile __u32 __arena *v = UPTR(13, 0x8);
	__u64 uaddr = (__u64)v;
	long n;

	USE_ARENA();

	n = bpf_loop(1, loop_cb2, &uaddr, 0);
	e_in_read = *v;
	return n;
}

SEC("?syscall")
int kf_lower_guard(void *ctx)
{
	USE_ARENA();
	g_read = bpfrun_test_arena_read_off(KPTR(0, 0), -8);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
