"""`train`: fits a FusionModel on the train part of an export under the DAGR objective,
picks the epoch with the best validation accuracy, and saves the run (run.json with the
per-epoch losses, validation scores and geometry diagnostics; model.pt)."""

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import MODALITIES
from .augment import AugmentConfig, augment
from .data import COLUMNS, Samples, input_shapes, load_manifest, load_part, load_split
from .diagnostics import diagnose
from .dropout import drop_modalities
from .evaluate import predict, scores
from .loss import DagrConfig, dagr_loss
from .model import FusionModel, size_report
from .runs import save_run
from .unimodal import unimodal_loss
from .warmstart import warm_start


@dataclass
class TrainConfig:
    """Everything that decides a training run (saved in run.json)."""

    method: str = ""  # free label (the study's method letter)
    seed: int = 0
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    modality_dropout: float = (
        0.5  # probability a sample keeps a random non-empty subset
    )
    only: str = ""  # train on one modality alone (late-fusion member); "" = all
    threads: int = 1
    widths: tuple = (32, 48, 32)
    feat_dim: int = 64
    embed_dim: int = 32
    series_steps: bool = False  # WiFi/RFID encoders also see each row's step magnitudes
    temporal_segments: int = 0  # ordered segment means + max readout; 0 = mean + max
    temporal_dilated: bool = False  # a residual dilated third temporal convolution
    dagr: DagrConfig = field(default_factory=DagrConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    feat_dropout: float = (
        0.0  # dropout on feat_m between encoders and head, training only
    )
    label_smoothing: float = 0.0  # of the task cross-entropy, training only
    unimodal_weight: float = 0.0  # weight of the unimodal auxiliary loss (unimodal.py)
    warm_start: tuple = ()  # late-fusion member runs to start from (warmstart.py)

    def __post_init__(self):
        if self.only and self.only not in MODALITIES:
            raise ValueError(f"--only {self.only!r}: expected one of {MODALITIES}")
        if not 0.0 <= self.feat_dropout < 1.0:
            raise ValueError(f"--feat-dropout {self.feat_dropout}: expected in [0, 1)")
        if self.temporal_segments < 0:
            raise ValueError(
                f"--temporal-segments {self.temporal_segments}: expected >= 0"
            )
        if self.unimodal_weight < 0.0:
            raise ValueError(f"--unimodal-weight {self.unimodal_weight}: expected >= 0")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"--label-smoothing {self.label_smoothing}: expected in [0, 1)"
            )


COMPACT_CHUNK = 256
"""Windows moved per step by `compact`."""


def compact(column, keep):
    """`column[keep]` written over the column's own first rows and returned as a view of
    them, chunk by chunk: never a second copy of the kept rows. Safe in place because
    the i-th kept row comes from row >= i, which no earlier step has overwritten."""
    rows = np.flatnonzero(keep)
    for s in range(0, len(rows), COMPACT_CHUNK):
        part = rows[s : s + COMPACT_CHUNK]
        column[s : s + len(part)] = column[part]
    return column[: len(rows)]


def single_modality(samples, modality):
    """The samples where `modality` is present, with every other modality removed (all
    zeros, allocated lazily: the system's zero page until written). Reuses `samples`'
    arrays (the kept rows are moved to their front): the caller gives `samples` up, so a
    member's training holds only its own modality, once."""
    i = MODALITIES.index(modality)
    keep = samples.present[:, i] > 0.5
    n = int(keep.sum())
    columns = {}
    for c in COLUMNS:
        column = getattr(samples, c)
        if c in MODALITIES and c != modality:
            columns[c] = np.zeros((n, *column.shape[1:]), column.dtype)
        else:
            columns[c] = compact(column, keep)
    only = np.zeros(3, np.float32)
    only[i] = 1.0
    columns["present"] = columns["present"] * only
    return Samples(**columns)


STATS_CHUNK = 256
"""Windows per step of `channel_moments`: its temporaries stay ~1/40 of the corpus."""


def channel_moments(x, rows, values):
    """Mean and standard deviation (float64) per channel of `x` [N, ...] over the windows
    `rows` (boolean [N]), chunk by chunk, in two passes (mean, then squared deviations),
    without copying the selected windows: `values(chunk)` turns a chunk [n, ...] into
    [k, C] values of C channels."""
    total, count = None, 0
    for s in range(0, len(x), STATS_CHUNK):
        v = values(x[s : s + STATS_CHUNK][rows[s : s + STATS_CHUNK]])
        part = v.sum(0, dtype=np.float64)
        total = part if total is None else total + part
        count += len(v)
    if count == 0:
        return None
    mean = total / count
    squares = 0.0
    for s in range(0, len(x), STATS_CHUNK):
        v = values(x[s : s + STATS_CHUNK][rows[s : s + STATS_CHUNK]])
        squares = squares + ((v - mean) ** 2).sum(0)
    return mean, np.sqrt(squares / count)


