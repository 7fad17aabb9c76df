// SPDX-License-Identifier: GPL-2.0
/*
 * graph.bpf.c - BPF allocated objects (bpf_obj_new / bpf_obj_drop), red-black
 * trees (bpf_rbtree_add / bpf_rbtree_first / bpf_rbtree_remove) and the
 * bpf_kptr_xchg helper on a map value's __kptr field.
 *
 * Every program is SEC("syscall"), run with no context.
 *
 *  program       | returns / leaves
 * ---------------+-----------------------------------------------------------
 *  rbtree_order  | the number of nodes popped (16); keys_seen[] / seqs_seen[]
 *                | the key and insertion number of each node in pop order:
 *                | 16 nodes with keys (i * 5) & 7 (0 5 2 7 4 1 6 3, twice),
 *                | popped smallest key first, equal keys in insertion order;
 *                | add_sum = sum of bpf_rbtree_add's returns (0), empty_after
 *                | = 1 (bpf_rbtree_first on the emptied tree is NULL)
 *  rbtree_nulls  | 0; null_first_empty = 1 (first on an empty tree),
 *                | null_unadded = 1 (remove of a node never added),
 *                | null_other_tree = 1 (remove from groot of a node in
 *                | groot2), other_first_key = 7 (first of groot2),
 *                | other_removed_key = 7 (its remove from groot2)
 *  kptr_swap     | 0; xchg_first_null = 1 (the field was empty), xchg_back_key
 *                | = 42 (the node swapped in comes back out), xchg_last_null
 *                | = 1 (after swapping NULL in, the field is empty again)
 *  kptr_stash    | the key of the node a previous run left in stash_map (0 on
 *                | the first run), after stashing a new one keyed ++stash_gen
 *                | (101, 102, ...: .data is not reset between runs)
 *  obj_sizes     | 0; new_4088 = 1 (a 4088-byte struct: with the allocator's
 *                | 8-byte list node it fits the largest 4096-byte cache; 6.18
 *                | refuses a 4089-byte one at load, "bpf_obj_new type size
 *                | (4089) is more than the allocator serves"), new_empty = 0
 *                | (NULL: bpf_mem_alloc of 0 bytes)
 *
 * Programs the verifier refuses (SEC("?syscall"), not loaded by libbpf):
 *  bad_drop (bpf_obj_drop of a .bss variable, not an object of bpf_obj_new),
 *  bad_double_drop (bpf_obj_drop twice on the same object).
 */
#include "bpfrun.h"
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define N 16

struct node_data {
	long key;
	long seq;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
private(A) struct bpf_rb_root groot2 __contains(node_data, node);

long keys_seen[N];
long seqs_seen[N];
long add_sum;
long empty_after;

long null_first_empty;
long null_unadded;
long null_other_tree;
long other_first_key;
long other_removed_key;

long xchg_first_null;
long xchg_back_key;
long xchg_last_null;

long new_4088;
long new_empty;

long stash_gen = 100;

struct map_value {
	struct node_data __kptr *node;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct map_value);
} swap_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, int);
	__type(value, struct map_value);
} stash_map SEC(".maps");

static _Bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct node_data *na = container_of(a, struct node_data, node);
	struct node_data *nb = container_of(b, struct node_data, node);

	return na->key < nb->key;
}

SEC("syscall")
int rbtree_order(void *ctx)
{
	struct node_data *n;
	struct bpf_rb_node *r;
	int i, cnt = 0;

	for (i = 0; i < N; i++) {
		n = bpf_obj_new(struct node_data);
		if (!n)
			return -1;
		n->key = (i * 5) & 7;
		n->seq = i;
		bpf_spin_lock(&glock);
		add_sum += bpf_rbtree_add(&groot, &n->node, less);
		bpf_spin_unlock(&glock);
	}
	for (i = 0; i < N; i++) {
		bpf_spin_lock(&glock);
		r = bpf_rbtree_first(&groot);
		if (!r) {
			bpf_spin_unlock(&glock);
			break;
		}
		r = bpf_rbtree_remove(&groot, r);
		bpf_spin_unlock(&glock);
		if (!r)
			return -2;
		n = container_of(r, struct node_data, node);
		keys_seen[i] = n->key;
		seqs_seen[i] = n->seq;
		cnt++;
		bpf_obj_drop(n);
	}
	bpf_spin_lock(&glock);
	empty_after = bpf_rbtree_first(&groot) == NULL;
	bpf_spin_unlock(&glock);
	return cnt;
}

