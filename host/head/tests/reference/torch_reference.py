"""Writes torch_reference.npz beside this script: PyTorch's results the Rust trainer must
reproduce, for what the training pipeline's exported head batches do not cover.

- DAGR flag variants (normalized dispersion, a temperature and D at which the dispersion
  kernel is far from saturated, the Pareto form, the L2 distance, a zero band) on
  head_batch0_float32's inputs: every loss term and every head parameter's gradient, from
  dagr_train.loss.dagr_loss and backward(), flattened in dagr-head's parameter layout.
- Two torch.optim.AdamW steps (the training pipeline's optimizer) on the reference head,
  with head_batch0's then head_batch1's exported gradients: parameters after each step and
  the moments after the second.

Run with the training venv from the repository root:
    ~/.cache/dagr/train-venv/bin/python host/head/tests/reference/torch_reference.py
"""

import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../.."))
sys.path.insert(0, os.path.join(ROOT, "models"))

from dagr_train.loss import DagrConfig, dagr_loss  # noqa: E402
from dagr_train.model import Head  # noqa: E402

REFERENCE = os.path.join(ROOT, "models/reference")
OUT = os.path.join(os.path.dirname(__file__), "torch_reference.npz")
MODALITIES = ("mmwave", "wifi", "rfid")
LAYOUT = [
    name for m in MODALITIES for name in (f"proj.{m}.weight", f"proj.{m}.bias")
] + ["classifier.weight", "classifier.bias"]
"""dagr-head's flat parameter layout (HeadShape), as head.* tensor names."""

VARIANTS = [
    DagrConfig(lambda_d=0.1, lambda_a=0.5, disp_normalized=True),
    DagrConfig(
        form="pareto",
        beta_total=1.0,
        beta=0.3,
        distance="l2",
        tau=0.2,
        tau_d=200.0,
        disp_dim=8,
    ),
    DagrConfig(lambda_d=1.0, lambda_a=1.0, tau=0.0, tau_d=100.0),
]


def reference_head():
    """The committed reference head (float32), with model.json's fusion weights."""
    tensors = load_file(os.path.join(REFERENCE, "head.safetensors"))
    w = tensors["head.proj.mmwave.weight"]
    head = Head(w.shape[1], w.shape[0], tensors["head.classifier.bias"].shape[0])
    head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items()})
    with open(os.path.join(REFERENCE, "model.json")) as f:
        weights = json.load(f)["head"]["fusion_weights"]
    head.fusion_weights.copy_(torch.tensor(weights))
    return head


def flat(head, attr):
    """The head's parameters (attr "data") or gradients ("grad") in the flat layout."""
    params = dict(head.named_parameters())
    return torch.cat([getattr(params[n], attr).reshape(-1) for n in LAYOUT]).numpy()


def batch(b):
    """The inputs of head_batch<b>_float32.npz and the file's arrays."""
    arrays = np.load(os.path.join(REFERENCE, f"parity/head_batch{b}_float32.npz"))
    feats = [torch.from_numpy(arrays[f"feat_{m}"]) for m in MODALITIES]
    return (
        feats,
        torch.from_numpy(arrays["present"]),
        torch.from_numpy(arrays["labels"]),
        arrays,
    )


def variant_arrays(k, cfg):
    """Loss terms and flat gradient of the reference head under `cfg` on batch 0."""
    head = reference_head()
    feats, present, labels, _ = batch(0)
    logits, zs = head(feats, present)
    total, parts = dagr_loss(logits, labels, zs, present, cfg)
    total.backward()
    flags = {
        "form": float(cfg.form == "pareto"),
        "distance": float(cfg.distance == "l2"),
        **{
            key: float(getattr(cfg, key))
            for key in (
                "lambda_d",
                "lambda_a",
                "beta_total",
                "beta",
                "tau",
                "tau_d",
                "disp_dim",
                "disp_normalized",
            )
        },
    }
    out = {f"v{k}.{key}": np.array(v) for key, v in flags.items()}
    out[f"v{k}.loss"] = total.detach().numpy()
    out[f"v{k}.loss_task"] = parts["task"].detach().numpy()
    out[f"v{k}.loss_disp"] = torch.stack(parts["disp"]).detach().numpy()
    out[f"v{k}.loss_anc"] = parts["anc"].detach().numpy()
    out[f"v{k}.grad"] = flat(head, "grad")
    return out


def adam_arrays(lr=2e-3, weight_decay=1e-4):
    """Two AdamW steps from the exported gradients of batches 0 and 1."""
    head = reference_head()
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    out = {"adam.lr": np.array(lr), "adam.weight_decay": np.array(weight_decay)}
    for step, b in enumerate((0, 1), start=1):
        arrays = batch(b)[3]
        for name, p in head.named_parameters():
            p.grad = torch.from_numpy(arrays[f"grad.head.{name}"]).clone()
        opt.step()
        out[f"adam.params{step}"] = flat(head, "data").copy()
    state = [opt.state[p] for p in dict(head.named_parameters()).values()]
    order = list(dict(head.named_parameters()))
    for key in ("exp_avg", "exp_avg_sq"):
        by_name = {n: s[key] for n, s in zip(order, state)}
        out[f"adam.{key}2"] = torch.cat(
            [by_name[n].reshape(-1) for n in LAYOUT]
        ).numpy()
    return out


def main():
    torch.set_num_threads(1)
    arrays = {"variants": np.array(len(VARIANTS))}
    for k, cfg in enumerate(VARIANTS):
        arrays |= variant_arrays(k, cfg)
    arrays |= adam_arrays()
    np.savez(OUT, **arrays)
    for k in range(len(VARIANTS)):
        print(
            f"variant {k}: disp {arrays[f'v{k}.loss_disp']} anc {arrays[f'v{k}.loss_anc']}"
            f" |grad| max {np.abs(arrays[f'v{k}.grad']).max():.3g}"
        )
    print(f"wrote {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
