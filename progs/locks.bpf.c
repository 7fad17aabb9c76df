// SPDX-License-Identifier: GPL-2.0
/*
 * locks.bpf.c - bpf_spin_lock, the bpf_res_spin_lock kfuncs and bpf_timer
 * (spec maps-and-kernel-objects §6.1-§6.3).
 *
 * Every program is SEC("tc") (spin locks are refused in socket filters and
 * tracing programs; tc programs may use timers), run with a 64-byte packet.
 *
 *  program            | returns / leaves
 * --------------------+-----------------------------------------------------
 *  spin_count         | locked[0].count after ++ under the lock (1, 2, ...)
 *  hspin_count        | the same in hlocked[7] (inserted when missing)
 *  res_lock           | 0; res_first = 0, res_aa = -35 (-EDEADLK: the same
 *                     | element locked again through a second lookup),
 *                     | res_nested = 0 (rlocked[1] while holding [0]);
 *                     | stderr: the AA report (bpfrun; see the spec §6.2)
 *  res_lock_irq       | 0; res_irq = 0, res_irq_aa = -35
 *  timer_arm          | 0; t_init = 0, t_init_again = -16 (EBUSY),
 *                     | t_start_nocb = -22, t_setcb = 0, t_start = 0,
 *                     | t_start_badflags = -22; timers[0] armed for 1 ms
 *  timer_cb           | (callback) fired++, last_ns = now, cb_key = *key,
 *                     | cb_cancel_self = -35 (EDEADLK); re-arms itself
 *                     | 1 ms later until fired == 3
 *  timer_cancel       | 0; t_cancel = 1 if timers[0] was armed, else 0;
 *                     | t_start_after_cancel = -22 (callback dropped)
 *  timer_clocks       | 0; t_clock_bad = -22 (clock 2), t_clock_16 = -22,
 *                     | t_uninit_start = -22, t_uninit_cancel = -22,
 *                     | t_clock_boot = 0 (CLOCK_BOOTTIME on timers[1])
 *  htimer_arm         | 0; htimers[7] armed for 500 ns (ABS when abs != 0)
 *  wq_arm             | 0; w_init = 0, w_init_again = -16, w_start_nocb =
 *                     | -22, w_setcb = 0, w_start_bad = -22, w_start = 0;
 *                     | wq_cb runs once later: works[0].ran = 1, wq_key = 0
 *
 * Programs the verifier refuses (SEC("?tc"), not loaded by libbpf):
 *  bad_unlock (unlock without lock), bad_exit_locked (exit holding the
 *  lock), bad_two_locks (two bpf_spin_locks), bad_res_order (res locks
 *  released out of order), bad_cb_arm (arms timers[1] with bad_cb, which
 *  unlocks a lock it does not hold: the error is the callback's).
 */
#include "bpfrun.h"

#ifndef BPF_F_TIMER_ABS
#define BPF_F_TIMER_ABS (1ULL << 0)
#endif
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7

/* Not in linux-libc-dev 6.1; the kernel finds it by its struct name. */
struct bpf_res_spin_lock {
	__u32 val;
};

/* Not in linux-libc-dev 6.1 either (spec §6.4). */
struct bpf_wq {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

extern int bpf_wq_init(struct bpf_wq *wq, void *p__map, unsigned int flags) __ksym;
extern int bpf_wq_start(struct bpf_wq *wq, unsigned int flags) __ksym;
/* 6.x's name (7.2 also has bpf_wq_set_callback, which takes three arguments). */
extern int bpf_wq_set_callback_impl(struct bpf_wq *wq, int (callback_fn)(void *map, int *key, void *value),
				    unsigned int flags, void *aux__ign) __ksym;

extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;
extern int bpf_res_spin_lock_irqsave(struct bpf_res_spin_lock *lock, unsigned long *flags) __ksym;
extern void bpf_res_spin_unlock_irqrestore(struct bpf_res_spin_lock *lock, unsigned long *flags) __ksym;

struct lval {
	__u32 pad;
	struct bpf_spin_lock lock;
	__u64 count;
};

struct rval {
	struct bpf_res_spin_lock lock;
	__u32 n;
};

struct tval {
	__u64 fired;
	__u64 last_ns;
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct lval);
} locked SEC(".maps");

struct wval {
	__u64 ran;
	struct bpf_wq w;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wval);
} works SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct lval);
} hlocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct rval);
} rlocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct tval);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct tval);
} htimers SEC(".maps");

