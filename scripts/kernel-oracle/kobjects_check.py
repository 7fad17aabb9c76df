#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs progs/kobjects.bpf.c's array_fields, hash_fields and current_task on the real kernel
(root; BPF_PROG_TEST_RUN of SEC("syscall") programs) and prints their return values and .bss.
Not used by CI or tests; test/kernel-objects.test.ts has the values it printed.

The system libbpf (1.1.2) cannot create the arena map, and the test machine's kernel has no
data symbols in kallsyms (bpf_prog_active's address is not found), so the source is compiled
without arena_fields and prog_active into a temporary directory first (clang-19).

Usage: sudo python3 scripts/kernel-oracle/kobjects_check.py
(run on 6.18, x86-64: array_fields 1, hash_fields 1, current_task 7; arr = 2 4 12 5 0 16 7,
htab = 1 4 8 6 8 64, the task's pid/tgid/comm/uid as the helpers give them)
"""
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libbpf_ctypes as lb  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
src = open(os.path.join(ROOT, "progs", "kobjects.bpf.c")).read()
src = re.sub(r"struct \{\n\t__uint\(type, BPF_MAP_TYPE_ARENA\);.*?\} arena SEC\(\"\.maps\"\);\n", "", src, flags=re.S)
src = re.sub(r"SEC\(\"syscall\"\)\nint (arena_fields|prog_active)\(void \*ctx\)\n\{.*?\n\}\n", "", src, flags=re.S)
src = src.replace("extern const int bpf_prog_active __ksym;\n", "")
with tempfile.TemporaryDirectory() as tmp:
    c, o = os.path.join(tmp, "kobjects.bpf.c"), os.path.join(tmp, "kobjects.bpf.o")
    open(c, "w").write(src)
    subprocess.run(["clang-19", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu",
                    "-I" + os.path.join(ROOT, "progs", "include"), "-c", c, "-o", o], check=True)
    obj = lb.Object(o)
    for name in ["array_fields", "hash_fields", "current_task"]:
        r = lb.test_run(obj.prog_fd(name), None, 0, None, 0, 0, 0, want_data_out=False)
        print(name, "errno", r["errno"], "retval", r["retval"])
    print(".bss", lb.map_get(obj.map_by_suffix(".bss"), bytes(4)).hex())
