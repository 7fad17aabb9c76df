/*
 * Native baseline driver for `npm run bench`: runs bench_run() (one of the NAME.c files, the
 * C twin of a BPF benchmark) on the input read from a file, RUNS times on a fresh copy, and
 * prints "<result hex> <best ns>". The input comes from a file and the parameter from argv,
 * and the result is printed, so gcc can neither fold nor skip the work.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t param);

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MEMFILE PARAM RUNS\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* 8-byte aligned buffers, as the BPF engines' input regions are. */
  uint8_t *orig = aligned_alloc(8, (size_t)len + 8), *work = aligned_alloc(8, (size_t)len + 8);
  if (len > 0 && fread(orig, 1, (size_t)len, f) != (size_t)len) { perror("read"); return 1; }
  fclose(f);
  uint64_t param = strtoull(argv[2], NULL, 0);
  int runs = atoi(argv[3]);
  uint64_t result = 0;
  int64_t best = INT64_MAX;
  for (int r = 0; r < runs; r++) {
    memcpy(work, orig, (size_t)len);
    int64_t t0 = now_ns();
    uint64_t v = bench_run(work, (uint64_t)len, param);
    int64_t t = now_ns() - t0;
    if (r > 0 && v != result) { fprintf(stderr, "result changed between runs\n"); return 1; }
    result = v;
    if (t < best) best = t;
  }
  printf("%llx %lld\n", (unsigned long long)result, (long long)best);
  return 0;
}
