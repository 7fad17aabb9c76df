/*
 * The native twin of the compiled benchmark "hashmap": bench/compiled/hashmap.h over an
 * open-addressing table (linear probing, tombstones on delete, cleared at the start of each
 * run), where progs/bench_hashmap.bpf.c has a BPF_MAP_TYPE_HASH.
 */
#include <string.h>
#include "../compiled/common.h"

#define HM_SLOTS 8192 /* twice HM_KEYS */
enum { EMPTY, USED, DELETED };

static struct { uint32_t key; uint32_t state; uint64_t value; } table[HM_SLOTS];

static inline uint32_t hm_slot(uint32_t k) { return (k * 0x9e3779b1u) >> 19; }

/* The slot holding k, or -1. */
static int hm_find(uint32_t k) {
  for (uint32_t s = hm_slot(k), n = 0; n < HM_SLOTS; s = (s + 1) & (HM_SLOTS - 1), n++) {
    if (table[s].state == EMPTY) return -1;
    if (table[s].state == USED && table[s].key == k) return (int)s;
  }
  return -1;
}

static uint64_t *hm_lookup(uint32_t k) {
  int s = hm_find(k);
  return s < 0 ? NULL : &table[s].value;
}

static void hm_insert(uint32_t k, uint64_t v) {
  uint32_t s = hm_slot(k);
  while (table[s].state == USED) s = (s + 1) & (HM_SLOTS - 1);
  table[s].key = k;
  table[s].state = USED;
  table[s].value = v;
}

static void hm_delete(uint32_t k) {
  int s = hm_find(k);
  if (s >= 0) table[s].state = DELETED;
}

#define HM_LOOKUP(k) hm_lookup(k)
#define HM_INSERT(k, v) hm_insert(k, v)
#define HM_DELETE(k) hm_delete(k)
#include "../compiled/hashmap.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) {
  memset(table, 0, sizeof table);
  return hashmap_bench(mem, len, param);
}
