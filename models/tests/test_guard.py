"""The norm guard (guard.py, Head.admitted): a present modality whose embedding is out of
its band is left out of the fusion, never all of them; the bounds are chosen on validation
only, written where `load_run` and the runtime read them, and score what they say."""

import json
import os
import shutil

import numpy as np
import pytest
import torch

from dagr_train import guard
from dagr_train.data import load_part as real_load_part
from dagr_train.model import Head
from dagr_train.runs import BAND_JSON, load_run


def head_with(bounds=None):
    torch.manual_seed(0)
    head = Head(feat_dim=4, embed_dim=2, classes=3)
    if bounds is not None:
        head.norm_band.copy_(torch.tensor(bounds))
    return head


# Three windows of 2-long embeddings per modality; norms: mmwave 5, wifi 1, rfid 13.
ZS = [
    torch.tensor([[3.0, 4.0]] * 3),
    torch.tensor([[1.0, 0.0]] * 3),
    torch.tensor([[5.0, 12.0]] * 3),
]
PRESENT = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])


def test_an_out_of_band_modality_is_set_aside_but_never_the_last_ones():
    head = head_with([6.0, 2.0, 10.0])
    got = head.admitted(ZS, PRESENT).tolist()
    assert got == [[True, True, False], [False, True, False], [False, False, True]]
    # the fusion is the mean over what is admitted
    fused = head.fuse(ZS, PRESENT)
    assert torch.allclose(fused[0], (ZS[0][0] + ZS[1][0]) / 2)
    assert torch.allclose(fused[2], ZS[2][2])  # rfid alone: out of band, kept
    # numpy's rule (guard.admitted, used to score) is the head's
    z = [x.numpy() for x in ZS]
    assert guard.admitted(z, PRESENT.numpy(), [6.0, 2.0, 10.0]).tolist() == got


def test_without_a_band_the_fusion_is_the_plain_masked_mean_bit_for_bit():
    head = head_with()
    mask = PRESENT > 0.5
    assert torch.equal(head.admitted(ZS, PRESENT), mask)
    plain = torch.stack(
        [
            sum(ZS[m][i] for m in range(3) if mask[i, m]) / mask[i].sum()
            for i in range(3)
        ]
    )
    assert torch.equal(head.fuse(ZS, PRESENT), plain)


def test_a_nan_embedding_is_out_of_band():
    head = head_with([100.0, 100.0, 100.0])
    zs = [z.clone() for z in ZS]
    zs[1][0, 0] = float("nan")
    assert head.admitted(zs, PRESENT)[0].tolist() == [True, False, True]
    assert torch.isfinite(head.fuse(zs, PRESENT)[0]).all()


def test_bounds_are_read_on_validation_only_and_written_where_they_are_read(
    package, tmp_path, monkeypatch
):
    data, run, pkg, _ = package
    run_copy, pkg_copy = str(tmp_path / "run"), str(tmp_path / "pkg")
    shutil.copytree(run, run_copy)
    shutil.copytree(pkg, pkg_copy)
    parts = []

    def load_part(root, part):
        parts.append(part)
        return real_load_part(root, part)

    monkeypatch.setattr(guard, "load_part", load_part)
    run_head = guard.RunHead(run_copy)
    doc = guard.choose(run_head, data, quantile=0.5)
    assert parts == ["val"], "test (or train) data read while choosing"
    # the median: about half of the validation windows of each modality lie above it
    samples = real_load_part(data, "val")
    inputs = samples.inputs()
    n = guard.norms(run_head.embed(inputs))
    for i, bound in enumerate(doc["bounds"]):
        above = np.mean(n[inputs[3][:, i] > 0.5, i] > bound)
        assert 0.3 < above <= 0.5, (i, above)
    # the package's onnxruntime embeddings are the run's
    pkg_head = guard.PackageHead(pkg_copy)
    for a, b in zip(pkg_head.embed(inputs), run_head.embed(inputs)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    guard.write_run(run_copy, doc)
    assert load_run(run_copy)[1].head.norm_band.tolist() == pytest.approx(doc["bounds"])
    guard.write_package(pkg_copy, doc)
    with open(os.path.join(pkg_copy, "model.json")) as f:
        assert json.load(f)["head"]["norm_band"]["bounds"] == doc["bounds"]


def test_the_scores_say_what_the_guard_does(package):
    data, run, _, _ = package
    head = guard.RunHead(run)
    scores = guard.score_test(head, data, bounds=[1e-9] * 3)
    # bounds below every norm set nothing aside (never all of them): same as without
    assert set(scores) == {"clean"} | {
        f"{m} sigma {s:g}" for m in ("mmwave", "wifi", "rfid") for s in guard.SIGMAS
    }
    for s in scores.values():
        assert s["with"] == s["without"] and s["set_aside"] == 0.0
    huge = guard.score_test(head, data, bounds=[1e9] * 3)
    assert all(s["set_aside"] == 0.0 for s in huge.values())
    # RFID out of band, the others in: scored as if RFID were absent wherever another is
    no_rfid = guard.score_test(head, data, bounds=[1e9, 1e9, 1e-9])["clean"]
    samples = real_load_part(data, "test")
    inputs = samples.inputs()
    present = inputs[3]
    others = (present[:, :2] > 0.5).any(axis=1)
    masked = present.copy()
    masked[others, 2] = 0.0
    zs = head.embed(inputs)
    want = np.mean(guard.classify(head, zs, masked, None) == samples.label)
    assert no_rfid["with"] == pytest.approx(want)
    assert no_rfid["set_aside"] == pytest.approx(
        np.mean(others & (present[:, 2] > 0.5))
    )
    assert no_rfid["set_aside"] > 0


def test_a_bad_band_json_is_refused_naming_the_file(package, tmp_path):
    copy = str(tmp_path / "run")
    shutil.copytree(package[1], copy)
    with open(os.path.join(copy, BAND_JSON), "w") as f:
        json.dump({"bounds": [1.0, -2.0, 3.0]}, f)
    with pytest.raises(ValueError, match="band.json: `bounds`"):
        load_run(copy)
