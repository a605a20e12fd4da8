"""Input checks: reserved ids, overlapping parts, shard shapes; each error names the
offending file or flag and the expectation."""

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from dagr_train.corpus import (
    find_dagr,
    merge_manifests,
    parse_ids,
    plan,
    store_half,
)
from dagr_train.data import DataError, load_shard

PARTS = {"train": [1, 2], "val": [3], "test": [4]}


def test_reserved_ids_are_rejected_on_the_command_line():
    assert parse_ids("1, 2,999", "--train-rooms") == [1, 2, 999]
    with pytest.raises(DataError, match="--test-rooms.*1000.*reserved"):
        parse_ids("7,1000", "--test-rooms")
    with pytest.raises(DataError, match="--val-subjects"):
        parse_ids("x", "--val-subjects")


def test_reserved_ids_are_rejected_in_a_plan():
    with pytest.raises(DataError, match="subject id 1003"):
        plan(PARTS, {"train": [1], "val": [2], "test": [1003]}, 1, 0)


def test_a_plan_never_shares_rooms_or_subjects_between_parts():
    with pytest.raises(DataError, match="rooms \\[2\\] occur in both train and val"):
        plan({"train": [1, 2], "val": [2], "test": [4]}, PARTS, 1, 0)
    captures = plan(PARTS, PARTS, 2, 3)
    assert len(captures) == (4 + 1 + 1) * 2
    assert [c.seed for c in captures] == list(range(3001, 3013))
    assert {(c.room, c.subject) for c in captures if c.part == "test"} == {(4, 4)}


def test_zip_pairing_gives_every_capture_its_own_room_and_person():
    rooms = {"train": [1, 2, 3], "val": [41], "test": [47, 48]}
    subjects = {"train": [11, 12, 13], "val": [61], "test": [67, 68]}
    captures = plan(rooms, subjects, 1, 0, "zip")
    assert [(c.part, c.room, c.subject) for c in captures] == [
        ("train", 1, 11),
        ("train", 2, 12),
        ("train", 3, 13),
        ("val", 41, 61),
        ("test", 47, 67),
        ("test", 48, 68),
    ]
    with pytest.raises(DataError, match="train has 3 rooms and 2 subjects"):
        plan(rooms, subjects | {"train": [11, 12]}, 1, 0, "zip")


def test_id_ranges_on_the_command_line():
    assert parse_ids("1-3,7", "--train-rooms") == [1, 2, 3, 7]
    with pytest.raises(DataError, match="--test-rooms.*1000.*reserved"):
        parse_ids("995-1001", "--test-rooms")
    with pytest.raises(DataError, match="--val-rooms"):
        parse_ids("5-3", "--val-rooms")


def test_a_missing_dagr_binary_is_named():
    with pytest.raises(DataError, match="--dagr /nonexistent/dagr"):
        find_dagr("/nonexistent/dagr")


def test_a_shard_with_the_wrong_shape_names_file_tensor_and_expectation(tmp_path):
    shapes = {"mmwave": (4, 2, 5), "wifi": (270, 10), "rfid": (23, 3)}
    n = 2
    tensors = {m: np.zeros((n, *s), np.float32) for m, s in shapes.items()}
    tensors |= {"present": np.ones((n, 3), np.float32)}
    tensors |= {k: np.zeros(n, np.int64) for k in ("label", "room", "subject")}
    path = str(tmp_path / "a.safetensors")
    save_file(tensors, path)
    assert len(load_shard(path, shapes)) == n
    wrong = dict(shapes, wifi=(270, 12))
    with pytest.raises(
        DataError,
        match=r"a.safetensors: tensor `wifi` has shape \[2, 270, 10\], expected \[2, 270, 12\]",
    ):
        load_shard(path, wrong)
    save_file(dict(tensors, present=tensors["present"].astype(np.float16)), path)
    with pytest.raises(
        DataError, match="tensor `present` is float16, expected float32$"
    ):
        load_shard(path, shapes)
    save_file(dict(tensors, rfid=tensors["rfid"].astype(np.float64)), path)
    with pytest.raises(
        DataError, match="`rfid` is float64, expected float32 or float16"
    ):
        load_shard(path, shapes)
    del tensors["label"]
    save_file(tensors, path)
    with pytest.raises(DataError, match="missing tensor `label`"):
        load_shard(path, shapes)


def test_the_command_line_exits_2_naming_the_missing_file(tmp_path, capsys):
    from dagr_train.__main__ import main

    code = main(
        ["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run")]
    )
    assert code == 2
    assert f"{tmp_path / 'none'}/dataset.json: cannot read" in capsys.readouterr().err


def test_extra_training_captures_come_last_and_leave_the_default_seeds_alone():
    rooms = {"train": [1, 2], "val": [41], "test": [47]}
    subjects = {"train": [1, 2], "val": [61], "test": [67]}
    default = plan(rooms, subjects, 1, 0, "zip")
    extra = {"rooms": [61, 62], "subjects": [91, 92]}
    grown = plan(rooms, subjects, 1, 0, "zip", extra)
    assert grown[: len(default)] == default
    assert [(c.part, c.room, c.subject, c.seed) for c in grown[len(default) :]] == [
        ("train", 61, 91, 5),
        ("train", 62, 92, 6),
    ]
    with pytest.raises(DataError, match="extra training rooms \\[2\\]"):
        plan(rooms, subjects, 1, 0, "zip", {"rooms": [2, 62], "subjects": [91, 92]})
    with pytest.raises(DataError, match="rooms \\[41\\] occur in both train and val"):
        plan(rooms, subjects, 1, 0, "zip", {"rooms": [41], "subjects": [91]})
    with pytest.raises(DataError, match="room id 1000"):
        plan(rooms, subjects, 1, 0, "zip", {"rooms": [1000], "subjects": [91]})


def test_export_chunks_merge_counts_and_must_agree():
    a = {
        "format": "f",
        "spec": {"window_s": 2.0},
        "files": [{"file": "a"}],
        "counts": {"windows": 3, "per_class": {"walking": 2, "waving": 1}},
    }
    b = dict(
        a, files=[{"file": "b"}], counts={"windows": 2, "per_class": {"walking": 2}}
    )
    merged = merge_manifests([a, b])
    assert [f["file"] for f in merged["files"]] == ["a", "b"]
    assert merged["counts"] == {"windows": 5, "per_class": {"walking": 4, "waving": 1}}
    with pytest.raises(DataError, match="disagree on dataset.json `spec`"):
        merge_manifests([a, dict(b, spec={"window_s": 3.0})])


def test_inputs_past_float16_range_are_refused_not_stored_as_infinity(tmp_path):
    n = 2
    tensors = {m: np.zeros((n, 3), np.float32) for m in ("mmwave", "wifi", "rfid")}
    tensors |= {"present": np.ones((n, 3), np.float32)}
    path = str(tmp_path / "train_a.safetensors")
    save_file(dict(tensors, rfid=np.full((n, 3), 7e4, np.float32)), path)
    with pytest.raises(DataError, match="`rfid` does not fit float16"):
        store_half(path)
    save_file(tensors, path)
    store_half(path)
    assert load_file(path)["wifi"].dtype == np.float16