def series_values(chunk):
    """[n, R, T] -> [n * T, R]: each row a channel, every sample and step a value."""
    return chunk.transpose(0, 2, 1).reshape(-1, chunk.shape[1])


def point_values(chunk):
    """[n, F, P, V] -> the real (non-padding) points' values [k, V]."""
    points = chunk.reshape(-1, chunk.shape[-1])
    return points[np.abs(points).sum(1) > 0]


def fit_standardization(model, train):
    """Sets the encoders' standardization constants from the present training samples:
    per row for WiFi and RFID (over samples and time), per point value for mmWave (over
    real, non-padding points only). Returns them for model.json."""
    out = {}
    for m in ("wifi", "rfid"):
        x = getattr(train, m)
        rows = train.present[:, MODALITIES.index(m)] > 0.5
        moments = channel_moments(x, rows, series_values)
        mean, std = moments or (np.zeros(x.shape[1]), np.ones(x.shape[1]))
        out[m] = set_norm(model.encoders[m].norm, mean, std)
    width = train.mmwave.shape[-1]
    moments = channel_moments(train.mmwave, train.present[:, 0] > 0.5, point_values)
    mean, std = moments or (np.zeros(width), np.ones(width))
    out["mmwave"] = set_norm(model.encoders["mmwave"].norm, mean, std)
    return out


def current_standardization(model):
    """The encoders' standardization constants as model.json lists (after a warm start
    copied them from the members)."""
    return {
        m: {
            "mean": model.encoders[m].norm.mean.tolist(),
            "std": model.encoders[m].norm.std.tolist(),
        }
        for m in MODALITIES
    }


CONSTANT_ROW_FRACTION = 1e-3
"""A channel whose training std is below this fraction of the median channel std counts as
constant (e.g. the RFID rows after the last tag read, always written as zeros)."""


def robust_std(std):
    """The divisor of each channel: its std, except that a constant channel gets 1 (left
    unscaled). Flooring it instead (at 1e-3 of the median, the first recipe) multiplied
    whatever reaches such a row at inference (noise, a tag never seen in training) by
    ~1000x the scale of a real row."""
    std = np.asarray(std, dtype=np.float64)
    floor = CONSTANT_ROW_FRACTION * max(float(np.median(std)), 1e-6)
    return np.where(std < floor, 1.0, std)


def set_norm(norm, mean, std):
    """Copies mean and std (a constant channel's std replaced by 1, see robust_std) into a
    Standardize module; returns them as lists."""
    std = robust_std(std)
    norm.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
    norm.std.copy_(torch.as_tensor(std, dtype=torch.float32))
    return {"mean": norm.mean.tolist(), "std": norm.std.tolist()}


def train_epoch(model, opt, train, cfg, gen):
    """One pass over the shuffled training samples; mean of each loss term, and the
    accuracy on the training batches as seen (after modality dropout, weights changing
    during the epoch), to compare with validation for under- or overfitting."""
    model.train()
    order = torch.randperm(len(train), generator=gen).numpy()
    sums = {"total": 0.0, "task": 0.0, "disp": 0.0, "anc": 0.0, "unimodal": 0.0}
    batches = 0
    correct = 0
    for s in range(0, len(order), cfg.batch_size):
        idx = np.sort(order[s : s + cfg.batch_size])
        inputs = [
            torch.from_numpy(x[idx].astype(np.float32, copy=False))
            for x in train.inputs()
        ]
        xs = augment(inputs[:3], inputs[3], model.encoders, cfg.augment, gen)
        xs, present = drop_modalities(xs, inputs[3], cfg.modality_dropout, gen)
        feats = [model.encoders[m](x) for m, x in zip(MODALITIES, xs)]
        if cfg.feat_dropout > 0:
            feats = [F.dropout(f, cfg.feat_dropout, training=True) for f in feats]
        logits, zs = model.head(feats, present)
        labels = torch.from_numpy(train.label[idx])
        total, parts = dagr_loss(
            logits, labels, zs, present, cfg.dagr, cfg.label_smoothing
        )
        if cfg.unimodal_weight > 0:
            parts["unimodal"] = unimodal_loss(
                model.head.classifier, zs, present, labels, cfg.label_smoothing
            )
            total = total + cfg.unimodal_weight * parts["unimodal"]
        correct += int((logits.argmax(1) == labels).sum())
        opt.zero_grad()
        total.backward()
        opt.step()
        for key in ("task", "anc", "unimodal"):
            if key in parts:
                sums[key] += parts[key].item()
        sums["total"] += total.item()
        sums["disp"] += torch.stack(parts["disp"]).sum().item()
        batches += 1
    means = {k: v / max(batches, 1) for k, v in sums.items()}
    return {**means, "accuracy": correct / max(len(order), 1)}