SEC("syscall")
int rbtree_nulls(void *ctx)
{
	struct bpf_rb_node *res_m, *res_n, *f, *res_f = NULL;
	struct node_data *n, *m;

	n = bpf_obj_new(struct node_data);
	if (!n)
		return -1;
	m = bpf_obj_new(struct node_data);
	if (!m) {
		bpf_obj_drop(n);
		return -1;
	}
	n->key = 7;
	m->key = 9;

	bpf_spin_lock(&glock);
	null_first_empty = bpf_rbtree_first(&groot) == NULL;
	bpf_rbtree_add(&groot2, &n->node, less);
	res_m = bpf_rbtree_remove(&groot, &m->node);
	res_n = bpf_rbtree_remove(&groot, &n->node);
	f = bpf_rbtree_first(&groot2);
	if (f) {
		other_first_key = container_of(f, struct node_data, node)->key;
		res_f = bpf_rbtree_remove(&groot2, f);
	}
	bpf_spin_unlock(&glock);

	bpf_obj_drop(m);
	null_unadded = res_m == NULL;
	null_other_tree = res_n == NULL;
	if (res_m)
		bpf_obj_drop(container_of(res_m, struct node_data, node));
	if (res_n)
		bpf_obj_drop(container_of(res_n, struct node_data, node));
	if (res_f) {
		n = container_of(res_f, struct node_data, node);
		other_removed_key = n->key;
		bpf_obj_drop(n);
	}
	return 0;
}

SEC("syscall")
int kptr_swap(void *ctx)
{
	struct node_data *n, *old;
	struct map_value *v;
	int key = 0;

	v = bpf_map_lookup_elem(&swap_map, &key);
	if (!v)
		return -1;
	n = bpf_obj_new(struct node_data);
	if (!n)
		return -2;
	n->key = 42;

	old = bpf_kptr_xchg(&v->node, n);
	xchg_first_null = old == NULL;
	if (old)
		bpf_obj_drop(old);

	old = bpf_kptr_xchg(&v->node, NULL);
	if (old) {
		xchg_back_key = old->key;
		bpf_obj_drop(old);
	}

	old = bpf_kptr_xchg(&v->node, NULL);
	xchg_last_null = old == NULL;
	if (old)
		bpf_obj_drop(old);
	return 0;
}

SEC("syscall")
int kptr_stash(void *ctx)
{
	struct map_value zero = {}, *v;
	struct node_data *n, *old;
	int key = 3;
	long ret = 0;

	v = bpf_map_lookup_elem(&stash_map, &key);
	if (!v) {
		bpf_map_update_elem(&stash_map, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&stash_map, &key);
		if (!v)
			return -1;
	}
	n = bpf_obj_new(struct node_data);
	if (!n)
		return -2;
	n->key = ++stash_gen;
	old = bpf_kptr_xchg(&v->node, n);
	if (old) {
		ret = old->key;
		bpf_obj_drop(old);
	}
	return ret;
}

struct obj_4088 {
	char b[4088];
};

struct obj_empty {
};

SEC("syscall")
int obj_sizes(void *ctx)
{
	struct obj_4088 *a = bpf_obj_new(struct obj_4088);
	struct obj_empty *e = bpf_obj_new(struct obj_empty);

	new_4088 = a != NULL;
	new_empty = e != NULL;
	if (a)
		bpf_obj_drop(a);
	if (e)
		bpf_obj_drop(e);
	return 0;
}

SEC("?syscall")
int bad_drop(void *ctx)
{
	bpf_obj_drop((struct node_data *)&keys_seen[0]);
	return 0;
}

SEC("?syscall")
int bad_double_drop(void *ctx)
{
	struct node_data *n = bpf_obj_new(struct node_data);

	if (!n)
		return -1;
	bpf_obj_drop(n);
	bpf_obj_drop(n);
	return 0;
}
