"""Warm start from late-fusion members: what is copied from which member, the mean
classifier, and the runs it refuses."""

import pytest
import torch

from dagr_train import MODALITIES
from dagr_train.model import FusionModel
from dagr_train.runs import save_run
from dagr_train.warmstart import warm_start

SHAPES = {"mmwave": (8, 16, 5), "wifi": (12, 32), "rfid": (6, 32)}
CLASSES = ["a", "b", "c"]


def member(tmp_path, only, seed, widths=(8, 8, 8), shapes=SHAPES):
    """A saved single-modality run with random weights; (run dir, model)."""
    torch.manual_seed(seed)
    model = FusionModel(shapes, CLASSES, widths, feat_dim=16, embed_dim=8)
    run = str(tmp_path / f"{only or 'joint'}_{seed}")
    save_run(run, {"arch": model.arch, "config": {"only": only}}, model)
    return run, model


def fresh():
    torch.manual_seed(99)
    return FusionModel(SHAPES, CLASSES, (8, 8, 8), feat_dim=16, embed_dim=8)


def equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_each_modality_comes_from_its_member_and_the_classifier_is_their_mean(tmp_path):
    members = {m: member(tmp_path, m, i) for i, m in enumerate(MODALITIES)}
    model = fresh()
    chosen = warm_start(model, [members[m][0] for m in ("rfid", "mmwave", "wifi")])
    assert chosen == {m: members[m][0] for m in MODALITIES}
    for m, (_, src) in members.items():
        assert equal(model.encoders[m], src.encoders[m])
        assert equal(model.head.proj[m], src.head.proj[m])
        other = next(o for o in MODALITIES if o != m)
        assert not equal(model.encoders[m], members[other][1].encoders[m])
    want = torch.stack([src.head.classifier.weight for _, src in members.values()])
    assert torch.allclose(model.head.classifier.weight, want.mean(0))
    bias = torch.stack([src.head.classifier.bias for _, src in members.values()])
    assert torch.allclose(model.head.classifier.bias, bias.mean(0))


def test_a_joint_run_is_refused(tmp_path):
    run, _ = member(tmp_path, "", 0)
    with pytest.raises(ValueError, match="not a single-modality run"):
        warm_start(fresh(), [run])


def test_a_missing_or_doubled_modality_is_refused(tmp_path):
    mm, _ = member(tmp_path, "mmwave", 0)
    wifi, _ = member(tmp_path, "wifi", 1)
    with pytest.raises(ValueError, match="no member run for rfid"):
        warm_start(fresh(), [mm, wifi])
    mm2, _ = member(tmp_path, "mmwave", 2)
    with pytest.raises(ValueError, match="a second member for mmwave"):
        warm_start(fresh(), [mm, mm2, wifi])


def test_a_member_of_another_architecture_is_refused(tmp_path):
    run, _ = member(tmp_path, "wifi", 0, widths=(8, 16, 8))
    with pytest.raises(ValueError, match=r"another architecture \(widths\)"):
        warm_start(fresh(), [run])


def test_only_the_members_own_input_shape_must_match(tmp_path):
    wider_wifi = dict(SHAPES, wifi=(20, 32))
    # An mmWave member made when the WiFi tensor had another shape gives the same encoder.
    mm, src = member(tmp_path, "mmwave", 0, shapes=wider_wifi)
    wifi, _ = member(tmp_path, "wifi", 1)
    rfid, _ = member(tmp_path, "rfid", 2)
    model = fresh()
    warm_start(model, [mm, wifi, rfid])
    assert equal(model.encoders["mmwave"], src.encoders["mmwave"])
    # A WiFi member of the other WiFi shape is refused, naming the shapes.
    old_wifi, _ = member(tmp_path, "wifi", 3, shapes=wider_wifi)
    with pytest.raises(ValueError, match=r"another architecture \(shapes\)"):
        warm_start(fresh(), [mm, old_wifi, rfid])
