"""End to end on a tiny corpus from the real simulator: `dagr sim` -> `dagr dataset export`
-> corpus split -> train -> eval -> export -> onnxruntime parity and package checks.

The run itself is the session fixture `package` (conftest.py); it needs the `dagr` binary
($DAGR_BIN, else target/release/dagr, else target/debug/dagr; `.ci/run` passes the debug
one it has just built)."""

import glob
import json
import os
from dataclasses import replace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from safetensors.numpy import load_file

from dagr_train import MODALITIES
from dagr_train.corpus import build, find_dagr
from dagr_train.data import DataError, load_part
from dagr_train.degrade import KINDS, degrade, noise_scale
from dagr_train.evaluate import SUBSETS, evaluate_degraded, logits_of
from dagr_train.export import INPUTS, OUTPUTS
from dagr_train.loss import DagrConfig, dagr_loss
from dagr_train.model import Head, size_report
from dagr_train.report import report
from dagr_train.runs import load_run
from dagr_train.study import run_dir, study
from dagr_train.train import TrainConfig, train

from conftest import FUSION_WEIGHTS, TINY

PARITY_TOL = 1e-5


def parity_files(pkg):
    files = sorted(glob.glob(os.path.join(pkg, "parity", "b*.npz")))
    assert files, "no parity files"
    return files


def test_onnxruntime_reproduces_pytorch_on_every_parity_file(package):
    check_parity(package[2])


def check_parity(pkg):
    """onnxruntime reproduces every parity file of package `pkg` within PARITY_TOL times
    max(1, the output's largest magnitude) — absolute 1e-5 for outputs of magnitude ≤ 1;
    for larger ones a few float32 ulps (a trained model's feat_wifi reaches ~70, where one
    ulp is 7.6e-6 and onnxruntime's summation order differs from torch's by a few) —; the
    files cover batch 1 and > 1, all 7 subsets, and absent inputs are all zeros."""
    session = ort.InferenceSession(
        os.path.join(pkg, "model.onnx"), providers=["CPUExecutionProvider"]
    )
    batches = set()
    for path in parity_files(pkg):
        d = np.load(path)
        got = session.run(list(OUTPUTS), {k: d[k] for k in INPUTS})
        for name, value in zip(OUTPUTS, got):
            diff = float(np.abs(value - d[name]).max())
            tol = PARITY_TOL * max(1.0, float(np.abs(d[name]).max()))
            assert diff < tol, f"{path}: {name} differs by {diff} (tolerance {tol})"
        batches.add(d["present"].shape[0])
        absent = d["present"] < 0.5
        for i, m in enumerate(MODALITIES):
            assert not d[m][absent[:, i]].any(), f"{path}: absent {m} is not all zeros"
    assert 1 in batches and max(batches) > 1
    rows = {
        tuple(r)
        for r in np.concatenate([np.load(p)["present"] for p in parity_files(pkg)])
    }
    assert len(rows) == 7, "parity must cover every non-empty modality subset"


def test_the_onnx_graph_matches_model_json_and_the_dataset_spec(package):
    data, _, pkg, _ = package
    check_graph(pkg, json.load(open(os.path.join(data, "dataset.json"))))


def check_graph(pkg, manifest):
    """model.onnx, model.json and a dataset.json (the Rust PreprocessSpec) agree."""
    doc = json.load(open(os.path.join(pkg, "model.json")))
    assert doc["preprocess"] == manifest["spec"]
    assert (doc["window_s"], doc["hop_s"]) == (
        manifest["spec"]["window_s"],
        manifest["spec"]["hop_s"],
    )
    assert doc["classes"] == manifest["classes"]
    graph = onnx.load(os.path.join(pkg, "model.onnx"))
    assert graph.opset_import[0].version >= 17

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    inputs = {v.name: dims(v) for v in graph.graph.input}
    outputs = {v.name: dims(v) for v in graph.graph.output}
    assert list(inputs) == list(INPUTS) and list(outputs) == list(OUTPUTS)
    steps = {"mmwave": "mmwave_frames", "wifi": "wifi_steps", "rfid": "rfid_steps"}
    for m in MODALITIES:
        assert (
            inputs[m] == doc["inputs"][m]["shape"] == ["batch", *manifest["shapes"][m]]
        )
        rate = manifest["spec"][steps[m]] / manifest["spec"]["window_s"]
        assert doc["inputs"][m]["rate_hz"] == pytest.approx(rate)
    assert inputs["present"] == ["batch", 3]
    assert (
        outputs["logits"]
        == doc["outputs"]["logits"]["shape"]
        == ["batch", len(doc["classes"])]
    )


