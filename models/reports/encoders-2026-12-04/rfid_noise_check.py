"""RFID noise curve (all modalities, val part) of run old_s0 under
(1) the first recipe's std floor + noise on every row, (2) constant rows unscaled
(robust_std) + noise on every row, (3) constant rows unscaled + noise only on rows with
data (the committed degrade).
Usage, from models/: $PY reports/encoders-2026-12-04/rfid_noise_check.py RUN CORPUS"""

import os
import sys
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from dagr_train.runs import load_run
from dagr_train.data import load_part
from dagr_train.degrade import degrade, noise_scale
from dagr_train.evaluate import logits_of, scores
from dagr_train.train import robust_std

torch.set_num_threads(1)
run, corpus = sys.argv[1], sys.argv[2]  # a run directory, the corpus
info, model = load_run(run)
val = load_part(corpus, "val")
k = len(info["arch"]["classes"])
x = val.inputs()
pres = x[3][:, 2]
scale = noise_scale(x[2], pres, "rfid")


def curve(model, all_rows):
    out = []
    for level in [0.0, 0.5, 1.0, 2.0, 4.0]:
        rng = np.random.default_rng(0)
        if all_rows:
            r = x[2] + (rng.standard_normal(x[2].shape) * level * scale).astype(
                np.float32
            )
            r = np.where(pres[:, None, None] > 0.5, r, 0).astype(np.float32)
        else:
            r = degrade(x[2], pres, "rfid", "sigma", level, rng, scale)
        inp = [x[0], x[1], r, x[3]]
        out.append(
            round(
                scores(val.label, logits_of(model, inp).argmax(1).numpy(), k)[
                    "accuracy"
                ],
                3,
            )
        )
    return out


print("std of rows 32-45 in run:", model.encoders["rfid"].norm.std[32:].tolist()[:2])
print("floor 7e-5 + noise on every row:", curve(model, True))
with torch.no_grad():
    model.encoders["rfid"].norm.std.copy_(
        torch.as_tensor(
            robust_std(model.encoders["rfid"].norm.std.numpy()), dtype=torch.float32
        )
    )
print("std 1 on constant rows + noise on every row:", curve(model, True))
print("std 1 on constant rows + noise only on rows with data:", curve(model, False))
