#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Records what the kernel's bpf() syscall answers for the map types of issue 12 item 3
(USER_RINGBUF, SK/TASK/INODE/CGRP_STORAGE, CGROUP_STORAGE, PERCPU_CGROUP_STORAGE, STACK_TRACE;
maps-and-kernel-objects §2.10, §2.12-§2.14): creation errnos and element operations on empty
maps, raw syscalls through ctypes (maps2_syscall.py's helpers and step format).

  python3 scripts/kernel-oracle/maps3_syscall.py          # as root; writes test/data/kernel-syscall/maps3.json

Local storages need BTF key and value type ids; the creations here pass ids 1/1 with btf_fd
9999 (not an open fd), so a definition that passes the type's own checks fails later with
EBADF ("btf": true in the step): the replay expects bpfrun (which has no BTF fds) to accept
exactly those.
"""
import ctypes
import datetime
import json
import os
import platform
import struct

import maps2_syscall as m2

USER_RINGBUF, SK_STORAGE, TASK_STORAGE, INODE_STORAGE, CGRP_STORAGE = 31, 24, 29, 28, 32
CGROUP_STORAGE, PERCPU_CGROUP_STORAGE, STACK_TRACE = 19, 21, 7
NO_PREALLOC, CLONE, NUMA, RDONLY, WRONLY, BUILD_ID, RDONLY_PROG, WRONLY_PROG = 1, 1 << 9, 4, 8, 16, 32, 128, 256
ANY, NOEXIST, EXIST, LOCK = 0, 1, 2, 4


def create_btf(name, type, key_size, value_size, max_entries, flags=0):
    attr = struct.pack("<IIIIIII16sIIIIIQ", type, key_size, value_size, max_entries, flags, 0, 0,
                       b"", 0, 9999, 1, 1, 0, 0)
    r, e = m2.bpf(m2.MAP_CREATE, attr)
    m2.steps.append({"op": "create", "map": name, "type": type, "key_size": key_size, "value_size": value_size,
                     "max_entries": max_entries, "flags": flags, "extra": 0, "inner": None, "btf": True, "errno": e})
    if r >= 0:
        os.close(r)
    return e


def main():
    u32 = m2.u32
    mk = m2.mk
    # USER_RINGBUF: the RINGBUF rules; every element op ENOTSUPP.
    mk("urb_ok", USER_RINGBUF, 0, 0, 4096)
    mk("urb_np2", USER_RINGBUF, 0, 0, 3 * 4096)
    mk("urb_small", USER_RINGBUF, 0, 0, 2048)
    mk("urb_key", USER_RINGBUF, 4, 0, 4096)
    mk("urb_val", USER_RINGBUF, 0, 4, 4096)
    mk("urb_numa", USER_RINGBUF, 0, 0, 4096, NUMA)
    mk("urb_rdonly", USER_RINGBUF, 0, 0, 4096, RDONLY_PROG)
    mk("urb_overwrite", USER_RINGBUF, 0, 0, 4096, 1 << 19)
    mk("urb_zero", USER_RINGBUF, 0, 0, 0)
    m2.elem("lookup", "urb_ok", None)
    m2.elem("update", "urb_ok", None, b"")
    m2.elem("delete", "urb_ok", None)
    m2.elem("next_key", "urb_ok", None)
    # Local storages: alloc_check (EINVAL for all but the size), then the BTF fd (EBADF).
    for t, n in ((SK_STORAGE, "sk"), (TASK_STORAGE, "task"), (INODE_STORAGE, "inode"), (CGRP_STORAGE, "cgrp")):
        create_btf(f"{n}_ok", t, 4, 8, 0, NO_PREALLOC)
        create_btf(f"{n}_clone", t, 4, 8, 0, NO_PREALLOC | CLONE)
        create_btf(f"{n}_prealloc", t, 4, 8, 0, 0)
        create_btf(f"{n}_max", t, 4, 8, 1, NO_PREALLOC)
        create_btf(f"{n}_key8", t, 8, 8, 0, NO_PREALLOC)
        create_btf(f"{n}_val0", t, 4, 0, 0, NO_PREALLOC)
        create_btf(f"{n}_rdonly", t, 4, 8, 0, NO_PREALLOC | RDONLY_PROG)
        create_btf(f"{n}_big", t, 4, 65408, 0, NO_PREALLOC)
        create_btf(f"{n}_maxval", t, 4, 65407, 0, NO_PREALLOC)
        mk(f"{n}_nobtf", t, 4, 8, 0, NO_PREALLOC)
    # CGROUP_STORAGE / PERCPU_CGROUP_STORAGE.
    for t, n in ((CGROUP_STORAGE, "cg"), (PERCPU_CGROUP_STORAGE, "pcg")):
        mk(f"{n}_k16", t, 16, 8, 0)
        mk(f"{n}_k8", t, 8, 8, 0)
        mk(f"{n}_k12", t, 12, 8, 0)
        mk(f"{n}_max1", t, 16, 8, 1)
        mk(f"{n}_val0", t, 16, 0, 0)
        mk(f"{n}_noprealloc", t, 16, 8, 0, NO_PREALLOC)
        mk(f"{n}_rdonly", t, 16, 8, 0, RDONLY_PROG)
        mk(f"{n}_rw", t, 16, 8, 0, RDONLY_PROG | WRONLY_PROG)
        mk(f"{n}_32768", t, 16, 32768, 0)
        mk(f"{n}_32769", t, 16, 32769, 0)
        mk(f"{n}_65408", t, 16, 65408, 0)
    key = struct.pack("<QI4x", 1, 0)
    for n in ("cg_k16", "pcg_k16"):
        m2.elem("lookup", n, key)
        m2.elem("next_key", n, None)
        m2.elem("next_key", n, key)
        m2.elem("delete", n, key)
        vs = 8 if n == "cg_k16" else 8 * os.cpu_count()
        for f in (ANY, NOEXIST, EXIST, LOCK, 8 | 0, 3):
            m2.elem("update", n, key, bytes(vs), flags=f)
    # STACK_TRACE.
    mk("st_ok", STACK_TRACE, 4, 64, 16)
    mk("st_val127", STACK_TRACE, 4, 127 * 8, 4)
    mk("st_val128", STACK_TRACE, 4, 128 * 8, 4)
    mk("st_val12", STACK_TRACE, 4, 12, 4)
    mk("st_val4", STACK_TRACE, 4, 4, 4)
    mk("st_key8", STACK_TRACE, 8, 64, 4)
    mk("st_max0", STACK_TRACE, 4, 64, 0)
    mk("st_prealloc", STACK_TRACE, 4, 64, 4, NO_PREALLOC)
    mk("st_rdonly", STACK_TRACE, 4, 64, 4, RDONLY)
    mk("st_rdonly_prog", STACK_TRACE, 4, 64, 4, RDONLY_PROG)
    mk("st_bid", STACK_TRACE, 4, 64, 4, BUILD_ID)
    mk("st_bid40", STACK_TRACE, 4, 40, 4, BUILD_ID)
    mk("st_bid_big", STACK_TRACE, 4, 128 * 32, 4, BUILD_ID)
    mk("st_huge", STACK_TRACE, 4, 64, (1 << 31) + 1)
    m2.elem("lookup", "st_ok", u32(0))
    m2.elem("lookup", "st_ok", u32(16))
    m2.elem("update", "st_ok", u32(0), bytes(64))
    m2.elem("delete", "st_ok", u32(0))
    m2.elem("delete", "st_ok", u32(15))
    m2.elem("delete", "st_ok", u32(16))
    m2.elem("next_key", "st_ok", None)
    m2.elem("next_key", "st_ok", u32(3))
    m2.elem("lookup_and_delete", "st_ok", u32(0))

    # CGROUP_ARRAY (§2.11): fd-array rules; values are cgroup directory fds.
    CGROUP_ARRAY = 8
    mk("cga_ok", CGROUP_ARRAY, 4, 4, 2)
    mk("cga_val8", CGROUP_ARRAY, 4, 8, 2)
    mk("cga_key8", CGROUP_ARRAY, 8, 4, 2)
    mk("cga_max0", CGROUP_ARRAY, 4, 4, 0)
    mk("cga_rdonly_prog", CGROUP_ARRAY, 4, 4, 2, RDONLY_PROG)
    mk("cga_rdonly", CGROUP_ARRAY, 4, 4, 2, RDONLY)
    # Flags and the index are checked before the fd; a file that is not a cgroup v2 directory
    # (here /dev/null; the recording machine had no cgroup2 mount) and a closed fd are EBADF.
    null_fd = os.open("/dev/null", os.O_RDONLY)
    for key, fd, flags, what in ((0, null_fd, ANY, "notcgroup"), (1, null_fd, NOEXIST, "notcgroup"),
                                 (1, null_fd, EXIST, "notcgroup"), (2, null_fd, ANY, "notcgroup"),
                                 (1, 9999, ANY, "badfd")):
        e, _ = m2.elem("update", "cga_ok", u32(key), u32(fd), flags=flags)
        m2.steps[-1]["value_cgroup"] = what
    m2.elem("lookup", "cga_ok", u32(0))
    m2.elem("next_key", "cga_ok", None)
    m2.elem("next_key", "cga_ok", u32(1))
    m2.elem("delete", "cga_ok", u32(1))
    m2.elem("delete", "cga_ok", u32(0))
    m2.elem("delete", "cga_ok", u32(2))

    # SOCKMAP, SOCKHASH, REUSEPORT_SOCKARRAY (§2.15): creation, and element ops on empty maps.
    SOCKMAP, SOCKHASH, REUSEPORT = 15, 18, 20
    for t, n in ((SOCKMAP, "sm"), (SOCKHASH, "sh"), (REUSEPORT, "ra")):
        mk(f"{n}_ok", t, 4, 8, 4)
        mk(f"{n}_v4", t, 4, 4, 4)
        mk(f"{n}_v2", t, 4, 2, 4)
        mk(f"{n}_k8", t, 8, 8, 4)
        mk(f"{n}_k0", t, 0, 8, 4)
        mk(f"{n}_max0", t, 4, 8, 0)
        mk(f"{n}_rdonly", t, 4, 8, 4, RDONLY)
        mk(f"{n}_rdonly_prog", t, 4, 8, 4, RDONLY_PROG)
        mk(f"{n}_noprealloc", t, 4, 8, 4, NO_PREALLOC)
        mk(f"{n}_k600", t, 600, 8, 4)
        m2.elem("lookup", f"{n}_ok", u32(0))
        m2.elem("lookup", f"{n}_v4", u32(0))
        m2.elem("update", f"{n}_ok", u32(0), struct.pack("<Q", 9999))
        m2.elem("update", f"{n}_ok", u32(0), struct.pack("<Q", 1 << 32))
        m2.elem("update", f"{n}_ok", u32(0), struct.pack("<Q", 9999), flags=3)
        m2.elem("update", f"{n}_ok", u32(9), struct.pack("<Q", 9999))
        m2.elem("delete", f"{n}_ok", u32(0))
        m2.elem("delete", f"{n}_ok", u32(9))
        m2.elem("next_key", f"{n}_ok", None)
        m2.elem("next_key", f"{n}_ok", u32(3))
        m2.elem("next_key", f"{n}_ok", u32(9))

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out = {"kernel": platform.release(), "nr_cpus": os.cpu_count(),
           "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "steps": m2.steps}
    path = os.path.join(root, "test", "data", "kernel-syscall", "maps3.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"{len(m2.steps)} steps -> {path}")


if __name__ == "__main__":
    main()