def head_logits(pkg, feats, present, weights=None):
    """The logits model.json's head section describes (float64, numpy): the projections
    of head.safetensors, the weighted masked mean with `head.fusion_weights` (or
    `weights`), the classifier."""
    doc = json.load(open(os.path.join(pkg, "model.json")))["head"]
    w = load_file(os.path.join(pkg, "head.safetensors"))
    f64 = {k: v.astype(np.float64) for k, v in w.items()}
    weights = np.array(weights or doc["fusion_weights"], np.float64)
    total, weight = 0.0, np.zeros((len(present), 1))
    for i, m in enumerate(MODALITIES):
        p = doc["projection"][m]
        z = feats[i].astype(np.float64) @ f64[p["weight"]].T + f64[p["bias"]]
        keep = present[:, i : i + 1] > 0.5
        total = total + np.where(keep, weights[i] * z, 0.0)
        weight = weight + keep * weights[i]
    fused = total / np.where(weight > 0, weight, 1.0)
    c = doc["classifier"]
    return fused @ f64[c["weight"]].T + f64[c["bias"]]


def check_fusion(pkg):
    """model.onnx's logits are model.json's head, fusion weights included, applied to its
    own `feat_*` outputs, on every parity file."""
    session = ort.InferenceSession(
        os.path.join(pkg, "model.onnx"), providers=["CPUExecutionProvider"]
    )
    for path in parity_files(pkg):
        d = np.load(path)
        logits, *feats = session.run(list(OUTPUTS), {k: d[k] for k in INPUTS})
        want = head_logits(pkg, feats, d["present"])
        diff = float(np.abs(logits - want).max())
        assert diff < PARITY_TOL * max(1.0, float(np.abs(want).max())), (path, diff)


def test_the_graphs_logits_are_model_json_s_weighted_head(package):
    _, run, pkg, _ = package
    doc = json.load(open(os.path.join(pkg, "model.json")))
    assert doc["head"]["fusion_weights"] == list(FUSION_WEIGHTS)
    assert load_run(run)[1].head.fusion_weights.tolist() == list(FUSION_WEIGHTS)
    check_fusion(pkg)


def test_unequal_fusion_weights_change_the_fused_logits(package):
    pkg = package[2]
    d = np.load(parity_files(pkg)[-1])
    session = ort.InferenceSession(
        os.path.join(pkg, "model.onnx"), providers=["CPUExecutionProvider"]
    )
    logits, *feats = session.run(list(OUTPUTS), {k: d[k] for k in INPUTS})
    equal = head_logits(pkg, feats, d["present"], [1.0, 1.0, 1.0])
    several = d["present"].sum(1) > 1
    single = d["present"].sum(1) == 1
    assert several.any() and single.any()
    # where two or more modalities are present the weights matter; alone, they do not
    assert np.abs(logits[several] - equal[several]).max() > 1e-3
    assert np.abs(logits[single] - equal[single]).max() < PARITY_TOL * max(
        1.0, float(np.abs(equal).max())
    )


