"""Late fusion with the WiFi member's logits scaled by a weight alpha before the members'
logits are summed, on validation and on test, per seed: how much WiFi helps once it is
weighed by how far it can be trusted. Run from models/ (with the package on the path):

    PYTHONPATH=. $PY reports/antennas-2026-12-05/wifi_weight.py \\
        before=CORPUS_BEFORE:STUDY_BEFORE after=CORPUS_AFTER:STUDY_AFTER

Prints, per layout, part and alpha, the accuracy over 3 seeds (mean ± sd) with all three
modalities, with mmWave+WiFi and with WiFi+RFID, over every window of the part (a window
where none of the subset's modalities is present gets all-zero logits, so class 0; the
evaluation's tables leave such windows out, so its two-modality figures differ a little).
"""

import sys

import numpy as np
from member_confidence import member_logits

from dagr_train.evaluate import load_part

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
SUBSETS = (("mmwave", "wifi", "rfid"), ("mmwave", "wifi"), ("wifi", "rfid"))


def accuracies(logits, labels):
    """[alpha][subset] accuracy of the weighted sum."""
    return [
        [
            np.mean(
                sum(logits[m] * (a if m == "wifi" else 1.0) for m in s).argmax(1)
                == labels
            )
            for s in SUBSETS
        ]
        for a in ALPHAS
    ]


def main():
    for arg in sys.argv[1:]:
        tag, paths = arg.split("=", 1)
        corpus, study = paths.split(":", 1)
        for part in ("val", "test"):
            samples = load_part(corpus, part)
            inputs, labels = samples.inputs(), samples.label
            r = np.array(
                [accuracies(member_logits(study, s, inputs), labels) for s in range(3)]
            )
            for j, a in enumerate(ALPHAS):
                all3, mw, wr = r[:, j, 0], r[:, j, 1], r[:, j, 2]
                print(
                    f"{tag} {part} alpha {a:.2f}: all three {all3.mean():.3f} ± "
                    f"{all3.std(ddof=1):.3f} {np.round(all3, 3)}  mmwave+wifi "
                    f"{mw.mean():.3f}  wifi+rfid {wr.mean():.3f}"
                )


if __name__ == "__main__":
    main()
