// SPDX-License-Identifier: GPL-2.0
/*
 * arena_ds.bpf.c - data structures in arena pages and the arena page
 * allocator's placement rules (built as arena_ds.bpf.o, -mcpu=v4, and
 * arena_ds.v3.bpf.o, -mcpu=v3; same expected results). Spec:
 * kernel-arena-streams.md §1.3, §1.8, §1.9, §2.1-§2.4, §3.4, §7.3.
 *
 * Map `arena`: type 33, BPF_F_MMAPABLE, max_entries 64 pages,
 * map_extra = 1 << 44 = 0x100000000000 (= user_vm_start; lo32 = 0).
 * PG(n) below = 0x100000000000 + n * 0x1000 (page n of the arena).
 * All programs are SEC("syscall"): sleepable, so frees take effect at once.
 *
 * __arena globals (.addr_space.1, 64 bytes, one page): ds_magic = 0xa5e7a
 * (the only non-zero initialiser), then the allocator/table state
 * (ht_buckets, ht_count, bump_ptr, bump_left, bump_pages, free_list,
 * free_cnt, list_head). libbpf copies them in through the user mapping, so
 * their page is allocated by the user-fault path before any program runs
 * (§1.9, §2.5).
 *   Default (libbpf >= 1.7, full-range ld_imm64 offsets; bpfrun's default):
 *     globals page = page 63 (0x10000003f000); free tree = [0,62].
 *   Globals at the start (--arena-globals start; libbpf 1.4-1.6 / 6.18):
 *     globals page = page 0; free tree = [1,63]; see "GLOBALS AT START"
 *     at the end of this comment.
 *
 * Range tree (§2.2): best fit = the free interval of the smallest size
 * >= page_cnt, returning its lowest page; among equal sizes the interval
 * inserted into the size tree LAST wins (every split/merge/shrink removes
 * and re-inserts the interval). Below, "ins#" marks that order.
 *
 * Run in file order once, fresh load, no ctx (default placement):
 *
 *  # | program        | return value
 * ---+----------------+-------------
 *  1 | ds_htab_build  | 100  (ht_count)
 *  2 | ds_htab_ops    | 76   (ht_count)
 *  3 | ds_list        | 20   (nodes walked)
 *  4 | ds_alloc_order | 0    (number of failed checks; see below)
 *  5 | ds_faults      | 0    (number of failed checks)
 *
 * Hash table: 64 buckets (8-byte head pointers) at the start of one page;
 * hash(k) = (u32)(k * 2654435761) >> 26. Node = 48 bytes {next, key, val,
 * pad[4]}, carved by a bump allocator from whole pages (85 nodes a page,
 * 16 bytes left over); deleted nodes go on a LIFO free list which the
 * allocator uses first. key(i) = (i * 7919) % 1000 + 1 (i = 0..99, all
 * distinct), val(i) = key(i) * 3 + i.
 *
 * 1 ds_htab_build: buckets = alloc(1) = PG(0) (free tree [1,62]); inserts
 *   key(i) -> val(i), i = 0..99: 100 inserts; node i at
 *   PG(1) + 48*i (i < 85) or PG(2) + 48*(i-85) (bump pages PG(1), PG(2);
 *   free tree [3,62]); then puts key(i) -> 1000000 + i for i % 4 == 0
 *   (25 updates in place, no allocation).
 *   .bss: buckets_addr = 0x100000000000, ins_cnt = 100, upd_cnt = 25,
 *   err_cnt = 0, bump_page[0] = 0x100000001000, bump_page[1] =
 *   0x100000002000, bump_page[2] = bump_page[3] = 0, max_chain = 4,
 *   used_buckets = 48, build_sum = 25119925 (sum of all vals after the
 *   updates, walked bucket by bucket).
 *   arena: ht_count = 100, bump_pages = 2, bump_left = 3376
 *   (4096 - 15*48), bump_ptr = 0x1000000022d0.
 * 2 ds_htab_ops: looks up key(i), i = 0..99 (all found), and key 0 and
 *   key 1001 (missing); deletes key(i) for i % 3 == 0 (34 deletes), deletes
 *   key(0) again (not found); looks all 100 up again (66 found); inserts
 *   keys 1001 + 13*j -> j, j = 0..9 (10 inserts, nodes popped off the free
 *   list: the node of key(99), then key(96), ..., key(72)).
 *   .bss: lookup_found = 100, lookup_sum = 25119925, miss_cnt = 2,
 *   del_cnt = 34, del_again = 0, found_after_del = 66,
 *   reins_cnt = 10, reuse_addr0 = 0x1000000022a0 (node 99: PG(2)+14*48),
 *   reuse_addr1 = 0x100000002210 (node 96: PG(2)+11*48),
 *   ops_key_sum = 43034 (sum of the 76 keys in the table), ops_bump_pages
 *   = 2 (no new page).
 *   arena: ht_count = 76, free_cnt = 24, bump_left = 3376.
 * 3 ds_list: builds a list sorted by key, nodes {key = (j*37) % 101,
 *   val = j}, j = 1..20, each node popped off the free list (nodes of
 *   key(69), key(66), ..., key(12): i = 69 - 3*(j-1)); walks it with
 *   can_loop, then reverses it in place with cond_break.
 *   keys in list order: 3 10 13 20 23 30 33 37 40 47 50 57 60 67 74 77
 *   84 87 94 97.
 *   .bss: list_cnt = 20, list_key_sum = 1003, list_val_sum = 210,
 *   list_first_key = 3 (j = 11), list_last_key = 97 (j = 19),
 *   list_sorted = 1, list_head_addr = 0x100000001750 (node i = 39,
 *   PG(1) + 39*48; the j = 11 node), rev_first_key = 97,
 *   rev_head_addr = 0x1000000012d0 (node i = 15, PG(1) + 15*48; j = 19),
 *   rev_cnt = 20.
 *   arena: free_cnt = 4 (nodes 9, 6, 3, 0 remain), list_head = rev_head_addr.
 * 4 ds_alloc_order (free tree before: A=[3,62]); every result below is a
 *   page number (pg_*: (addr - 0x100000000000) / 4096, or -1 for NULL):
 *   a) pg_s1 = 3, pg_s2 = 4, pg_s3 = 5 (sequential alloc(1); A=[6,62])
 *   b) pg_m = 6 (alloc(4): pages 6..9; A=[10,62])
 *   c) explicit: pg_e1 = 40 (free page 40 -> that address; A=[10,39]
 *      ins#1 re-inserted, B=[41,62] ins#2), pg_e2 = -1 (page 4 allocated),
 *      pg_e3 = -1 (page 64: beyond the 64-page arena), pg_e4 = -1 (the
 *      globals' page, allocated by libbpf's write), pg_e5 = -1 (PG(41) +
 *      0x800: not page aligned), pg_e6 = -1 (2 pages at 39: page 40 is
 *      taken)
 *   d) free(PG(7), 2) -> C=[7,8] ins#3; free(PG(4), 1) -> D=[4,4] ins#4.
 *      pg_b1 = 4 (alloc(1): D, size 1), pg_b2 = 7 (alloc(2): C),
 *      pg_b3 = 41 (alloc(3): B, 22 pages, beats A, 30 pages, although A
 *      is lower; B=[44,62] re-inserted)
 *   e) ties: free(PG(3)) -> E=[3,3]; free(PG(5)) -> F=[5,5] (inserted
 *      after E): pg_t1 = 5, pg_t2 = 3.
 *      free(PG(7), 2) -> Z=[7,8]; free(PG(3), 2) -> X=[3,4] (after Z);
 *      free(PG(6)) -> Z grows to [6,8] (re-inserted, size 3);
 *      explicit alloc PG(6): pg_r6 = 6, Z shrinks to [7,8] and is
 *      re-inserted after X; pg_t3 = 7 (alloc(2): Z, the last
 *      re-inserted, not the lower X), pg_t4 = 3 (alloc(2): X).
 *   f) reserve: r_res1 = 0 (reserve PG(50), 2 pages: B -> [44,49] and
 *      G=[52,62]), r_res2 = -16 (same again: -EBUSY), r_res3 = -16
 *      (PG(51), 2 pages: 51 reserved), r_res4 = -16 (PG(40): allocated),
 *      r_res5 = -16 (the globals' page), pg_rs1 = -1 (alloc at PG(50)),
 *      pg_rs2 = -1 (alloc at PG(51)), pg_big = 52 (alloc(8): not B=[44,49],
 *      6 pages, nor the reserved pages; G -> [60,62]),
 *      rsv_read = 0 (a BPF read at PG(50) + 0x18 faults, see stderr),
 *      then free(PG(50), 2) (B grows to [44,51]), pg_rs3 = 50 (explicit
 *      alloc at PG(50) succeeds; B -> [44,49], H=[51,51]), rsv_read2 = 0
 *      (fresh page, no fault).
 *   checks_failed = 0 (program 4 compares each value above).
 *   stderr (1 report):
 *     "ERROR: Arena READ access at unmapped address 0x100000032018\n"
 *     + stack dump (§4.6): "CPU: <cpu> UID: <uid> PID: <pid> Comm: <comm>\n"
 *       "Call trace:\n", kernel frames of the exception path
 *       (bpf_prog_report_arena_violation, ex_handler_bpf, ..., machine
 *       dependent), "bpf_prog_<tag>_ds_alloc_order+0x../0x..\n"
 *       "  <source line> @ arena_ds.bpf.c:<line>\n", the syscall frames
 *       (bpf_prog_test_run_syscall, __sys_bpf, ...), "\n".
 * 5 ds_faults (free tree before: A=[10,39], B=[44,49], G=[60,62],
 *   H=[51,51]): pg_u = 51 (alloc(1): H, the only 1-page hole), writes
 *   0x1122334455667788 at PG(51)+0x100 and reads it back (uaf_before =
 *   0x1122334455667788), frees PG(51); then
 *     uaf_read = 0        (u64 load at PG(51)+0x100: fault)
 *     (u32 store 0xdead at PG(51)+0x208: dropped, fault)
 *     uaf_read2 = 0       (u32 load at PG(51)+0x208: fault again; a BPF
 *                          fault installs no scratch page)
 *     pg_u2 = 51          (alloc(1) again: the 1-page hole [51,51])
 *     uaf_fresh = 0       (PG(51)+0x100 of the new page: zeroed, no fault)
 *     beyond_read = 0     (u32 load at PG(64)+8 = 0x100000040008: inside
 *                          the 4 GiB kernel window, beyond the 64 pages)
 *   checks_failed5 = 0.
 *   stderr (4 reports, in this order, each + stack dump as above with
 *   bpf_prog_<tag>_ds_faults):
 *     "ERROR: Arena READ access at unmapped address 0x100000033100\n"
 *     "ERROR: Arena WRITE access at unmapped address 0x100000033208\n"
 *     "ERROR: Arena READ access at unmapped address 0x100000033208\n"
 *     "ERROR: Arena READ access at unmapped address 0x100000040008\n"
 * stdout of every program: empty. stderr of programs 1-3: empty.
 *
 * Final __arena globals: ds_magic = 0xa5e7a, ht_buckets = 0x100000000000,
 * ht_count = 76, bump_ptr = 0x1000000022d0, bump_left = 3376,
 * bump_pages = 2, free_list = 0x1000000011b0 (node 9, PG(1) + 9*48),
 * free_cnt = 4, list_head = 0x1000000012d0 (= rev_head_addr).
 * Final .data: beyond_addr = 0x100000040008, rsv_read = rsv_read2 = 0,
 * uaf_read = uaf_fresh = 0, uaf_read2 = beyond_read = 0 (initial values
 * all-ones: each was written).
 *
 * Arena pages in use at the end (default placement): 0 (buckets), 1-2
 * (nodes), 3-4, 5, 6, 7-8, 9, 40, 41-43, 50, 51, 52-59, 63 (globals);
 * free: [10,39], [44,49], [60,62].
 *
 * GLOBALS AT START (globals page 0, free tree [1,63]): every implicit
 * allocation moves up one page and the checks of program 4 are written
 * relative to that shift, so all return values and counters are the
 * same; the addresses change: buckets_addr = 0x100000001000, bump_page[] =
 * {0x100000002000, 0x100000003000}, bump_ptr = 0x1000000032d0,
 * reuse_addr0 = 0x1000000032a0, reuse_addr1 = 0x100000003210,
 * list_head_addr = 0x100000002750, rev_head_addr = 0x1000000022d0, and
 * program 4 stores pg_* values one higher for implicit allocations
 * (pg_s1..3 = 4,5,6, pg_m = 7, pg_b1 = 5, pg_b2 = 8, pg_b3 = 41 (B is
 * [41,63], 23 pages, still smaller than A=[11,39]), pg_t1 = 6, pg_t2 = 4,
 * pg_r6 = 7, pg_t3 = 8, pg_t4 = 4, pg_big = 52, pg_u = pg_u2 = 51);
 * explicit addresses (40, 50, 51, 64, ...) are the same. The checks in
 * program 4 use `sh` = the page of the bucket array (0 or 1) to stay
 * valid in both placements. The reports' addresses do not change.
 */
