"""Test-time degradations of one modality, for the robustness curves of the study:
- feature dropout ratio rho: each input value is zeroed with probability rho;
- additive Gaussian noise sigma: N(0, (sigma * scale)^2) added to every value of a present
  sample, `scale` being the modality's standard deviation over the evaluated present
  samples, so a sigma means the same signal-to-noise ratio for every modality; only what
  the gateway wrote gets noise: on mmWave the real points (padding rows stay zero: noise
  must not invent points), on WiFi and RFID the rows with any non-zero value (the RFID
  rows after the last tag read, and a silent link's rows, are always zero from the
  gateway; noise there would test an input the gateway never produces);
- temporal missingness p: each time step (WiFi/RFID: a column of the last axis; mmWave: a
  frame slot, the first sample axis) is zeroed with probability p, as if no record arrived.
Absent samples stay all-zero. The generator is seeded, so a curve is reproducible."""

import numpy as np

KINDS = ("rho", "sigma", "p")


def noise_scale(x, present_col, modality):
    """Standard deviation of the present samples' values (mmWave: of real points only)."""
    x = x[present_col > 0.5]
    if modality == "mmwave":
        x = x.reshape(-1, x.shape[-1])
        x = x[np.abs(x).sum(1) > 0]
    return float(x.std()) if x.size else 1.0


def degrade(x, present_col, modality, kind, level, rng, scale=1.0):
    """A degraded copy of the batch `x` [B, ...] of `modality` (present_col [B] > 0.5 marks
    present samples); `scale` multiplies sigma (see noise_scale)."""
    if kind not in KINDS:
        raise ValueError(f"degradation {kind!r}: expected one of {KINDS}")
    x = x.copy()
    keep = (present_col > 0.5).reshape([-1] + [1] * (x.ndim - 1))
    if kind == "rho":
        x *= rng.random(x.shape) >= level
    elif kind == "sigma":
        noise = (rng.standard_normal(x.shape) * (level * scale)).astype(x.dtype)
        noise *= np.abs(x).sum(axis=-1, keepdims=True) > 0  # points / rows with data
        x += noise
    else:
        time_axis = 1 if modality == "mmwave" else x.ndim - 1
        shape = [x.shape[0]] + [1] * (x.ndim - 1)
        shape[time_axis] = x.shape[time_axis]
        x *= rng.random(shape) >= level
    return np.where(keep, x, 0).astype(np.float32)
