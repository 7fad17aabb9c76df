# SPDX-License-Identifier: MIT
"""Cases for progs/maps2.bpf.o: QUEUE/STACK, LPM_TRIE, BLOOM_FILTER, ARRAY_OF_MAPS/HASH_OF_MAPS
from raw_tp programs run with no ctx (maps-and-kernel-objects §2.1-§2.4). One load; the programs
run in this order and each case's .bss holds that program's results."""
from _common import C

CASES = [
    C("queue_stack", "push/pop/peek on a QUEUE and a STACK of 3: E2BIG when full, EINVAL flags, "
      "BPF_EXIST drops the oldest, ENOENT with a zeroed buffer when empty", "queue_stack"),
    C("lpm_trie", "LPM_TRIE of 4: longest-prefix lookups, EEXIST/ENOENT/ENOSPC/EINVAL updates, "
      "replacement keeps the count, delete ignores trailing bits", "lpm_trie"),
    C("bloom_filter", "BLOOM_FILTER with BPF_F_ZERO_SEED: flags EINVAL, members found, the false "
      "positives among 64 probes (the kernel's jhash bits), a 6-byte value size", "bloom_filter"),
    C("map_in_map", "ARRAY_OF_MAPS and HASH_OF_MAPS with .values initialisers: a lookup result "
      "used as the map of the next helper call; empty and out-of-range slots NULL", "map_in_map"),
]