#include "bpfrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);
	__ulong(map_extra, 1ULL << 44);
} arena SEC(".maps");

#define ARENA_BASE (1ULL << 44)
#define ARENA_PAGES 64
#define PG(n) (ARENA_BASE + (__u64)(n) * __PAGE_SIZE)
#define NR_BUCKETS 64
#define NR_KEYS 100
#define EBUSY 16

struct hnode {
	struct hnode __arena *next;
	__u32 key;
	__u32 val;
	__u64 pad[4];
}; /* 48 bytes */

struct hbucket {
	struct hnode __arena *head;
};

/* __arena globals (.addr_space.1): the data structures' state */
__u32 __arena ds_magic = 0xa5e7a;
struct hbucket __arena *__arena ht_buckets;
__u32 __arena ht_count;
char __arena *__arena bump_ptr;
__u32 __arena bump_left;
__u32 __arena bump_pages;
struct hnode __arena *__arena free_list;
__u32 __arena free_cnt;
struct hnode __arena *__arena list_head;

/* addresses the programs dereference, kept out of constant folding (.data) */
__u64 beyond_addr = PG(64) + 8;

/* results (.bss) */
__u64 buckets_addr, bump_page[4];
int ins_cnt, upd_cnt, err_cnt, max_chain, used_buckets;
__u64 build_sum;

