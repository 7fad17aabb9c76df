# SPDX-License-Identifier: MIT
"""Shared case constructor."""


def C(name, description, program, data_in=None, ctx_in=None, data_size_out=0, ctx_size_out=0,
      repeat=0, flags=0, maps=None):
    c = dict(name=name, description=description, program=program, data_in=data_in, ctx_in=ctx_in,
             data_size_out=data_size_out, ctx_size_out=ctx_size_out, repeat=repeat, flags=flags)
    if maps:
        c["maps"] = maps
    return c
