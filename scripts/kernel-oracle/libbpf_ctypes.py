# SPDX-License-Identifier: MIT
"""Minimal ctypes binding of the system libbpf (libbpf.so.1) for the kernel oracle.

Only what the oracle needs: open/load an object, find programs and maps, update/lookup
map elements and BPF_PROG_TEST_RUN through bpf_prog_test_run_opts.
"""
import ctypes
import ctypes.util
import os

_lib = ctypes.CDLL("libbpf.so.1", use_errno=True)

c_void_p = ctypes.c_void_p


class BpfTestRunOpts(ctypes.Structure):
    # /usr/include/bpf/bpf.h (libbpf 1.1.2), struct bpf_test_run_opts
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("data_in", c_void_p),
        ("data_out", c_void_p),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("ctx_in", c_void_p),
        ("ctx_out", c_void_p),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("repeat", ctypes.c_int),
        ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    ]


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


bpf_object__open_file = _fn("bpf_object__open_file", c_void_p, ctypes.c_char_p, c_void_p)
bpf_object__load = _fn("bpf_object__load", ctypes.c_int, c_void_p)
bpf_object__close = _fn("bpf_object__close", None, c_void_p)
bpf_object__find_program_by_name = _fn("bpf_object__find_program_by_name", c_void_p, c_void_p, ctypes.c_char_p)
bpf_object__next_program = _fn("bpf_object__next_program", c_void_p, c_void_p, c_void_p)
bpf_program__name = _fn("bpf_program__name", ctypes.c_char_p, c_void_p)
bpf_program__fd = _fn("bpf_program__fd", ctypes.c_int, c_void_p)
bpf_program__set_autoload = _fn("bpf_program__set_autoload", ctypes.c_int, c_void_p, ctypes.c_bool)
bpf_object__find_map_by_name = _fn("bpf_object__find_map_by_name", c_void_p, c_void_p, ctypes.c_char_p)
bpf_object__next_map = _fn("bpf_object__next_map", c_void_p, c_void_p, c_void_p)
bpf_map__name = _fn("bpf_map__name", ctypes.c_char_p, c_void_p)
bpf_map__fd = _fn("bpf_map__fd", ctypes.c_int, c_void_p)
bpf_map__value_size = _fn("bpf_map__value_size", ctypes.c_uint32, c_void_p)
bpf_map__key_size = _fn("bpf_map__key_size", ctypes.c_uint32, c_void_p)
bpf_map_update_elem = _fn("bpf_map_update_elem", ctypes.c_int, ctypes.c_int, c_void_p, c_void_p, ctypes.c_uint64)
bpf_map_lookup_elem = _fn("bpf_map_lookup_elem", ctypes.c_int, ctypes.c_int, c_void_p, c_void_p)
bpf_map_delete_elem = _fn("bpf_map_delete_elem", ctypes.c_int, ctypes.c_int, c_void_p)
bpf_map_get_next_key = _fn("bpf_map_get_next_key", ctypes.c_int, ctypes.c_int, c_void_p, c_void_p)
bpf_prog_test_run_opts = _fn("bpf_prog_test_run_opts", ctypes.c_int, ctypes.c_int, ctypes.POINTER(BpfTestRunOpts))


class BpfError(Exception):
    pass


class Object:
    def __init__(self, path, only=None):
        self.obj = bpf_object__open_file(path.encode(), None)
        if not self.obj:
            raise BpfError(f"open {path}: errno {ctypes.get_errno()}")
        if only is not None:
            p = bpf_object__next_program(self.obj, None)
            while p:
                bpf_program__set_autoload(p, bpf_program__name(p).decode() in only)
                p = bpf_object__next_program(self.obj, p)
        err = bpf_object__load(self.obj)
        if err:
            raise BpfError(f"load {path}: {err}")

    def prog_fd(self, name):
        p = bpf_object__find_program_by_name(self.obj, name.encode())
        if not p:
            raise BpfError(f"no program {name}")
        return bpf_program__fd(p)

    def maps(self):
        m = bpf_object__next_map(self.obj, None)
        while m:
            yield m
            m = bpf_object__next_map(self.obj, m)

    def map_by_suffix(self, suffix):
        for m in self.maps():
            if bpf_map__name(m).decode().endswith(suffix):
                return m
        return None

    def map_by_name(self, name):
        m = bpf_object__find_map_by_name(self.obj, name.encode())
        if not m:
            raise BpfError(f"no map {name}")
        return m