int lookup_found, miss_cnt, del_cnt, del_again, found_after_del, reins_cnt;
__u64 lookup_sum, reuse_addr0, reuse_addr1, ops_key_sum;
int ops_bump_pages;

int list_cnt, list_first_key, list_last_key, list_sorted, rev_first_key, rev_cnt;
__u64 list_key_sum, list_val_sum, list_head_addr, rev_head_addr;

int pg_s1, pg_s2, pg_s3, pg_m, pg_e1, pg_e2, pg_e3, pg_e4, pg_e5, pg_e6;
int pg_b1, pg_b2, pg_b3, pg_t1, pg_t2, pg_r6, pg_t3, pg_t4;
int pg_rs1, pg_rs2, pg_big, pg_rs3;
long r_res1, r_res2, r_res3, r_res4, r_res5;
__u32 rsv_read = 0xffffffff, rsv_read2 = 0xffffffff;
int checks_failed;

int pg_u, pg_u2;
__u64 uaf_before, uaf_read = ~0ULL, uaf_fresh = ~0ULL;
__u32 uaf_read2 = 0xffffffff, beyond_read = 0xffffffff;
int checks_failed5;

static __always_inline __u32 key_of(__u32 i)
{
	return (i * 7919) % 1000 + 1;
}

static __always_inline __u32 ht_hash(__u32 key)
{
	return (key * 2654435761u) >> 26;
}

