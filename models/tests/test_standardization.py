"""The encoders' input scaling: constant rows are left unscaled, and the step-magnitude
channels of the series encoders."""

import numpy as np
import torch

from dagr_train.data import Samples
from dagr_train.model import FusionModel, SeriesEncoder, step_magnitudes
from dagr_train.train import fit_standardization, robust_std

SHAPES = {"mmwave": (4, 6, 5), "wifi": (6, 10), "rfid": (8, 12)}


def samples(n=50, seed=0):
    """Windows like the gateway's: RFID rows 4-7 are padding (always zero, as after the
    last tag read), one WiFi row is constant."""
    rng = np.random.default_rng(seed)
    rfid = rng.normal(0.0, 0.5, (n, 8, 12)).astype(np.float32)
    rfid[:, 4:] = 0.0
    wifi = rng.normal(0.0, 2.0, (n, 6, 10)).astype(np.float32)
    wifi[:, 5] = 0.0
    mmwave = rng.normal(0.0, 1.0, (n, 4, 6, 5)).astype(np.float32)
    mmwave[:, :, 3:] = 0.0  # padding points
    present = np.ones((n, 3), np.float32)
    zeros = np.zeros(n, np.int64)
    return Samples(mmwave, wifi, rfid, present, zeros, zeros, zeros)


def test_a_constant_channel_is_left_unscaled_and_real_channels_keep_their_std():
    std = np.array([0.5, 2.0, 0.0, 1e-6, 1.0])
    out = robust_std(std)
    assert out.tolist() == [0.5, 2.0, 1.0, 1.0, 1.0]


def test_padding_rows_get_std_one_so_noise_on_them_is_not_amplified():
    torch.manual_seed(0)
    model = FusionModel(SHAPES, ["a", "b"])
    train = samples()
    with torch.no_grad():
        consts = fit_standardization(model, train)
    rfid_std = np.array(consts["rfid"]["std"])
    assert np.all(rfid_std[4:] == 1.0)
    assert np.all(np.abs(rfid_std[:4] - 0.5) < 0.05)
    assert consts["wifi"]["std"][5] == 1.0
    noisy = torch.from_numpy(train.rfid[:1]).clone()
    noisy[:, 4:] += 0.1  # a small disturbance on the padding rows
    with torch.no_grad():
        scaled = model.encoders["rfid"].norm(noisy)
    assert torch.allclose(scaled[:, 4:], torch.full_like(scaled[:, 4:], 0.1))


def test_step_magnitudes_are_absolute_differences_along_time():
    x = torch.tensor([[[0.0, 1.0, -2.0, -2.0]], [[3.0, 3.0, 4.0, 0.0]]])
    want = torch.tensor([[[0.0, 1.0, 3.0, 0.0]], [[0.0, 0.0, 1.0, 4.0]]])
    assert torch.equal(step_magnitudes(x), want)


def test_the_series_encoder_with_steps_reads_twice_the_rows_and_uses_them():
    torch.manual_seed(0)
    plain, with_steps = SeriesEncoder((6, 10), 8, 4), SeriesEncoder((6, 10), 8, 4, True)
    assert plain.temporal.net[0].in_channels == 6
    assert with_steps.temporal.net[0].in_channels == 12
    x = torch.randn(3, 6, 10)
    with torch.no_grad():
        before = with_steps(x)
        with_steps.temporal.net[0].weight[:, 6:] = 0.0  # cut the step channels
        after = with_steps(x)
    assert before.shape == (3, 4)
    assert not torch.allclose(before, after)


def test_the_option_is_recorded_in_the_architecture():
    model = FusionModel(SHAPES, ["a", "b"], series_steps=True)
    assert model.arch["series_steps"] is True
    assert model.encoders["wifi"].temporal.net[0].in_channels == 12
    assert model.encoders["mmwave"].temporal.net[0].in_channels == 33
