#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Records what the kernel's bpf() syscall answers for the map types of issue 12 (QUEUE, STACK,
LPM_TRIE, BLOOM_FILTER, ARRAY_OF_MAPS, HASH_OF_MAPS; maps-and-kernel-objects §1.2-§2.4):
creation errnos and element operations, raw syscalls through ctypes, no libbpf.

  python3 scripts/kernel-oracle/maps2_syscall.py          # as root; writes test/data/kernel-syscall/maps2.json

Format: {"kernel", "recorded", "steps": [step...]}; each step is one syscall:
  {"op": "create", "map": NAME, "type", "key_size", "value_size", "max_entries", "flags",
   "extra", "inner": NAME|null (the template: a map created by an earlier step), "errno"}
  {"op": "update"|"lookup"|"delete"|"lookup_and_delete"|"next_key"|"bloom_test", "map": NAME,
   "key": hex|null (null = a NULL key pointer), "value": hex|null, "value_map": NAME (update:
   the value is that map's fd; "badfd": a closed fd), "flags", "errno",
   "out": hex|null (the value or next key written; lookups of map-in-map: "inner" instead, the
   NAME of the map whose id came back)}
errno is 0 on success, else the positive errno. "bloom_test" is a lookup whose value buffer is
the input (a bloom filter reads it).
"""
import ctypes
import datetime
import json
import os
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321
MAP_CREATE, LOOKUP, UPDATE, DELETE, NEXT_KEY, OBJ_INFO, LOOKUP_AND_DELETE = 0, 1, 2, 3, 4, 15, 21

QUEUE, STACK, LPM, BLOOM, ARRAY_OF_MAPS, HASH_OF_MAPS = 22, 23, 11, 30, 12, 13
ARRAY, HASH, PROG_ARRAY = 2, 1, 3
NO_PREALLOC, NO_COMMON_LRU, RDONLY_PROG, WRONLY_PROG, ZERO_SEED, INNER_MAP = 1, 2, 128, 256, 64, 1 << 12
ANY, NOEXIST, EXIST, LOCK = 0, 1, 2, 4
KMALLOC_MAX = 1 << 22


def bpf(cmd, attr: bytes):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    return (r, 0) if r >= 0 else (r, ctypes.get_errno())


fds = {}   # name -> fd
ids = {}   # id -> name
specs = {}  # name -> value_size, key_size
steps = []


def map_id(fd):
    info = ctypes.create_string_buffer(96)
    attr = struct.pack("<IIQ", fd, 96, ctypes.addressof(info))
    r, e = bpf(OBJ_INFO, attr)
    assert r == 0, e
    return struct.unpack_from("<II", info.raw)[1]


def create(name, type, key_size, value_size, max_entries, flags=0, extra=0, inner=None):
    inner_fd = 9999 if inner == "badfd" else (fds[inner] if inner else 0)
    attr = struct.pack("<IIIIIII16sIIIIIQ", type, key_size, value_size, max_entries, flags, inner_fd, 0,
                       b"", 0, 0, 0, 0, 0, extra)
    r, e = bpf(MAP_CREATE, attr)
    steps.append({"op": "create", "map": name, "type": type, "key_size": key_size, "value_size": value_size,
                  "max_entries": max_entries, "flags": flags, "extra": extra, "inner": inner, "errno": e})
    if r >= 0:
        fds[name] = r
        ids[map_id(r)] = name
        specs[name] = (key_size, value_size)
    return e


def _buf(b):
    if b is None:
        return None, 0
    buf = ctypes.create_string_buffer(bytes(b), max(len(b), 1))
    return buf, ctypes.addressof(buf)


def elem(op, name, key=None, value=None, flags=0, value_map=None):
    key_size, value_size = specs[name]
    kbuf, kaddr = _buf(key)
    step = {"op": op, "map": name, "key": None if key is None else bytes(key).hex(), "flags": flags}
    if op == "update":
        if value_map is not None:
            value = struct.pack("<I", 9999 if value_map == "badfd" else fds[value_map])
            step["value_map"] = value_map
        else:
            step["value"] = bytes(value).hex()
        vbuf, vaddr = _buf(value)
        r, e = bpf(UPDATE, struct.pack("<IIQQQ", fds[name], 0, kaddr, vaddr, flags))
        out = None
    elif op == "bloom_test":
        step["value"] = bytes(value).hex()
        vbuf, vaddr = _buf(value)
        r, e = bpf(LOOKUP, struct.pack("<IIQQQ", fds[name], 0, kaddr, vaddr, flags))
        out = None
    elif op in ("lookup", "lookup_and_delete"):
        vbuf, vaddr = _buf(bytes(value_size if value_size else 4))
        r, e = bpf(LOOKUP if op == "lookup" else LOOKUP_AND_DELETE,
                   struct.pack("<IIQQQ", fds[name], 0, kaddr, vaddr, flags))
        out = vbuf.raw[:value_size] if e == 0 else None
    elif op == "delete":
        r, e = bpf(DELETE, struct.pack("<IIQQQ", fds[name], 0, kaddr, 0, flags))
        out = None
    elif op == "next_key":
        nbuf, naddr = _buf(bytes(max(key_size, 4)))
        r, e = bpf(NEXT_KEY, struct.pack("<IIQQ", fds[name], 0, kaddr, naddr))
        out = nbuf.raw[:key_size] if e == 0 else None
    else:
        raise ValueError(op)
    step["errno"] = e
    if out is not None and op == "lookup" and specs_type.get(name) in (ARRAY_OF_MAPS, HASH_OF_MAPS):
        step["inner"] = ids.get(struct.unpack("<I", out[:4])[0], "?")
    else:
        step["out"] = None if out is None else out.hex()
    steps.append(step)
    return e, out


specs_type = {}


def mk(name, type, *a, **k):
    e = create(name, type, *a, **k)
    if e == 0:
        specs_type[name] = type
    return e


u32 = lambda n: struct.pack("<I", n)  # noqa: E731
u64 = lambda n: struct.pack("<Q", n)  # noqa: E731


def lpm_key(prefixlen, *data):
    return struct.pack("<I", prefixlen) + bytes(data)


def walk(name):
    key = None
    for _ in range(20):
        e, out = elem("next_key", name, key)
        if e:
            break
        key = out


def main():
    # ---- creation (§2.1-§2.4) ----
    for t, n in ((QUEUE, "q"), (STACK, "s")):
        mk(f"{n}_key4", t, 4, 4, 3)
        mk(f"{n}_value0", t, 0, 0, 3)
        mk(f"{n}_max0", t, 0, 4, 0)
        mk(f"{n}_noprealloc", t, 0, 4, 3, NO_PREALLOC)
        mk(f"{n}_rdwr_prog", t, 0, 4, 3, RDONLY_PROG | WRONLY_PROG)
        mk(f"{n}_big", t, 0, KMALLOC_MAX + 1, 3)
        mk(f"{n}_key4_big", t, 4, KMALLOC_MAX + 1, 3)
    mk("lpm_prealloc", LPM, 8, 4, 4)
    mk("lpm_key4", LPM, 4, 4, 4, NO_PREALLOC)
    mk("lpm_key260", LPM, 260, 4, 4, NO_PREALLOC)
    mk("lpm_key261", LPM, 261, 4, 4, NO_PREALLOC)
    mk("lpm_value_max", LPM, 8, KMALLOC_MAX - 256 - 24, 4, NO_PREALLOC)
    mk("lpm_value_big", LPM, 8, KMALLOC_MAX - 256 - 24 + 1, 4, NO_PREALLOC)
    mk("lpm_value0", LPM, 8, 0, 4, NO_PREALLOC)
    mk("lpm_max0", LPM, 8, 4, 0, NO_PREALLOC)
    mk("lpm_zero_seed", LPM, 8, 4, 4, NO_PREALLOC | ZERO_SEED)
    mk("bloom_extra16", BLOOM, 0, 4, 8, 0, 16)
    mk("bloom_key4", BLOOM, 4, 4, 8)
    mk("bloom_big", BLOOM, 4, KMALLOC_MAX + 1, 8)
    mk("bloom_noprealloc", BLOOM, 0, 4, 8, NO_PREALLOC)
    mk("bloom_value0", BLOOM, 0, 0, 8)
    mk("bloom_max0", BLOOM, 0, 4, 0)
    # map-in-map templates and candidates
    mk("tmpl", ARRAY, 4, 8, 2)
    mk("tmpl_inner", ARRAY, 4, 8, 2, INNER_MAP)
    mk("tmpl_hash", HASH, 4, 8, 4)
    mk("prog_arr", PROG_ARRAY, 4, 4, 2)
    mk("aom_badfd", ARRAY_OF_MAPS, 4, 4, 3, inner="badfd")
    mk("aom_value8", ARRAY_OF_MAPS, 4, 8, 3, inner="tmpl")
    mk("aom_rdonly_prog", ARRAY_OF_MAPS, 4, 4, 3, RDONLY_PROG, inner="tmpl")
    mk("aom_inner_flag", ARRAY_OF_MAPS, 4, 4, 3, INNER_MAP, inner="tmpl")
    mk("aom_prog_tmpl", ARRAY_OF_MAPS, 4, 4, 3, inner="prog_arr")
    mk("aom", ARRAY_OF_MAPS, 4, 4, 3, inner="tmpl")
    mk("aom_of_aom", ARRAY_OF_MAPS, 4, 4, 3, inner="aom")
    mk("hom_lru_flag", HASH_OF_MAPS, 4, 4, 2, NO_COMMON_LRU, inner="tmpl")
    mk("hom_key0", HASH_OF_MAPS, 0, 4, 2, inner="tmpl")
    mk("hom", HASH_OF_MAPS, 4, 4, 2, inner="tmpl")
    mk("aom_i", ARRAY_OF_MAPS, 4, 4, 2, inner="tmpl_inner")
    mk("aom_h", ARRAY_OF_MAPS, 4, 4, 2, inner="tmpl_hash")
    mk("in_a", ARRAY, 4, 8, 2)
    mk("in_b", ARRAY, 4, 8, 3)
    mk("in_h", HASH, 4, 8, 4)
    mk("in_h9", HASH, 4, 8, 9)
    mk("in_v4", HASH, 4, 4, 4)
    mk("in_i9", ARRAY, 4, 8, 9, INNER_MAP)
    mk("in_np", HASH, 4, 8, 4, NO_PREALLOC)

    # ---- QUEUE / STACK (§2.2) ----
    mk("q", QUEUE, 0, 4, 3)
    for v in (1, 2, 3):
        elem("update", "q", None, u32(v))
    elem("update", "q", None, u32(4))
    elem("update", "q", None, u32(4), NOEXIST)
    elem("update", "q", None, u32(4), LOCK)
    elem("update", "q", None, u32(9), EXIST)
    elem("update", "q", u32(0), u32(9))
    elem("lookup", "q")
    elem("lookup", "q", u32(0))
    elem("delete", "q")
    elem("next_key", "q")
    elem("lookup_and_delete", "q", None, None, LOCK)
    elem("lookup_and_delete", "q", None, None, EXIST)
    for _ in range(4):
        elem("lookup_and_delete", "q")
    elem("lookup", "q")
    mk("s", STACK, 0, 4, 3)
    for v in (1, 2, 3):
        elem("update", "s", None, u32(v))
    elem("update", "s", None, u32(9), EXIST)
    elem("lookup", "s")
    for _ in range(4):
        elem("lookup_and_delete", "s")

    # ---- LPM_TRIE (§2.1) ----
    mk("lpm", LPM, 8, 4, 6, NO_PREALLOC)
    walk("lpm")
    elem("update", "lpm", lpm_key(16, 192, 168, 0, 0), u32(16))
    elem("update", "lpm", lpm_key(24, 192, 168, 0, 0), u32(240))
    elem("update", "lpm", lpm_key(24, 192, 168, 128, 0), u32(241))
    elem("update", "lpm", lpm_key(24, 192, 168, 1, 77), u32(242))
    walk("lpm")
    elem("update", "lpm", lpm_key(23, 192, 168, 0, 0), u32(23), EXIST)
    elem("update", "lpm", lpm_key(23, 192, 168, 0, 0), u32(23))
    walk("lpm")
    for k in (lpm_key(32, 192, 168, 1, 5), lpm_key(20, 192, 168, 1, 5), lpm_key(8, 192, 168, 1, 5),
              lpm_key(32, 192, 168, 200, 1), lpm_key(33, 192, 168, 1, 5), lpm_key(32, 10, 0, 0, 1)):
        elem("lookup", "lpm", k)
    elem("update", "lpm", lpm_key(33, 1, 2, 3, 4), u32(1))
    elem("update", "lpm", lpm_key(8, 1, 2, 3, 4), u32(1), 3)
    elem("update", "lpm", lpm_key(16, 192, 168, 9, 9), u32(160), NOEXIST)
    elem("update", "lpm", lpm_key(16, 192, 168, 9, 9), u32(161), EXIST)
    elem("update", "lpm", lpm_key(0, 0, 0, 0, 0), u32(0))
    elem("update", "lpm", lpm_key(8, 10, 0, 0, 0), u32(8))
    elem("update", "lpm", lpm_key(32, 10, 0, 0, 1), u32(32))
    walk("lpm")
    elem("next_key", "lpm", lpm_key(24, 192, 168, 3, 0))
    elem("next_key", "lpm", lpm_key(40, 192, 168, 3, 0))
    elem("delete", "lpm", lpm_key(24, 192, 168, 1, 0))
    elem("delete", "lpm", lpm_key(24, 192, 168, 1, 0))
    elem("delete", "lpm", lpm_key(33, 192, 168, 1, 0))
    elem("delete", "lpm", lpm_key(23, 192, 168, 0, 0))
    walk("lpm")
    elem("delete", "lpm", lpm_key(16, 192, 168, 0, 0))
    elem("delete", "lpm", lpm_key(0, 0, 0, 0, 0))
    walk("lpm")
    elem("lookup_and_delete", "lpm", lpm_key(32, 10, 0, 0, 1))
    elem("lookup", "lpm", lpm_key(32, 192, 168, 0, 1))

    # ---- BLOOM_FILTER (§2.3) ----
    mk("bloom", BLOOM, 0, 4, 2, ZERO_SEED, 2)
    for v in (3, 5, 8):
        elem("update", "bloom", None, u32(v))
    elem("update", "bloom", None, u32(1), EXIST)
    for v in range(0, 40):
        elem("bloom_test", "bloom", None, u32(v))
    elem("delete", "bloom")
    elem("next_key", "bloom")
    elem("lookup_and_delete", "bloom")
    mk("bloom5", BLOOM, 0, 5, 10, ZERO_SEED)
    for v in range(0, 30, 3):
        elem("update", "bloom5", None, bytes([v, 1, 2, 3, 4]))
    for v in range(0, 30):
        elem("bloom_test", "bloom5", None, bytes([v, 1, 2, 3, 4]))

    # ---- lookup_and_delete elsewhere (§1.2) ----
    mk("h", HASH, 4, 8, 4)
    elem("update", "h", u32(1), u64(11))
    elem("lookup_and_delete", "h", u32(1))
    elem("lookup_and_delete", "h", u32(1))
    elem("lookup_and_delete", "h", u32(1), None, 1)
    mk("a", ARRAY, 4, 8, 2)
    elem("lookup_and_delete", "a", u32(1))

    # ---- ARRAY_OF_MAPS / HASH_OF_MAPS (§2.4) ----
    elem("update", "aom", u32(0), value_map="in_a")
    elem("update", "aom", u32(1), value_map="in_b")
    elem("update", "aom", u32(1), value_map="in_h")
    elem("update", "aom", u32(1), value_map="in_i9")
    elem("update", "aom", u32(0), value_map="in_a", flags=NOEXIST)
    elem("update", "aom", u32(0), value_map="in_a", flags=EXIST)
    elem("update", "aom", u32(5), value_map="in_a")
    elem("update", "aom", u32(1), value_map="badfd")
    elem("update", "aom", u32(2), value_map="tmpl")
    elem("lookup", "aom", u32(0))
    elem("lookup", "aom", u32(1))
    elem("lookup", "aom", u32(2))
    elem("lookup", "aom", u32(7))
    elem("delete", "aom", u32(1))
    elem("delete", "aom", u32(7))
    elem("delete", "aom", u32(2))
    walk("aom")
    elem("lookup_and_delete", "aom", u32(0))
    elem("update", "aom_i", u32(0), value_map="in_i9")
    elem("update", "aom_i", u32(1), value_map="in_a")
    elem("lookup", "aom_i", u32(0))
    elem("update", "aom_h", u32(0), value_map="in_h9")
    elem("update", "aom_h", u32(1), value_map="in_v4")
    elem("update", "aom_h", u32(1), value_map="in_np")
    elem("update", "aom_h", u32(1), value_map="aom")
    elem("update", "hom", u32(1), value_map="in_a", flags=NOEXIST)
    elem("update", "hom", u32(1), value_map="in_a", flags=NOEXIST)
    elem("update", "hom", u32(2), value_map="in_a", flags=EXIST)
    elem("update", "hom", u32(2), value_map="tmpl")
    elem("update", "hom", u32(3), value_map="in_a")
    elem("update", "hom", u32(1), value_map="tmpl", flags=EXIST)
    elem("update", "hom", u32(1), value_map="in_a", flags=3)
    elem("update", "hom", u32(1), value_map="badfd")
    elem("lookup", "hom", u32(1))
    elem("lookup", "hom", u32(2))
    elem("lookup", "hom", u32(9))
    elem("delete", "hom", u32(9))
    elem("delete", "hom", u32(2))
    elem("next_key", "hom", None)

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out = {"kernel": platform.release(),
           "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "steps": steps}
    path = os.path.join(root, "test", "data", "kernel-syscall", "maps2.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"{len(steps)} steps -> {path}")


if __name__ == "__main__":
    main()
