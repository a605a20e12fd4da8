"""Late fusion's WiFi member on validation, before and after a WiFi layout change: its
accuracy (windows without WiFi count as wrong), the spread of its logits, its top softmax
probability when right and when wrong, and what adding its logits to the mmWave and RFID
members' sum does (accuracy, and the share of windows it turns from right to wrong and from
wrong to right). Run from models/:

    PYTHONPATH=. $PY reports/antennas-2026-12-05/member_confidence.py \\
        before=CORPUS_BEFORE:STUDY_BEFORE after=CORPUS_AFTER:STUDY_AFTER
"""

import sys

import numpy as np
import torch

from dagr_train import MODALITIES
from dagr_train.evaluate import encode, load_part
from dagr_train.runs import load_run


def member_logits(study, seed, inputs):
    """Each late-fusion member's logits, zero where its modality is absent: what late
    fusion sums (`evaluate.encode` of the ensemble of seed `seed`)."""
    members = [(m, load_run(f"{study}/runs/g_s{seed}_{m}")[1]) for m in MODALITIES]
    return {m: encode(members, inputs, m).numpy() for m in MODALITIES}


def main():
    for arg in sys.argv[1:]:
        tag, paths = arg.split("=", 1)
        corpus, study = paths.split(":", 1)
        samples = load_part(corpus, "val")
        inputs, y = samples.inputs(), samples.label
        for seed in (0, 1, 2):
            logits = member_logits(study, seed, inputs)
            wifi = logits["wifi"]
            top = torch.softmax(torch.from_numpy(wifi), 1).numpy().max(1)
            right = wifi.argmax(1) == y
            other = logits["mmwave"] + logits["rfid"]
            fused = other + wifi
            was, now = other.argmax(1) == y, fused.argmax(1) == y
            print(
                f"{tag} s{seed}: wifi acc {right.mean():.3f}  logit std "
                f"{wifi.std(1).mean():.2f}  top p right {top[right].mean():.3f} wrong "
                f"{top[~right].mean():.3f}  mm+rfid {was.mean():.3f} +wifi {now.mean():.3f} "
                f"(right->wrong {np.mean(was & ~now):.3f}, "
                f"wrong->right {np.mean(~was & now):.3f})"
            )


if __name__ == "__main__":
    main()
