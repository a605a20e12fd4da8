"""Reading a `dagr dataset export` directory: dataset.json, the shards, and a split.

Every shape is read from dataset.json and checked against each shard, so the package
follows the Rust preprocessing whatever window or grid it uses."""

import json
import os
from dataclasses import dataclass

import numpy as np
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
    """One shard's columns, each checked against the per-sample `shapes` of dataset.json."""
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
        if t[m].dtype != np.float32:
            raise DataError(f"{path}: tensor `{m}` is {t[m].dtype}, expected float32")
    return Samples(
        *(
            t[c] if c in shapes or c == "present" else t[c].astype(np.int64)
            for c in COLUMNS
        )
    )


def concat(parts, shapes):
    """Samples of several shards as one."""
    if not parts:
        empty = {m: np.zeros((0,) + s, np.float32) for m, s in shapes.items()}
        return Samples(
            empty["mmwave"],
            empty["wifi"],
            empty["rfid"],
            np.zeros((0, 3), np.float32),
            *(np.zeros(0, np.int64) for _ in range(3)),
        )
    return Samples(*(np.concatenate([getattr(p, c) for p in parts]) for c in COLUMNS))


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


def load_part(root, part, split=None, manifest=None):
    """All windows of one split part ("train", "val" or "test") of the export in `root`."""
    manifest = manifest or load_manifest(root)
    split = split or load_split(root)
    shapes = input_shapes(manifest)
    parts = [load_shard(os.path.join(root, f), shapes) for f in split[part]["files"]]
    samples = concat(parts, shapes)
    check_ids(os.path.join(root, SPLIT), part, samples.room, samples.subject)
    return samples
