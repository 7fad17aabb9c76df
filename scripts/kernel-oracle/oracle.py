#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kernel oracle: run the project's packet BPF programs through the real kernel's
BPF_PROG_TEST_RUN and record the answers as JSON test data (test/data/kernel/*.json).

Needs root, a kernel with BPF, and the system libbpf (libbpf.so.1). Not used by CI or tests.

Usage (from the repository root, after `bash scripts/build-progs.sh`):
    sudo python3 scripts/kernel-oracle/oracle.py                 # all objects
    sudo python3 scripts/kernel-oracle/oracle.py net_xdp net_tc  # some objects
    sudo python3 scripts/kernel-oracle/oracle.py --print net_xdp # print, do not write
The objects are read from progs/ (ORACLE_PROGDIR=dir reads them from dir instead, e.g. to try
a build in a scratch directory; the JSON still names progs/<object>.bpf.o).

Each object has a case file scripts/kernel-oracle/cases/<object>.py defining CASES, a list
of dicts: name, description, program, data_in (bytes or None), ctx_in (bytes or None),
data_size_out, ctx_size_out, repeat, flags, and optionally maps = {map_name: [(key, value)]}
(the map is emptied and filled before the run; recorded as input.maps; the .bss map, an
array, is written after it was zeroed).

Conventions of the recorded input (so a replay can rebuild the exact call):
  - a data_out buffer is passed iff data_in is not null; its capacity is data_size_out, or
    64 KiB when data_size_out is 0 (0 is passed to the kernel: "no limit");
  - a ctx_out buffer of ctx_size_out bytes is passed iff ctx_size_out > 0;
  - the object's .bss map is zeroed before every case; map contents persist otherwise.
"""
import datetime
import importlib.util
import json
import os
import platform
import sys

sys.dont_write_bytecode = True  # keep scripts/kernel-oracle free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "cases"))

import libbpf_ctypes as lb  # noqa: E402

ENOSPC = 28
OBJECTS = ["net_xdp", "net_tc", "net_sock", "net_cgroup", "net_flow", "net_rawtp", "net_fib", "net_redirect", "net_helpers2",
           "net_extra", "loop_inline", "maps2", "iter_strtox", "maps3", "net_sock_ptrs", "graph"]


def load_cases(name):
    spec = importlib.util.spec_from_file_location(f"cases_{name}", os.path.join(HERE, "cases", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.CASES


def hx(b):
    return None if b is None else b.hex()


def run_case(obj, bss, case):
    data_in = case.get("data_in")
    ctx_in = case.get("ctx_in")
    dso = case.get("data_size_out", 0)
    cso = case.get("ctx_size_out", 0)
    repeat = case.get("repeat", 0)
    flags = case.get("flags", 0)
    maps = case.get("maps", {})

    if bss is not None:
        lb.map_set(bss, b"\0" * 4, b"\0" * lb.bpf_map__value_size(bss))
    for mname, entries in maps.items():
        m = obj.map_by_name(mname)
        if not mname.endswith(".bss"):  # an array: every slot is overwritten below
            lb.map_clear(m)
        for k, v in entries:
            lb.map_set(m, k, v)

    r = lb.test_run(obj.prog_fd(case["program"]), data_in, dso, ctx_in, cso, repeat, flags,
                    want_data_out=data_in is not None)
    err = r["errno"]
    data_enospc = err == ENOSPC and dso != 0 and r["data_size_out"] > dso
    data_out = None
    if r["data_out_buf"] is not None and (err == 0 or data_enospc or err == ENOSPC):
        if err == 0 or data_enospc:
            n = min(r["data_out_cap"], r["data_size_out"])
            data_out = r["data_out_buf"][:n]
        else:  # ctx ENOSPC: data was fully written
            data_out = r["data_out_buf"][:r["data_size_out"]]
    ctx_out = None
    if r["ctx_out_buf"] is not None and (err == 0 or (err == ENOSPC and not data_enospc)):
        ctx_out = r["ctx_out_buf"][:min(cso, r["ctx_size_out"])]
    bss_after = lb.map_get(bss, b"\0" * 4) if bss is not None else b""
    inp = {
        "data_in": hx(data_in), "ctx_in": hx(ctx_in), "data_size_out": dso,
        "ctx_size_out": cso, "repeat": repeat, "flags": flags,
    }
    if maps:
        inp["maps"] = {m: [[k.hex(), v.hex()] for k, v in e] for m, e in maps.items()}
    res = {
        "errno": err, "retval": r["retval"], "data_out": hx(data_out),
        "data_size_out": r["data_size_out"], "ctx_out": hx(ctx_out),
        "ctx_size_out": r["ctx_size_out"], "bss": bss_after.hex(),
    }
    return {"name": case["name"], "description": case["description"], "program": case["program"],
            "input": inp, "result": res}


def main(argv):
    do_print = "--print" in argv
    names = [a for a in argv if not a.startswith("--")] or OBJECTS
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    os.chdir(root)
    for name in names:
        path = f"progs/{name}.bpf.o"
        obj = lb.Object(os.path.join(os.environ.get("ORACLE_PROGDIR", "progs"), f"{name}.bpf.o"))
        bss = obj.map_by_suffix(".bss")
        cases = load_cases(name)
        out = {"object": path, "kernel": platform.release(),
               "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
               "cases": [run_case(obj, bss, c) for c in cases]}
        seen = set()
        for c in cases:
            assert c["name"] not in seen, c["name"]
            seen.add(c["name"])
        text = json.dumps(out, indent=1) + "\n"
        if do_print:
            for c in out["cases"]:
                r = c["result"]
                print(f'{name:10} {c["name"]:34} errno={r["errno"]:<3} retval={r["retval"]:<10} '
                      f'dso={r["data_size_out"]:<5} cso={r["ctx_size_out"]:<4} bss={r["bss"][:96]}')
        else:
            os.makedirs("test/data/kernel", exist_ok=True)
            with open(f"test/data/kernel/{name}.json", "w") as f:
                f.write(text)
            print(f"{name}: {len(cases)} cases -> test/data/kernel/{name}.json")


if __name__ == "__main__":
    main(sys.argv[1:])