/* -------- a tiny bump allocator over arena pages, with a free list -------- */
static struct hnode __arena *node_alloc(void)
{
	struct hnode __arena *n = free_list;

	if (n) {
		free_list = n->next;
		free_cnt--;
		n->next = NULL;
		return n;
	}
	if (bump_left < sizeof(struct hnode)) {
		char __arena *pg = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

		if (!pg)
			return NULL;
		if (bump_pages < 4)
			bump_page[bump_pages & 3] = (__u64)pg;
		bump_ptr = pg;
		bump_left = __PAGE_SIZE;
		bump_pages++;
	}
	n = (struct hnode __arena *)bump_ptr;
	bump_ptr += sizeof(struct hnode);
	bump_left -= sizeof(struct hnode);
	return n;
}

static void node_free(struct hnode __arena *n)
{
	n->next = free_list;
	free_list = n;
	free_cnt++;
}

/* -------- hash table -------- */
/* 1 = inserted, 0 = updated, -12 = no memory */
static int ht_put(__u32 key, __u32 val)
{
	struct hbucket __arena *b = &ht_buckets[ht_hash(key)];
	struct hnode __arena *n;

	for (n = b->head; n; n = n->next) {
		if (n->key == key) {
			n->val = val;
			return 0;
		}
		cond_break;
	}
	n = node_alloc();
	if (!n)
		return -12;
	n->key = key;
	n->val = val;
	n->next = b->head;
	b->head = n;
	ht_count++;
	return 1;
}

