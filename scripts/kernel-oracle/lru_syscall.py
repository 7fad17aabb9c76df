#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Records which keys the kernel's LRU_HASH / LRU_PERCPU_HASH keep (maps-and-kernel-objects
§2.16): raw bpf() syscalls through ctypes, no libbpf; program lookups through a tiny
SEC("syscall")-type program (BPF_PROG_TEST_RUN, ctx = the u32 key) per map. Every operation is
pinned to a CPU with sched_setaffinity.

  python3 scripts/kernel-oracle/lru_syscall.py     # as root; writes test/data/kernel-syscall/lru.json

Format: {"kernel", "recorded", "possible_cpus", "traces": [trace...]}; a trace is
  {"name", "type", "max_entries", "flags", "max_entries_info" (as BPF_OBJ_GET_INFO reports it),
   "steps": [step...]}
and a step {"op": "update"|"lookup"|"prog_lookup"|"delete", "cpu", "key", "flags" (update),
"errno" (positive, 0 = success), "found" (prog_lookup: 1/0), "keys": the sorted keys present
afterwards (a get_next_key walk, which does not touch the LRU)}. Keys are u32, values u64 (per
CPU for LRU_PERCPU_HASH: key * 10 on every CPU).
"""
import ctypes
import datetime
import json
import os
import platform
import random
import struct

libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321
MAP_CREATE, LOOKUP, UPDATE, DELETE, NEXT_KEY, PROG_LOAD, TEST_RUN, OBJ_INFO = 0, 1, 2, 3, 4, 5, 10, 15
LRU_HASH, LRU_PERCPU_HASH = 9, 10
NO_COMMON_LRU = 2
ANY, NOEXIST, EXIST = 0, 1, 2
PROG_TYPE_SYSCALL, F_SLEEPABLE = 31, 1 << 4

NCPU = os.cpu_count()


def bpf(cmd, attr: bytes):
    buf = ctypes.create_string_buffer(attr, 144)
    r = libc.syscall(NR_BPF, cmd, buf, 144)
    return (r, 0) if r >= 0 else (r, ctypes.get_errno())


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def lookup_prog(map_fd):
    """r2 = *(u32 *)ctx; *(u32 *)(r10 - 4) = r2; r0 = bpf_map_lookup_elem(map, r10 - 4) != NULL."""
    code = b"".join([
        insn(0x61, 2, 1, 0), insn(0x63, 10, 2, -4), insn(0xbf, 2, 10), insn(0x07, 2, imm=-4),
        insn(0x18, 1, 1, imm=map_fd), insn(0, 0),
        insn(0x85, imm=1), insn(0x15, 0, off=2), insn(0xb7, 0, imm=1), insn(0x95),
        insn(0xb7, 0, imm=0), insn(0x95),
    ])
    cbuf = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack("<IIQQIIQII", PROG_TYPE_SYSCALL, len(code) // 8, ctypes.addressof(cbuf),
                       ctypes.addressof(lic), 1, 65536, ctypes.addressof(log), 0, F_SLEEPABLE)
    r, e = bpf(PROG_LOAD, attr)
    assert r >= 0, (e, log.value.decode())
    return r


def pin(cpu):
    os.sched_setaffinity(0, {cpu})


class Trace:
    def __init__(self, name, type, max_entries, flags=0):
        self.type, self.name = type, name
        attr = struct.pack("<IIIII", type, 4, 8, max_entries, flags)
        r, e = bpf(MAP_CREATE, attr)
        assert r >= 0, e
        self.fd = r
        info = ctypes.create_string_buffer(96)
        r, e = bpf(OBJ_INFO, struct.pack("<IIQ", self.fd, 96, ctypes.addressof(info)))
        assert r == 0, e
        self.prog = lookup_prog(self.fd)
        self.vsize = 8 * NCPU if type == LRU_PERCPU_HASH else 8
        self.out = {"name": name, "type": type, "max_entries": max_entries, "flags": flags,
                    "max_entries_info": struct.unpack_from("<IIIIII", info.raw)[4], "steps": []}

    def keys(self):
        ks, key = [], None
        while True:
            kbuf = ctypes.create_string_buffer(struct.pack("<I", key) if key is not None else b"\0" * 4, 4)
            nbuf = ctypes.create_string_buffer(4)
            r, e = bpf(NEXT_KEY, struct.pack("<IIQQ", self.fd, 0, ctypes.addressof(kbuf) if key is not None else 0,
                                             ctypes.addressof(nbuf)))
            if e:
                break
            key = struct.unpack("<I", nbuf.raw)[0]
            ks.append(key)
        return sorted(ks)

    def op(self, op, key, cpu=0, flags=ANY):
        pin(cpu)
        kbuf = ctypes.create_string_buffer(struct.pack("<I", key), 4)
        step = {"op": op, "cpu": cpu, "key": key}
        if op == "update":
            vbuf = ctypes.create_string_buffer(struct.pack("<Q", key * 10) * (self.vsize // 8), self.vsize)
            r, e = bpf(UPDATE, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(kbuf), ctypes.addressof(vbuf), flags))
            step["flags"] = flags
        elif op == "lookup":
            vbuf = ctypes.create_string_buffer(self.vsize)
            r, e = bpf(LOOKUP, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(kbuf), ctypes.addressof(vbuf), 0))
        elif op == "delete":
            r, e = bpf(DELETE, struct.pack("<IIQQQ", self.fd, 0, ctypes.addressof(kbuf), 0, 0))
        else:
            raise ValueError(op)
        step["errno"] = e
        pin(0)
        step["keys"] = self.keys()
        self.out["steps"].append(step)
        return e


def prog_run(t, key, cpu=0):
    """A program lookup; returns 1 if found."""
    pin(cpu)
    kbuf = ctypes.create_string_buffer(struct.pack("<I", key), 4)
    buf = ctypes.create_string_buffer(struct.pack("<IIIIQQIIIIQQIII", t.prog, 0, 0, 0, 0, 0, 0, 0, 4, 0,
                                                  ctypes.addressof(kbuf), 0, 0, 0, 0), 144)
    r = libc.syscall(NR_BPF, TEST_RUN, buf, 144)
    assert r == 0, ctypes.get_errno()
    found = struct.unpack_from("<I", buf.raw, 4)[0]
    pin(0)
    t.out["steps"].append({"op": "prog_lookup", "cpu": cpu, "key": key, "errno": 0, "found": found, "keys": t.keys()})


def main():
    traces = []
    # The spec's worked examples (P = 2 rows).
    t = Trace("row1", LRU_HASH, 4)
    for k in range(1, 7):
        t.op("update", k)
    traces.append(t)
    t = Trace("row2", LRU_HASH, 4)
    for k in range(1, 5):
        t.op("update", k)
    prog_run(t, 1)
    t.op("update", 5)
    t.op("update", 6)
    traces.append(t)
    t = Trace("row3", LRU_HASH, 8)
    for k in range(1, 10):
        t.op("update", k)
    traces.append(t)
    t = Trace("row4", LRU_HASH, 8)
    for k in range(1, 9):
        t.op("update", k)
    t.op("update", 1, flags=NOEXIST)
    t.op("update", 2, flags=EXIST)
    traces.append(t)
    t = Trace("row5", LRU_HASH, 8, NO_COMMON_LRU)
    for k in range(1, 6):
        t.op("update", k)
    traces.append(t)
    t = Trace("nocommon3", LRU_HASH, 3, NO_COMMON_LRU)
    traces.append(t)
    # Syscall lookups leave ref alone; program lookups set it.
    t = Trace("syslookup", LRU_HASH, 4)
    for k in range(1, 5):
        t.op("update", k)
    t.op("lookup", 1)
    t.op("update", 5)
    traces.append(t)
    # Random traces: both CPUs, all flags, deletes, both lookups.
    rng = random.Random(72)
    for name, type, n, flags, nops, nkeys in [
        ("rand_common16", LRU_HASH, 16, 0, 400, 40),
        ("rand_common5", LRU_HASH, 5, 0, 300, 12),
        ("rand_common64", LRU_HASH, 64, 0, 800, 150),
        ("rand_nocommon8", LRU_HASH, 8, NO_COMMON_LRU, 300, 20),
        ("rand_percpu12", LRU_PERCPU_HASH, 12, 0, 300, 30),
        ("rand_percpu_nocommon8", LRU_PERCPU_HASH, 8, NO_COMMON_LRU, 300, 20),
    ]:
        t = Trace(name, type, n, flags)
        for _ in range(nops):
            cpu = rng.choice([0, 0, 1]) if NCPU > 1 else 0
            k = rng.randint(1, nkeys)
            x = rng.random()
            if x < 0.5:
                t.op("update", k, cpu, rng.choice([ANY, ANY, NOEXIST, EXIST]))
            elif x < 0.75:
                prog_run(t, k, cpu)
            elif x < 0.85:
                t.op("lookup", k, cpu)
            else:
                t.op("delete", k, cpu)
        traces.append(t)

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    with open("/sys/devices/system/cpu/possible") as f:
        possible = f.read().strip()
    out = {"kernel": platform.release(),
           "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "possible_cpus": possible, "traces": [t.out for t in traces]}
    path = os.path.join(root, "test", "data", "kernel-syscall", "lru.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(traces)} traces -> {path}")


if __name__ == "__main__":
    main()