def map_set(m, key: bytes, value: bytes):
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(value, len(value))
    if bpf_map_update_elem(bpf_map__fd(m), k, v, 0):
        raise BpfError(f"update {bpf_map__name(m)}: errno {ctypes.get_errno()}")


def map_get(m, key: bytes) -> bytes:
    k = ctypes.create_string_buffer(key, len(key))
    n = bpf_map__value_size(m)
    v = ctypes.create_string_buffer(n)
    if bpf_map_lookup_elem(bpf_map__fd(m), k, v):
        raise BpfError(f"lookup {bpf_map__name(m)}: errno {ctypes.get_errno()}")
    return v.raw[:n]


def map_clear(m):
    """Delete every key of a map: the keys are listed first, then deleted, so array-like maps
    (DEVMAP, CPUMAP, XSKMAP: get_next_key walks every index) end too."""
    ks = bpf_map__key_size(m)
    fd = bpf_map__fd(m)
    keys, prev = [], None
    key = ctypes.create_string_buffer(ks)
    while bpf_map_get_next_key(fd, prev, key) == 0:
        keys.append(key.raw)
        prev = ctypes.create_string_buffer(key.raw, ks)
    for k in keys:
        bpf_map_delete_elem(fd, ctypes.create_string_buffer(k, ks))


def test_run(prog_fd, data_in, data_out_cap, ctx_in, ctx_out_cap, repeat, flags,
             want_data_out=True, cpu=0, batch_size=0):
    """Run BPF_PROG_TEST_RUN. data_out_cap: capacity passed as data_size_out (0 = unlimited,
    then a 64 KiB buffer is used). Returns a dict with errno, retval, sizes and raw buffers."""
    o = BpfTestRunOpts()
    o.sz = ctypes.sizeof(BpfTestRunOpts)
    keep = []
    if data_in is not None:
        b = ctypes.create_string_buffer(data_in, max(len(data_in), 1))
        keep.append(b)
        o.data_in = ctypes.cast(b, c_void_p)
        o.data_size_in = len(data_in)
    dout = None
    if want_data_out:
        cap = data_out_cap if data_out_cap else 65536
        dout = ctypes.create_string_buffer(b"\x00" * cap, cap)
        o.data_out = ctypes.cast(dout, c_void_p)
    o.data_size_out = data_out_cap
    if ctx_in is not None:
        c = ctypes.create_string_buffer(ctx_in, max(len(ctx_in), 1))
        keep.append(c)
        o.ctx_in = ctypes.cast(c, c_void_p)
        o.ctx_size_in = len(ctx_in)
    cout = None
    if ctx_out_cap:
        cout = ctypes.create_string_buffer(ctx_out_cap)
        o.ctx_out = ctypes.cast(cout, c_void_p)
        o.ctx_size_out = ctx_out_cap
    o.repeat = repeat
    o.flags = flags
    o.cpu = cpu
    o.batch_size = batch_size
    ret = bpf_prog_test_run_opts(prog_fd, ctypes.byref(o))
    err = -ret if ret < 0 else 0
    return {
        "errno": err,
        "retval": o.retval,
        "data_size_out": o.data_size_out,
        "ctx_size_out": o.ctx_size_out,
        "data_out_buf": dout.raw if dout is not None else None,
        "data_out_cap": (data_out_cap if data_out_cap else 65536) if dout is not None else 0,
        "ctx_out_buf": cout.raw if cout is not None else None,
        "duration": o.duration,
    }
