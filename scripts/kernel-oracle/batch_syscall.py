#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Records what the kernel's bpf() syscall answers for the map batch commands
(BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH, DELETE_BATCH; kernel/bpf/syscall.c
generic_map_*_batch, kernel/bpf/hashtab.c __htab_map_lookup_and_delete_batch): raw syscalls
through ctypes, no libbpf.

  python3 scripts/kernel-oracle/batch_syscall.py      # as root; writes test/data/kernel-syscall/batch.json

Format: {"kernel", "recorded", "ncpus" (possible CPUs), "steps": [step...]}; each step is one syscall:
  {"op": "create", "map": NAME, "type", "key_size", "value_size", "max_entries", "flags", "errno"}
  {"op": "update", "map", "key": hex, "value": hex, "flags", "errno"}     (BPF_MAP_UPDATE_ELEM)
  {"op": "lookup_batch"|"lookup_and_delete_batch", "map", "in_batch": null | "prev" (the
   out_batch of the previous batch step on this map) | hex, "count", "elem_flags", "flags",
   "errno", "count_out", "out_batch": hex | null (null: left unwritten), "keys": [hex],
   "values": [hex] (the first count_out)}
  {"op": "update_batch"|"delete_batch", "map", "keys": [hex], "values": [hex] (update),
   "count", "elem_flags", "flags", "errno", "count_out"}
