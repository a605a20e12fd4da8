"""The joint model's head with the WiFi embedding weighted by alpha in the fused mean:
`(z_mmwave + alpha z_wifi + z_rfid) / n_present` (each term only where its modality is
present) instead of the plain mean, then the model's own classifier; no retraining. On
validation and test, per seed of method w. Run from models/ (with the package on the path):

    PYTHONPATH=. $PY reports/antennas-2026-12-05/head_weight.py CORPUS STUDY

alpha = 1 reproduces the model's own logits (printed as `check`).
"""

import sys

import numpy as np
import torch

from dagr_train.evaluate import load_part, predict
from dagr_train.runs import load_run

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def weighted_accuracies(model, inputs, labels):
    """Accuracy of the weighted fusion for each alpha, and of the model as it is."""
    logits, _, zs = predict(model, inputs)
    present = torch.from_numpy(inputs[3])
    out = []
    for alpha in ALPHAS:
        # The head's own masked mean, over the WiFi embedding scaled by alpha.
        weighted = [zs[0], alpha * zs[1], zs[2]]
        with torch.no_grad():
            fused = model.head.fuse(weighted, present)
            pred = model.head.classifier(fused).argmax(1).numpy()
        out.append(float(np.mean(pred == labels)))
    return out, float(np.mean(logits.argmax(1).numpy() == labels))


def main():
    corpus, study = sys.argv[1:3]
    for part in ("val", "test"):
        samples = load_part(corpus, part)
        rows = []
        for seed in range(3):
            _, model = load_run(f"{study}/runs/w_s{seed}")
            row, check = weighted_accuracies(model, samples.inputs(), samples.label)
            rows.append(row)
            print(
                f"{part} w_s{seed}: check {check:.3f}  "
                + "  ".join(f"alpha {a:.2f} {v:.3f}" for a, v in zip(ALPHAS, row))
            )
        r = np.array(rows)
        print(
            f"{part} mean ± sd: "
            + "  ".join(
                f"alpha {a:.2f} {m:.3f} ± {s:.3f}"
                for a, m, s in zip(ALPHAS, r.mean(0), r.std(0, ddof=1))
            )
        )


if __name__ == "__main__":
    main()
