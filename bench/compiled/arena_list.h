/*
 * arena_list: build a linked list of `param` nodes and walk it. The nodes come from one
 * block (the includer's LIST_ALLOC(bytes) / LIST_FREE(ptr, bytes): BPF arena pages from
 * bpf_arena_alloc_pages in the BPF program, malloc natively), linked in a scattered order
 * (node (i * 40503) mod n is the i-th pushed), then LIST_WALKS walks, each summing the values
 * and reversing the list in place. LIST_PTR_ATTR qualifies pointers into the block (`__arena`
 * in BPF). The buffer is unused.
 */
#include "common.h"

#define LIST_WALKS 8
#define LIST_MAX_NODES (1u << 20)

struct list_node {
  struct list_node LIST_PTR_ATTR *next;
  uint64_t value;
};

static inline uint64_t arena_list_bench(uint8_t *mem, uint64_t len, uint64_t param) {
  (void)mem;
  uint64_t n = param < LIST_MAX_NODES ? param : LIST_MAX_NODES, sum = len;
  if (n == 0 || (n & (n - 1))) return 0; /* a power of two: i * 40503 mod n is a permutation */
  struct list_node LIST_PTR_ATTR *nodes = LIST_ALLOC(n * sizeof(struct list_node));
  if (!nodes) return 1;
  struct list_node LIST_PTR_ATTR *head = 0;
  for (uint64_t i = 0; i < n; i++) {
    struct list_node LIST_PTR_ATTR *node = &nodes[(i * 40503) & (n - 1)];
    node->value = (i * 0x9e3779b97f4a7c15ull) >> 17;
    node->next = head;
    head = node;
  }
  for (int w = 0; w < LIST_WALKS; w++) {
    struct list_node LIST_PTR_ATTR *prev = 0, *cur = head;
    for (uint64_t i = 0; cur && i < LIST_MAX_NODES; i++) {
      struct list_node LIST_PTR_ATTR *next = cur->next;
      sum = sum * 3 + (cur->value ^ i);
      cur->next = prev;
      prev = cur;
      cur = next;
    }
    head = prev;
  }
  LIST_FREE(nodes, n * sizeof(struct list_node));
  return sum;
}
