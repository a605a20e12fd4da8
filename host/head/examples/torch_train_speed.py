"""The PyTorch side of `cargo run --release -p dagr-head --example train_speed`: trains the
reference head alone (dagr_train's Head and dagr_loss, AdamW, cosine schedule, modality
dropout and feature noise, batch 64) on the windows the example wrote, on one thread, and
prints one JSON line with the wall time of each repetition.

Usage: python torch_train_speed.py DIR EPOCHS BATCH REPS"""

import json
import os
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
sys.path.insert(0, os.path.join(ROOT, "models"))

from dagr_train.dropout import drop_modalities  # noqa: E402
from dagr_train.loss import DagrConfig, dagr_loss  # noqa: E402
from dagr_train.model import Head  # noqa: E402


def reference_head():
    """The committed reference head (float32)."""
    tensors = load_file(os.path.join(ROOT, "models/reference/head.safetensors"))
    w = tensors["head.proj.mmwave.weight"]
    head = Head(w.shape[1], w.shape[0], tensors["head.classifier.bias"].shape[0])
    head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items()})
    return head


def load(directory):
    """feats [3, N, F] f32, present [N, 3] f32, labels [N] i64 as the example wrote them."""
    labels = torch.from_numpy(np.fromfile(os.path.join(directory, "labels.bin"), "<i8"))
    n = len(labels)
    feats = np.fromfile(os.path.join(directory, "feats.bin"), "<f4").reshape(3, n, -1)
    present = np.fromfile(os.path.join(directory, "present.bin"), "<f4").reshape(n, 3)
    return (
        [torch.from_numpy(f.copy()) for f in feats],
        torch.from_numpy(present),
        labels,
    )


def train_once(
    feats, present, labels, epochs, batch, seed, cfg, sigma=0.05, dropout=0.5
):
    """One training run; (seconds, steps, last batch loss)."""
    head = reference_head()
    opt = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(seed)
    steps, loss = 0, float("nan")
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=gen)
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            f, p = drop_modalities([x[idx] for x in feats], present[idx], dropout, gen)
            f = [x + sigma * torch.randn(x.shape, generator=gen) for x in f]
            logits, zs = head(f, p)
            total, _ = dagr_loss(logits, labels[idx], zs, p, cfg)
            opt.zero_grad()
            total.backward()
            opt.step()
            steps += 1
            loss = total.item()
        sched.step()
    return time.perf_counter() - started, steps, loss


def main():
    directory, epochs, batch, reps = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(1)
    cfg = DagrConfig(lambda_d=0.1, lambda_a=0.5)
    feats, present, labels = load(directory)
    runs = [
        train_once(feats, present, labels, epochs, batch, r, cfg) for r in range(reps)
    ]
    print(
        json.dumps(
            {
                "seconds": [r[0] for r in runs],
                "steps": runs[0][1],
                "last_loss": runs[-1][2],
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