def test_onnx_runs_at_any_batch_with_random_subsets(package):
    data, run, pkg, _ = package
    _, model = load_run(run)
    samples = load_part(data, "train")
    rng = np.random.default_rng(5)
    idx = rng.choice(len(samples), 5, replace=False)
    x = [a[idx].copy() for a in samples.inputs()]
    x[3] = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 0]], np.float32)
    for i in range(3):
        x[i] *= x[3][:, i].reshape([-1] + [1] * (x[i].ndim - 1))
    session = ort.InferenceSession(
        os.path.join(pkg, "model.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(["logits"], dict(zip(INPUTS, x)))[0]
    with torch.no_grad():
        want = model(*(torch.from_numpy(a) for a in x))[0].numpy()
    assert np.abs(got - want).max() < PARITY_TOL


def test_head_safetensors_equals_the_weights_inside_the_onnx_graph(package):
    _, _, pkg, _ = package
    head = load_file(os.path.join(pkg, "head.safetensors"))
    inits = {
        i.name: onnx.numpy_helper.to_array(i)
        for i in onnx.load(os.path.join(pkg, "model.onnx")).graph.initializer
    }
    assert len(head) == 8
    for name, value in head.items():
        assert name in inits, f"{name} not an initializer of model.onnx"
        assert np.array_equal(inits[name], value), name


def test_head_adaptation_vectors_reproduce_from_head_safetensors(package):
    _, _, pkg, _ = package
    doc = json.load(open(os.path.join(pkg, "model.json")))
    cfg = DagrConfig(**doc["head_adaptation"]["dagr"])
    assert cfg.weights() != (0.0, 0.0)
    weights = load_file(os.path.join(pkg, "head.safetensors"))
    files = doc["head_adaptation"]["files"]
    assert {f.rsplit("_", 1)[1] for f in files} == {"float32.npz", "float64.npz"}
    for name in files:
        d = np.load(os.path.join(pkg, "parity", name))
        dtype = torch.float64 if name.endswith("float64.npz") else torch.float32
        head = Head(
            doc["head"]["feat_dim"], doc["head"]["embed_dim"], len(doc["classes"])
        ).to(dtype)
        head.fusion_weights.copy_(torch.tensor(doc["head"]["fusion_weights"]))
        head.load_state_dict(
            {
                k[len("head.") :]: torch.from_numpy(v).to(dtype)
                for k, v in weights.items()
            }
        )
        feats = [torch.from_numpy(d[f"feat_{m}"]) for m in MODALITIES]
        present = torch.from_numpy(d["present"])
        logits, zs = head(feats, present)
        total, _ = dagr_loss(logits, torch.from_numpy(d["labels"]), zs, present, cfg)
        total.backward()
        tol = 1e-12 if dtype == torch.float64 else 1e-5
        assert abs(total.item() - float(d["loss"])) <= tol * max(1.0, abs(total.item()))
        for n, p in head.named_parameters():
            assert np.allclose(p.grad.numpy(), d[f"grad.head.{n}"], atol=tol, rtol=0), n
    f32 = np.load(os.path.join(pkg, "parity", files[0]))
    f64 = np.load(os.path.join(pkg, "parity", files[1]))
    assert f32["grad.head.classifier.weight"].dtype == np.float32
    assert np.allclose(
        f32["grad.head.classifier.weight"],
        f64["grad.head.classifier.weight"],
        atol=1e-5,
    )


def test_the_run_saves_per_epoch_diagnostics_and_its_size(package):
    data, run, pkg, _ = package
    info = json.load(open(os.path.join(run, "run.json")))
    assert len(info["history"]) == 2
    for epoch in info["history"]:
        diag = epoch["val"]["diagnostics"]
        assert set(diag["effective_rank"]) == set(MODALITIES)
        assert all(0 < r <= 32 for r in diag["effective_rank"].values())
        assert 0 <= diag["drift"]["outside_band"] <= 1 and diag["drift"]["mean"] >= 0
        assert "semantic_margin" in diag
        assert 0 <= epoch["train"]["accuracy"] <= 1
    _, model = load_run(run)
    size = size_report(model)  # on the shapes the current export writes
    assert size["flops_per_window"] <= 20e6 and size["parameters"] <= 1e6
    # the run was trained with step channels, and the reloaded model has them
    rows = info["arch"]["shapes"]["wifi"][0]
    assert info["arch"]["series_steps"] is True
    assert model.encoders["wifi"].temporal.net[0].in_channels == 2 * rows
    # ... and the order-keeping readout and dilated convolution, recorded and reloaded
    assert info["arch"]["temporal_segments"] == 4
    assert info["arch"]["temporal_dilated"] is True
    assert info["config"]["temporal_segments"] == 4
    for m in MODALITIES:
        assert len(model.encoders[m].temporal.bounds) == 4
        assert model.encoders[m].temporal.dilated is not None
    encoders = json.load(open(os.path.join(pkg, "model.json")))["encoders"]
    assert (encoders["temporal_segments"], encoders["temporal_dilated"]) == (4, True)
    # the training-only regularizers are recorded with the run, not in the package
    assert info["training_only"]["augment"]["rotate"] == 15.0
    assert info["training_only"]["feat_dropout"] == 0.1
    assert info["training_only"]["label_smoothing"] == 0.05
    assert info["training_only"]["unimodal_weight"] == 0.5
    training = json.load(open(os.path.join(pkg, "model.json")))["training"]
    assert (training["unimodal_weight"], training["warm_start"]) == (0.5, [])
    assert all(e["train"]["unimodal"] > 0 for e in info["history"])
    assert not os.path.exists(os.path.join(data, "captures"))  # keep_captures=False


def test_eval_covers_all_seven_subsets_and_the_report_tabulates_them(package, tmp_path):
    _, run, _, ev = package
    keys = ["+".join(s) for s in SUBSETS]
    for k in keys:
        assert ev["subsets"][k]["n"] > 0
        assert 0 <= ev["subsets"][k]["accuracy"] <= 1
    text = report([os.path.join(run, "eval.json")], "tiny")
    assert "| tiny | 1 |" in text and all(k in text for k in keys)


def test_the_split_holds_out_rooms_and_subjects_together(package, tmp_path):
    data, _, _, _ = package
    split = json.load(open(os.path.join(data, "split.json")))
    train, test = load_part(data, "train"), load_part(data, "test")
    assert not set(train.room) & set(test.room) and not set(train.subject) & set(
        test.subject
    )
    assert set(test.room) == {4} and set(test.subject) == {4}
    bad = dict(split, test=dict(split["test"], rooms=[4, 1]))
    copy = tmp_path / "c"
    copy.mkdir()
    (copy / "dataset.json").write_text(open(os.path.join(data, "dataset.json")).read())
    (copy / "split.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match="rooms \\[1\\] occur in both train and test"):
        load_part(str(copy), "test")


def test_a_chunked_float16_corpus_holds_the_same_windows(package, tmp_path):
    """One capture per export chunk and float16 training shards change no window: the
    manifest and split equal the one-chunk corpus's, validation and test shards keep
    float32 and every value, training inputs are the float32 values rounded to float16."""
    data, _, _, _ = package
    half = str(tmp_path / "half")
    build(
        half,
        find_dagr(os.environ.get("DAGR_BIN")),
        TINY["rooms"],
        TINY["subjects"],
        duration=12.0,
        log=lambda *_: None,
        keep_captures=False,
        half_train=True,
        chunk=1,
    )
    assert not os.path.exists(os.path.join(half, "captures"))

    def manifest(root):
        m = json.load(open(os.path.join(root, "dataset.json")))
        for f in m["files"]:
            f["capture"] = os.path.basename(f["capture"])
        return m

    assert manifest(half) == manifest(data)
    assert json.load(open(os.path.join(half, "split.json"))) == json.load(
        open(os.path.join(data, "split.json"))
    )
    for part in ("train", "val", "test"):
        whole, chunked = load_part(data, part), load_part(half, part)
        for m in MODALITIES:
            a, b = getattr(whole, m), getattr(chunked, m)
            assert b.dtype == np.float32 and a.shape == b.shape
            expected = a.astype(np.float16).astype(np.float32) if part == "train" else a
            assert np.array_equal(b, expected), (part, m)
        for c in ("present", "label", "room", "subject"):
            assert np.array_equal(getattr(whole, c), getattr(chunked, c)), (part, c)
    narrow, wide = load_part(half, "train", widen=False), load_part(half, "train")
    for m in MODALITIES:
        assert getattr(narrow, m).dtype == np.float16
        assert np.array_equal(
            getattr(narrow, m).astype(np.float32), getattr(wide, m)
        ), m
    assert load_part(data, "train", widen=False).wifi.dtype == np.float32
    train_files = json.load(open(os.path.join(half, "split.json")))["train"]["files"]
    stored = load_file(os.path.join(half, train_files[0]))
    assert all(stored[m].dtype == np.float16 for m in MODALITIES)
    assert stored["present"].dtype == np.float32


def test_the_study_trains_side_by_side_reuses_its_runs_and_writes_the_report(
    package, tmp_path
):
    data = package[0]
    base = TrainConfig(epochs=1, batch_size=16, dagr=DagrConfig(lambda_d=0.1))
    out, logged = str(tmp_path / "study"), []
    text = study(data, out, [0], base, methods="bg", jobs=2, log=logged.append)
    assert logged[0] == "study: 4 runs, 0 reused, 4 to train"
    assert "| b | 1 |" in text and "| g | 1 |" in text
    for name in ("report.md", "robustness.png", "diagnostics.png"):
        assert os.path.getsize(os.path.join(out, name)) > 0
    g = json.load(open(os.path.join(out, "evals", "g_s0.json")))
    assert g["subsets"]["mmwave+wifi+rfid"]["n"] > 0
    # a second call trains nothing; a changed recipe is refused, not mixed in
    logged.clear()
    made = os.path.getmtime(os.path.join(out, "evals", "g_s0.json"))
    study(data, out, [0], base, methods="bg", jobs=1, log=logged.append)
    assert logged[0] == "study: 4 runs, 4 reused, 0 to train"
    assert os.path.getmtime(os.path.join(out, "evals", "g_s0.json")) == made
    with pytest.raises(ValueError, match="other settings"):
        study(data, out, [0], replace(base, lr=1e-3), methods="b", log=logged.append)
    # the g members warm-start a joint run: its encoders start as theirs (standardization
    # included, which training does not change), and it trains, saves and scores
    members = [run_dir(out, "g", 0, m) for m in MODALITIES]
    warm = str(tmp_path / "warm")
    train(data, warm, replace(base, warm_start=tuple(members)), log=lambda *_: None)
    info, model = load_run(warm)
    assert info["config"]["warm_start"] == members
    for m, member in zip(MODALITIES, members):
        src = load_run(member)[1].encoders[m].norm
        assert torch.equal(model.encoders[m].norm.std, src.std)
        assert info["standardization"][m]["mean"] == src.mean.tolist()
    assert info["history"][0]["val"]["scores"]["accuracy"] is not None


def test_degraded_scores_equal_a_full_pass_on_the_degraded_inputs(package):
    """evaluate_degraded encodes only the degraded modality again; every curve must score
    what running the whole model (or ensemble) on the degraded inputs scores."""
    data, run, _, _ = package
    _, model = load_run(run)
    samples = load_part(data, "test")
    k = len(model.arch["classes"])
    ensemble = [(m, model) for m in MODALITIES]  # any members will do for the identity
    for models in (model, ensemble):
        fast = evaluate_degraded(models, samples, k)
        clean = samples.inputs()
        for mi, m in enumerate(MODALITIES):
            scale = noise_scale(clean[mi], clean[3][:, mi], m)
            for kind in KINDS:
                for point in fast[f"{m}/{kind}"]:
                    inputs = list(clean)
                    rng = np.random.default_rng(0)
                    inputs[mi] = degrade(
                        clean[mi], clean[3][:, mi], m, kind, point["level"], rng, scale
                    )
                    pred = logits_of(models, inputs).argmax(1).numpy()
                    assert point["accuracy"] == (pred == samples.label).mean(), (
                        m,
                        kind,
                        point["level"],
                    )
