"""`corpus`: simulate captures with `dagr sim`, export them with `dagr dataset export` and
write split.json, holding out rooms and people together.

The plan: per part (train, val, test) its (room, subject) pairs, `captures_per_pair` captures
each of `duration` seconds; with pairing `zip` (the default) the i-th room of a part goes with
its i-th subject, so every capture has its own room and person, with `grid` every room of a
part goes with every subject of it. Pairs that mix parts (a train room with a test person)
are never simulated, so a val/test window comes from a room *and* a person never seen in
training.
Capture seeds are `1000 * seed + k + 1` for the k-th capture of the plan: the same
arguments always give the same corpus. Extra training rooms and subjects (`extra`) are
planned after the test part, so adding them leaves the seeds, and so the windows, of the
default train, validation and test captures unchanged: scores on validation and test stay
comparable with a corpus built without them."""

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from . import MODALITIES, RESERVED_ID
from .data import (
    MANIFEST,
    SPLIT,
    SPLIT_FORMAT,
    DataError,
    check_disjoint,
    check_ids,
    load_manifest,
)


@dataclass
class Capture:
    """One planned simulator run."""

    part: str
    room: int
    subject: int
    seed: int

    @property
    def stem(self):
        """File stem: names the part, room, subject and seed, so a shard says where it is from."""
        return f"{self.part}_r{self.room}_s{self.subject}_seed{self.seed}"


def find_dagr(explicit=None, repo=None):
    """The `dagr` binary: `explicit` if given, else target/release/dagr, else target/debug/dagr
    of the repository `repo` (default: the one holding this package)."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise DataError(f"--dagr {explicit}: not an executable file")
        return explicit
    repo = repo or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    for profile in ("release", "debug"):
        path = os.path.join(repo, "target", profile, "dagr")
        if os.access(path, os.X_OK):
            return path
    raise DataError(
        f"no dagr binary in {repo}/target/release or target/debug; build it with "
        "`cargo build --release -p dagr-host --bin dagr` or pass --dagr"
    )


PAIRINGS = ("zip", "grid")


def pairs(part, rooms, subjects, pairing):
    """The (room, subject) pairs of one part: `zip` pairs the i-th room with the i-th subject
    (equal counts required), `grid` pairs every room with every subject."""
    if pairing == "grid":
        return [(r, s) for r in rooms for s in subjects]
    if pairing != "zip":
        raise DataError(f"pairing {pairing!r}: expected one of {', '.join(PAIRINGS)}")
    if len(rooms) != len(subjects):
        raise DataError(
            f"corpus plan: {part} has {len(rooms)} rooms and {len(subjects)} subjects; "
            "pairing zip needs as many of each"
        )
    return list(zip(rooms, subjects))


def plan(rooms, subjects, captures_per_pair, seed, pairing="grid", extra=None):
    """The captures to simulate, part by part; rejects reserved or shared ids. `extra`
    (optional `{"rooms": [...], "subjects": [...]}`) adds training captures after the test
    part, paired like the others, so the default parts keep their capture seeds."""
    extra = extra or {"rooms": [], "subjects": []}
    split = {
        p: {"rooms": rooms[p], "subjects": subjects[p]}
        for p in ("train", "val", "test")
    }
    split["train"] = {
        k: list(split["train"][k]) + list(extra[k]) for k in ("rooms", "subjects")
    }
    for p in split:
        check_ids("corpus plan", p, split[p]["rooms"], split[p]["subjects"])
    check_disjoint("corpus plan", split)
    base = {"rooms": rooms["train"], "subjects": subjects["train"]}
    for kind in ("rooms", "subjects"):
        again = set(base[kind]) & set(extra[kind])
        if again:
            raise DataError(
                f"corpus plan: extra training {kind} {sorted(again)} are already "
                "training ids; extra ids must be new rooms and people"
            )
    groups = [(p, rooms[p], subjects[p]) for p in ("train", "val", "test")]
    if extra["rooms"] or extra["subjects"]:
        groups.append(("train", extra["rooms"], extra["subjects"]))
    out = []
    for part, part_rooms, part_subjects in groups:
        for room, subject in pairs(part, part_rooms, part_subjects, pairing):
            for _ in range(captures_per_pair):
                out.append(Capture(part, room, subject, 1000 * seed + len(out) + 1))
    return out


def run(cmd):
    """Runs `cmd`; raises with its standard error when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise DataError(f"`{' '.join(cmd)}` failed ({r.returncode}):\n{r.stderr}")
    return r


