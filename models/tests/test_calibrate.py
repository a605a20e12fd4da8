"""The calibration probe over a training corpus (`models/calibrate_sim.py --corpus`): it
trains on the corpus's train part and scores the held-out parts named, draws each seed's
training captures as documented, keeps features between runs, and refuses what it must.

The probe needs scikit-learn, which lives in the tools venv ($DAGR_PYTHON, set by
.ci/run; else ~/.cache/dagr/venv), not in the training venv: it runs as a subprocess."""

import json
import os
import shutil
import subprocess

import numpy as np

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "calibrate_sim.py")


def tools_python():
    python = os.environ.get("DAGR_PYTHON") or os.path.expanduser(
        "~/.cache/dagr/venv/bin/python"
    )
    assert os.path.exists(python), (
        f"{python}: the probe needs the tools venv with scikit-learn "
        "(bash .ci/run creates it from tests/peers/requirements.txt)"
    )
    return python


def probe(corpus, out, *flags):
    """Runs the probe; returns (exit code, stdout + stderr, report or None)."""
    report = os.path.join(out, "probe.json")
    if os.path.exists(report):
        os.remove(report)
    cmd = [tools_python(), SCRIPT, "--corpus", corpus, "--json", report, *flags]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    loaded = json.load(open(report)) if os.path.exists(report) else None
    return r.returncode, r.stdout + r.stderr, loaded


def split_of(corpus):
    return json.load(open(os.path.join(corpus, "split.json")))


def windows_of(corpus):
    """Windows per (room, subject) in the corpus's manifest."""
    manifest = json.load(open(os.path.join(corpus, "dataset.json")))
    return {(e["room"], e["subject"]): e["windows"] for e in manifest["files"]}


def test_the_probe_trains_on_the_train_part_and_scores_the_held_out_one(
    package, tmp_path
):
    corpus = package[0]
    split, windows = split_of(corpus), windows_of(corpus)
    cache = str(tmp_path / "features")
    code, log, report = probe(corpus, str(tmp_path), "--seeds", "0,1", "--work", cache)
    assert code == 0, log
    assert report["ranges"]["test_rooms"] == split["test"]["rooms"]
    assert report["test_parts"] == ["test"]
    for seed in report["per_seed"]:
        # A bootstrap draw: as many training captures as the part has, each one of them.
        drawn = [tuple(p) for p in seed["train_pairs"]]
        assert len(drawn) == len(split["train"]["files"])
        assert {(r, s) for r, s in drawn} <= set(windows) - {(4, 4), (3, 3)}
        assert seed["train_windows"] == sum(windows[p] for p in drawn)
        assert [tuple(p) for p in seed["test_pairs"]] == [(4, 4)]
        assert seed["test_windows"] == windows[(4, 4)]
        for name in ("mmwave", "wifi", "rfid", "fused"):
            assert 0.0 <= seed["results"][name]["test_accuracy"] <= 1.0
    # Every capture's features were kept, and a second run reads them: same report.
    kept = sorted(os.listdir(cache))
    files = split["train"]["files"] + split["test"]["files"]
    assert kept == sorted(f + ".npz" for f in files)
    code, log, again = probe(corpus, str(tmp_path), "--seeds", "0,1", "--work", cache)
    assert code == 0, log
    assert again["per_seed"] == report["per_seed"]


def test_kept_features_are_read_until_their_shard_changes(package, tmp_path):
    corpus = str(tmp_path / "corpus")
    shutil.copytree(package[0], corpus, ignore=shutil.ignore_patterns("captures"))
    cache = str(tmp_path / "features")
    flags = ("--seeds", "0", "--work", cache)
    code, log, first = probe(corpus, str(tmp_path), *flags)
    assert code == 0, log
    assert first["per_seed"][0]["test_present"] != [0.0, 0.0, 0.0]
    # Blank the kept presence mask of the test capture: the next run must report it.
    test_file = split_of(corpus)["test"]["files"][0]
    stored = os.path.join(cache, test_file + ".npz")
    kept = dict(np.load(stored))
    np.savez(stored, **{**kept, "present": np.zeros_like(kept["present"])})
    code, log, blanked = probe(corpus, str(tmp_path), *flags)
    assert code == 0, log
    assert blanked["per_seed"][0]["test_present"] == [0.0, 0.0, 0.0]
    # A shard written since (here: its time changed) is read again, not the kept features.
    os.utime(os.path.join(corpus, test_file))
    code, log, again = probe(corpus, str(tmp_path), *flags)
    assert code == 0, log
    assert again["per_seed"] == first["per_seed"]


def test_a_learning_curve_draws_without_replacement_and_val_can_be_scored(
    package, tmp_path
):
    corpus = package[0]
    code, log, report = probe(
        corpus,
        str(tmp_path),
        "--seeds",
        "3",
        "--train-captures",
        "2",
        "--test-parts",
        "test,val",
    )
    assert code == 0, log
    (seed,) = report["per_seed"]
    drawn = [tuple(p) for p in seed["train_pairs"]]
    assert len(drawn) == 2 and len(set(drawn)) == 2
    assert sorted(tuple(p) for p in seed["test_pairs"]) == [(3, 3), (4, 4)]
    assert report["ranges"]["val_rooms"] == [3]


def test_the_probe_refuses_what_it_cannot_do(package, tmp_path):
    corpus = package[0]
    code, log, _ = probe(corpus, str(tmp_path), "--train-captures", "50")
    assert code != 0 and "the corpus has 4" in log, log
    code, log, _ = probe(corpus, str(tmp_path), "--test-parts", "train")
    assert code != 0 and "the train part is what the probe trains on" in log, log
    code, log, _ = probe(corpus, str(tmp_path), "--test-parts", "holdout")
    assert code != 0 and "no part 'holdout'" in log, log


def test_reserved_rooms_are_refused(package, tmp_path):
    copy = str(tmp_path / "corpus")
    shutil.copytree(package[0], copy, ignore=shutil.ignore_patterns("captures"))
    manifest_path = os.path.join(copy, "dataset.json")
    manifest = json.load(open(manifest_path))
    test_file = split_of(copy)["test"]["files"][0]
    for entry in manifest["files"]:
        if entry["file"] == test_file:
            entry["room"] = 1004
    json.dump(manifest, open(manifest_path, "w"))
    code, log, report = probe(copy, str(tmp_path))
    assert code != 0 and "reserved for outside evaluation" in log, log
    assert report is None
