"""How much each kind of WiFi row moves, per activity: the question behind the WiFi layout.

For a corpus made by `python -m dagr_train corpus` (safetensors shards with `wifi`, `label`
and `present`), prints per class the mean over WiFi-present windows of each row's standard
deviation within its window (in the tensor's units: 3 dB for power rows, 1 rad for phase
rows), separately for the power rows, the phase-difference rows and, where a link has more
than one power block, the difference of two antennas' power rows (their log power ratio).
A kind of row whose spread in an empty room is as large as during an activity carries
noise, not the person.

Reads either layout by the rows per link: three blocks (one antenna-averaged power, two
phase differences: the gateway's) or five (three antennas' powers against one level per
packet, two phase differences: the layout tried and not kept in
`models/reports/antennas-2026-12-05.md`).

    ~/.cache/dagr/train-venv/bin/python models/wifi_block_spread.py CORPUS [--part test]
"""

import argparse
import glob
import json
import os

import numpy as np
from safetensors.numpy import load_file

LINKS, SUBCARRIERS = 3, 30


def spreads(wifi):
    """Per window: mean row std of the power rows, the phase rows and (five-block layout)
    antenna 1 minus antenna 0's power rows; NaN where a kind is missing."""
    n, rows, steps = wifi.shape
    blocks = rows // LINKS // SUBCARRIERS
    powers = blocks - 2  # every block but the two phase differences
    x = wifi.reshape(n, LINKS, blocks, SUBCARRIERS, steps)
    power = x[:, :, :powers].std(axis=-1).mean(axis=(1, 2, 3))
    phase = x[:, :, powers:].std(axis=-1).mean(axis=(1, 2, 3))
    ratio = np.full(n, np.nan)
    if powers > 1:
        ratio = (x[:, :, 1] - x[:, :, 0]).std(axis=-1).mean(axis=(1, 2))
    return np.stack([power, phase, ratio], axis=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument(
        "--part", default="test", help="shard name prefix (train, val, test)"
    )
    a = p.parse_args()
    classes = json.load(open(os.path.join(a.corpus, "dataset.json")))["classes"]
    per_class = {c: [] for c in range(len(classes))}
    for path in sorted(glob.glob(os.path.join(a.corpus, f"{a.part}_*.safetensors"))):
        shard = load_file(path)
        keep = shard["present"][:, 1] > 0.5
        for label, row in zip(shard["label"][keep], spreads(shard["wifi"][keep])):
            per_class[int(label)].append(row)
    print("| class | windows | power rows | phase rows | antenna 1 - 0 power |")
    print("|---|---:|---:|---:|---:|")
    for c, name in enumerate(classes):
        if not per_class[c]:
            continue
        m = np.mean(per_class[c], axis=0)
        ratio = "" if np.isnan(m[2]) else f"{m[2]:.3f}"
        print(f"| {name} | {len(per_class[c])} | {m[0]:.3f} | {m[1]:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