def export(dagr, paths, out, window, hop):
    """`dagr dataset export` of `paths` into `out`; returns the export's manifest
    (dataset.json, not written to `out`: `build` writes the manifest of all chunks).

    The exporter refuses an existing directory (and --force would replace it, captures
    included), so it writes a fresh staging directory whose shards then move into `out`.
    The exporter's own splits.json (a split suggested per chunk) is not kept: split.json is
    the corpus's split."""
    staging = os.path.join(out, ".export")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [dagr, "dataset", "export", *paths, "--out", staging]
    if window is not None:
        cmd += ["--window", str(window)]
    if hop is not None:
        cmd += ["--hop", str(hop)]
    run(cmd)
    manifest = load_manifest(staging)
    for name in os.listdir(staging):
        if name.endswith(".safetensors"):
            os.replace(os.path.join(staging, name), os.path.join(out, name))
    shutil.rmtree(staging)
    return manifest


def merge_manifests(chunks):
    """One dataset.json for the exports of consecutive chunks of a plan: their files in
    order and their counts summed; every other field must agree (one build of `dagr`, one
    window and hop), else the chunks do not belong together."""
    merged = dict(chunks[0])
    merged["files"] = [f for c in chunks for f in c["files"]]
    for c in chunks[1:]:
        for key in merged:
            if key not in ("files", "counts") and c.get(key) != merged[key]:
                raise DataError(
                    f"corpus: export chunks disagree on dataset.json `{key}`"
                )
    merged["counts"] = add_counts([c["counts"] for c in chunks])
    return merged


def add_counts(counts):
    """The sum of several dataset.json `counts`: numbers added, tables added key by key."""
    total = {}
    for c in counts:
        for key, value in c.items():
            if isinstance(value, dict):
                table = total.setdefault(key, {})
                for k, v in value.items():
                    table[k] = table.get(k, 0) + v
            else:
                total[key] = total.get(key, 0) + value
    return total


def store_half(path):
    """Rewrites a shard with its modality inputs in float16 (labels, ids, times and
    `present` unchanged; the header's metadata kept). Halves a training shard on disk; the
    inputs are standardized per channel later, and float16's 2^-11 relative step is far below
    the training augmentations' noise. `data.load_shard` widens them back to float32."""
    with safe_open(path, "np") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for m in MODALITIES:
        half = tensors[m].astype(np.float16)
        if not np.isfinite(half).all():
            # past float16's range (65504); the exported inputs are scaled far below it
            raise DataError(f"{path}: `{m}` does not fit float16 (--float16-train)")
        tensors[m] = half
    save_file(tensors, path + ".half", metadata=metadata)
    os.replace(path + ".half", path)