int res_first = 1, res_aa = 1, res_nested = 1, res_irq = 1, res_irq_aa = 1;
int t_init = 1, t_init_again = 1, t_start_nocb = 1, t_setcb = 1, t_start = 1, t_start_badflags = 1;
int t_cancel = -1, t_start_after_cancel = 1;
int t_clock_bad = 1, t_clock_16 = 1, t_uninit_start = 1, t_uninit_cancel = 1, t_clock_boot = 1;
int cb_key = -1, cb_cancel_self = 1, ht_ret = 1;
int w_init = 1, w_init_again = 1, w_start_nocb = 1, w_setcb = 1, w_start = 1, w_start_bad = 1, wq_key = -1;
__u64 abs_ns; /* htimer_arm: 0 relative, else absolute expiry */

static __u32 key0 = 0, key1 = 1;

SEC("tc")
int spin_count(struct __sk_buff *skb)
{
	struct lval *v = bpf_map_lookup_elem(&locked, &key0);
	__u64 c;

	if (!v)
		return -1;
	bpf_spin_lock(&v->lock);
	c = ++v->count;
	bpf_spin_unlock(&v->lock);
	return c;
}

SEC("tc")
int hspin_count(struct __sk_buff *skb)
{
	__u32 k = 7;
	struct lval zero = {}, *v;
	__u64 c;

	v = bpf_map_lookup_elem(&hlocked, &k);
	if (!v) {
		bpf_map_update_elem(&hlocked, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&hlocked, &k);
		if (!v)
			return -1;
	}
	bpf_spin_lock(&v->lock);
	c = ++v->count;
	bpf_spin_unlock(&v->lock);
	return c;
}

SEC("tc")
int res_lock(struct __sk_buff *skb)
{
	struct rval *a = bpf_map_lookup_elem(&rlocked, &key0);
	struct rval *b = bpf_map_lookup_elem(&rlocked, &key1);
	struct rval *a2 = bpf_map_lookup_elem(&rlocked, &key0);
	int r;

	if (!a || !b || !a2)
		return -1;
	r = bpf_res_spin_lock(&a->lock);
	res_first = r;
	if (r)
		return 2;
	a->n++;
	r = bpf_res_spin_lock(&b->lock);
	res_nested = r;
	if (!r) {
		b->n++;
		bpf_res_spin_unlock(&b->lock);
	}
	r = bpf_res_spin_lock(&a2->lock);
	res_aa = r;
	if (!r)
		bpf_res_spin_unlock(&a2->lock);
	bpf_res_spin_unlock(&a->lock);
	return 0;
}

SEC("tc")
int res_lock_irq(struct __sk_buff *skb)
{
	struct rval *a = bpf_map_lookup_elem(&rlocked, &key1);
	struct rval *a2 = bpf_map_lookup_elem(&rlocked, &key1);
	unsigned long f1, f2;
	int r;

	if (!a || !a2)
		return -1;
	r = bpf_res_spin_lock_irqsave(&a->lock, &f1);
	res_irq = r;
	if (r)
		return 2;
	r = bpf_res_spin_lock_irqsave(&a2->lock, &f2);
	res_irq_aa = r;
	if (!r)
		bpf_res_spin_unlock_irqrestore(&a2->lock, &f2);
	bpf_res_spin_unlock_irqrestore(&a->lock, &f1);
	return 0;
}

static int timer_cb(void *map, int *key, struct tval *val)
{
	val->fired++;
	val->last_ns = bpf_ktime_get_ns();
	cb_key = *key;
	cb_cancel_self = bpf_timer_cancel(&val->t);
	if (val->fired < 3)
		bpf_timer_start(&val->t, 1000000, 0);
	return 0;
}

SEC("tc")
int timer_arm(struct __sk_buff *skb)
{
	struct tval *v = bpf_map_lookup_elem(&timers, &key0);

	if (!v)
		return -1;
	t_init = bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
	t_init_again = bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
	t_start_nocb = bpf_timer_start(&v->t, 1000000, 0);
	t_setcb = bpf_timer_set_callback(&v->t, timer_cb);
	t_start_badflags = bpf_timer_start(&v->t, 1000000, 4);
	t_start = bpf_timer_start(&v->t, 1000000, 0);
	return 0;
}

