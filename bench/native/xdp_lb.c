/*
 * The C twin of progs/net_xdp.bpf.c's xdp_lb (bench/packets.ts): parse Ethernet / IPv4 / UDP,
 * look the UDP destination port up in a hash table (open addressing, the port as key) and
 * count the hit. The input is PACKETS frames of STRIDE bytes (a 2-byte little-endian length,
 * then the frame); the table's ports follow the frames. Runs `rounds` passes over the frames;
 * returns the number of hits (XDP_PASS verdicts).
 */
#include <stdint.h>
#include <string.h>

#define STRIDE 64
#define TABLE 128 /* a power of 2, twice the 64 entries of lb_ports */

struct slot { uint16_t port; uint8_t used; uint64_t count; };

static uint32_t hash16(uint16_t k) { return (uint32_t)k * 2654435761u; }

static struct slot *lookup(struct slot *t, uint16_t port) {
  for (uint32_t i = hash16(port) & (TABLE - 1);; i = (i + 1) & (TABLE - 1)) {
    if (!t[i].used) return 0;
    if (t[i].port == port) return &t[i];
  }
}

static int xdp_lb(const uint8_t *data, const uint8_t *end, struct slot *t) {
  if (data + 14 + 20 + 8 > end) return 1; /* XDP_DROP */
  if (data[12] != 0x08 || data[13] != 0x00 || (data[14] & 0x0f) != 5 || data[14 + 9] != 17) return 1;
  uint16_t port = (uint16_t)(data[14 + 20 + 2] << 8 | data[14 + 20 + 3]);
  struct slot *s = lookup(t, port);
  if (!s) return 1;
  __atomic_add_fetch(&s->count, 1, __ATOMIC_SEQ_CST);
  return 2; /* XDP_PASS */
}

uint64_t bench_run(uint8_t *mem, uint64_t len, uint64_t rounds) {
  uint64_t packets = mem[0] | (uint64_t)mem[1] << 8, ports = mem[2] | (uint64_t)mem[3] << 8;
  const uint8_t *frames = mem + 4, *portlist = frames + packets * STRIDE;
  if (4 + packets * STRIDE + 2 * ports > len) return 0;
  struct slot t[TABLE];
  memset(t, 0, sizeof(t));
  for (uint64_t k = 0; k < ports; k++) {
    uint16_t port = (uint16_t)(portlist[2 * k] | portlist[2 * k + 1] << 8);
    for (uint32_t i = hash16(port) & (TABLE - 1);; i = (i + 1) & (TABLE - 1)) {
      if (!t[i].used) { t[i].used = 1; t[i].port = port; break; }
    }
  }
  uint64_t hits = 0;
  for (uint64_t r = 0; r < rounds; r++) {
    for (uint64_t p = 0; p < packets; p++) {
      const uint8_t *f = frames + p * STRIDE;
      uint16_t n = (uint16_t)(f[0] | f[1] << 8);
      hits += xdp_lb(f + 2, f + 2 + n, t) == 2;
    }
  }
  return hits;
}
