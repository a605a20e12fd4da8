"""A training run on disk: run.json (configuration, data, history, timing), model.pt
(the state dict of the chosen epoch), once `fusion` chose them fusion.json (the head's
fusion weights) and once `guard` chose them band.json (the norm guard's bounds). Everything
later steps (eval, export, report) need is read back from here."""

import json
import math
import os

import torch

from . import MODALITIES
from .model import FusionModel

RUN_JSON = "run.json"
WEIGHTS = "model.pt"
FUSION_JSON = "fusion.json"


def save_run(out, info, model):
    """Writes run.json and model.pt into `out` (created if missing)."""
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, WEIGHTS))
    with open(os.path.join(out, RUN_JSON), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def load_run(path, fusion=True):
    """(info, model in eval mode) of the run directory `path`; with `fusion`, the head
    takes the weights of the run's fusion.json when there is one (else equal weights) and
    the norm guard's bounds of its band.json (else none)."""
    info_path = os.path.join(path, RUN_JSON)
    try:
        with open(info_path) as f:
            info = json.load(f)
    except OSError as e:
        raise ValueError(
            f"{info_path}: cannot read ({e.strerror}); is {path} a run?"
        ) from e
    arch = info["arch"]
    model = FusionModel(
        {m: tuple(s) for m, s in arch["shapes"].items()},
        arch["classes"],
        arch["widths"],
        arch["feat_dim"],
        arch["embed_dim"],
        arch.get("series_steps", False),  # runs before the option existed had none
        arch.get("temporal_segments", 0),  # likewise: the original readout
        arch.get("temporal_dilated", False),
    )
    model.load_state_dict(torch.load(os.path.join(path, WEIGHTS), weights_only=True))
    if fusion:
        doc = read_fusion(path)
        if doc is not None:
            model.head.fusion_weights.copy_(torch.tensor(doc["weights"]))
        band = read_band(path)
        if band is not None:
            model.head.norm_band.copy_(torch.tensor(band["bounds"]))
    model.eval()
    return info, model


def check_positive_numbers(weights, what, per_modality=True):
    """Refuses an empty list, a value that is not a positive finite number, and (with
    `per_modality`) a count other than one per modality: fusion weights, their grid and the
    norm guard's bounds (band.json) follow the same rule."""
    number = (int, float)
    if not weights or not all(
        isinstance(w, number) and w > 0 and math.isfinite(w) for w in weights
    ):
        raise ValueError(f"{what} {weights!r}: every value must be a positive number")
    if per_modality and len(weights) != len(MODALITIES):
        raise ValueError(
            f"{what} {weights!r}: expected one per modality ({', '.join(MODALITIES)})"
        )


def read_checked(path, name, field):
    """Run `path`'s JSON document `name`, its `field` checked to hold one positive number
    per modality (refused naming the file), or None when the file is not there."""
    file = os.path.join(path, name)
    if not os.path.exists(file):
        return None
    with open(file) as f:
        doc = json.load(f)
    check_positive_numbers(doc.get(field), f"{file}: `{field}`")
    return doc


def read_fusion(path):
    """The fusion.json document of run `path` (its `weights` checked), or None when
    `fusion` never chose weights for it."""
    return read_checked(path, FUSION_JSON, "weights")


BAND_JSON = "band.json"
"""A run's norm guard bounds (guard.py), applied by `load_run`."""


def read_band(path):
    """The run's band.json document (its `bounds` checked), or None."""
    return read_checked(path, BAND_JSON, "bounds")
