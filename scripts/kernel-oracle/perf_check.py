#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Perf oracle: runs progs/net_perf.bpf.o's programs through the real kernel's BPF_PROG_TEST_RUN
with libbpf's perf_buffer (one page per CPU) as the reader, on CPU 0, and prints what the reader
saw as JSON: the sample callbacks (cpu, raw_size, bytes), lost callbacks, the raw ring bytes of
the first three records, the LOST record's bytes, and each run's errno / retval / helper result.
test/perf-event.test.ts replays the same sequence (test/data/kernel-perf.json).

Usage (root, from the repository root):
    sudo python3 scripts/kernel-oracle/perf_check.py > test/data/kernel-perf.json
"""
import ctypes
import json
import os
import platform
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libbpf_ctypes as lb  # noqa: E402

L = lb._lib
SAMPLE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32)
LOST = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64)
L.perf_buffer__new.restype = ctypes.c_void_p
L.perf_buffer__new.argtypes = [ctypes.c_int, ctypes.c_size_t, SAMPLE, LOST, ctypes.c_void_p, ctypes.c_void_p]
L.perf_buffer__consume.argtypes = [ctypes.c_void_p]
L.perf_buffer__buffer.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
L.perf_buffer__free.argtypes = [ctypes.c_void_p]

os.sched_setaffinity(0, {0})
obj = lb.Object("progs/net_perf.bpf.o")
events = obj.map_by_name("events")
bss = obj.map_by_suffix(".bss")
out = []
@SAMPLE
def on_sample(ctx, cpu, data, size):
    out.append(("sample", cpu, size, ctypes.string_at(data, size).hex()))
@LOST
def on_lost(ctx, cpu, n):
    out.append(("lost", cpu, n))
pb = L.perf_buffer__new(lb.bpf_map__fd(events), 1, on_sample, on_lost, None, None)
assert pb, ctypes.get_errno()

def set_bss(off, b):
    cur = bytearray(lb.map_get(bss, b"\0\0\0\0"))
    cur[off:off + len(b)] = b
    lb.map_set(bss, b"\0\0\0\0", bytes(cur))

def ring_dump():
    base = ctypes.c_void_p(); sz = ctypes.c_size_t()
    L.perf_buffer__buffer(pb, 0, ctypes.byref(base), ctypes.byref(sz))
    meta = ctypes.string_at(base.value, 4096)
    head, tail = struct.unpack_from("<QQ", meta, 1024)
    data = ctypes.string_at(base.value + 4096, sz.value - 4096) if sz.value > 4096 else ctypes.string_at(base.value + 4096, 4096)
    return head, tail, data

def run(name, data=None, ctxlen=None, size=None, count=None):
    if ctxlen is not None: set_bss(8, struct.pack("<Q", ctxlen))
    if size is not None: set_bss(24, struct.pack("<Q", size))
    if count is not None: set_bss(296, struct.pack("<I", count))
    r = lb.test_run(obj.prog_fd(name), data, 0, None, 0, 1 if data is not None else 0, 0, want_data_out=data is not None)
    ret = struct.unpack_from("<q", lb.map_get(bss, b"\0\0\0\0"), 16)[0]
    return r["errno"], r["retval"], ret

res = {"kernel": platform.release()}
res["tp_sizes"] = run("tp_sizes")
h, t, d = ring_dump()
res["ring_tp_sizes"] = (h, t, d[:h].hex())
L.perf_buffer__consume(pb)
res["tp_sizes_cb"] = list(out); out.clear()
frame = bytes(k % 251 for k in range(64))
res["xdp0"] = run("xdp_perf", frame, ctxlen=0)
res["xdp20"] = run("xdp_perf", frame, ctxlen=20)
res["xdp65"] = run("xdp_perf", frame, ctxlen=65)
res["xdp_badflag"] = run("xdp_perf", frame, ctxlen=1 << 20)
res["tc14"] = run("tc_perf", frame, ctxlen=14)
res["tc61"] = run("tc_perf", frame, ctxlen=61)
L.perf_buffer__consume(pb)
res["pkt_cb"] = list(out); out.clear()
# ring full: 1-page ring, 112-byte records
res["fill"] = run("tp_fill", None, size=100, count=50)
res["fill_ok_nospc"] = struct.unpack_from("<II", lb.map_get(bss, b"\0\0\0\0"), 300)
L.perf_buffer__consume(pb)
res["fill_cb"] = [(o[0], o[2]) for o in out]; out.clear()
res["fill2"] = run("tp_fill", None, count=3)
h, t, d = ring_dump()
res["ring_after_lost"] = (h, t)
lostrec = bytes(d[t % 4096:] + d)[:24]
res["lost_record"] = lostrec.hex()
L.perf_buffer__consume(pb)
res["fill2_cb"] = [(o[0], o[2]) for o in out]
print(json.dumps(res, indent=1))
