"""Test-time degradations of one modality, for the robustness curves of the study:
- feature dropout ratio rho: each input value is zeroed with probability rho;
- additive Gaussian noise sigma: N(0, sigma^2) added to every value of a present sample
  (the inputs are already on the preprocessing's normalized scale);
- temporal missingness p: each time step (WiFi/RFID: a column of the last axis; mmWave: a
  frame slot, the first sample axis) is zeroed with probability p, as if no record arrived.
Absent samples stay all-zero. The generator is seeded, so a curve is reproducible."""

import numpy as np

KINDS = ("rho", "sigma", "p")


def degrade(x, present_col, modality, kind, level, rng):
    """A degraded copy of the batch `x` [B, ...] of `modality` (present_col [B] > 0.5 marks
    present samples)."""
    if kind not in KINDS:
        raise ValueError(f"degradation {kind!r}: expected one of {KINDS}")
    x = x.copy()
    keep = (present_col > 0.5).reshape([-1] + [1] * (x.ndim - 1))
    if kind == "rho":
        x *= rng.random(x.shape) >= level
    elif kind == "sigma":
        x += (rng.standard_normal(x.shape) * level).astype(x.dtype)
    else:
        time_axis = 1 if modality == "mmwave" else x.ndim - 1
        shape = [x.shape[0]] + [1] * (x.ndim - 1)
        shape[time_axis] = x.shape[time_axis]
        x *= rng.random(shape) >= level
    return np.where(keep, x, 0).astype(np.float32)
