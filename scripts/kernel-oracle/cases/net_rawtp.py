# SPDX-License-Identifier: MIT
"""Cases for progs/net_rawtp.bpf.o (raw_tp test runs, spec §1.7)."""
from _common import C
from packets import u64s

P = "rawtp_args"

CASES = [
    C("args_24", "ctx of 3 u64 (24 bytes): returns args[0] + args[1] (low 32 bits)", P,
      ctx_in=u64s(1, 2, 3)),
    C("args_wrap", "args[0] + args[1] overflowing 32 bits: retval is the low 32 bits", P,
      ctx_in=u64s(0xfffffff0, 0x20, 0x1122334455667788)),
    C("args_96", "ctx of 12 u64 (96 bytes, the maximum)", P, ctx_in=u64s(*range(10, 22))),
    C("args_16", "ctx of 16 bytes < max_ctx_offset 24: EINVAL", P, ctx_in=u64s(1, 2)),
    C("args_104", "ctx of 104 bytes > 96: EINVAL", P, ctx_in=u64s(*range(13))),
    C("args_repeat", "repeat 2: EINVAL (raw_tp runs exactly once)", P, ctx_in=u64s(1, 2, 3), repeat=2),
    C("args_data_in", "data_in given: EINVAL", P, data_in=bytes(14), ctx_in=u64s(1, 2, 3)),
    C("args_no_ctx", "no ctx: EINVAL (ctx_size_in 0 < 24)", P),
    C("args_ctx_out", "ctx_out given: EINVAL", P, ctx_in=u64s(1, 2, 3), ctx_size_out=24),
    C("args_on_cpu0", "flags BPF_F_TEST_RUN_ON_CPU, cpu 0", P, ctx_in=u64s(5, 6, 7), flags=1),
    C("args_other_flags", "flags 2 (ignored for raw_tp)", P, ctx_in=u64s(5, 6, 7), flags=2),
]
