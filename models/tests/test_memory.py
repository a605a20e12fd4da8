"""The training data's memory: a split part is loaded at about its own size (not twice),
the standardization statistics are gathered chunk by chunk, and a single-modality
training holds only its own modality."""

import os
import tracemalloc

import numpy as np
import pytest
from safetensors.numpy import load_file

from dagr_train import MODALITIES, train as train_module
from dagr_train.data import (
    COLUMNS,
    Samples,
    input_shapes,
    load_manifest,
    load_shard,
    load_shards,
    load_split,
)
from dagr_train.train import channel_moments, point_values, series_values


def nbytes(samples):
    return sum(getattr(samples, c).nbytes for c in COLUMNS)


def test_a_part_loads_at_its_size_plus_one_shard_and_equals_its_shards(package):
    data = package[0]
    shapes = input_shapes(load_manifest(data))
    files = [os.path.join(data, f) for f in load_split(data)["train"]["files"]]
    assert len(files) >= 2
    shards = [load_shard(f, shapes) for f in files]
    largest = max(nbytes(s) for s in shards)
    tracemalloc.start()
    got = load_shards(files, shapes)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # one shard in flight: its file's bytes and its arrays (loading every shard and
    # concatenating them would be twice the result)
    assert peak <= nbytes(got) + 2.2 * largest + 2**20, (peak, nbytes(got), largest)
    assert peak < 2 * nbytes(got)
    for c in COLUMNS:
        want = np.concatenate([getattr(s, c) for s in shards])
        assert np.array_equal(getattr(got, c), want), c
        assert getattr(got, c).dtype == want.dtype, c


def test_channel_moments_equal_numpy_on_the_selected_windows(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, (50, 4, 7)).astype(np.float32)
    rows = rng.random(50) > 0.3
    monkeypatch.setattr(train_module, "STATS_CHUNK", 8)
    mean, std = channel_moments(x, rows, series_values)
    sel = x[rows].astype(np.float64)
    assert np.allclose(mean, sel.mean(axis=(0, 2)), rtol=1e-12)
    assert np.allclose(std, sel.std(axis=(0, 2)), rtol=1e-12)
    points = rng.normal(0.0, 1.0, (50, 3, 6, 5)).astype(np.float32)
    points[:, :, 4:] = 0.0  # padding points are not values
    mean, std = channel_moments(points, rows, point_values)
    real = points[rows][:, :, :4].reshape(-1, 5).astype(np.float64)
    assert np.allclose(mean, real.mean(0), rtol=1e-12)
    assert np.allclose(std, real.std(0), rtol=1e-12)
    assert channel_moments(x, np.zeros(50, bool), series_values) is None


def test_the_statistics_never_copy_the_selected_windows(monkeypatch):
    x = np.random.default_rng(4).normal(size=(200, 6, 1000)).astype(np.float32)
    rows = np.ones(200, bool)
    monkeypatch.setattr(train_module, "STATS_CHUNK", 8)
    tracemalloc.start()
    channel_moments(x, rows, series_values)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * x.nbytes, (peak, x.nbytes)


@pytest.mark.parametrize("modality", MODALITIES)
def test_a_single_modality_keeps_only_its_own_windows_and_input(modality):
    n = 6
    rng = np.random.default_rng(5)
    shapes = {"mmwave": (2, 3, 5), "wifi": (4, 5), "rfid": (3, 5)}
    present = np.array(
        [[1, 1, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]], np.float32
    )
    s = Samples(
        *(rng.normal(size=(n, *shapes[m])).astype(np.float32) for m in MODALITIES),
        present,
        np.arange(n),
        np.arange(n),
        np.arange(n),
    )
    i = MODALITIES.index(modality)
    keep = present[:, i] > 0.5
    want = getattr(s, modality)[keep]  # before: single_modality reuses s's arrays
    got = train_module.single_modality(s, modality)
    assert got.label.tolist() == np.arange(n)[keep].tolist()
    assert np.array_equal(getattr(got, modality), want)
    for j, m in enumerate(MODALITIES):
        assert getattr(got, m).shape == (keep.sum(), *shapes[m])
        if m != modality:
            assert not getattr(got, m).any(), m
            assert not got.present[:, j].any()
    assert got.present[:, i].all()


def test_shard_headers_give_their_lengths(package):
    from dagr_train.data import shard_header

    data = package[0]
    for f in load_split(data)["train"]["files"]:
        path = os.path.join(data, f)
        assert shard_header(path)[0] == load_file(path)["label"].shape[0]


def test_compaction_in_place_keeps_the_rows_in_order(monkeypatch):
    monkeypatch.setattr(train_module, "COMPACT_CHUNK", 3)
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    keep = np.random.default_rng(6).random(20) > 0.4
    want = x[keep].copy()
    got = train_module.compact(x, keep)
    assert np.array_equal(got, want)
    assert np.shares_memory(got, x), "a view of the column, not a copy"


def test_a_part_loaded_for_one_modality_reads_no_other_input(package):
    from dagr_train.data import load_part

    data = package[0]
    full = load_part(data, "train")
    wifi = load_part(data, "train", modalities=("wifi",))
    assert np.array_equal(wifi.wifi, full.wifi)
    assert np.array_equal(wifi.present, full.present)
    assert np.array_equal(wifi.label, full.label)
    assert not wifi.mmwave.any() and not wifi.rfid.any()
