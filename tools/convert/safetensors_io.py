#!/usr/bin/env python3
"""Minimal pure-numpy safetensors writer and reader (F32 and F16 only).

write(path, {name: ndarray}, metadata) writes the tensors sorted by name, with contiguous
offsets and the JSON header padded with spaces to a multiple of 8 bytes. read(path) returns
(tensors, metadata) and applies the same checks as the vkstyle loader (docs/model-format.md).

As a script: `safetensors_io.py FILE` prints the tensors and the metadata of FILE.
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}
MAX_HEADER = 100_000_000
MAX_RANK = 4
MAX_DIM = 1 << 20
MAX_ELEMENTS = 1 << 28


def _dtype_name(dtype):
    for name, dt in DTYPES.items():
        if np.dtype(dtype) == dt.newbyteorder("="):
            return name
    raise ValueError(f"unsupported dtype {dtype} (only float32 and float16)")


def write(path, tensors, metadata=None):
    """Write {name: np.ndarray (float32/float16)} and {str: str} metadata to a safetensors file."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    blobs, offset = [], 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("'__metadata__' is not a valid tensor name")
        a = np.asarray(tensors[name])
        dtype = _dtype_name(a.dtype)
        if a.ndim > MAX_RANK:
            raise ValueError(f"{name}: rank {a.ndim} > {MAX_RANK}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: NaN or infinite values")
        data = np.ascontiguousarray(a, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r} in header")
        d[k] = v
    return d


def read(path):
    """Read a safetensors file -> (dict name -> float32/float16 ndarray, metadata dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise ValueError(f"bad header length {n}")
    header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("__metadata__ must map str to str")
    data = memoryview(blob)[8 + n:]
    tensors, expect = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError(f"{name}: unknown dtype {info.get('dtype')!r}")
        shape = [int(d) for d in info["shape"]]
        if len(shape) > MAX_RANK or any(d < 0 or d > MAX_DIM for d in shape):
            raise ValueError(f"{name}: bad shape {shape}")
        count = int(np.prod(shape, dtype=np.int64))
        if count > MAX_ELEMENTS:
            raise ValueError(f"{name}: too many elements")
        begin, end = info["data_offsets"]
        if begin != expect or end - begin != count * dtype.itemsize:
            raise ValueError(f"{name}: bad data_offsets {[begin, end]}")
        a = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: NaN or infinite values")
        tensors[name] = a
        expect = end
    if expect != len(data):
        raise ValueError("tensor data does not end at the end of the file")
    return tensors, metadata


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print the tensors and metadata of a safetensors file.")
    ap.add_argument("file")
    args = ap.parse_args(argv)
    tensors, metadata = read(args.file)
    for name, a in tensors.items():
        print(f"{name:32s} {_dtype_name(a.dtype)} {list(a.shape)}")
    for k, v in metadata.items():
        print(f"__metadata__[{k!r}] = {v}")


if __name__ == "__main__":
    sys.exit(main())
