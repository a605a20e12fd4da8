"""`fusion`: choosing a run's fusion weights on validation, and load_run applying them."""

import json
import os
import shutil

import pytest

from dagr_train import fusion
from dagr_train.data import load_part as real_load_part
from dagr_train.runs import FUSION_JSON, load_run


def test_candidates_keep_the_largest_weight_at_the_grid_top():
    got = fusion.candidates((0.5, 1.0))
    assert len(got) == 2**3 - 1
    assert all(max(w) == 1.0 for w in got)
    assert (1.0, 1.0, 1.0) in got and (0.5, 0.5, 0.5) not in got


def test_the_choice_reads_only_validation_and_scores_what_it_writes(
    package, tmp_path, monkeypatch
):
    data, run, _, _ = package
    copy = str(tmp_path / "run")
    shutil.copytree(run, copy)
    os.remove(os.path.join(copy, FUSION_JSON))
    parts = []

    def load_part(root, part):
        parts.append(part)
        return real_load_part(root, part)

    monkeypatch.setattr(fusion, "load_part", load_part)
    doc = fusion.choose(copy, data, (0.25, 0.5, 1.0))
    assert parts == ["val"], "test (or train) data read while choosing"
    assert max(doc["weights"]) == 1.0 and min(doc["weights"]) >= 0.25
    assert doc["val"]["chosen"]["mean"] >= doc["val"]["equal"]["mean"]
    fusion.write(copy, doc)
    # what load_run applies scores what fusion.json says it scored
    _, model = load_run(copy)
    assert model.head.fusion_weights.tolist() == doc["weights"]
    samples = real_load_part(data, "val")
    from dagr_train.evaluate import predict

    zs = predict(model, samples.inputs())[2]
    mean, per = fusion.score(
        model.head, zs, samples.inputs()[3], samples.label, doc["weights"]
    )
    assert mean == pytest.approx(doc["val"]["chosen"]["mean"])
    assert set(per) == {"mmwave+wifi", "mmwave+rfid", "wifi+rfid", "mmwave+wifi+rfid"}


def test_a_run_without_fusion_json_has_equal_weights(package, tmp_path):
    run = package[1]
    copy = str(tmp_path / "run")
    shutil.copytree(run, copy)
    os.remove(os.path.join(copy, FUSION_JSON))
    assert load_run(copy)[1].head.fusion_weights.tolist() == [1.0, 1.0, 1.0]
    assert load_run(run, fusion=False)[1].head.fusion_weights.tolist() == [1.0] * 3


@pytest.mark.parametrize(
    "weights", [[1.0, 0.0, 1.0], [1.0, -2.0, 1.0], [1.0, 1.0], [1.0, "a", 1.0], None]
)
def test_bad_fusion_weights_are_refused_with_the_file_named(package, tmp_path, weights):
    copy = str(tmp_path / "run")
    shutil.copytree(package[1], copy)
    with open(os.path.join(copy, FUSION_JSON), "w") as f:
        json.dump({"weights": weights}, f)
    with pytest.raises(ValueError, match=FUSION_JSON):
        load_run(copy)


def test_a_grid_with_a_non_positive_weight_is_refused(package):
    with pytest.raises(ValueError, match="positive"):
        fusion.choose(package[1], package[0], (0.0, 1.0))


def test_weights_given_by_hand_are_scored_and_written(package, tmp_path):
    data, run, _, _ = package
    copy = str(tmp_path / "run")
    shutil.copytree(run, copy)
    doc = fusion.choose(copy, data, weights=[2.0, 1.0, 0.5])
    assert doc["weights"] == [1.0, 0.5, 0.25]  # scaled so the largest is 1
    assert "by hand" in doc["criterion"]
    assert set(doc["val"]["chosen"]) == {
        "mean",
        *("+".join(s) for s in fusion.FUSED_SUBSETS),
    }
    with pytest.raises(ValueError, match="one per modality"):
        fusion.choose(copy, data, weights=[1.0, 0.5])


def test_the_command_line_names_a_bad_list(package, capsys):
    from dagr_train.__main__ import main

    data, run, _, _ = package
    assert main(["fusion", "--run", run, "--data", data, "--weights", "1,x,1"]) == 2
    assert "--weights '1,x,1': expected numbers" in capsys.readouterr().err
