"""The export's graph rewrite of the mmWave point branch (dagr_train/rewrite.py) keeps every
output of the graph PyTorch exported: onnxruntime runs the graph before and after the
rewrite on the same inputs (parity inputs of a trained package, and random models with
padded points and absent modalities) and the outputs agree within 1e-5."""

import io
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper, numpy_helper
from safetensors.numpy import load_file
from test_model import TODAY, small_model

from dagr_train.export import INPUTS, OUTPUTS, export_onnx
from dagr_train.rewrite import PREFIX, PointBranchMismatch, fast_point_branch
from dagr_train.runs import load_run

TOL = 1e-5
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(HERE, "reference")
REFERENCE_BEFORE_REWRITE = "6e7eb35"
"""The commit whose models/reference/model.onnx is PyTorch's graph, before the rewrite."""


def session(model):
    """An onnxruntime session of an in-memory ModelProto (one thread: deterministic)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )


def max_differences(before, after, inputs):
    """{output: max |before - after|} of two graphs run by onnxruntime on `inputs`."""
    a = session(before).run(list(OUTPUTS), inputs)
    b = session(after).run(list(OUTPUTS), inputs)
    return {n: float(np.abs(x - y).max()) for n, x, y in zip(OUTPUTS, a, b)}


def random_inputs(rng, batch, shapes):
    """Inputs like real windows: mmWave frames with 0-64 real points (the rest all-zero
    padding), some frames empty, random presence with absent modalities zeroed."""
    frames, points, values = shapes["mmwave"]
    mmwave = rng.normal(0, 1, (batch, frames, points, values)).astype(np.float32)
    real = rng.integers(0, points + 1, size=(batch, frames))
    real[:, ::7] = 0
    mmwave[np.arange(points)[None, None, :] >= real[..., None]] = 0.0
    inputs = {
        "mmwave": mmwave,
        "wifi": rng.normal(0, 1, (batch, *shapes["wifi"])).astype(np.float32),
        "rfid": rng.normal(0, 1, (batch, *shapes["rfid"])).astype(np.float32),
        "present": (rng.random((batch, 3)) > 0.3).astype(np.float32),
    }
    for i, m in enumerate(("mmwave", "wifi", "rfid")):
        inputs[m] *= inputs["present"][:, i].reshape([-1] + [1] * (inputs[m].ndim - 1))
    return inputs


def pytorch_graph(model, tmp_path):
    """The graph PyTorch exports for `model`, without the rewrite."""
    path = str(tmp_path / "plain.onnx")
    export_onnx(model, path, rewrite=False)
    return onnx.load(path)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_rewrite_keeps_every_output_of_a_random_model(seed, tmp_path):
    model = small_model(seed)
    norm = model.encoders["mmwave"].norm
    gen = torch.Generator().manual_seed(seed)
    norm.mean.copy_(torch.randn(5, generator=gen))
    norm.std.copy_(torch.rand(5, generator=gen) * 2 + 0.05)
    before = pytorch_graph(model, tmp_path)
    after = fast_point_branch(before)
    rng = np.random.default_rng(seed)
    for batch in (1, 5):
        diffs = max_differences(before, after, random_inputs(rng, batch, TODAY))
        assert max(diffs.values()) < TOL, f"batch {batch}: {diffs}"


def test_the_exported_package_equals_its_unrewritten_graph_on_its_parity_inputs(
    package, tmp_path
):
    _, run, pkg, _ = package
    _, model = load_run(run)
    before = pytorch_graph(model, tmp_path)
    after = onnx.load(os.path.join(pkg, "model.onnx"))
    assert any(n.name.startswith(PREFIX) for n in after.graph.node), "not rewritten"
    for name in sorted(os.listdir(os.path.join(pkg, "parity"))):
        if name.startswith("b"):
            d = np.load(os.path.join(pkg, "parity", name))
            diffs = max_differences(before, after, {k: d[k] for k in INPUTS})
            assert max(diffs.values()) < TOL, f"{name}: {diffs}"


def at_commit(path):
    """The bytes of `path` (from the repository root) at REFERENCE_BEFORE_REWRITE."""
    try:
        out = subprocess.run(
            ["git", "-C", HERE, "show", f"{REFERENCE_BEFORE_REWRITE}:{path}"],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"the unrewritten reference graph is not in this checkout: {e}")
    return out.stdout


def test_the_first_reference_equals_its_rewrite_on_its_parity_inputs():
    """The rewrite on a trained model's real graph: PyTorch's graph of the first reference
    model (the one the rewrite was written for; models/reference has been retrained since,
    and export rewrites it itself) against fast_point_branch of it, on its parity inputs."""
    before = onnx.load_from_string(at_commit("models/reference/model.onnx"))
    assert not any(n.name.startswith(PREFIX) for n in before.graph.node)
    after = fast_point_branch(before)
    for name in ("b1_all.npz", "b1_no_wifi.npz", "b7_subsets.npz"):
        raw = at_commit(f"models/reference/parity/{name}")
        d = np.load(io.BytesIO(raw))
        diffs = max_differences(before, after, {k: d[k] for k in INPUTS})
        assert max(diffs.values()) < TOL, f"{name}: {diffs}"
    kept = {t.name: t.SerializeToString() for t in after.graph.initializer}
    for t in before.graph.initializer:
        if t.name in kept:
            assert kept[t.name] == t.SerializeToString(), f"{t.name} changed"


def test_the_committed_reference_is_rewritten_and_keeps_its_head_weights():
    graph = onnx.load(os.path.join(REFERENCE, "model.onnx")).graph
    assert any(n.name.startswith(PREFIX) for n in graph.node)
    readers = {n.op_type for n in graph.node if "mmwave" in n.input}
    assert readers == {"Transpose"}, f"mmwave is read by {readers}"
    head = load_file(os.path.join(REFERENCE, "head.safetensors"))
    inits = {t.name: t for t in graph.initializer}
    for name, value in head.items():
        assert inits[name].raw_data == value.astype("<f4").tobytes(), name


def test_rewriting_twice_changes_nothing(tmp_path):
    once = fast_point_branch(pytorch_graph(small_model(2), tmp_path))
    assert fast_point_branch(once).SerializeToString() == once.SerializeToString()


def test_a_graph_without_the_point_encoder_is_refused_naming_the_file():
    x = helper.make_tensor_value_info("mmwave", onnx.TensorProto.FLOAT, [1, 40, 64, 5])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 40, 64, 5])
    scale = numpy_helper.from_array(np.ones(5, np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["mmwave", "scale"], ["y"])], "g", [x], [y], [scale]
    )
    with pytest.raises(PointBranchMismatch, match=r"other\.onnx: input `mmwave`"):
        fast_point_branch(helper.make_model(graph), where="other.onnx")
