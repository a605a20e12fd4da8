"""Training-time augmentation against room and person fingerprints.

The encoders learn the 30-60 training rooms and people and do not carry over to new ones
(train accuracy 0.83 vs validation ~0.5, reports/encoders-2026-12-04.md). Each transform
below perturbs a property that identifies a room or a person more than an activity, on the
raw inputs of a training batch, before modality dropout; every one is off at 0:

- `time_shift` S: each present modality of each sample moves in time by a random whole
  number of steps in [-S * T, S * T] (T its time length; the edge value repeats into the
  gap), so where in the window an activity falls is not a cue;
- `gain` g: each WiFi/RFID row of each sample is multiplied by exp(N(0, g^2)) about its
  training mean (the room's multipath and the tag placement set the row levels);
- `noise` s: Gaussian noise of s training standard deviations of each row (WiFi/RFID) or
  point value (mmWave), only on what the gateway writes (rows with data, real points);
- `row_mask` q: each WiFi/RFID row is replaced by its training mean with probability q
  (a subcarrier or tag the model may not rely on);
- `point_drop` q: each real radar point is removed (zeroed, i.e. made padding) with
  probability q;
- `rotate` a: radar points are rotated about the vertical axis by a random angle in
  [-a, a] degrees, one angle per sample (the person's bearing from the radar differs by
  room);
- `noisy_modality` p: with probability p a sample has one of its present modalities,
  drawn at random, drowned in Gaussian noise of sigma ~ U(0, `noisy_sigma`) times that
  modality's overall standard deviation ([`modality_scale`]), on what the gateway writes
  only; its `present` stays 1. A sensor that turns to noise is not an outage (the gateway
  cannot tell it from a busy scene), so the fusion must learn to lean on the other
  sensors when one of them stops agreeing with them. The test-time counterpart is the
  robustness curves' `sigma` (degrade.py), measured in the same unit.

Absent modalities stay all-zero. Randomness comes from the training generator, so a run is
reproducible from its seed."""

import math
from dataclasses import asdict, dataclass

import torch

from . import MODALITIES


