"""Geometry diagnostics and test-time degradations on hand-made cases."""

import math

import numpy as np
import pytest
import torch

from dagr_train.degrade import degrade, noise_scale
from dagr_train.diagnostics import drift, effective_rank, semantic_margin


def test_effective_rank_counts_equal_directions():
    assert effective_rank(torch.eye(4)) == pytest.approx(4.0)
    assert effective_rank(torch.ones(5, 3)) == pytest.approx(1.0)
    # singular values 3 and 1: p = (0.75, 0.25)
    z = torch.diag(torch.tensor([3.0, 1.0]))
    want = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert effective_rank(z) == pytest.approx(want)


def test_drift_mean_and_fraction_outside_the_band():
    zs = [
        torch.tensor([[1.0, 0.0], [1.0, 0.0]]),
        torch.tensor([[0.0, 1.0], [1.0, 0.0]]),
        torch.tensor([[1.0, 0.0], [0.0, 0.0]]),
    ]
    present = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    d = drift(zs, present, tau=0.5)
    assert d == {"mean": pytest.approx(0.5), "outside_band": pytest.approx(0.5)}
    assert drift(zs, torch.tensor([[1.0, 0.0, 0.0]] * 2), 0.5)["mean"] is None


def test_semantic_margin_between_minus_within():
    z = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    # same class: cosine distance 0; different classes: 1
    assert semantic_margin(z, torch.tensor([0, 0, 1, 1])) == pytest.approx(1.0)
    # within pairs all at distance 1; between pairs: half at 0, half at 1
    assert semantic_margin(z, torch.tensor([0, 1, 0, 1])) == pytest.approx(-0.5)


def test_degradations_touch_only_what_they_say():
    rng = np.random.default_rng(0)
    x = np.ones((2, 4, 1000), np.float32)
    present = np.array([1.0, 0.0])
    dropped = degrade(x, present, "wifi", "rho", 0.3, rng)
    assert 0.25 < 1 - dropped[0].mean() < 0.35 and not dropped[1].any()
    noisy = degrade(x, present, "wifi", "sigma", 2.0, rng, scale=0.5)
    assert 0.9 < noisy[0].std() < 1.1 and not noisy[1].any()
    points = np.zeros((1, 3, 4, 5), np.float32)
    points[0, :, :2] = rng.standard_normal((3, 2, 5)) * 3
    assert noise_scale(points, np.ones(1), "mmwave") == pytest.approx(
        points[0, :, :2].std()
    )
    noisy_points = degrade(points, np.ones(1), "mmwave", "sigma", 1.0, rng)
    assert (
        not noisy_points[0, :, 2:].any()
        and (noisy_points[0, :, :2] != points[0, :, :2]).all()
    )
    missing = degrade(x, present, "wifi", "p", 0.5, rng)
    columns = missing[0].all(axis=0) | ~missing[0].any(axis=0)
    assert columns.all()  # whole time steps vanish
    radar = degrade(
        np.ones((1, 40, 8, 5), np.float32), np.ones(1), "mmwave", "p", 0.5, rng
    )
    frames = radar[0].reshape(40, -1)
    assert set(frames.min(1)) <= {0.0, 1.0} and (frames.min(1) == frames.max(1)).all()
    assert np.array_equal(degrade(x, present, "wifi", "rho", 0.0, rng)[0], x[0])


def test_noise_leaves_the_rows_the_gateway_writes_as_zeros_alone():
    rng = np.random.default_rng(1)
    rfid = rng.standard_normal((2, 6, 30)).astype(np.float32)
    rfid[:, 4:] = 0.0  # rows after the last tag read
    rfid[1, 2] = 0.0  # a tag missing from one window only
    noisy = degrade(rfid, np.ones(2), "rfid", "sigma", 1.0, rng, scale=1.0)
    assert not noisy[:, 4:].any() and not noisy[1, 2].any()
    assert (noisy[0, :4] != rfid[0, :4]).all()
    assert 0.8 < (noisy[0, :4] - rfid[0, :4]).std() < 1.2
