/*
 * The native twin of the compiled benchmark "arena_list": bench/compiled/arena_list.h with
 * its nodes in one malloc'd block, where progs/bench_arena_list.bpf.c takes arena pages.
 */
#include <stdlib.h>
#define LIST_PTR_ATTR
#define LIST_ALLOC(bytes) malloc(bytes)
#define LIST_FREE(p, bytes) free(p)
#include "../compiled/arena_list.h"

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param) { return arena_list_bench(mem, len, param); }
