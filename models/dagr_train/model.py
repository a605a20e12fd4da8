"""The fusion model: one small encoder per modality, then the adaptable head.

Encoders turn each modality's window into a feature vector `feat_<m>` [B, F]; the head
(DESIGN.md "Model package") projects each to an embedding z_m [B, E], fuses the embeddings
of the *present* modalities (masked mean) and classifies the fused vector. Every size
follows the input shapes of dataset.json, so a new PreprocessSpec needs no code change.
The head is kept small and plain (three linear projections, a masked mean, one linear
classifier) because the gateway re-implements it natively in Rust to adapt it."""

import math

import torch
from torch import nn

from . import MODALITIES

MAX_STEPS = 64
"""Series longer than this are average-pooled in time first, bounding the encoder's cost."""


class Standardize(nn.Module):
    """(x - mean) / std with per-channel constants taken from the training set; they are
    buffers, so they travel inside the ONNX graph and the state dict."""

    def __init__(self, channels, axis):
        super().__init__()
        self.axis = axis
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("std", torch.ones(channels))

    def forward(self, x):
        """The module's output for a batch (see the class docstring)."""
        shape = [1] * x.dim()
        shape[self.axis] = -1
        return (x - self.mean.view(shape)) / self.std.view(shape)


def strided_length(steps):
    """Time steps left after one of TemporalEncoder's stride-2 convolutions (k = 5, pad 2)."""
    return (steps - 1) // 2 + 1


