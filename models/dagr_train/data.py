"""Reading a `dagr dataset export` directory: dataset.json, the shards, and a split.

Every shape is read from dataset.json and checked against each shard, so the package
follows the Rust preprocessing whatever window or grid it uses."""

import json
import os
from dataclasses import dataclass

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from . import MODALITIES, RESERVED_ID

MANIFEST = "dataset.json"
SPLIT = "split.json"
SPLIT_FORMAT = "dagr-train-split-1"
COLUMNS = ("mmwave", "wifi", "rfid", "present", "label", "room", "subject")


class DataError(ValueError):
    """Bad or inconsistent input data; the message names the file, field and expectation."""


def load_manifest(root):
    """dataset.json of the export in `root`, with the fields this package relies on checked."""
    path = os.path.join(root, MANIFEST)
    try:
        with open(path) as f:
            manifest = json.load(f)
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from e
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not JSON ({e})") from e
    for field in ("classes", "shapes", "spec", "files"):
        if field not in manifest:
            raise DataError(f"{path}: missing field `{field}`")
    for m in MODALITIES + ("present",):
        if m not in manifest["shapes"]:
            raise DataError(f"{path}: `shapes` has no `{m}`")
    if manifest["shapes"]["present"] != [len(MODALITIES)]:
        raise DataError(
            f"{path}: shapes.present is {manifest['shapes']['present']}, expected [3]"
        )
    return manifest


def input_shapes(manifest):
    """Per-sample input shapes (no batch axis) by modality name, as tuples."""
    return {m: tuple(manifest["shapes"][m]) for m in MODALITIES}


@dataclass
class Samples:
    """Windows in memory, column by column (batch axis first)."""

    mmwave: np.ndarray
    wifi: np.ndarray
    rfid: np.ndarray
    present: np.ndarray
    label: np.ndarray
    room: np.ndarray
    subject: np.ndarray

    def __len__(self):
        return len(self.label)

    def take(self, index):
        """The samples at `index` (array of positions or boolean mask)."""
        return Samples(*(getattr(self, c)[index] for c in COLUMNS))

    def inputs(self):
        """The model's inputs in ONNX order: mmwave, wifi, rfid, present."""
        return self.mmwave, self.wifi, self.rfid, self.present


def load_shard(path, shapes):
    """One shard's columns, each checked against the per-sample `shapes` of dataset.json;
    inputs as stored (float32, or float16 from `corpus --float16-train`)."""
    try:
        t = load_file(path)
    except Exception as e:  # safetensors raises several types for a bad file
        raise DataError(f"{path}: not a readable safetensors shard ({e})") from e
    for c in COLUMNS:
        if c not in t:
            raise DataError(f"{path}: missing tensor `{c}`")
    n = t["label"].shape[0]
    for m, shape in list(shapes.items()) + [("present", (len(MODALITIES),))]:
        if t[m].shape != (n,) + shape:
            raise DataError(
                f"{path}: tensor `{m}` has shape {list(t[m].shape)}, "
                f"expected {[n, *shape]} (dataset.json shapes)"
            )
        allowed = (np.float32, np.float16) if m in shapes else (np.float32,)
        if t[m].dtype not in allowed:
            expected = " or ".join(np.dtype(d).name for d in allowed)
            raise DataError(
                f"{path}: tensor `{m}` is {t[m].dtype}, expected {expected}"
            )
    return Samples(
        *(
            t[c] if c in shapes or c == "present" else t[c].astype(np.int64)
            for c in COLUMNS
        )
    )


def column_shapes(shapes, inputs=np.float32):
    """(per-sample shape, dtype) of every column, in COLUMNS order; the modality inputs
    in `inputs`."""
    out = {m: (tuple(shapes[m]), inputs) for m in MODALITIES}
    out["present"] = ((len(MODALITIES),), np.float32)
    return [out.get(c, ((), np.int64)) for c in COLUMNS]


def allocate(n, shapes, modalities=MODALITIES, inputs=np.float32):
    """Samples of `n` windows, uninitialized, every column allocated once at full size
    (the modality inputs in `inputs`); the inputs of modalities not in `modalities` are
    zeros the system maps lazily (no memory until written)."""
    columns = []
    for c, (shape, dtype) in zip(COLUMNS, column_shapes(shapes, inputs)):
        lazy = c in MODALITIES and c not in modalities
        columns.append((np.zeros if lazy else np.empty)((n, *shape), dtype))
    return Samples(*columns)


