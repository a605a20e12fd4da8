"""`export`: a trained run to the model package of DESIGN.md ("Model package"):
model.onnx, model.json, head.safetensors, parity/*.npz (ONNX inputs and expected outputs)
and parity/head_batch*_{float32,float64}.npz (head inputs, DAGR loss value and the
gradient of every head parameter, for the Rust head and its adaptation to match)."""

import json
import os

import numpy as np
import onnx
import torch
from safetensors.numpy import save_file

from . import MODALITIES
from .data import load_manifest, load_part
from .dropout import SUBSETS
from .evaluate import restrict
from .loss import DagrConfig, dagr_loss, pair_distance
from .rewrite import rewrite_file
from .runs import load_run, read_band, read_fusion

OPSET = 17
INPUTS = ("mmwave", "wifi", "rfid", "present")
OUTPUTS = ("logits", "feat_mmwave", "feat_wifi", "feat_rfid")
FORMAT = "dagr-model-1"
STEPS = {"mmwave": "mmwave_frames", "wifi": "wifi_steps", "rfid": "rfid_steps"}
"""The PreprocessSpec field giving each modality's time steps per window."""


def export_onnx(model, path, rewrite=True):
    """model.onnx with a symbolic batch axis on every input and output (legacy exporter:
    it keeps the batch symbolic); with `rewrite`, rewritten for tract (rewrite.py: the same
    outputs; standardization folded into the first layers, the point mask inside the point
    products, pooling and segment means as matrix products, maxima as trees).
    `rewrite=False` keeps PyTorch's graph, for comparing the two."""
    shapes = model.arch["shapes"]
    example = tuple(torch.zeros(2, *shapes[m]) for m in MODALITIES) + (
        torch.ones(2, 3),
    )
    torch.onnx.export(
        model,
        example,
        path,
        input_names=list(INPUTS),
        output_names=list(OUTPUTS),
        dynamic_axes={n: {0: "batch"} for n in INPUTS + OUTPUTS},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    if rewrite:
        rewrite_file(path, path)
    else:
        onnx.checker.check_model(onnx.load(path))


def head_tensors(model):
    """The head's weights as float32 numpy arrays, named as in the state dict ("head.*")."""
    return {
        f"head.{n}": p.detach().numpy().astype(np.float32)
        for n, p in model.head.named_parameters()
    }


def head_architecture(model):
    """model.json's description of the head, enough for the Rust head to rebuild it."""
    a = model.arch
    return {
        "feat_dim": a["feat_dim"],
        "embed_dim": a["embed_dim"],
        "classes": len(a["classes"]),
        "projection": {
            m: {
                "weight": f"head.proj.{m}.weight",
                "bias": f"head.proj.{m}.bias",
                "op": "z = feat @ weight.T + bias",
            }
            for m in MODALITIES
        },
        "fusion": "weighted masked mean: fused = sum over present m of w_m z_m / sum over present m of w_m (zeros when none is present); present means present > 0.5; w = fusion_weights",
        "fusion_weights": [float(w) for w in model.head.fusion_weights],
        "classifier": {
            "weight": "head.classifier.weight",
            "bias": "head.classifier.bias",
            "op": "logits = fused @ weight.T + bias",
        },
    }


def parity_cases(samples, rng):
    """(name, inputs) parity cases from real windows: batch 1 with all modalities, batch 1
    with WiFi absent, batch 7 with each of the 7 subsets once (kept few: a WiFi window is
    ~0.2 MB and the reference package must stay small). Windows with all three modalities
    are preferred, so the subsets are exactly the ones asked for."""
    full = np.flatnonzero(samples.present.sum(1) == 3)
    pool = (
        full if len(full) else np.arange(len(samples))
    )  # all three present when possible

    def pick(k):
        return np.sort(rng.choice(pool, size=k, replace=len(pool) < k))

    cases = []
    for name, k in (("b1_all", 1), ("b1_no_wifi", 1), ("b7_subsets", 7)):
        inputs = [x[pick(k)].copy() for x in samples.inputs()]
        if name == "b1_no_wifi":
            inputs, _ = restrict(inputs, ("mmwave", "rfid"))
        elif name == "b7_subsets":
            inputs = masked(inputs, SUBSETS.numpy())
        cases.append((name, inputs))
    return cases


def masked(inputs, rows):
    """Inputs with per-sample presence `rows` [B, 3] applied (absent tensors zeroed)."""
    present = inputs[3] * rows.astype(np.float32)
    out = [
        x * present[:, i].reshape([-1] + [1] * (x.ndim - 1))
        for i, x in enumerate(inputs[:3])
    ]
    return out + [present]


def write_parity(model, samples, out, seed=0):
    """parity/<case>.npz: the ONNX inputs and PyTorch's outputs, named like the ONNX ones."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = []
    for name, inputs in parity_cases(samples, rng):
        with torch.no_grad():
            outputs = model(*(torch.from_numpy(x) for x in inputs))
        arrays = dict(zip(INPUTS, inputs)) | {
            k: v.numpy() for k, v in zip(OUTPUTS, outputs)
        }
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)
        names.append(f"{name}.npz")
    return names


def head_gradients(model, feats, present, labels, cfg, dtype):
    """DAGR loss of the head alone on given features, and the gradient of every head
    parameter, computed in `dtype`."""
    head = model.head.to(dtype)
    for p in head.parameters():
        p.grad = None
    f = [torch.from_numpy(x).to(dtype) for x in feats]
    logits, zs = head(f, torch.from_numpy(present).to(dtype))
    total, parts = dagr_loss(
        logits, torch.from_numpy(labels), zs, torch.from_numpy(present).to(dtype), cfg
    )
    total.backward()
    grads = {
        f"grad.head.{n}": p.grad.numpy().copy() for n, p in head.named_parameters()
    }
    values = {
        "loss": total.detach().numpy(),
        "loss_task": parts["task"].detach().numpy(),
        "loss_disp": torch.stack(parts["disp"]).detach().numpy(),
        "loss_anc": parts["anc"].detach().numpy(),
    }
    model.head.to(torch.float32)
    return values | grads


def widest_disagreement(model, samples, cfg, count, chunk=256):
    """Up to `count` sample indices (largest first) whose embeddings of two present
    modalities lie farther apart than the band cfg.tau: a well-anchored model has few, and
    random head batches may hold none, leaving the anchoring gradient untested."""
    widest = []
    for s in range(0, len(samples), chunk):
        x = [torch.from_numpy(a[s : s + chunk]) for a in samples.inputs()]
        with torch.no_grad():
            _, _, zs = model.run(*x)
        worst = torch.zeros(len(x[3]), dtype=torch.float64)
        for a, bb in ((0, 1), (0, 2), (1, 2)):
            both = (x[3][:, a] > 0.5) & (x[3][:, bb] > 0.5)
            d = pair_distance(zs[a], zs[bb], cfg.distance).double()
            worst = torch.maximum(worst, torch.where(both, d, torch.zeros_like(d)))
        widest += [(float(w), s + i) for i, w in enumerate(worst) if w > cfg.tau]
    return [i for _, i in sorted(widest, reverse=True)[:count]]


def write_head_batches(model, samples, out, cfg, batches=3, batch=16, seed=1):
    """parity/head_batch<k>_<dtype>.npz: feat_*, present (random subsets), labels, the DAGR
    loss terms and every head parameter's gradient, float32 and float64. The DAGR weights
    used are stored too (the run's, or lambda_d = lambda_a = 0.1 when the run had none, so
    the regularizer's gradients are exercised)."""
    rng = np.random.default_rng(seed)
    if cfg.weights() == (0.0, 0.0):
        cfg = DagrConfig(
            **{**cfg.to_json(), "form": "lambda", "lambda_d": 0.1, "lambda_a": 0.1}
        )
    names = []
    outside = widest_disagreement(model, samples, cfg, batches)
    for b in range(batches):
        idx = rng.choice(len(samples), size=min(batch, len(samples)), replace=False)
        subsets = SUBSETS.numpy()[rng.integers(0, 7, size=len(idx))]
        if b < len(outside) and outside[b] not in idx:
            # one window whose modalities disagree beyond the band, all of them present,
            # so the anchoring term and its gradient are exercised whatever the model
            idx[0], subsets[0] = outside[b], np.ones(3, np.float32)
        order = np.argsort(idx)
        idx, subsets = idx[order], subsets[order]
        inputs = masked([x[idx] for x in samples.inputs()], subsets)
        with torch.no_grad():
            _, *feats = model(*(torch.from_numpy(x) for x in inputs))
        feats = [f.numpy() for f in feats]
        for dtype, tag in ((torch.float32, "float32"), (torch.float64, "float64")):
            np_dtype = np.float32 if tag == "float32" else np.float64
            arrays = {
                f"feat_{m}": f.astype(np_dtype) for m, f in zip(MODALITIES, feats)
            }
            arrays |= {
                "present": inputs[3].astype(np_dtype),
                "labels": samples.label[idx],
            }
            arrays |= head_gradients(
                model,
                [arrays[f"feat_{m}"] for m in MODALITIES],
                arrays["present"],
                samples.label[idx],
                cfg,
                dtype,
            )
            arrays |= {
                f"dagr.{k}": np.array(v)
                for k, v in cfg.to_json().items()
                if not isinstance(v, str)
            }
            np.savez(os.path.join(out, f"head_batch{b}_{tag}.npz"), **arrays)
            names.append(f"head_batch{b}_{tag}.npz")
    return names, cfg


def model_json(info, model, manifest, metrics, parity, head_batches, head_cfg):
    """The model.json document."""
    spec = manifest["spec"]
    return {
        "format": FORMAT,
        "name": info["config"].get("method") or "dagr-fusion",
        "classes": model.arch["classes"],
        "window_s": spec["window_s"],
        "hop_s": spec["hop_s"],
        "preprocess": spec,
        "inputs": {
            **{
                m: {
                    "shape": ["batch", *model.arch["shapes"][m]],
                    "dtype": "float32",
                    "time_steps": spec[STEPS[m]],
                    "rate_hz": spec[STEPS[m]] / spec["window_s"],
                }
                for m in MODALITIES
            },
            "present": {
                "shape": ["batch", 3],
                "dtype": "float32",
                "order": list(MODALITIES),
            },
        },
        "outputs": {
            "logits": {"shape": ["batch", len(model.arch["classes"])]},
            **{
                f"feat_{m}": {"shape": ["batch", model.arch["feat_dim"]]}
                for m in MODALITIES
            },
        },
        "normalization": {
            "preprocess": spec["normalization"],
            "standardization_in_graph": info["standardization"],
        },
        "encoders": {
            "widths": model.arch["widths"],
            "series_steps": model.arch["series_steps"],
            "temporal_segments": model.arch["temporal_segments"],
            "temporal_dilated": model.arch["temporal_dilated"],
            **info["size"],
        },
        "head": head_architecture(model),
        "dagr": info["config"]["dagr"],
        "training": {
            k: info["config"][k]
            for k in (
                "method",
                "seed",
                "epochs",
                "batch_size",
                "lr",
                "weight_decay",
                "modality_dropout",
            )
        }
        | {
            # training-only choices added later; absent from older runs (their defaults)
            "unimodal_weight": info["config"].get("unimodal_weight", 0.0),
            "warm_start": [
                os.path.basename(r) for r in info["config"].get("warm_start", [])
            ],
            "data": info["data"],
            "best_epoch": info["best_epoch"],
            "train_seconds": info["train_seconds"],
            "torch": info["torch"],
        },
        "metrics": metrics,
        "parity": parity,
        "head_adaptation": {"files": head_batches, "dagr": head_cfg.to_json()},
        "opset": OPSET,
    }


def fusion_choice(run_dir):
    """How the run's fusion weights were chosen (its fusion.json without the weights,
    which model.json gives as `head.fusion_weights`), or None for equal weights never
    chosen."""
    doc = read_fusion(run_dir)
    return None if doc is None else {k: v for k, v in doc.items() if k != "weights"}


def export(run_dir, out, data=None, eval_json=None):
    """Writes the model package of `run_dir` into `out`; parity inputs come from the run's
    test split (or val/train when empty). `eval_json`: headline metrics to copy in."""
    info, model = load_run(run_dir)
    # model.onnx has no norm guard (the runtime applies model.json's `head.norm_band`), so
    # the graph, its parity files and the head batches are the head without it.
    model.head.norm_band.fill_(float("inf"))
    data = data or info["data"]["root"]
    manifest = load_manifest(data)
    if manifest["spec"] != info["data"]["spec"]:
        raise ValueError(
            f"{data}/dataset.json: its `spec` differs from the one run {run_dir} was trained on"
        )
    samples = next(
        s for s in (load_part(data, p) for p in ("test", "val", "train")) if len(s)
    )
    os.makedirs(out, exist_ok=True)
    export_onnx(model, os.path.join(out, "model.onnx"))
    save_file(head_tensors(model), os.path.join(out, "head.safetensors"))
    parity_dir = os.path.join(out, "parity")
    parity = write_parity(model, samples, parity_dir)
    head_batches, head_cfg = write_head_batches(
        model, samples, parity_dir, DagrConfig(**info["config"]["dagr"])
    )
    metrics = {"val": info["val"]}
    if eval_json:
        with open(eval_json) as f:
            ev = json.load(f)
        metrics[ev["part"]] = {
            k: v for k, v in ev["subsets"].items() if k != "confusion_all"
        }
    doc = model_json(info, model, manifest, metrics, parity, head_batches, head_cfg)
    doc["head"]["fusion_choice"] = fusion_choice(run_dir)
    band = read_band(run_dir)
    if band is not None:
        doc["head"]["norm_band"] = band
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc
