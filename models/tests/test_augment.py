"""Training-time augmentation (augment.py): each transform does what its flag says, leaves
absent modalities, padding points and rows without data at zero, and is off at 0."""

import math

import pytest
import torch

from dagr_train.augment import (
    AugmentConfig,
    augment,
    augment_points,
    augment_series,
    modality_scale,
)
from dagr_train.model import FusionModel

SHAPES = {"mmwave": (8, 6, 5), "wifi": (4, 20), "rfid": (3, 20)}


def batch(b=5, seed=0):
    """Random inputs with padding points, an all-zero RFID row and one absent sample."""
    g = torch.Generator().manual_seed(seed)
    mm = torch.randn(b, *SHAPES["mmwave"], generator=g)
    mm[:, :, 4:] = 0  # the last two point slots are padding
    wifi = torch.randn(b, *SHAPES["wifi"], generator=g) + 3.0
    rfid = torch.randn(b, *SHAPES["rfid"], generator=g)
    rfid[:, 2] = 0  # a tag never read
    present = torch.ones(b, 3)
    present[0, 1] = 0  # sample 0 has no WiFi
    wifi[0] = 0
    return [mm, wifi, rfid], present


def encoders():
    model = FusionModel(SHAPES, [str(k) for k in range(4)])
    with torch.no_grad():
        model.encoders["wifi"].norm.mean.fill_(3.0)
        model.encoders["wifi"].norm.std.fill_(2.0)
    return model.encoders


def gen(seed=1):
    return torch.Generator().manual_seed(seed)


def test_all_off_returns_the_inputs_unchanged():
    inputs, present = batch()
    assert augment(inputs, present, encoders(), AugmentConfig(), gen()) is inputs


def test_time_shift_moves_each_sample_by_whole_steps_with_the_edge_repeated():
    t = torch.arange(20, dtype=torch.float32) + 1.0
    x = t.repeat(6, 2, 1)  # [6, 2, 20], every row 1..20
    cfg = AugmentConfig(time_shift=0.2)
    y = augment_series(x, torch.zeros(2), torch.ones(2), cfg, gen())
    shifts = set()
    for b in range(6):
        found = [s for s in range(-4, 5) if torch.equal(y[b, 0], (t - s).clamp(1, 20))]
        assert len(found) == 1, y[b, 0]
        assert torch.equal(y[b, 1], y[b, 0])  # one shift per sample, all rows
        shifts.add(found[0])
    assert len(shifts) > 1  # drawn per sample


def test_gain_scales_rows_about_their_training_mean_and_keeps_zero_rows_zero():
    inputs, present = batch()
    enc = encoders()
    cfg = AugmentConfig(gain=0.5)
    wifi = inputs[1].clone()
    wifi[1, 0] = 3.0  # a row at the training mean is a fixed point of the gain
    y = augment_series(wifi, enc["wifi"].norm.mean, enc["wifi"].norm.std, cfg, gen())
    assert torch.allclose(y[1, 0], torch.full((20,), 3.0))
    ratio = (y[2] - 3.0) / (wifi[2] - 3.0)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), rtol=1e-4)  # per row
    assert not torch.allclose(ratio, torch.ones_like(ratio))
    r = augment_series(inputs[2], torch.zeros(3) + 0.5, torch.ones(3), cfg, gen())
    assert torch.count_nonzero(r[:, 2]) == 0  # the unread tag stays unread


def test_noise_is_in_training_stds_and_only_where_the_gateway_writes_data():
    inputs, present = batch(b=64)
    enc = encoders()
    out = augment(inputs, present, enc, AugmentConfig(noise=0.5), gen())
    diff = out[1][1:] - inputs[1][1:]
    assert diff.std().item() == pytest.approx(0.5 * 2.0, rel=0.05)
    assert torch.count_nonzero(out[1][0]) == 0  # absent WiFi stays zero
    assert torch.count_nonzero(out[2][:, 2]) == 0  # row without data
    assert torch.count_nonzero(out[0][:, :, 4:]) == 0  # padding points


def test_row_mask_puts_the_training_mean_in_masked_rows():
    inputs, present = batch(b=40)
    enc = encoders()
    out = augment(inputs, present, enc, AugmentConfig(row_mask=0.5), gen())
    rows = out[1][1:]  # present samples, [B, rows, T]
    masked = (rows == 3.0).all(dim=2)
    kept = (rows == inputs[1][1:]).all(dim=2)
    assert bool((masked | kept).all())
    assert 0.3 < masked.float().mean().item() < 0.7


def test_point_drop_removes_whole_real_points_only():
    inputs, _ = batch(b=20)
    x = inputs[0]
    y = augment_points(x, torch.ones(5), AugmentConfig(point_drop=0.5), gen())
    zero = (y == 0).all(dim=3)
    same = (y == x).all(dim=3)
    assert bool((zero | same).all())
    dropped = zero[:, :, :4].float().mean().item()
    assert 0.4 < dropped < 0.6
    assert bool(zero[:, :, 4:].all())


def test_rotation_turns_points_about_the_vertical_axis():
    inputs, _ = batch(b=10)
    x = inputs[0]
    y = augment_points(x, torch.ones(5), AugmentConfig(rotate=30.0), gen())
    r_in = x[..., 0].hypot(x[..., 1])
    assert torch.allclose(y[..., 0].hypot(y[..., 1]), r_in, atol=1e-5)
    assert torch.equal(y[..., 2:], x[..., 2:])
    angle = torch.atan2(y[..., 1], y[..., 0]) - torch.atan2(x[..., 1], x[..., 0])
    angle = torch.remainder(angle + math.pi, 2 * math.pi) - math.pi
    real = r_in > 1e-3
    per_sample = [angle[b][real[b]] for b in range(10)]
    for a in per_sample:
        assert torch.allclose(a, a[:1].expand_as(a), atol=1e-4)  # one angle per sample
        assert abs(a[0].item()) <= math.radians(30.0) + 1e-5
    assert len({round(a[0].item(), 4) for a in per_sample}) > 1


def test_bad_settings_name_their_flag():
    with pytest.raises(ValueError, match="--augment-row-mask 1.0"):
        AugmentConfig(row_mask=1.0)
    with pytest.raises(ValueError, match="--augment-gain -0.1"):
        AugmentConfig(gain=-0.1)


def test_a_drowned_modality_gets_noise_in_its_own_scale_on_data_only():
    inputs, present = batch(b=400)
    present[1:, 0] = 0  # mmWave absent from all but sample 0: never drowned there
    inputs[0][1:] = 0
    enc = encoders()
    cfg = AugmentConfig(noisy_modality=0.5, noisy_sigma=2.0)
    out = augment(inputs, present, enc, cfg, gen())
    changed = [(o != x).flatten(1).any(dim=1) for o, x in zip(out, inputs)]
    # at most one modality a sample, about half the samples, never an absent one
    per_sample = torch.stack(changed, 1).sum(dim=1)
    assert int(per_sample.max()) == 1
    assert 0.4 < per_sample.float().mean().item() < 0.6
    assert not bool(changed[0][1:].any()) and not bool(changed[1][0])
    # WiFi's scale: rows with mean 3 and std 2 pooled -> 2; sigma ~ U(0, 2) -> mean |sigma| 1
    hit = changed[1]
    spread = (out[1][hit] - inputs[1][hit]).flatten(1).std(dim=1)
    assert spread.max().item() < 2.0 * 2.0 * 1.2
    assert spread.mean().item() == pytest.approx(2.0, rel=0.15)
    assert torch.count_nonzero(out[2][:, 2]) == 0  # an unread tag stays unread


def test_modality_scale_pools_the_rows_means_and_spreads():
    enc = encoders()
    norm = enc["wifi"].norm
    assert modality_scale(norm) == pytest.approx(2.0)  # equal means: the rows' std
    with torch.no_grad():
        norm.mean.copy_(torch.tensor([0.0, 0.0, 2.0, 2.0]))
    assert modality_scale(norm) == pytest.approx(math.sqrt(4.0 + 1.0))