SEC("tc")
int timer_cancel(struct __sk_buff *skb)
{
	struct tval *v = bpf_map_lookup_elem(&timers, &key0);

	if (!v)
		return -1;
	t_cancel = bpf_timer_cancel(&v->t);
	t_start_after_cancel = bpf_timer_start(&v->t, 1000, 0);
	return 0;
}

SEC("tc")
int timer_clocks(struct __sk_buff *skb)
{
	struct tval *v = bpf_map_lookup_elem(&timers, &key1);

	if (!v)
		return -1;
	t_uninit_start = bpf_timer_start(&v->t, 1000, 0);
	t_uninit_cancel = bpf_timer_cancel(&v->t);
	t_clock_bad = bpf_timer_init(&v->t, &timers, 2);
	t_clock_16 = bpf_timer_init(&v->t, &timers, 16 | CLOCK_MONOTONIC);
	t_clock_boot = bpf_timer_init(&v->t, &timers, CLOCK_BOOTTIME);
	return 0;
}

SEC("tc")
int htimer_arm(struct __sk_buff *skb)
{
	__u32 k = 7;
	struct tval zero = {}, *v;

	bpf_map_update_elem(&htimers, &k, &zero, BPF_ANY);
	v = bpf_map_lookup_elem(&htimers, &k);
	if (!v)
		return -1;
	ht_ret = bpf_timer_init(&v->t, &htimers, CLOCK_MONOTONIC);
	ht_ret |= bpf_timer_set_callback(&v->t, timer_cb);
	ht_ret |= abs_ns ? bpf_timer_start(&v->t, abs_ns, BPF_F_TIMER_ABS) : bpf_timer_start(&v->t, 500, 0);
	return 0;
}

static int wq_cb(void *map, int *key, void *value)
{
	struct wval *v = value;

	v->ran++;
	wq_key = *key;
	return 0;
}

SEC("tc")
int wq_arm(struct __sk_buff *skb)
{
	struct wval *v = bpf_map_lookup_elem(&works, &key0);

	if (!v)
		return -1;
	w_init = bpf_wq_init(&v->w, &works, 0);
	w_init_again = bpf_wq_init(&v->w, &works, 0);
	w_start_nocb = bpf_wq_start(&v->w, 0);
	w_setcb = bpf_wq_set_callback_impl(&v->w, wq_cb, 0, NULL);
	w_start_bad = bpf_wq_start(&v->w, 1);
	w_start = bpf_wq_start(&v->w, 0);
	bpf_wq_start(&v->w, 0); /* already queued: nothing more */
	return 0;
}

/* ---- What the verifier refuses (not auto-loaded) ---- */

SEC("?tc")
int bad_unlock(struct __sk_buff *skb)
{
	struct lval *v = bpf_map_lookup_elem(&locked, &key0);

	if (!v)
		return -1;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("?tc")
int bad_exit_locked(struct __sk_buff *skb)
{
	struct lval *v = bpf_map_lookup_elem(&locked, &key0);

	if (!v)
		return -1;
	bpf_spin_lock(&v->lock);
	v->count += 10;
	return 0;
}

SEC("?tc")
int bad_two_locks(struct __sk_buff *skb)
{
	struct lval *a = bpf_map_lookup_elem(&locked, &key0);
	struct lval *b = bpf_map_lookup_elem(&locked, &key1);

	if (!a || !b)
		return -1;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}

SEC("?tc")
int bad_res_order(struct __sk_buff *skb)
{
	struct rval *a = bpf_map_lookup_elem(&rlocked, &key0);
	struct rval *b = bpf_map_lookup_elem(&rlocked, &key1);

	if (!a || !b)
		return -1;
	if (bpf_res_spin_lock(&a->lock))
		return 1;
	if (bpf_res_spin_lock(&b->lock)) {
		bpf_res_spin_unlock(&a->lock);
		return 1;
	}
	bpf_res_spin_unlock(&a->lock);
	bpf_res_spin_unlock(&b->lock);
	return 0;
}

static int bad_cb(void *map, int *key, struct tval *val)
{
	struct lval *v = bpf_map_lookup_elem(&locked, &key0);

	if (v)
		bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("?tc")
int bad_cb_arm(struct __sk_buff *skb)
{
	struct tval *v = bpf_map_lookup_elem(&timers, &key1);

	if (!v)
		return -1;
	bpf_timer_init(&v->t, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&v->t, bad_cb);
	return bpf_timer_start(&v->t, 100, 0);
}

char LICENSE[] SEC("license") = "GPL";
