"""An independent check of `dagr dataset export`'s mmWave tensor values.

From the radar frames `dagr replay --json` prints (points in metres, m/s, SNR in TLV 7
units) it builds, for every frame, the slot DESIGN.md and the dataset's `layout` describe:
the frame's 64 strongest points (by SNR, ties in frame order, points without SNR last) as
(x/5, y/5, z/5, v/2, snr/10/30) in float32, zero-padded. Then, for every slot of every
window the shard marks mmWave-present, it finds the frame whose slot equals it; within a
window, the matched frames must come in frame order. Written from the documented layout
only (no code shared with the gateway's preprocessing).

    python mmwave_tensor_check.py REPLAY.jsonl SHARD.safetensors

Prints one JSON object: windows checked, non-empty slots, slots equal to a replayed frame,
windows whose frames are out of order, the largest difference of a matched slot.
"""

import json
import sys

import numpy as np
from safetensors_file import read_safetensors

POINTS, FEATURES = 64, 5


def frame_slot(points):
    """The [64, 5] float32 slot one frame fills."""
    f32 = np.float32
    ranked = sorted(
        enumerate(points),
        key=lambda ip: (-(ip[1]["snr"] if ip[1]["snr"] is not None else -32768), ip[0]),
    )
    slot = np.zeros((POINTS, FEATURES), dtype=np.float32)
    for row, (_, p) in enumerate(ranked[:POINTS]):
        v = p["v"] if p["v"] is not None else 0.0
        snr = f32(p["snr"]) / f32(10.0) / f32(30.0) if p["snr"] is not None else 0.0
        slot[row] = [
            f32(p["x"]) / f32(5.0),
            f32(p["y"]) / f32(5.0),
            f32(p["z"]) / f32(5.0),
            f32(v) / f32(2.0),
            snr,
        ]
    return slot


def main():
    replay, shard = sys.argv[1], sys.argv[2]
    frames = []  # (frame number, slot)
    for line in open(replay):
        record = json.loads(line)
        if "points" in record and "frame" in record:
            frames.append((record["frame"], frame_slot(record["points"])))
    index = {}  # strongest point (rounded) -> frames
    for number, slot in frames:
        index.setdefault(tuple(np.round(slot[0], 5)), []).append((number, slot))
    arrays = read_safetensors(shard)
    mmwave, present = arrays["mmwave"], arrays["present"]
    windows = slots = matched = out_of_order = 0
    worst = 0.0
    for w in range(mmwave.shape[0]):
        if present[w, 0] != 1.0:
            continue
        windows += 1
        numbers = []
        for slot in mmwave[w]:
            if not slot.any():
                continue
            slots += 1
            candidates = index.get(tuple(np.round(slot[0], 5)), [])
            best = min(
                ((float(np.abs(s - slot).max()), n) for n, s in candidates),
                default=None,
            )
            if best is not None and best[0] <= 1e-6:
                matched += 1
                worst = max(worst, best[0])
                numbers.append(best[1])
        if numbers != sorted(numbers):
            out_of_order += 1
    print(
        json.dumps(
            {
                "windows": windows,
                "slots": slots,
                "matched": matched,
                "out_of_order": out_of_order,
                "frames": len(frames),
                "max_diff": worst,
            }
        )
    )


if __name__ == "__main__":
    main()