def write_manifest(out, manifest):
    """Writes the merged dataset.json into `out`."""
    with open(os.path.join(out, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def shards_by_stem(manifest):
    """The shard file of each exported capture, by the capture's stem (captures that gave
    no window have none)."""
    return {
        os.path.splitext(os.path.basename(f["capture"]))[0]: f["file"]
        for f in manifest["files"]
        if f["file"]
    }


def write_split(out, captures, manifest):
    """split.json: per part its rooms, subjects and shard files (as named in dataset.json)."""
    files_of = shards_by_stem(manifest)
    split = {
        "format": SPLIT_FORMAT,
        "rule": __doc__.split("\n\n")[1].replace("\n", " "),
    }
    for part in ("train", "val", "test"):
        mine = [c for c in captures if c.part == part]
        split[part] = {
            "rooms": sorted({c.room for c in mine}),
            "subjects": sorted({c.subject for c in mine}),
            "files": [files_of[c.stem] for c in mine if c.stem in files_of],
        }
    path = os.path.join(out, SPLIT)
    with open(path, "w") as f:
        json.dump(split, f, indent=2)
        f.write("\n")
    return split


CHUNK = 16
"""Captures simulated and exported together by `build`: with captures dropped, the disk
holds at most one chunk of captures beside the shards."""


def build(
    out,
    dagr,
    rooms,
    subjects,
    duration,
    captures_per_pair=1,
    seed=0,
    window=None,
    hop=None,
    log=print,
    pairing="grid",
    extra=None,
    keep_captures=True,
    half_train=False,
    chunk=CHUNK,
):
    """Simulates, exports and splits the corpus into `out` (captures in out/captures, shards
    and dataset.json/split.json in out/), `chunk` captures at a time. With `keep_captures`
    False each chunk's MCAP captures are deleted once exported (training reads only the
    shards; about half the disk). With `half_train` the training shards store their inputs
    in float16 (half their size; validation and test shards stay float32, so their scores
    compare exactly with a float32 corpus's). The chunking changes no window and no count:
    each capture is exported on its own terms. Returns the split."""
    captures = plan(rooms, subjects, captures_per_pair, seed, pairing, extra)
    cap_dir = os.path.join(out, "captures")
    os.makedirs(cap_dir, exist_ok=True)
    started = time.time()
    manifests = []
    for first in range(0, len(captures), chunk):
        group = captures[first : first + chunk]
        paths = []
        for k, c in enumerate(group, start=first):
            paths.append(simulate(dagr, c, duration, cap_dir))
            log(
                f"corpus: simulated {k + 1}/{len(captures)} {c.stem} "
                f"({time.time() - started:.0f} s)"
            )
        manifest = export(dagr, paths, out, window, hop)
        if half_train:
            shards = shards_by_stem(manifest)
            for c in group:
                if c.part == "train" and c.stem in shards:
                    store_half(os.path.join(out, shards[c.stem]))
        if not keep_captures:
            for path in paths:
                os.remove(path)
        manifests.append(manifest)
    manifest = merge_manifests(manifests)
    write_manifest(out, manifest)
    split = write_split(out, captures, manifest)
    if not keep_captures:
        os.rmdir(cap_dir)
        log(f"corpus: deleted the captures in {cap_dir} (--drop-captures)")
    log(
        f"corpus: exported {manifest['counts']['windows']} windows "
        f"({time.time() - started:.0f} s); split train {len(split['train']['files'])}, "
        f"val {len(split['val']['files'])}, test {len(split['test']['files'])} files"
    )
    return split


def simulate(dagr, capture, duration, cap_dir):
    """`dagr sim` of one planned capture into `cap_dir`; returns the capture's path."""
    path = os.path.join(cap_dir, capture.stem + ".mcap")
    run(
        [
            dagr,
            "sim",
            "--seed",
            str(capture.seed),
            "--room",
            str(capture.room),
            "--subject",
            str(capture.subject),
            "--duration",
            str(duration),
            "--out",
            path,
        ]
    )
    return path


def parse_ids(text, flag):
    """Comma-separated ids or inclusive ranges (`1-30,35`) of a command-line flag; rejects
    reserved ids with the flag's name."""
    ids = []
    try:
        for s in text.split(","):
            if not s.strip():
                continue
            lo, sep, hi = s.partition("-")
            if sep:
                lo, hi = int(lo), int(hi)
                if hi < lo:
                    raise ValueError(s)
                ids += range(lo, hi + 1)
            else:
                ids.append(int(s))
    except ValueError as e:
        raise DataError(
            f"{flag} {text!r}: expected comma-separated integers or ranges a-b"
        ) from e
    if not ids:
        raise DataError(f"{flag} {text!r}: expected at least one id")
    for i in ids:
        if not 0 <= i < RESERVED_ID:
            raise DataError(
                f"{flag} {text!r}: id {i} is not in [0, {RESERVED_ID}) (reserved)"
            )
    return ids