static struct hnode __arena *ht_find(__u32 key)
{
	struct hnode __arena *n;

	for (n = ht_buckets[ht_hash(key)].head; n; n = n->next) {
		if (n->key == key)
			return n;
		cond_break;
	}
	return NULL;
}

static int ht_del(__u32 key)
{
	struct hnode __arena *__arena *pp = &ht_buckets[ht_hash(key)].head;
	struct hnode __arena *n;

	while ((n = *pp)) {
		if (n->key == key) {
			*pp = n->next;
			node_free(n);
			ht_count--;
			return 1;
		}
		pp = &n->next;
		cond_break;
	}
	return 0;
}

SEC("syscall")
int ds_htab_build(void *ctx)
{
	struct hnode __arena *n;
	__u64 sum = 0;
	int i, r, len;

	ht_buckets = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!ht_buckets)
		return -1;
	buckets_addr = (__u64)ht_buckets;

	bpf_for(i, 0, NR_KEYS) {
		__u32 k = key_of(i);

		r = ht_put(k, k * 3 + i);
		if (r == 1)
			ins_cnt++;
		else if (r == 0)
			upd_cnt++;
		else
			err_cnt++;
	}
	bpf_for(i, 0, NR_KEYS) {
		if ((__u32)i % 4)
			continue;
		r = ht_put(key_of(i), 1000000 + i);
		if (r == 1)
			ins_cnt++;
		else if (r == 0)
			upd_cnt++;
		else
			err_cnt++;
	}
	bpf_for(i, 0, NR_BUCKETS) {
		len = 0;
		for (n = ht_buckets[i].head; n; n = n->next) {
			sum += n->val;
			len++;
			cond_break;
		}
		if (len)
			used_buckets++;
		if (len > max_chain)
			max_chain = len;
	}
	build_sum = sum;
	return ht_count;
}

SEC("syscall")
int ds_htab_ops(void *ctx)
{
	struct hnode __arena *n;
	__u64 ksum = 0;
	int i;

	bpf_for(i, 0, NR_KEYS) {
		n = ht_find(key_of(i));
		if (n) {
			lookup_found++;
			lookup_sum += n->val;
		}
	}
	if (!ht_find(0))
		miss_cnt++;
	if (!ht_find(1001))
		miss_cnt++;

	bpf_for(i, 0, NR_KEYS) {
		if ((__u32)i % 3 == 0)
			del_cnt += ht_del(key_of(i));
	}
	del_again = ht_del(key_of(0));

	bpf_for(i, 0, NR_KEYS) {
		if (ht_find(key_of(i)))
			found_after_del++;
	}

	bpf_for(i, 0, 10) {
		if (ht_put(1001 + 13 * i, i) == 1)
			reins_cnt++;
		if (i == 0)
			reuse_addr0 = (__u64)ht_find(1001);
		if (i == 1)
			reuse_addr1 = (__u64)ht_find(1014);
	}

	bpf_for(i, 0, NR_BUCKETS) {
		for (n = ht_buckets[i].head; n; n = n->next) {
			ksum += n->key;
			cond_break;
		}
	}
	ops_key_sum = ksum;
	ops_bump_pages = bump_pages;
	return ht_count;
}

/* -------- a sorted singly linked list, walked with can_loop -------- */
static void list_insert_sorted(struct hnode __arena *n)
{
	struct hnode __arena *__arena *pp = &list_head;
	struct hnode __arena *cur;

	while ((cur = *pp) && can_loop) {
		if (cur->key >= n->key)
			break;
		pp = &cur->next;
	}
	n->next = *pp;
	*pp = n;
}