def validate(model, val, cfg, k):
    """Validation scores with every modality the data has, and the geometry diagnostics."""
    model.eval()
    logits, _, zs = predict(model, val.inputs())
    if len(val) == 0:
        return {"scores": scores(val.label, val.label, k), "diagnostics": None}
    present = torch.from_numpy(val.present)
    with torch.no_grad():
        fused = model.head.fuse(zs, present)
    pred = logits.argmax(1).numpy()
    return {
        "scores": scores(val.label, pred, k),
        "diagnostics": diagnose(
            zs,
            fused,
            present,
            torch.from_numpy(val.label),
            cfg.dagr.tau,
            cfg.dagr.distance,
        ),
    }


def train(data, out, cfg, log=print):
    """Trains on `data`'s train part, validates on its val part, saves the run in `out`."""
    started = time.time()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    manifest, split = load_manifest(data), load_split(data)
    # a single-modality run reads only its own modality's inputs
    modalities = (cfg.only,) if cfg.only else MODALITIES
    # float16 training shards stay float16 in memory (each batch is widened)
    train_s = load_part(data, "train", split, manifest, modalities, widen=False)
    val_s = load_part(data, "val", split, manifest, modalities)
    if cfg.only:
        train_s, val_s = (
            single_modality(train_s, cfg.only),
            single_modality(val_s, cfg.only),
        )
    if len(train_s) == 0:
        raise ValueError(f"{data}: the train part holds no window")
    k = len(manifest["classes"])
    model = FusionModel(
        input_shapes(manifest),
        manifest["classes"],
        cfg.widths,
        cfg.feat_dim,
        cfg.embed_dim,
        cfg.series_steps,
        cfg.temporal_segments,
        cfg.temporal_dilated,
    )
    with torch.no_grad():
        standardization = fit_standardization(model, train_s)
    if cfg.warm_start:
        warm_start(model, cfg.warm_start)
        # the members fitted their standardization on the same training windows
        standardization = current_standardization(model)
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    history, best, best_state = [], None, None
    for epoch in range(cfg.epochs):
        t0 = time.time()
        losses = train_epoch(model, opt, train_s, cfg, gen)
        sched.step()
        v = validate(model, val_s, cfg, k)
        history.append(
            {
                "epoch": epoch + 1,
                "train": losses,
                "val": v,
                "seconds": round(time.time() - t0, 2),
            }
        )
        acc = v["scores"]["accuracy"]
        log(
            f"train {cfg.method or ''} epoch {epoch + 1}/{cfg.epochs}: loss {losses['total']:.4f} (task {losses['task']:.4f}, train acc {losses['accuracy']:.3f}) val acc {acc if acc is None else round(acc, 4)} ({time.time() - t0:.1f} s)"
        )
        if best is None or (
            acc is not None and acc > history[best]["val"]["scores"]["accuracy"]
        ):
            best, best_state = (
                epoch,
                {n: t.clone() for n, t in model.state_dict().items()},
            )
    model.load_state_dict(best_state)
    model.eval()
    info = {
        "config": {
            **asdict(cfg),
            "widths": list(cfg.widths),
            "warm_start": list(cfg.warm_start),
        },
        "training_only": {
            "augment": cfg.augment.to_json(),
            "feat_dropout": cfg.feat_dropout,
            "label_smoothing": cfg.label_smoothing,
            "unimodal_weight": cfg.unimodal_weight,
            "why": "regularization of training; the exported graph and the gateway never apply it",
        },
        "arch": model.arch,
        "size": size_report(model),
        "data": {
            "root": data,
            "spec": manifest["spec"],
            "split": {
                p: {k2: split[p][k2] for k2 in ("rooms", "subjects", "files")}
                for p in ("train", "val", "test")
            },
            "train_windows": len(train_s),
            "val_windows": len(val_s),
        },
        "standardization": standardization,
        "history": history,
        "best_epoch": best + 1,
        "val": history[best]["val"]["scores"],
        "train_seconds": round(time.time() - started, 1),
        "torch": torch.__version__,
    }
    save_run(out, info, model)
    log(
        f"train: best epoch {best + 1}, val {info['val']}, {info['train_seconds']} s -> {out}"
    )
    return info, model