def shard_header(path):
    """(windows, dtype of the modality inputs) of a shard, from its header alone (nothing
    loaded); the inputs' dtype is float32 unless every one of them is stored in float16."""
    try:
        with safe_open(path, "np") as f:
            n = f.get_slice("label").get_shape()[0]
            dtypes = {f.get_slice(m).get_dtype() for m in MODALITIES if m in f.keys()}
    except Exception as e:  # safetensors raises several types for a bad file
        raise DataError(f"{path}: not a readable safetensors shard ({e})") from e
    return n, np.float16 if dtypes == {"F16"} else np.float32


def load_shards(paths, shapes, modalities=MODALITIES, widen=True):
    """The windows of several shards as one Samples. The columns are allocated once at
    their final size and each shard is copied in and let go, so the peak is the result
    plus one shard (not twice the result, as loading all and concatenating would be).
    Inputs of modalities not in `modalities` are left all zero (and cost no memory).
    The inputs come back in float32, or with `widen` False in float16 when every shard
    stores them so (half the memory; the trainer widens each batch)."""
    headers = [shard_header(p) for p in paths]
    narrow = not widen and headers and all(d == np.float16 for _, d in headers)
    inputs = np.float16 if narrow else np.float32
    out = allocate(sum(n for n, _ in headers), shapes, modalities, inputs)
    kept = [c for c in COLUMNS if c not in MODALITIES or c in modalities]
    at = 0
    for path in paths:
        shard = load_shard(path, shapes)
        n = len(shard)
        for c in kept:
            getattr(out, c)[at : at + n] = getattr(shard, c)
        at += n
    return out


def load_split(root):
    """split.json of `root` (written by `corpus`), validated: disjoint rooms and subjects
    between parts, no reserved id, every file known to dataset.json."""
    path = os.path.join(root, SPLIT)
    try:
        with open(path) as f:
            split = json.load(f)
    except OSError as e:
        raise DataError(
            f"{path}: cannot read ({e.strerror}); run `corpus` first"
        ) from e
    if split.get("format") != SPLIT_FORMAT:
        raise DataError(
            f"{path}: format is {split.get('format')!r}, expected {SPLIT_FORMAT!r}"
        )
    manifest = load_manifest(root)
    known = {f["file"]: f for f in manifest["files"] if f["file"]}
    for part in ("train", "val", "test"):
        if part not in split:
            raise DataError(f"{path}: missing part `{part}`")
        for name in split[part]["files"]:
            if name not in known:
                raise DataError(f"{path}: {part} file {name!r} is not in dataset.json")
            f = known[name]
            check_ids(path, f"{part} file {name}", [f["room"]], [f["subject"]])
            if (
                f["room"] not in split[part]["rooms"]
                or f["subject"] not in split[part]["subjects"]
            ):
                raise DataError(
                    f"{path}: {part} file {name!r} has room {f['room']}, subject "
                    f"{f['subject']}, outside the part's rooms/subjects"
                )
    check_disjoint(path, split)
    return split


def check_ids(path, what, rooms, subjects):
    """Raises unless every room and subject id is in [0, RESERVED_ID)."""
    for kind, ids in (("room", rooms), ("subject", subjects)):
        for i in ids:
            if not 0 <= int(i) < RESERVED_ID:
                raise DataError(
                    f"{path}: {what}: {kind} id {i} is not in [0, {RESERVED_ID}) "
                    f"(ids >= {RESERVED_ID} are reserved for outside evaluation)"
                )


def check_disjoint(path, split):
    """Raises when a room or subject of val/test also occurs in another part."""
    parts = ("train", "val", "test")
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            for kind in ("rooms", "subjects"):
                common = set(split[a][kind]) & set(split[b][kind])
                if common:
                    raise DataError(
                        f"{path}: {kind} {sorted(common)} occur in both {a} and {b}; "
                        "parts must hold out rooms and subjects together"
                    )


def load_part(root, part, split=None, manifest=None, modalities=MODALITIES, widen=True):
    """All windows of one split part ("train", "val" or "test") of the export in `root`;
    the inputs of modalities not in `modalities` are left all zero (not read into
    memory), their presence kept. `widen` as in `load_shards`."""
    manifest = manifest or load_manifest(root)
    split = split or load_split(root)
    shapes = input_shapes(manifest)
    paths = [os.path.join(root, f) for f in split[part]["files"]]
    samples = load_shards(paths, shapes, modalities, widen)
    check_ids(os.path.join(root, SPLIT), part, samples.room, samples.subject)
    return samples
