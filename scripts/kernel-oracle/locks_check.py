#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs progs/locks.bpf.o's programs on the real kernel (root; BPF_PROG_TEST_RUN) in the order
test/locks.test.ts's kernel check replays them, and prints what they left as JSON: each step's
retval and the .data bytes after it, the timers map values after the callbacks had time to run,
and the errnos of BPF_F_LOCK syscall operations. Not used by CI or tests.

Usage: sudo python3 scripts/kernel-oracle/locks_check.py > test/data/kernel-locks.json
(recorded on 6.18.44-fc-v1147, x86-64, root; replayed by test/locks.test.ts)
"""
import ctypes
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libbpf_ctypes as lb  # noqa: E402

c_void_p = ctypes.c_void_p
upd = lb._fn("bpf_map_update_elem", ctypes.c_int, ctypes.c_int, c_void_p, c_void_p, ctypes.c_ulonglong)
lkf = lb._fn("bpf_map_lookup_elem_flags", ctypes.c_int, ctypes.c_int, c_void_p, c_void_p, ctypes.c_ulonglong)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
obj = lb.Object(os.path.join(ROOT, "progs", "locks.bpf.o"))
bss = obj.map_by_suffix(".data")  # the result globals are initialised: .data
PKT = bytes(64)
out = {"kernel": os.uname().release, "steps": []}


def step(name):
    r = lb.test_run(obj.prog_fd(name), PKT, 0, None, 0, 1, 0)
    out["steps"].append({"program": name, "errno": r["errno"], "retval": r["retval"], "bss": lb.map_get(bss, b"\0" * 4).hex()})


def value(m, key):
    return lb.map_get(obj.map_by_name(m), key).hex()


for p in ["spin_count", "spin_count", "hspin_count", "hspin_count", "res_lock", "res_lock_irq", "timer_clocks", "timer_arm"]:
    step(p)
time.sleep(0.05)  # the callback fires three times, 1 ms apart
out["timers0_after_callbacks"] = value("timers", b"\0\0\0\0")
out["bss_after_callbacks"] = lb.map_get(bss, b"\0" * 4).hex()
step("timer_arm")      # already initialised: EBUSY; started again
step("timer_cancel")   # armed: 1; start after cancel: -EINVAL
step("htimer_arm")
time.sleep(0.05)
out["bss_after_htimer"] = lb.map_get(bss, b"\0" * 4).hex()
step("wq_arm")
time.sleep(0.05)  # the work runs in a kworker
out["data_after_wq"] = lb.map_get(bss, b"\0" * 4).hex()
out["works0"] = value("works", b"\0\0\0\0")
out["rlocked"] = [value("rlocked", b"\0\0\0\0"), value("rlocked", b"\1\0\0\0")]

# BPF_F_LOCK from user space (spec §1.2, §6.1)
fd = lb.bpf_map__fd(obj.map_by_name("locked"))
k = ctypes.create_string_buffer(b"\0" * 4, 4)
v = ctypes.create_string_buffer(b"\xff" * 16, 16)
out["flock_update"] = upd(fd, k, v, 4)
buf = ctypes.create_string_buffer(16)
out["flock_lookup"] = lkf(fd, k, buf, 4)
out["flock_value"] = buf.raw.hex()
tfd = lb.bpf_map__fd(obj.map_by_name("timers"))
out["flock_update_no_lock"] = upd(tfd, k, ctypes.create_string_buffer(32), 4)
out["flock_update_no_lock_errno"] = ctypes.get_errno()
json.dump(out, sys.stdout, indent=1)
print()