def segment_bounds(length, segments):
    """[start, end) of `segments` consecutive, near-equal, non-empty time segments of a
    series of `length` steps; raises when the series is too short to give each one step."""
    if segments > length:
        raise ValueError(
            f"temporal segments {segments}: the convolutions leave only {length} time steps"
        )
    edges = [(i * length + segments // 2) // segments for i in range(segments + 1)]
    return [(edges[i], edges[i + 1]) for i in range(segments)]


def temporal_readout(h, bounds):
    """[B, C, T] -> [B, k * C]: with `bounds` empty, the mean and max over all of time (blind
    to the order of events); otherwise the mean of each time segment, in order, then the
    max over all of time, so "down then still" and "still then up" give different vectors."""
    if not bounds:
        return torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)
    parts = [h[:, :, a:b].mean(dim=2) for a, b in bounds]
    return torch.cat([*parts, h.amax(dim=2)], dim=1)


class TemporalEncoder(nn.Module):
    """A [C, T] series (channels x time) to a feature vector: optional time pooling to at
    most MAX_STEPS, a pointwise channel mixer, two strided temporal convolutions, then a
    readout over time (temporal_readout: mean + max, or `segments` ordered segment means +
    max) and a linear layer to `feat_dim`. With `dilated`, a residual dilated convolution
    (k = 3, dilation 2) after the strided ones widens the receptive field from 13 to 29
    input steps, so one unit can see a whole movement and what follows it."""

    def __init__(self, channels, steps, width, feat_dim, segments=0, dilated=False):
        super().__init__()
        self.pool_k = max(1, math.ceil(steps / MAX_STEPS))
        self.pool = nn.AvgPool1d(self.pool_k) if self.pool_k > 1 else nn.Identity()
        self.net = nn.Sequential(
            nn.Conv1d(channels, width, 1),
            nn.ReLU(),
            nn.Conv1d(width, width, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv1d(width, 2 * width, 5, stride=2, padding=2),
            nn.ReLU(),
        )
        self.dilated = (
            nn.Sequential(
                nn.Conv1d(2 * width, 2 * width, 3, padding=2, dilation=2), nn.ReLU()
            )
            if dilated
            else None
        )
        length = strided_length(strided_length(steps // self.pool_k))
        self.bounds = segment_bounds(length, segments) if segments else []
        readouts = segments + 1 if segments else 2
        self.out = nn.Linear(readouts * 2 * width, feat_dim)

    def forward(self, x):
        """The module's output for a batch (see the class docstring)."""
        h = self.net(self.pool(x))
        if self.dilated is not None:
            h = h + self.dilated(h)
        return self.out(temporal_readout(h, self.bounds))


def step_magnitudes(x):
    """|x[t] - x[t-1]| along the last axis, 0 at t = 0: how fast each row changes. Average
    pooling in time keeps it as the mean |step| of each pooled segment, motion energy that
    pooling the values alone averages away."""
    steps = (x[..., 1:] - x[..., :-1]).abs()
    return torch.cat([torch.zeros_like(x[..., :1]), steps], dim=-1)


class SeriesEncoder(nn.Module):
    """WiFi [rows, T] or RFID [tags, T]: per-row standardization, then a TemporalEncoder;
    with `steps`, each row's step magnitudes (step_magnitudes) are fed as extra channels."""

    def __init__(self, shape, width, feat_dim, steps=False, temporal=None):
        super().__init__()
        rows, length = shape
        self.steps = steps
        self.norm = Standardize(rows, axis=1)
        self.temporal = TemporalEncoder(
            rows * (2 if steps else 1), length, width, feat_dim, **(temporal or {})
        )

    def forward(self, x):
        """The module's output for a batch (see the class docstring)."""
        x = self.norm(x)
        if self.steps:
            x = torch.cat([x, step_magnitudes(x)], dim=1)
        return self.temporal(x)


class PointEncoder(nn.Module):
    """mmWave [frames, points, 5]: a shared per-point MLP on the standardized point values,
    a max over each frame's real points (all-zero rows are padding) plus the frame's point
    fraction, then a TemporalEncoder over the frames."""

    def __init__(self, shape, width, feat_dim, point_width=32, temporal=None):
        super().__init__()
        frames, _, values = shape
        self.norm = Standardize(values, axis=3)
        self.point = nn.Sequential(
            nn.Linear(values, point_width // 2),
            nn.ReLU(),
            nn.Linear(point_width // 2, point_width),
            nn.ReLU(),
        )
        self.temporal = TemporalEncoder(
            point_width + 1, frames, width, feat_dim, **(temporal or {})
        )

    def forward(self, x):
        """The module's output for a batch (see the class docstring)."""
        valid = (x.abs().sum(dim=3, keepdim=True) > 0).to(x.dtype)  # [B, F, P, 1]
        h = (
            self.point(self.norm(x)) * valid
        )  # ReLU output >= 0: padding cannot win the max
        per_frame = torch.cat(
            [h.amax(dim=2), valid.mean(dim=2)], dim=2
        )  # [B, F, W + 1]
        return self.temporal(per_frame.transpose(1, 2))


class Head(nn.Module):
    """Per-modality projection to z_m, fusion masked by `present`, linear classifier.
    An absent modality's embedding is replaced by exact zeros (a select, not a product,
    so even an inf or NaN in an absent input cannot leak) and the fusion is over the
    present ones; with none present the fused vector is zero.

    The fusion is the mean of the present embeddings weighted by `fusion_weights` (one
    positive weight per modality, MODALITIES order): `sum_m w_m z_m / sum_m w_m` over the
    present m. Training keeps them at 1 (the plain masked mean); `fusion.py` may choose
    others on validation for a trained run. They are a constant of the graph, not a
    parameter, and act after z_m, so DAGR (which sees z_m) is the same either way.

    The norm guard (`admitted`, guard.py) leaves out of the fusion a present modality whose
    embedding is longer than its `norm_band` bound (chosen on clean validation windows
    after training; infinite, i.e. off, during training and in the exported graph, where
    the runtime applies it from model.json)."""

    def __init__(self, feat_dim, embed_dim, classes):
        super().__init__()
        self.proj = nn.ModuleDict(
            {m: nn.Linear(feat_dim, embed_dim) for m in MODALITIES}
        )
        self.classifier = nn.Linear(embed_dim, classes)
        # Not in the state dict: a run's chosen weights live in its fusion.json.
        self.register_buffer(
            "fusion_weights", torch.ones(len(MODALITIES)), persistent=False
        )
        # Likewise a run's band.json (guard.py); infinite bounds set nothing aside.
        self.register_buffer(
            "norm_band",
            torch.full((len(MODALITIES),), float("inf")),
            persistent=False,
        )

    def embed(self, feats):
        """z_m for each modality, in MODALITIES order."""
        return [self.proj[m](f) for m, f in zip(MODALITIES, feats)]

    def admitted(self, zs, present):
        """The modalities the fusion takes [B, 3] (bool): the present ones (> 0.5) whose
        embedding's norm is within `norm_band`, or all present ones when none is (the
        fusion is never emptied); a NaN norm is out of band. Without a band, or while
        tracing for export, `present`."""
        mask = present > 0.5
        # An exported graph never has the guard (the runtime applies model.json's band).
        if torch.jit.is_tracing() or not bool(torch.isfinite(self.norm_band).any()):
            return mask
        norms = torch.stack([torch.linalg.vector_norm(z, dim=1) for z in zs], 1)
        kept = mask & (norms <= self.norm_band.to(norms.dtype))
        return torch.where(kept.any(dim=1, keepdim=True), kept, mask)

    def fuse(self, zs, present):
        """Weighted mean of the embeddings of the admitted modalities (see the class
        docstring); with every weight 1 and no band, exactly the plain masked mean."""
        mask = self.admitted(zs, present)
        weights = self.fusion_weights.to(zs[0].dtype)
        total = torch.zeros_like(zs[0])
        weight = torch.zeros_like(zs[0][:, :1])
        for i, z in enumerate(zs):
            keep = mask[:, i : i + 1]
            total = total + torch.where(keep, weights[i] * z, torch.zeros_like(z))
            weight = weight + keep.to(z.dtype) * weights[i]
        return total / torch.where(weight > 0, weight, torch.ones_like(weight))

    def forward(self, feats, present):
        """The module's output for a batch (see the class docstring)."""
        """(logits, embeddings) from the per-modality features and the presence mask."""
        zs = self.embed(feats)
        return self.classifier(self.fuse(zs, present)), zs


class FusionModel(nn.Module):
    """Encoders + head. `forward` has the ONNX signature (mmwave, wifi, rfid, present) ->
    (logits, feat_mmwave, feat_wifi, feat_rfid); `run` also returns the embeddings.
    `classes` are the class names, in logit order. `temporal_segments` and
    `temporal_dilated` choose every encoder's TemporalEncoder readout and depth (0 and
    False: the original mean + max over all time after two convolutions)."""

    def __init__(
        self,
        shapes,
        classes,
        widths=(32, 48, 32),
        feat_dim=64,
        embed_dim=32,
        series_steps=False,
        temporal_segments=0,
        temporal_dilated=False,
    ):
        super().__init__()
        self.arch = {
            "shapes": {m: list(shapes[m]) for m in MODALITIES},
            "classes": list(classes),
            "widths": list(widths),
            "feat_dim": feat_dim,
            "embed_dim": embed_dim,
            "series_steps": series_steps,
            "temporal_segments": temporal_segments,
            "temporal_dilated": temporal_dilated,
        }
        temporal = {"segments": temporal_segments, "dilated": temporal_dilated}
        self.encoders = nn.ModuleDict(
            {
                "mmwave": PointEncoder(
                    shapes["mmwave"], widths[0], feat_dim, temporal=temporal
                ),
                "wifi": SeriesEncoder(
                    shapes["wifi"], widths[1], feat_dim, series_steps, temporal
                ),
                "rfid": SeriesEncoder(
                    shapes["rfid"], widths[2], feat_dim, series_steps, temporal
                ),
            }
        )
        self.head = Head(feat_dim, embed_dim, len(classes))

    def run(self, mmwave, wifi, rfid, present):
        """(logits, feats, embeddings), feats and embeddings in MODALITIES order."""
        inputs = {"mmwave": mmwave, "wifi": wifi, "rfid": rfid}
        feats = [self.encoders[m](inputs[m]) for m in MODALITIES]
        logits, zs = self.head(feats, present)
        return logits, feats, zs

    def forward(self, mmwave, wifi, rfid, present):
        """The module's output for a batch (see the class docstring)."""
        logits, feats, _ = self.run(mmwave, wifi, rfid, present)
        return (logits, *feats)


def parameter_count(module):
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def flops_per_window(model):
    """Floating-point operations of one window's forward pass, measured by torch's
    FlopCounterMode (2 per multiply-add of every matmul and convolution; elementwise ops,
    pooling and the standardization are not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    shapes = model.arch["shapes"]
    inputs = [torch.zeros(1, *shapes[m]) for m in MODALITIES] + [torch.ones(1, 3)]
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    per_module = {m: 0 for m in MODALITIES}
    for name, counts in counter.get_flop_counts().items():
        for m in MODALITIES:
            if name == f"FusionModel.encoders.{m}":
                per_module[m] = sum(counts.values())
    return counter.get_total_flops(), per_module


def size_report(model):
    """Parameters and FLOPs per window, in total and per encoder, for model.json and tests."""
    total_flops, enc_flops = flops_per_window(model)
    return {
        "parameters": parameter_count(model),
        "parameters_per_encoder": {
            m: parameter_count(model.encoders[m]) for m in MODALITIES
        },
        "parameters_head": parameter_count(model.head),
        "flops_per_window": int(total_flops),
        "flops_per_encoder": {m: int(v) for m, v in enc_flops.items()},
        "flops_counted": "2 per multiply-add of matmuls and convolutions (torch FlopCounterMode)",
    }
