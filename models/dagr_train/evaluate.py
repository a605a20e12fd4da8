"""`eval`: a trained run on a split part, for all 7 modality subsets and under test-time
degradation of one modality; accuracy, macro-F1 and the confusion matrix, into eval.json."""

import itertools
import json
import os

import numpy as np
import torch

from . import MODALITIES
from .data import load_part
from .degrade import KINDS, degrade, noise_scale
from .runs import load_run

SUBSETS = [c for r in range(1, 4) for c in itertools.combinations(MODALITIES, r)]
"""The 7 non-empty modality subsets, singles first."""

LEVELS = {
    "rho": [0.0, 0.25, 0.5, 0.75, 1.0],
    "sigma": [0.0, 0.5, 1.0, 2.0, 4.0],
    "p": [0.0, 0.25, 0.5, 0.75, 1.0],
}
"""Degradation levels of the robustness curves (0 = clean; sigma in units of the modality's
standard deviation, see degrade.noise_scale)."""


def predict(model, inputs, batch=256):
    """(logits, feats, zs) of `inputs` (numpy, ONNX order) in batches, without gradients."""
    out = [[], [[], [], []], [[], [], []]]
    n = inputs[3].shape[0]
    with torch.no_grad():
        for s in range(0, n, batch):
            logits, feats, zs = model.run(
                *(torch.from_numpy(x[s : s + batch]) for x in inputs)
            )
            out[0].append(logits)
            for i in range(3):
                out[1][i].append(feats[i])
                out[2][i].append(zs[i])
    if n == 0:
        return torch.zeros(0, 1), [torch.zeros(0, 1)] * 3, [torch.zeros(0, 1)] * 3
    return (
        torch.cat(out[0]),
        [torch.cat(f) for f in out[1]],
        [torch.cat(z) for z in out[2]],
    )


def confusion(labels, pred, k):
    """k x k counts, rows = true class, columns = predicted."""
    c = np.zeros((k, k), np.int64)
    np.add.at(c, (labels, pred), 1)
    return c


def scores(labels, pred, k):
    """Accuracy and macro-F1 (mean over the classes occurring in `labels` or `pred`)."""
    if len(labels) == 0:
        return {"n": 0, "accuracy": None, "macro_f1": None}
    c = confusion(labels, pred, k)
    tp = np.diag(c).astype(float)
    support, predicted = c.sum(1), c.sum(0)
    seen = (support + predicted) > 0
    f1 = 2 * tp[seen] / (support[seen] + predicted[seen])
    return {
        "n": int(len(labels)),
        "accuracy": float(tp.sum() / len(labels)),
        "macro_f1": float(f1.mean()),
    }


def restrict(inputs, subset):
    """Inputs with only `subset`'s modalities kept (others zeroed, present cleared), and the
    mask of samples that still have a present modality."""
    keep = np.array([m in subset for m in MODALITIES], np.float32)
    present = inputs[3] * keep
    out = [x * keep[i] for i, x in enumerate(inputs[:3])] + [present]
    return out, present.sum(1) > 0


def alone_for(member, inputs, m):
    """`inputs` as a late-fusion member of modality `m` takes them: `m`'s input and presence
    kept, every other modality absent, as zeros of the shape the member was built for (it
    never sees them, and their shapes may have changed since it was trained: a WiFi
    layout change leaves the mmWave and RFID members valid). The same values as
    `restrict(inputs, (m,))` where the shapes agree."""
    n = len(inputs[3])
    shapes = member.arch["shapes"]
    out = [
        inputs[j] if o == m else np.zeros((n, *shapes[o]), np.float32)
        for j, o in enumerate(MODALITIES)
    ]
    keep = np.array([o == m for o in MODALITIES], np.float32)
    return out + [inputs[3] * keep]


def logits_of(models, inputs):
    """Logits of one model, or of a late-fusion ensemble: a list of (modality, model) whose
    logits are summed over the modalities present in each sample."""
    if not isinstance(models, list):
        return predict(models, inputs)[0]
    return sum(encode(models, inputs, m) for m, _ in models)


def evaluate_subsets(models, samples, k):
    """Scores per modality subset, plus the confusion matrix of all three."""
    out = {}
    for subset in SUBSETS:
        inputs, has = restrict(samples.inputs(), subset)
        inputs = [x[has] for x in inputs]
        pred = logits_of(models, inputs).argmax(1).numpy()
        out["+".join(subset)] = scores(samples.label[has], pred, k)
        if len(subset) == 3:
            out["confusion_all"] = confusion(samples.label[has], pred, k).tolist()
    return out


def encode(models, inputs, m, batch=256):
    """The part of the logits that modality `m`'s input decides: the features of `m`'s
    encoder for one model, or `m`'s member's logits (masked by `present`) for a late-fusion
    ensemble. A degraded modality changes only its own part (see `fuse`)."""
    i = MODALITIES.index(m)
    with torch.no_grad():
        if isinstance(models, list):
            member = dict(models)[m]
            logits = predict(member, alone_for(member, inputs, m), batch)[0]
            return logits * torch.from_numpy(inputs[3][:, i : i + 1])
        x = torch.from_numpy(inputs[i])
        return torch.cat(
            [models.encoders[m](x[s : s + batch]) for s in range(0, len(x), batch)]
        )


def fuse(models, parts, present, batch=256):
    """Logits from every modality's part (`encode`): the head of one model, the sum of the
    members' masked logits for an ensemble."""
    if isinstance(models, list):
        return sum(parts)
    present = torch.from_numpy(present)
    with torch.no_grad():
        return torch.cat(
            [
                models.head([p[s : s + batch] for p in parts], present[s : s + batch])[
                    0
                ]
                for s in range(0, len(present), batch)
            ]
        )


def evaluate_degraded(models, samples, k, seed=0):
    """Accuracy with all modalities when one modality is degraded, per kind and level.

    Only the degraded modality is encoded again at each level; the others' parts are the
    clean ones (an encoder sees only its own modality)."""
    out = {}
    clean = samples.inputs()
    clean_parts = [encode(models, clean, m) for m in MODALITIES]
    for mi, m in enumerate(MODALITIES):
        scale = noise_scale(clean[mi], clean[3][:, mi], m)
        for kind in KINDS:
            curve = []
            for level in LEVELS[kind]:
                rng = np.random.default_rng(seed)
                inputs = list(clean)
                inputs[mi] = degrade(
                    clean[mi], clean[3][:, mi], m, kind, level, rng, scale
                )
                parts = list(clean_parts)
                parts[mi] = encode(models, inputs, m)
                pred = fuse(models, parts, clean[3]).argmax(1).numpy()
                curve.append({"level": level, **scores(samples.label, pred, k)})
            out[f"{m}/{kind}"] = curve
    return out


def evaluate(run_dirs, data, part="test", out=None, degraded=True):
    """eval.json of one run (or a late-fusion ensemble of single-modality runs) on `part`."""
    loaded = [load_run(r) for r in run_dirs]
    if len(loaded) == 1:
        info, models = loaded[0]
    else:
        models = [(i["config"]["only"], mdl) for i, mdl in loaded]
        info = loaded[0][0]
    k = len(info["arch"]["classes"])
    samples = load_part(data, part)
    result = {
        "runs": list(run_dirs),
        "method": info["config"].get("method", ""),
        "seed": info["config"]["seed"],
        "data": os.path.abspath(data),
        "part": part,
        "classes": info["arch"]["classes"],
        "subsets": evaluate_subsets(models, samples, k),
    }
    if degraded:
        result["degraded"] = evaluate_degraded(models, samples, k)
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return result