SEC("syscall")
int ds_list(void *ctx)
{
	struct hnode __arena *n, *prev, *next;
	__u32 last = 0;
	int j, cnt = 0;

	list_sorted = 1;
	bpf_for(j, 1, 21) {
		n = node_alloc();
		if (!n)
			return -1;
		n->key = ((__u32)j * 37) % 101;
		n->val = j;
		list_insert_sorted(n);
	}

	n = list_head;
	list_head_addr = (__u64)n;
	if (n)
		list_first_key = n->key;
	while (n && can_loop) {
		if (n->key < last)
			list_sorted = 0;
		last = n->key;
		list_key_sum += n->key;
		list_val_sum += n->val;
		cnt++;
		n = n->next;
	}
	list_last_key = last;
	list_cnt = cnt;

	/* reverse in place */
	prev = NULL;
	n = list_head;
	while (n) {
		next = n->next;
		n->next = prev;
		prev = n;
		n = next;
		cond_break;
	}
	list_head = prev;
	rev_head_addr = (__u64)prev;
	if (prev)
		rev_first_key = prev->key;
	for (n = list_head; n; n = n->next) {
		rev_cnt++;
		cond_break;
	}
	return cnt;
}

/* -------- page allocator: order, best fit, ties, reserve -------- */
static __always_inline int pg_of(void __arena *p)
{
	return p ? (int)(((__u64)p - ARENA_BASE) / __PAGE_SIZE) : -1;
}

static __always_inline void __arena *alloc_any(__u32 cnt)
{
	return bpf_arena_alloc_pages(&arena, NULL, cnt, NUMA_NO_NODE, 0);
}

static __always_inline void __arena *alloc_at(__u64 addr, __u32 cnt)
{
	return bpf_arena_alloc_pages(&arena, (void __arena *)addr, cnt, NUMA_NO_NODE, 0);
}

static __always_inline void free_at(__u64 addr, __u32 cnt)
{
	bpf_arena_free_pages(&arena, (void __arena *)addr, cnt);
}

#define CHECK(v, want) do { if ((v) != (want)) checks_failed++; } while (0)

