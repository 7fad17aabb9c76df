/*
 * hashmap: a hash-map-heavy loop. The buffer holds u32 keys; `param` rounds over them, each
 * item a lookup of a key (folded into HM_KEYS distinct keys) and either an update of the
 * value found in place or an insert; then every key is looked up, summed and deleted, so the
 * map is empty again after a run. The includer supplies the map:
 *   HM_LOOKUP(k)    -> uint64_t * (NULL if absent)
 *   HM_INSERT(k, v) -> insert a new key
 *   HM_DELETE(k)    -> delete a present key
 * The BPF program uses a BPF_MAP_TYPE_HASH (one helper call per operation), the native twin
 * an open-addressing table.
 */
#include "common.h"

#define HM_KEYS 4096 /* the map's max_entries: every key fits */
#define HM_MAX_ITEMS 16384

static inline uint64_t hashmap_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  const uint32_t *keys = (const uint32_t *)mem;
  uint64_t n = len / 4, sum = 0;
  if (n > HM_MAX_ITEMS) n = HM_MAX_ITEMS;
  for (uint64_t r = 0; r < param && r < BENCH_MAX_ITERS; r++) {
    for (uint64_t i = 0; i < n; i++) {
      uint32_t k = (keys[i] + (uint32_t)r * 0x9e3779b9u) & (HM_KEYS - 1);
      uint64_t *v = HM_LOOKUP(k);
      if (v) {
        *v += i + r;
        sum += *v;
      } else {
        HM_INSERT(k, i ^ (r << 20));
      }
    }
  }
  for (uint32_t k = 0; k < HM_KEYS; k++) {
    uint64_t *v = HM_LOOKUP(k);
    if (v) {
      sum = sum * 31 + *v + k;
      HM_DELETE(k);
    }
  }
  return sum;
}