@dataclass
class AugmentConfig:
    """The augmentation of a training run (saved in run.json; training only, not in
    model.json: the gateway never augments)."""

    time_shift: float = 0.0
    gain: float = 0.0
    noise: float = 0.0
    row_mask: float = 0.0
    point_drop: float = 0.0
    rotate: float = 0.0
    noisy_modality: float = 0.0
    noisy_sigma: float = 2.0

    def __post_init__(self):
        for name in ("time_shift", "row_mask", "point_drop", "noisy_modality"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(
                    f"--augment-{name.replace('_', '-')} {v}: expected in [0, 1)"
                )
        for name in ("gain", "noise", "rotate", "noisy_sigma"):
            v = getattr(self, name)
            if v < 0.0:
                raise ValueError(
                    f"--augment-{name.replace('_', '-')} {v}: expected >= 0"
                )

    def active(self):
        """Whether any transform is on (`noisy_sigma` alone is a setting, not one)."""
        settings = asdict(self)
        settings.pop("noisy_sigma")
        return any(v > 0 for v in settings.values())

    def to_json(self):
        """The settings as a plain dict (run.json)."""
        return asdict(self)


def shift_time(x, axis, max_fraction, gen):
    """`x` [B, ...] with each sample moved along `axis` by a random whole number of steps
    in [-max_fraction * T, max_fraction * T]; the edge value fills the gap."""
    steps = x.shape[axis]
    k = int(max_fraction * steps)
    if k == 0:
        return x
    shift = torch.randint(-k, k + 1, (x.shape[0],), generator=gen)
    source = (torch.arange(steps)[None, :] - shift[:, None]).clamp(
        0, steps - 1
    )  # [B, T]
    shape = [x.shape[0]] + [1] * (x.dim() - 1)
    shape[axis] = steps
    index = source.view(shape).expand_as(x)
    return torch.gather(x, axis, index)


def augment_series(x, mean, std, cfg, gen):
    """One WiFi/RFID batch [B, rows, T] (present samples) augmented; `mean`, `std` [rows]
    are the training standardization constants."""
    b, rows, _ = x.shape
    m, s = mean.view(1, rows, 1), std.view(1, rows, 1)
    has_data = (x.abs().sum(dim=2, keepdim=True) > 0).to(x.dtype)
    if cfg.time_shift > 0:
        x = shift_time(x, 2, cfg.time_shift, gen)
    if cfg.gain > 0:
        g = torch.exp(torch.randn(b, rows, 1, generator=gen) * cfg.gain)
        x = m + (x - m) * g
    if cfg.noise > 0:
        x = x + torch.randn(x.shape, generator=gen) * cfg.noise * s
    if cfg.row_mask > 0:
        masked = torch.rand(b, rows, 1, generator=gen) < cfg.row_mask
        x = torch.where(masked, m.expand_as(x), x)
    return x * has_data  # a row the gateway left zero stays zero


def augment_points(x, std, cfg, gen):
    """One mmWave batch [B, frames, points, 5] (x, y, z, v, snr) augmented; `std` [5] is
    the training std of each point value (the noise unit)."""
    valid = (x.abs().sum(dim=3, keepdim=True) > 0).to(x.dtype)
    if cfg.time_shift > 0:
        x = shift_time(x, 1, cfg.time_shift, gen)
        valid = (x.abs().sum(dim=3, keepdim=True) > 0).to(x.dtype)
    if cfg.rotate > 0:
        angle = (torch.rand(x.shape[0], generator=gen) * 2 - 1) * math.radians(
            cfg.rotate
        )
        c, s = angle.cos().view(-1, 1, 1), angle.sin().view(-1, 1, 1)
        px, py = x[..., 0], x[..., 1]
        x = torch.cat(
            [(c * px - s * py)[..., None], (s * px + c * py)[..., None], x[..., 2:]],
            dim=3,
        )
    if cfg.noise > 0:
        x = x + torch.randn(x.shape, generator=gen) * cfg.noise * std.view(1, 1, 1, -1)
    if cfg.point_drop > 0:
        valid = valid * (torch.rand(valid.shape, generator=gen) >= cfg.point_drop)
    return x * valid  # padding and dropped points are all-zero rows


def modality_scale(norm):
    """One standard deviation for a whole modality from its per-row (WiFi/RFID) or
    per-value (mmWave) training constants: the spread of all its values pooled, the within
    part (mean of the variances) plus the between part (variance of the means); what
    degrade.noise_scale measures on evaluated data."""
    within = (norm.std.double() ** 2).mean()
    between = norm.mean.double().var(unbiased=False)
    return float((within + between).sqrt())


def drown_one_modality(inputs, present, encoders, p, max_sigma, gen):
    """`inputs` with, for each sample with probability `p`, one present modality drawn at
    random given Gaussian noise of sigma ~ U(0, max_sigma) modality scales, on rows and
    points with data only (see the module doc)."""
    b = present.shape[0]
    chosen = torch.multinomial(present.float() + 1e-12, 1, generator=gen).view(b)
    hit = (torch.rand(b, generator=gen) < p) & (present.sum(dim=1) > 0)
    sigma = torch.rand(b, generator=gen) * max_sigma
    out = []
    for i, (m, x) in enumerate(zip(MODALITIES, inputs)):
        mine = (
            (hit & (chosen == i)).to(x.dtype) * sigma * modality_scale(encoders[m].norm)
        )
        has_data = (x.abs().sum(dim=-1, keepdim=True) > 0).to(x.dtype)
        noise = torch.randn(x.shape, generator=gen) * has_data
        out.append(x + noise * mine.view([-1] + [1] * (x.dim() - 1)))
    return out


def augment(inputs, present, encoders, cfg, gen):
    """The training inputs (MODALITIES order) augmented by `cfg`; `encoders` hold the
    standardization constants (already fitted). Absent modalities stay zero."""
    if not cfg.active():
        return inputs
    out = []
    for i, (m, x) in enumerate(zip(MODALITIES, inputs)):
        norm = encoders[m].norm
        if m == "mmwave":
            y = augment_points(x, norm.std, cfg, gen)
        else:
            y = augment_series(x, norm.mean, norm.std, cfg, gen)
        gate = (present[:, i] > 0.5).to(x.dtype).view([-1] + [1] * (x.dim() - 1))
        out.append(y * gate)
    if cfg.noisy_modality > 0:
        out = drown_one_modality(
            out, present, encoders, cfg.noisy_modality, cfg.noisy_sigma, gen
        )
    return out