SEC("syscall")
int ds_alloc_order(void *ctx)
{
	/* sh = 0 with the globals at the end, 1 with them at the start */
	int sh = pg_of((void __arena *)buckets_addr);
	__u64 gpage = (__u64)&ds_magic & ~(__u64)(__PAGE_SIZE - 1);
	volatile __u32 __arena *rp;

	/* a) sequential single pages */
	pg_s1 = pg_of(alloc_any(1));
	pg_s2 = pg_of(alloc_any(1));
	pg_s3 = pg_of(alloc_any(1));
	CHECK(pg_s1, 3 + sh);
	CHECK(pg_s2, 4 + sh);
	CHECK(pg_s3, 5 + sh);
	/* b) a multi-page allocation */
	pg_m = pg_of(alloc_any(4));
	CHECK(pg_m, 6 + sh);
	/* c) explicit addresses */
	pg_e1 = pg_of(alloc_at(PG(40), 1));
	pg_e2 = pg_of(alloc_at(PG(pg_s2), 1));
	pg_e3 = pg_of(alloc_at(PG(ARENA_PAGES), 1));
	pg_e4 = pg_of(alloc_at(gpage, 1));
	pg_e5 = pg_of(alloc_at(PG(41) + 0x800, 1));
	pg_e6 = pg_of(alloc_at(PG(39), 2));
	CHECK(pg_e1, 40);
	CHECK(pg_e2, -1);
	CHECK(pg_e3, -1);
	CHECK(pg_e4, -1);
	CHECK(pg_e5, -1);
	CHECK(pg_e6, -1);
	/* d) free a sub-range of the 4 pages and one single page; best fit */
	free_at(PG(pg_m + 1), 2);
	free_at(PG(pg_s2), 1);
	pg_b1 = pg_of(alloc_any(1));
	pg_b2 = pg_of(alloc_any(2));
	pg_b3 = pg_of(alloc_any(3));
	CHECK(pg_b1, 4 + sh);
	CHECK(pg_b2, 7 + sh);
	CHECK(pg_b3, 41);
	/* e) ties between equal-size holes: the last (re-)inserted wins */
	free_at(PG(pg_s1), 1);
	free_at(PG(pg_s3), 1);
	pg_t1 = pg_of(alloc_any(1));
	pg_t2 = pg_of(alloc_any(1));
	CHECK(pg_t1, 5 + sh);
	CHECK(pg_t2, 3 + sh);
	free_at(PG(pg_b2), 2);		/* Z = [7,8] */
	free_at(PG(pg_t2), 2);		/* X = [3,4] (pages t2 and b1) */
	free_at(PG(pg_m), 1);		/* Z grows to [6,8] */
	pg_r6 = pg_of(alloc_at(PG(pg_m), 1)); /* Z shrinks back to [7,8] */
	pg_t3 = pg_of(alloc_any(2));
	pg_t4 = pg_of(alloc_any(2));
	CHECK(pg_r6, 6 + sh);
	CHECK(pg_t3, 7 + sh);
	CHECK(pg_t4, 3 + sh);
	/* f) reserve */
	r_res1 = bpf_arena_reserve_pages(&arena, (void __arena *)PG(50), 2);
	r_res2 = bpf_arena_reserve_pages(&arena, (void __arena *)PG(50), 2);
	r_res3 = bpf_arena_reserve_pages(&arena, (void __arena *)PG(51), 2);
	r_res4 = bpf_arena_reserve_pages(&arena, (void __arena *)PG(pg_e1), 1);
	r_res5 = bpf_arena_reserve_pages(&arena, (void __arena *)gpage, 1);
	pg_rs1 = pg_of(alloc_at(PG(50), 1));
	pg_rs2 = pg_of(alloc_at(PG(51), 1));
	pg_big = pg_of(alloc_any(8));
	rp = (volatile __u32 __arena *)(PG(pg_e1) + 10 * __PAGE_SIZE + 0x18);
	rsv_read = *rp;			/* page 50 is reserved: READ fault */
	free_at(PG(50), 2);
	pg_rs3 = pg_of(alloc_at(PG(50), 1));
	rsv_read2 = *rp;		/* a fresh page now */
	CHECK(r_res1, 0);
	CHECK(r_res2, -EBUSY);
	CHECK(r_res3, -EBUSY);
	CHECK(r_res4, -EBUSY);
	CHECK(r_res5, -EBUSY);
	CHECK(pg_rs1, -1);
	CHECK(pg_rs2, -1);
	CHECK(pg_big, 52);
	CHECK(rsv_read, 0);
	CHECK(pg_rs3, 50);
	CHECK(rsv_read2, 0);
	return checks_failed;
}

/* -------- faults: use after free, beyond the mapped pages -------- */
SEC("syscall")
int ds_faults(void *ctx)
{
	volatile __u64 __arena *q;
	volatile __u32 __arena *w;
	volatile __u32 __arena *b;
	char __arena *u;

	u = alloc_any(1);
	pg_u = pg_of(u);
	if (!u)
		return -1;
	q = (volatile __u64 __arena *)(u + 0x100);
	w = (volatile __u32 __arena *)(u + 0x208);
	*q = 0x1122334455667788ULL;
	uaf_before = *q;
	bpf_arena_free_pages(&arena, u, 1);

	uaf_read = *q;			/* READ fault at u + 0x100 */
	*w = 0xdead;			/* WRITE fault at u + 0x208, dropped */
	uaf_read2 = *w;			/* READ fault at u + 0x208 */

	u = alloc_any(1);
	pg_u2 = pg_of(u);
	if (!u)
		return -2;
	q = (volatile __u64 __arena *)(u + 0x100);
	uaf_fresh = *q;			/* zeroed page, no fault */

	b = (volatile __u32 __arena *)beyond_addr;
	beyond_read = *b;		/* READ fault at PG(64) + 8 */

	if (pg_u != 51)
		checks_failed5++;
	if (uaf_before != 0x1122334455667788ULL)
		checks_failed5++;
	if (uaf_read != 0 || uaf_read2 != 0 || uaf_fresh != 0 || beyond_read != 0)
		checks_failed5++;
	if (pg_u2 != pg_u)
		checks_failed5++;
	return checks_failed5;
}

char LICENSE[] SEC("license") = "GPL";
