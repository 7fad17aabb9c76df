# SPDX-License-Identifier: MIT
"""Cases for progs/iter_strtox.bpf.o (bpf_iter_bits_*, bpf_strtol/strtoul; raw_tp test runs)."""
from _common import C
from packets import u64s

B = "bits_iter"
S = "strtox"

CASES = [
    C("bits_0", "nr_words 0: -EINVAL, no bits", B, ctx_in=u64s(0, 0)),
    C("bits_1", "one word 0x8000000000000011: bits 0, 4, 63", B, ctx_in=u64s(1, 0)),
    C("bits_3", "three words: bits 0, 4, 63, 129", B, ctx_in=u64s(3, 0)),
    C("bits_4", "four words: bits 0, 4, 63, 129, 255", B, ctx_in=u64s(4, 0)),
    C("bits_512", "512 words: -E2BIG", B, ctx_in=u64s(512, 0)),
] + [
    C(f"strtox_{k}_base0", f"string {k}, base 0", S, ctx_in=u64s(k, 0)) for k in range(8)
] + [
    C("strtox_hex_base10", "'0x1f' in base 10: '0', 1 byte", S, ctx_in=u64s(1, 10)),
    C("strtox_hex_base16", "'0x1f' in base 16: 31, 4 bytes", S, ctx_in=u64s(1, 16)),
    C("strtox_octal_base8", "'0777' in base 8: 511", S, ctx_in=u64s(2, 8)),
    C("strtox_base2", "base 2: -EINVAL", S, ctx_in=u64s(1, 2)),
    C("strtox_high_flags", "flags 0x20: -EINVAL", S, ctx_in=u64s(1, 0x20)),
]
