"""Reading a .safetensors file with numpy alone, for the peer checks that compare the
gateway's exported shards (the test venv has no safetensors package)."""

import json
import struct

import numpy as np


def _header_and_body(path):
    """The JSON header of a .safetensors file and the bytes after it."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def read_metadata(path):
    """The string-to-string `__metadata__` of a .safetensors file ({} when absent)."""
    header, _ = _header_and_body(path)
    return header.get("__metadata__", {})


def read_safetensors(path):
    """The arrays of a .safetensors file by name (little-endian F32/F64/I64)."""
    header, body = _header_and_body(path)
    types = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
    arrays = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = np.dtype(types[meta["dtype"]])
        arrays[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(
            meta["shape"]
        )
    return arrays
