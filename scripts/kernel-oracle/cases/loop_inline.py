# SPDX-License-Identifier: MIT
"""Cases for progs/loop_inline.bpf.o (bpf_loop inlined vs the helper, spec maps §6.5)."""
from _common import C
from packets import u64s

I = "loop_inlined"
H = "loop_helper"

CASES = [
    C("inlined_5", "inlined, 5 iterations", I, ctx_in=u64s(5, 0)),
    C("inlined_max", "inlined, 8388608 iterations (the maximum)", I, ctx_in=u64s(8388608, 0)),
    C("inlined_too_many", "inlined, 8388609: -E2BIG as a 32-bit value, is_e2big 0", I, ctx_in=u64s(8388609, 0)),
    C("inlined_high_bits", "inlined, (1 << 32) | 5: all 64 bits count, -E2BIG", I, ctx_in=u64s((1 << 32) | 5, 0)),
    C("helper_5", "helper (flags from ctx, 0), 5 iterations", H, ctx_in=u64s(5, 0)),
    C("helper_too_many", "helper, 8388609: -E2BIG sign-extended, is_e2big 1", H, ctx_in=u64s(8388609, 0)),
    C("helper_high_bits", "helper, (1 << 32) | 5: the count is a u32, 5 iterations", H, ctx_in=u64s((1 << 32) | 5, 0)),
    C("helper_flags", "helper, flags 1: -EINVAL, no call", H, ctx_in=u64s(5, 1)),
]