errno is 0 on success, else the positive errno. Hash maps are created with BPF_F_ZERO_SEED and
1024 buckets, and hold few keys, so every bucket the walks meet holds one element (the replay
checks counts exactly, and the order of hash keys as a set).
"""
import ctypes
import datetime
import json
import os
import platform
import struct

libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = 321
MAP_CREATE, UPDATE = 0, 2
LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH, DELETE_BATCH = 24, 25, 26, 27
HASH, ARRAY, PERCPU_HASH, PERCPU_ARRAY, LRU_HASH, LRU_PERCPU_HASH, LPM = 1, 2, 5, 6, 9, 10, 11
QUEUE, DEVMAP_HASH, BLOOM = 22, 25, 30
NO_PREALLOC, RDONLY, WRONLY, ZERO_SEED = 1, 8, 16, 64
ANY, NOEXIST, EXIST, LOCK, F_CPU = 0, 1, 2, 4, 8
FILL = 0xA5


def possible_cpus():
    with open("/sys/devices/system/cpu/possible") as f:
        n = 0
        for part in f.read().strip().split(","):
            a, _, b = part.partition("-")
            n = max(n, int(b or a) + 1)
        return n


NCPUS = possible_cpus()


def bpf(cmd, attr: bytes):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    return (r if r >= 0 else -1), (0 if r >= 0 else ctypes.get_errno()), buf


fds, specs, steps, last_out = {}, {}, [], {}


def create(name, type, key_size, value_size, max_entries, flags=0):
    attr = struct.pack("<IIIII", type, key_size, value_size, max_entries, flags)
    r, e, _ = bpf(MAP_CREATE, attr)
    steps.append({"op": "create", "map": name, "type": type, "key_size": key_size, "value_size": value_size,
                  "max_entries": max_entries, "flags": flags, "errno": e})
    if r >= 0:
        fds[name] = r
        percpu = type in (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH)
        specs[name] = (key_size, ((value_size + 7) // 8 * 8) * NCPUS if percpu else value_size)
    return e


def update(name, key, value, flags=0):
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(value, len(value))
    _, e, _ = bpf(UPDATE, struct.pack("<IIQQQ", fds[name], 0, ctypes.addressof(k), ctypes.addressof(v), flags))
    steps.append({"op": "update", "map": name, "key": key.hex(), "value": value.hex(), "flags": flags, "errno": e})


def batch_attr(name, in_addr, out_addr, keys_addr, values_addr, count, elem_flags, flags):
    return struct.pack("<QQQQIIQQ", in_addr, out_addr, keys_addr, values_addr, count, fds[name], elem_flags, flags)


def lookup_batch(name, count, in_batch=None, elem_flags=0, flags=0, delete=False):
    key_size, value_size = specs[name]
    if elem_flags & F_CPU:
        value_size = value_size // NCPUS
    cur = max(key_size, 4)
    if in_batch == "prev":
        inb = last_out[name]
    elif in_batch is None:
        inb = None
    else:
        inb = in_batch
    in_buf = ctypes.create_string_buffer(inb, max(cur, len(inb))) if inb is not None else None
    out_buf = ctypes.create_string_buffer(bytes([FILL]) * cur, cur)
    n = max(count, 1)
    kbuf = ctypes.create_string_buffer(n * key_size)
    vbuf = ctypes.create_string_buffer(n * value_size)
    attr = batch_attr(name, ctypes.addressof(in_buf) if in_buf is not None else 0, ctypes.addressof(out_buf),
                      ctypes.addressof(kbuf), ctypes.addressof(vbuf), count, elem_flags, flags)
    _, e, a = bpf(LOOKUP_AND_DELETE_BATCH if delete else LOOKUP_BATCH, attr)
    count_out = struct.unpack_from("<I", a.raw, 32)[0]
    written = out_buf.raw != bytes([FILL]) * cur
    out = out_buf.raw[:cur] if written else None
    if written:
        last_out[name] = out
    elif inb is not None:
        last_out[name] = inb
    shown = min(count_out, count)
    steps.append({"op": "lookup_and_delete_batch" if delete else "lookup_batch", "map": name,
                  "in_batch": in_batch if in_batch in (None, "prev") else in_batch.hex(),
                  "count": count, "elem_flags": elem_flags, "flags": flags, "errno": e, "count_out": count_out,
                  "out_batch": None if out is None else out.hex(),
                  "keys": [kbuf.raw[i * key_size:(i + 1) * key_size].hex() for i in range(shown)],
                  "values": [vbuf.raw[i * value_size:(i + 1) * value_size].hex() for i in range(shown)]})
    return e, count_out


def update_batch(name, keys, values, elem_flags=0, flags=0, count=None):
    count = len(keys) if count is None else count
    kb = b"".join(keys)
    vb = b"".join(values)
    kbuf = ctypes.create_string_buffer(kb, max(len(kb), 1))
    vbuf = ctypes.create_string_buffer(vb, max(len(vb), 1))
    attr = batch_attr(name, 0, 0, ctypes.addressof(kbuf), ctypes.addressof(vbuf), count, elem_flags, flags)
    _, e, a = bpf(UPDATE_BATCH, attr)
    count_out = struct.unpack_from("<I", a.raw, 32)[0]
    steps.append({"op": "update_batch", "map": name, "keys": [k.hex() for k in keys], "values": [v.hex() for v in values],
                  "count": count, "elem_flags": elem_flags, "flags": flags, "errno": e, "count_out": count_out})
    return e


def delete_batch(name, keys, elem_flags=0, flags=0, count=None):
    count = len(keys) if count is None else count
    kb = b"".join(keys)
    kbuf = ctypes.create_string_buffer(kb, max(len(kb), 1))
    attr = batch_attr(name, 0, 0, ctypes.addressof(kbuf), 0, count, elem_flags, flags)
    _, e, a = bpf(DELETE_BATCH, attr)
    count_out = struct.unpack_from("<I", a.raw, 32)[0]
    steps.append({"op": "delete_batch", "map": name, "keys": [k.hex() for k in keys],
                  "count": count, "elem_flags": elem_flags, "flags": flags, "errno": e, "count_out": count_out})
    return e


u32 = lambda n: struct.pack("<I", n)  # noqa: E731
u64 = lambda n: struct.pack("<Q", n)  # noqa: E731


def pcpu(size, *vals):
    """A per-CPU value: CPU c gets vals[c % len(vals)] + c, padded to 8 bytes."""
    stride = (size + 7) // 8 * 8
    out = b""
    for c in range(NCPUS):
        v = (vals[c % len(vals)] + c).to_bytes(size, "little")
        out += v + bytes(stride - size)
    return out


def walk(name, count, delete=False, limit=12):
    e, _ = lookup_batch(name, count, None, delete=delete)
    for _ in range(limit):
        if e:
            break
        e, _ = lookup_batch(name, count, "prev", delete=delete)


def main():
    # ---- ARRAY: lookup and update only ----
    create("arr", ARRAY, 4, 8, 4)
    lookup_batch("arr", 0)
    update_batch("arr", [u32(0), u32(1), u32(2)], [u64(10), u64(11), u64(12)])
    update_batch("arr", [u32(3), u32(5), u32(1)], [u64(13), u64(15), u64(99)])
    update_batch("arr", [u32(0)], [u64(1)], elem_flags=NOEXIST)
    update_batch("arr", [u32(0)], [u64(1)], elem_flags=3)
    update_batch("arr", [u32(0)], [u64(1)], elem_flags=LOCK)
    update_batch("arr", [u32(0)], [u64(1)], elem_flags=F_CPU)
    update_batch("arr", [u32(0)], [u64(1)], count=0)
    update_batch("arr", [u32(2)], [u64(22)], flags=7)
    lookup_batch("arr", 3)
    lookup_batch("arr", 3, "prev")
    lookup_batch("arr", 3, "prev")
    lookup_batch("arr", 10)
    lookup_batch("arr", 4)
    lookup_batch("arr", 2, u32(7))
    lookup_batch("arr", 2, u32(3))
    lookup_batch("arr", 2, flags=9)
    lookup_batch("arr", 2, elem_flags=LOCK)
    lookup_batch("arr", 2, elem_flags=NOEXIST)
    lookup_batch("arr", 2, elem_flags=1 << 32)
    lookup_batch("arr", 0, elem_flags=LOCK)
    lookup_batch("arr", 2, delete=True)
    delete_batch("arr", [u32(0)])
    delete_batch("arr", [u32(0)], count=0)

    # ---- PERCPU_ARRAY ----
    create("parr", PERCPU_ARRAY, 4, 4, 3)
    update_batch("parr", [u32(0), u32(2)], [pcpu(4, 100), pcpu(4, 200)])
    update_batch("parr", [u32(1)], [pcpu(4, 7)], elem_flags=EXIST)
    update_batch("parr", [u32(1)], [pcpu(4, 7)], elem_flags=LOCK)
    walk("parr", 2)
    lookup_batch("parr", 5)
    delete_batch("parr", [u32(0)])

    # ---- HASH ----
    for name, t, vs in (("hash", HASH, 8), ("lru", LRU_HASH, 8)):
        create(name, t, 4, vs, 1024, ZERO_SEED)
        lookup_batch(name, 5)
        lookup_batch(name, 0)
        update_batch(name, [u32(k) for k in (1, 2, 3, 4, 5)], [u64(100 + k) for k in (1, 2, 3, 4, 5)])
        update_batch(name, [u32(6), u32(1), u32(7)], [u64(106), u64(0), u64(107)], elem_flags=NOEXIST)
        update_batch(name, [u32(7)], [u64(107)], elem_flags=EXIST)
        update_batch(name, [u32(7)], [u64(107)], elem_flags=LOCK)
        update_batch(name, [u32(7)], [u64(107)], elem_flags=4 | 8)
        update_batch(name, [u32(2)], [u64(202)], elem_flags=EXIST, flags=3)
        lookup_batch(name, 0, flags=1)
        lookup_batch(name, 2, flags=1)
        lookup_batch(name, 2, elem_flags=LOCK)
        lookup_batch(name, 2, elem_flags=EXIST)
        lookup_batch(name, 2, elem_flags=F_CPU)
        lookup_batch(name, 2, u32(0xffffffff))
        lookup_batch(name, 2, u32(1024))
        lookup_batch(name, 6, u32(1023))
        walk(name, 2)
        walk(name, 6)
        walk(name, 3)
        lookup_batch(name, 100)
        lookup_batch(name, 2, delete=True)
        lookup_batch(name, 2, "prev", delete=True)
        lookup_batch(name, 2, delete=True, flags=1)
        lookup_batch(name, 2, delete=True, elem_flags=LOCK)
        lookup_batch(name, 0, delete=True)
        lookup_batch(name, 10)
        delete_batch(name, [u32(0xdead)], count=0)
        delete_batch(name, [u32(0xdead)], elem_flags=LOCK)
        delete_batch(name, [u32(0xdead)], elem_flags=EXIST)
        delete_batch(name, [u32(k) for k in (1, 2, 3, 4, 5, 6)])
        lookup_batch(name, 10)
        walk(name, 1, delete=True)
        lookup_batch(name, 10)
        delete_batch(name, [u32(9)])

    # ---- PERCPU_HASH, LRU_PERCPU_HASH ----
    for name, t in (("phash", PERCPU_HASH), ("lrup", LRU_PERCPU_HASH)):
        create(name, t, 4, 4, 1024, ZERO_SEED)
        update_batch(name, [u32(k) for k in (10, 20, 30)], [pcpu(4, 1000 * k) for k in (1, 2, 3)])
        update_batch(name, [u32(40)], [pcpu(4, 4)], elem_flags=LOCK)
        update_batch(name, [u32(40)], [pcpu(4, 4)], elem_flags=3)
        walk(name, 2)
        lookup_batch(name, 10)
        lookup_batch(name, 2, delete=True, elem_flags=F_CPU)
        walk(name, 1, delete=True)
        lookup_batch(name, 10)

    # ---- LPM_TRIE: lookup, update, delete ----
    create("lpm", LPM, 8, 4, 8, NO_PREALLOC)
    lpm = lambda plen, *b: u32(plen) + bytes(b)  # noqa: E731
    update_batch("lpm", [lpm(16, 192, 168, 0, 0), lpm(24, 192, 168, 1, 0), lpm(8, 10, 0, 0, 0)], [u32(1), u32(2), u32(3)])
    update_batch("lpm", [lpm(33, 1, 2, 3, 4)], [u32(9)])
    walk("lpm", 2)
    lookup_batch("lpm", 10)
    lookup_batch("lpm", 2, delete=True)
    delete_batch("lpm", [lpm(8, 10, 0, 0, 0), lpm(8, 11, 0, 0, 0), lpm(16, 192, 168, 0, 0)])
    lookup_batch("lpm", 10)
    delete_batch("lpm", [lpm(24, 192, 168, 1, 0)], elem_flags=LOCK)
    lookup_batch("lpm", 10, elem_flags=LOCK)

    # ---- types without batch ops ----
    create("q", QUEUE, 0, 4, 4)
    lookup_batch("q", 2)
    update_batch("q", [b""], [u32(1)])
    delete_batch("q", [b""])
    lookup_batch("q", 2, delete=True)
    create("bloom", BLOOM, 0, 4, 8)
    lookup_batch("bloom", 2)
    update_batch("bloom", [b""], [u32(1)])
    create("dh", DEVMAP_HASH, 4, 4, 8)
    lookup_batch("dh", 2)
    lookup_batch("dh", 2, delete=True)
    delete_batch("dh", [u32(1)])

    # ---- fd permissions ----
    create("arr_ro", ARRAY, 4, 8, 2, RDONLY)
    lookup_batch("arr_ro", 2)
    update_batch("arr_ro", [u32(0)], [u64(1)])
    create("arr_wo", ARRAY, 4, 8, 2, WRONLY)
    lookup_batch("arr_wo", 2)
    update_batch("arr_wo", [u32(0)], [u64(1)])
    create("hash_ro", HASH, 4, 8, 4, RDONLY)
    lookup_batch("hash_ro", 2)
    lookup_batch("hash_ro", 2, delete=True)
    delete_batch("hash_ro", [u32(0)])
    create("q_ro", QUEUE, 0, 4, 4, RDONLY)
    update_batch("q_ro", [b""], [u32(1)])

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out = {"kernel": platform.release(),
           "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "ncpus": NCPUS, "steps": steps}
    path = os.path.join(root, "test", "data", "kernel-syscall", "batch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(f"{len(steps)} steps -> {path}")


if __name__ == "__main__":
    main()
