#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/): small valid
and nearly valid inputs that reach deep into each parser.  Run from the
source root; the output is committed, so this only needs rerunning when the
formats change."""
import glob
import io
import json
import os
import struct

import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- preset: the bundled presets and variants ---------------------------
src = os.path.join(os.path.dirname(root), "..", "..", "data", "presets")
for p in sorted(glob.glob(os.path.join(src, "*.json"))):
    text = open(p).read()
    base = os.path.basename(p)[:-5]
    put("preset", base + ".json", text)
    doc = json.loads(text)
    doc["guard"] = {"every": 10, "max_abs": 1e6, "fields": [doc.get("display", {}).get("field", "T")]}
    put("preset", base + "-guard.json", json.dumps(doc))
    small = json.loads(text)
    if "grid" in small and "shape" in small["grid"]:
        small["grid"]["shape"] = [4] * len(small["grid"]["shape"])
    put("preset", base + "-small.json", json.dumps(small, indent=1))
put("preset", "syntax.json", '{"solver": "bhte", "grid": {"shape": [4, 4, 4],, }')
put("preset", "types.json", '{"solver": "bhte", "grid": {"shape": "big", "spacing": -1}, "time": []}')
put("preset", "nested.json", '{"solver": "vwe", "a": [[[[[[{"b": null}]]]]]], "c": 1e308, "d": -0.0}')
put("preset", "pstm.json", '{"solver": "pstm", "title": "x"}')
put("preset", "labels.json", '{"solver": "bhte", "grid": {"shape": [4,4,4], "spacing": 0.001}, '
    '"time": {"dt": 0.1, "steps": 1}, "materials": ["brain", "skull"], "labels": "labels.npy"}')

# --- set: assignments, one per line -------------------------------------
sets = {
    "steps": "time.steps=500",
    "shape": "grid.shape=[10, 12, 14]",
    "index": "materials[0]=\"bone\"",
    "bare": "display.field=dose",
    "guard": "guard={\"every\": 5, \"max_abs\": 100}\nguard.every=0",
    "multi": "time.dt=0.05\nsource.peak_power_density=1e6\nbody_temperature=36.5",
    "deep": "source.focus.centre[1]=0.01",
    "bad": "grid..shape=1\n=3\nnoequals",
    "object": "initial={\"amplitude\": 3, \"width\": 0.002}",
    "array": "grid.shape[2]=7",
    "null": "title=null",
}
for k, v in sets.items():
    put("set", k, v)


# --- npy: every dtype, both orders, each version ------------------------
def npy(arr, version=(1, 0), fortran=False):
    buf = io.BytesIO()
    a = np.asfortranarray(arr) if fortran else np.ascontiguousarray(arr)
    np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


rng = np.random.default_rng(3)
put("npy", "f4-3d-fortran.npy", npy(rng.random((3, 4, 5), dtype=np.float32), fortran=True))
put("npy", "f8-2d.npy", npy(rng.random((4, 6))))
put("npy", "u1-labels.npy", npy(rng.integers(0, 3, (4, 4, 4)).astype(np.uint8)))
put("npy", "i2-be.npy", npy(np.arange(12, dtype=">i2").reshape(3, 4)))
put("npy", "i8-1d.npy", npy(np.arange(7, dtype=np.int64)))
put("npy", "b1.npy", npy(np.array([True, False, True])))
put("npy", "scalar.npy", npy(np.array(2.5)))
put("npy", "v2.npy", npy(np.ones((2, 2), dtype=np.float32), version=(2, 0)))
put("npy", "v3.npy", npy(np.ones((2, 3), dtype=np.uint16), version=(3, 0)))
put("npy", "u4-c.npy", npy(np.arange(24, dtype=np.uint32).reshape(2, 3, 4)))
put("npy", "nan.npy", npy(np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)))
put("npy", "empty.npy", npy(np.zeros((0, 3), dtype=np.float32)))
put("npy", "truncated.npy", npy(np.ones((8, 8), dtype=np.float64))[:200])


# --- segy: small files of each format and byte order --------------------
def ibm(x):
    if x == 0:
        return 0
    sign = 0x80000000 if x < 0 else 0
    x = abs(x)
    e = 64
    while x >= 1:
        x /= 16.0
        e += 1
    while x < 1.0 / 16:
        x *= 16.0
        e -= 1
    return sign | (e << 24) | int(x * (1 << 24))


def segy(fmt=5, ns=8, ntr=3, dt_us=2000, lsb=False, ext=0, ebcdic=False, cdp=False):
    e = "<" if lsb else ">"
    text = bytearray((b"C 1 WAVEBENCH FUZZ SEED" + b" " * 3200)[:3200])
    if ebcdic:
        text = bytearray(b"\xc3" + b"\x40" * 3199)
    b = bytearray(400)
    struct.pack_into(e + "h", b, 16, dt_us)
    struct.pack_into(e + "h", b, 20, ns)
    struct.pack_into(e + "h", b, 24, fmt)
    struct.pack_into(e + "h", b, 304, ext)
    struct.pack_into(e + "H", b, 300, 0x0100)
    if lsb:
        struct.pack_into("<I", b, 96, 0x01020304)
    out = bytearray(text) + b + bytearray(3200 * ext)
    size = {1: 4, 2: 4, 3: 2, 5: 4, 8: 1}[fmt]
    for t in range(ntr):
        h = bytearray(240)
        struct.pack_into(e + "i", h, 0, t + 1)
        struct.pack_into(e + "h", h, 70, -100)
        if cdp:
            struct.pack_into(e + "i", h, 180, 100000 + 2500 * t)
            struct.pack_into(e + "i", h, 184, 200000)
        else:
            struct.pack_into(e + "i", h, 72, 100000 + 2500 * t)
            struct.pack_into(e + "i", h, 76, 200000)
            struct.pack_into(e + "i", h, 80, 300000 + 2500 * t)
            struct.pack_into(e + "i", h, 84, 200000)
        struct.pack_into(e + "h", h, 108, 4)
        struct.pack_into(e + "H", h, 114, ns)
        struct.pack_into(e + "H", h, 116, dt_us)
        out += h
        for s in range(ns):
            v = (s - ns / 2) * 0.5 + t
            if fmt == 1:
                out += struct.pack(e + "I", ibm(v))
            elif fmt == 5:
                out += struct.pack(e + "f", v)
            elif fmt == 2:
                out += struct.pack(e + "i", int(v * 1000))
            elif fmt == 3:
                out += struct.pack(e + "h", int(v * 100))
            elif fmt == 8:
                out += struct.pack(e + "b", int(v))
    return bytes(out)


put("segy", "ieee.sgy", segy(5))
put("segy", "ibm.sgy", segy(1, ns=6, ntr=2))
put("segy", "int32.sgy", segy(2))
put("segy", "int16.sgy", segy(3, ns=10))
put("segy", "int8.sgy", segy(8, ns=16, ntr=2))
put("segy", "lsb.sgy", segy(5, lsb=True))
put("segy", "ext.sgy", segy(5, ext=1, ntr=1))
put("segy", "ebcdic-cdp.sgy", segy(1, ebcdic=True, cdp=True))
put("segy", "truncated.sgy", segy(5)[:-7])
put("segy", "headers-only.sgy", segy(5, ntr=0))


# --- kerneldir: tiny archives of (name byte, 2-byte length, bytes) -------
def entry(which, data):
    if isinstance(data, str):
        data = data.encode()
    return bytes([which, len(data) & 0xFF, len(data) >> 8]) + data


common = open(os.path.join(os.path.dirname(root), "..", "..", "kernels", "wb-common.h")).read()
put("kerneldir", "one", entry(0, '#include "wb-common.h"\n__kernel void bhte_step () { }\n'))
put("kerneldir", "common", entry(0, '  #include "wb-common.h"\nx\n') + entry(1, common[:2000]))
put("kerneldir", "dir", entry(0x80 | 2, "") + entry(2, "__kernel void f () {}"))
put("kerneldir", "binary", entry(4, b"\x00\x01\x02 binary") + entry(6, "not a kernel"))
put("kerneldir", "nested", entry(0, '#include "wb-common.h"\n#include "wb-common.h"\n') + entry(1, '#include "wb-common.h"\n'))
