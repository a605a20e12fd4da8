"""Validation only: for every fusion-weight candidate of `fusion`, the clean score it
chooses by (mean over the fused subsets), the clean all-three accuracy, and the all-three
accuracy under each of the nine degradations (one modality, rho 0.5 / sigma 2 / p 0.5),
mean and worst, averaged over the runs given. Run from models/:

    PYTHONPATH=. $PY reports/fusion-2026-12-05/robust.py CORPUS RUN [RUN ...]
"""

import sys

import numpy as np
import torch

from dagr_train import MODALITIES
from dagr_train.data import load_part
from dagr_train.evaluate import predict
from dagr_train.degrade import KINDS, degrade, noise_scale
from dagr_train.fusion import candidates, score, GRID
from dagr_train.runs import load_run

corpus, runs = sys.argv[1], sys.argv[2:]
MID = {"rho": 0.5, "sigma": 2.0, "p": 0.5}
out = {}
s = load_part(corpus, "val")
inputs = s.inputs()
for run in runs:
    _, model = load_run(run, fusion=False)
    zs = predict(model, inputs)[2]
    deg = {}
    for mi, m in enumerate(MODALITIES):
        scale = noise_scale(inputs[mi], inputs[3][:, mi], m)
        for kind in KINDS:
            rng = np.random.default_rng(0)
            x = list(inputs)
            x[mi] = degrade(
                inputs[mi], inputs[3][:, mi], m, kind, MID[kind], rng, scale
            )
            dz = list(zs)
            dz[mi] = predict(model, x)[2][mi]
            deg[(m, kind)] = dz
    for w in candidates(GRID):
        clean = score(model.head, zs, inputs[3], s.label, w)
        da = []
        for k, dz in deg.items():
            with torch.no_grad():
                pred = (
                    model.head.classifier(
                        model.head.fuse(dz, torch.from_numpy(inputs[3]))
                    )
                    .argmax(1)
                    .numpy()
                )
            da.append(float(np.mean(pred == s.label)))
        out[(run, w)] = (
            clean[0],
            clean[1]["mmwave+wifi+rfid"],
            np.mean(da),
            min(da),
            da,
        )
ws = candidates(GRID)
rows = []
for w in ws:
    v = np.array([out[(r, w)][:4] for r in runs]).mean(0)
    rows.append((w, *v))
print("w | clean fused mean | clean all3 | degraded mean | degraded min")
for r in sorted(rows, key=lambda r: -r[1])[:8]:
    print(r[0], np.round(r[1:], 3))
print("by degraded mean")
for r in sorted(rows, key=lambda r: -r[3])[:8]:
    print(r[0], np.round(r[1:], 3))
print("by clean fused mean + degraded mean")
for r in sorted(rows, key=lambda r: -(r[1] + r[3]))[:8]:
    print(r[0], np.round(r[1:], 3))
print("equal", [np.round(r[1:], 3) for r in rows if r[0] == (1.0, 1.0, 1.0)])
