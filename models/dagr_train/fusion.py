"""`fusion`: the head's per-modality fusion weights of a trained run, chosen on validation.

A modality whose member is often sure and wrong on unseen rooms (WiFi on the twin, see
reports/antennas-2026-12-05.md) pulls the plain mean of the embeddings away from the
others' agreement; weighting it down in the head's fusion recovers that without
retraining. The weights act after the projections (`Head.fuse`), so the embeddings z_m,
and DAGR on them during gateway adaptation, are unchanged.

Search: every weight vector on a grid whose largest weight is 1 (only the ratios matter
to a weighted mean), scored on the validation part by the mean accuracy over the four
subsets of two or more modalities (a single modality's fusion is its own embedding,
whatever its weight). Ties go to the vector closest to equal (largest sum). The choice,
the grid and both scores are written to the run's fusion.json, which `load_run` applies,
so `eval` and `export` see the chosen head. Test data is never read here."""

import itertools
import json
import os

import numpy as np
import torch

from . import MODALITIES
from .data import load_part
from .evaluate import SUBSETS, predict
from .runs import FUSION_JSON, check_positive_numbers, load_run

GRID = (0.25, 0.5, 0.75, 1.0)
"""Weights tried for each modality by default."""

FUSED_SUBSETS = [s for s in SUBSETS if len(s) > 1]
"""The subsets the weights can change: two or more modalities."""


def candidates(grid):
    """Every weight vector over `grid` whose largest weight is that of the grid's largest
    value (a weighted mean depends only on the ratios)."""
    top = max(grid)
    return [w for w in itertools.product(grid, repeat=len(MODALITIES)) if max(w) == top]


def subset_accuracy(head, zs, present, labels, subset):
    """Accuracy of `head` on the windows that keep a modality when only `subset` is."""
    keep = np.array([m in subset for m in MODALITIES], np.float32)
    mask = present * keep
    has = mask.sum(1) > 0
    if not has.any():
        return None
    with torch.no_grad():
        fused = head.fuse([z[has] for z in zs], torch.from_numpy(mask[has]))
        pred = head.classifier(fused).argmax(1).numpy()
    return float(np.mean(pred == labels[has]))


def score(head, zs, present, labels, weights):
    """(mean accuracy over FUSED_SUBSETS, accuracy per subset) of `head` with `weights`."""
    head.fusion_weights.copy_(torch.tensor(weights, dtype=torch.float32))
    per = {
        "+".join(s): subset_accuracy(head, zs, present, labels, s)
        for s in FUSED_SUBSETS
    }
    values = [v for v in per.values() if v is not None]
    return (float(np.mean(values)) if values else 0.0), per


def choose(run_dir, data, grid=GRID, weights=None):
    """The fusion.json document of `run_dir`: the weights that score best on `data`'s
    validation part (or the given `weights`, scored there), with the equal weights'
    scores beside them."""
    check_positive_numbers(grid, "fusion grid", per_modality=False)
    if weights is not None:
        check_positive_numbers(weights, "fusion weights")
    _, model = load_run(run_dir, fusion=False)
    samples = load_part(data, "val")
    if len(samples) == 0:
        raise ValueError(f"{data}: the validation part is empty; nothing to choose on")
    inputs = samples.inputs()
    _, _, zs = predict(model, inputs)
    equal = score(model.head, zs, inputs[3], samples.label, (1.0,) * len(MODALITIES))
    if weights is None:
        # every candidate scored once; ties to the one closest to equal
        scored = {
            w: score(model.head, zs, inputs[3], samples.label, w)
            for w in candidates(grid)
        }
        best = max(scored, key=lambda w: (scored[w][0], sum(w)))
        chosen = scored[best]
        criterion = (
            "mean validation accuracy over the subsets of two or more modalities; "
            "ties to the largest sum"
        )
    else:
        best, grid = weights, [max(weights)]
        chosen = score(model.head, zs, inputs[3], samples.label, best)
        criterion = "given by hand (--weights), scored on validation"
    # only the ratios matter: the largest weight is written as 1
    weights = [w / max(best) for w in best]
    return {
        "weights": weights,
        "order": list(MODALITIES),
        "chosen_on": "val",
        "criterion": criterion,
        "grid": list(grid),
        "val_windows": len(samples),
        "val": {
            "equal": {"mean": equal[0], **equal[1]},
            "chosen": {"mean": chosen[0], **chosen[1]},
        },
    }


def write(run_dir, doc):
    """Saves `doc` as the run's fusion.json."""
    with open(os.path.join(run_dir, FUSION_JSON), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
