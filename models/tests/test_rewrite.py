"""The export's graph rewrites (dagr_train/rewrite.py: the mmWave point branch, the series
inputs' standardization and pooling, the temporal readouts) keep every output of the graph
PyTorch exported: onnxruntime runs the graph before and after the rewrite on the same
inputs (parity inputs of trained packages, and random models of every encoder variant with
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
from test_model import TEMPORAL, TODAY, small_model

from dagr_train.export import INPUTS, OUTPUTS, export_onnx
from dagr_train.model import FusionModel
from dagr_train.rewrite import (
    PREFIX,
    PointBranchMismatch,
    fast_point_branch,
    fold_series_inputs,
    fold_series_standardization,
    fold_temporal_readouts,
    readout_weights,
    rewrite_for_tract,
    unmasked_layers,
)
from dagr_train.runs import load_run

TOL = 1e-5
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(HERE, "reference")
REFERENCE_BEFORE_REWRITE = "6e7eb35"
"""The commit whose models/reference/model.onnx is PyTorch's graph, before the rewrite."""
ORDER_KEEPING_REFERENCE = "0af576d"
"""The commit of the first order-keeping reference (--temporal-segments 4
--temporal-dilated), exported with only the point branch rewritten."""
EARLIER_BRANCHES = {
    "6148af8": f"{PREFIX}/x_valid",
    "1adb119": f"{PREFIX}/tree0",
}
"""Commits whose models/reference/model.onnx has an earlier version of the rewritten point
branch, by a node only that version has: the second (the mask and biases in a validity
column, the points leading) and the third (a tree of halves for the max over the points,
as in its readouts)."""
POINT_OPS = {
    "Transpose", "Reshape", "Abs", "MatMul", "Sign", "Conv", "Relu", "Mul", "MaxPool",
    "Div", "Concat",
}  # fmt: skip
"""The op types of the current rewritten point branch: no reduction left in it."""


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


def ops(model):
    """The op types of `model`'s nodes outside the rewritten point branch."""
    return {n.op_type for n in model.graph.node if not n.name.startswith(PREFIX)}


def readers(model, tensor):
    """The op types of the nodes reading `tensor`."""
    return sorted(n.op_type for n in model.graph.node if tensor in n.input)


def randomized_standardization(model, seed):
    """`model` with non-trivial standardization constants in every encoder (a fresh
    model's are 0 and 1, which would hide a wrong fold)."""
    gen = torch.Generator().manual_seed(seed)
    for m, enc in model.encoders.items():
        n = enc.norm.mean.numel()
        enc.norm.mean.copy_(torch.randn(n, generator=gen))
        enc.norm.std.copy_(torch.rand(n, generator=gen) * 2 + 0.05)
    return model


@pytest.mark.parametrize(
    "series_steps,temporal", [(False, t) for t in TEMPORAL] + [(True, TEMPORAL[-1])]
)
def test_every_rewrite_keeps_every_output_of_every_encoder_variant(
    series_steps, temporal, tmp_path
):
    model = randomized_standardization(small_model(3, series_steps, **temporal), 3)
    before = pytorch_graph(model, tmp_path)
    after = rewrite_for_tract(before)
    # the readouts are folded in every variant (their max over time one MaxPool); the
    # series inputs where no step channels sit between the standardization and the pooling
    assert not ops(after) & {"ReduceMean", "ReduceMax"}, ops(after)
    assert "MaxPool" in ops(after) and not readout_trees(after)
    if series_steps:
        assert readers(after, "wifi") == ["Sub"]
    else:
        assert readers(after, "wifi") == ["Reshape"]
        assert readers(after, "rfid") == ["Conv"]
        assert "AveragePool" not in ops(after)
        assert not [n.name for n in after.graph.node if "/norm/" in n.name]
    rng = np.random.default_rng(3)
    for batch in (1, 5):
        diffs = max_differences(before, after, random_inputs(rng, batch, TODAY))
        assert max(diffs.values()) < TOL, f"batch {batch}: {diffs}"


@pytest.mark.parametrize("commit", sorted(EARLIER_BRANCHES))
def test_earlier_branches_are_brought_up_to_date_with_every_output_bit(commit):
    """The committed reference of `commit`, rewritten: its point branch and its readouts
    become the current ones and every output keeps its bits, on its parity inputs and on
    random windows with a frame whose point magnitudes cancel in a plain sum."""
    before = onnx.load_from_string(at_commit("models/reference/model.onnx", commit))
    marker = EARLIER_BRANCHES[commit]
    assert marker in branch_names(before)
    after = rewrite_for_tract(before)
    assert marker not in branch_names(after)
    assert point_ops(after) == POINT_OPS
    assert readout_trees(before) and not readout_trees(after)
    inputs = []
    for name in ("b1_all.npz", "b1_no_wifi.npz", "b7_subsets.npz"):
        raw = at_commit(f"models/reference/parity/{name}", commit)
        d = np.load(io.BytesIO(raw))
        inputs.append({k: d[k] for k in INPUTS})
    shapes = {
        v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim[1:])
        for v in before.graph.input
    }
    rng = np.random.default_rng(8)
    for batch in (1, 5):
        window = random_inputs(rng, batch, shapes)
        window["mmwave"][0, 1, :3] = [[1.0, -1.0, 0.0, 0.0, 0.0]] * 3
        inputs.append(window)
    for window in inputs:
        diffs = max_differences(before, after, window)
        assert max(diffs.values()) == 0.0, diffs


def readout_trees(model):
    """The nodes of readouts whose max over time is a tree of halves (an earlier fold)."""
    return [n.name for n in model.graph.node if "/readout_folded/tree" in n.name]


def test_a_pool_that_drops_the_last_steps_is_folded_with_them_dropped(tmp_path):
    """WiFi with 203 steps: the 4-step pool keeps 50 windows and drops 3 steps."""
    shapes = dict(TODAY, wifi=(270, 203))
    torch.manual_seed(4)
    model = FusionModel(shapes, [f"c{i}" for i in range(13)], temporal_segments=4)
    model = randomized_standardization(model.eval(), 4)
    before = pytorch_graph(model, tmp_path)
    after = fold_series_inputs(before)
    assert readers(after, "wifi") == ["Slice"]
    rng = np.random.default_rng(4)
    inputs = random_inputs(rng, 2, shapes)
    inputs["wifi"][..., 200:] = 1e6  # the dropped steps must not reach any output
    diffs = max_differences(before, after, inputs)
    assert max(diffs.values()) < TOL, diffs


def test_readout_weights_give_the_segment_means_and_max_times_the_weight():
    rng = np.random.default_rng(5)
    channels, steps, out = 6, 13, 7
    x = rng.normal(size=(channels, steps))
    spans = [np.arange(0, 3), np.arange(3, 7), np.arange(7, 10), np.arange(10, 13)]
    # concat order: a max between the means, to check the column bookkeeping
    parts = [("ReduceMean", spans[0]), ("ReduceMax", np.arange(steps))]
    parts += [("ReduceMean", s) for s in spans[1:]]
    readout = [
        x[:, s].mean(axis=1) if op == "ReduceMean" else x.max(axis=1) for op, s in parts
    ]
    weight = rng.normal(size=(out, len(parts) * channels))
    average, folded = readout_weights(parts, weight, channels, steps)
    joined = np.concatenate([(x @ average).reshape(-1), x.max(axis=1)])
    np.testing.assert_allclose(
        folded @ joined, weight @ np.concatenate(readout), atol=1e-5
    )


def test_the_series_fold_equals_standardizing_then_the_1x1_convolution():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(9, 11))
    mean, std = rng.normal(size=(1, 9, 1)), rng.random((1, 9, 1)) + 0.1
    weight, bias = rng.normal(size=(4, 9, 1)), rng.normal(size=4)
    folded_w, folded_b = fold_series_standardization(mean, std, weight, bias)
    expected = weight[:, :, 0] @ ((x - mean[0]) / std[0]) + bias[:, None]
    got = folded_w[:, :, 0] @ x + folded_b[:, None]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_graphs_without_the_patterns_are_left_as_they_are(tmp_path):
    x = helper.make_tensor_value_info("wifi", onnx.TensorProto.FLOAT, [1, 4, 8])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph(
        [helper.make_node("ReduceMax", ["wifi"], ["y"], axes=[2], keepdims=0)],
        "g",
        [x],
        [y],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for rewrite in (fold_series_inputs, fold_temporal_readouts):
        assert rewrite(model).graph == model.graph


@pytest.mark.parametrize("seed", [0, 1])
def test_the_rewrite_keeps_every_output_of_a_random_model(seed, tmp_path):
    model = small_model(seed)
    norm = model.encoders["mmwave"].norm
    gen = torch.Generator().manual_seed(seed)
    norm.mean.copy_(torch.randn(5, generator=gen))
    norm.std.copy_(torch.rand(5, generator=gen) * 2 + 0.05)
    before = pytorch_graph(model, tmp_path)
    after = fast_point_branch(before)
    assert point_ops(after) == POINT_OPS
    rng = np.random.default_rng(seed)
    for batch in (1, 5):
        inputs = random_inputs(rng, batch, TODAY)
        # one frame of points with magnitudes that cancel in a plain sum: still valid
        inputs["mmwave"][0, 1, :3] = [[1.0, -1.0, 0.0, 0.0, 0.0]] * 3
        diffs = max_differences(before, after, inputs)
        assert max(diffs.values()) < TOL, f"batch {batch}: {diffs}"


def test_the_exported_package_equals_its_unrewritten_graph_on_its_parity_inputs(
    package, tmp_path
):
    _, run, pkg, _ = package
    _, model = load_run(run)
    before = pytorch_graph(model, tmp_path)
    after = onnx.load(os.path.join(pkg, "model.onnx"))
    assert any(n.name.startswith(PREFIX) for n in after.graph.node), "not rewritten"
    assert not ops(after) & {"ReduceMean", "ReduceMax"}, "readouts not folded"
    for name in sorted(os.listdir(os.path.join(pkg, "parity"))):
        if name.startswith("b"):
            d = np.load(os.path.join(pkg, "parity", name))
            diffs = max_differences(before, after, {k: d[k] for k in INPUTS})
            assert max(diffs.values()) < TOL, f"{name}: {diffs}"


def at_commit(path, commit=REFERENCE_BEFORE_REWRITE):
    """The bytes of `path` (from the repository root) at `commit`."""
    try:
        out = subprocess.run(
            ["git", "-C", HERE, "show", f"{commit}:{path}"],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"the reference graph of {commit} is not in this checkout: {e}")
    return out.stdout


def test_the_first_reference_equals_its_rewrite_on_its_parity_inputs():
    """The rewrite on a trained model's real graph: PyTorch's graph of the first reference
    model (the one the rewrite was written for; models/reference has been retrained since,
    and export rewrites it itself) against fast_point_branch of it, on its parity inputs."""
    before = onnx.load_from_string(at_commit("models/reference/model.onnx"))
    assert not any(n.name.startswith(PREFIX) for n in before.graph.node)
    for after in (fast_point_branch(before), rewrite_for_tract(before)):
        assert_parity_at_commit(before, after, REFERENCE_BEFORE_REWRITE)
        kept = {t.name: t.SerializeToString() for t in after.graph.initializer}
        for t in before.graph.initializer:
            if t.name in kept:
                assert kept[t.name] == t.SerializeToString(), f"{t.name} changed"


def assert_parity_at_commit(before, after, commit):
    """`before` and `after` agree within TOL on the parity inputs of the reference of
    `commit`."""
    for name in ("b1_all.npz", "b1_no_wifi.npz", "b7_subsets.npz"):
        raw = at_commit(f"models/reference/parity/{name}", commit)
        d = np.load(io.BytesIO(raw))
        diffs = max_differences(before, after, {k: d[k] for k in INPUTS})
        assert max(diffs.values()) < TOL, f"{commit} {name}: {diffs}"


def test_the_order_keeping_reference_equals_its_full_rewrite_on_its_parity_inputs():
    """The series and readout rewrites on the trained order-keeping model (segment means,
    dilated convolution), which was committed with only its point branch rewritten."""
    path = "models/reference/model.onnx"
    before = onnx.load_from_string(at_commit(path, ORDER_KEEPING_REFERENCE))
    after = rewrite_for_tract(before)
    assert ops(before) >= {"AveragePool", "ReduceMean", "ReduceMax"}
    assert not ops(after) & {"AveragePool", "ReduceMean", "ReduceMax"}, ops(after)
    assert f"{PREFIX}/masked" in branch_names(before)
    assert f"{PREFIX}/masked" not in branch_names(after), "the earlier branch is kept"
    assert point_ops(after) == POINT_OPS
    assert_parity_at_commit(before, after, ORDER_KEEPING_REFERENCE)


def point_ops(model):
    """The op types of the rewritten point branch's nodes."""
    return {n.op_type for n in model.graph.node if n.name.startswith(PREFIX)}


def branch_names(model):
    """The names of the rewritten point branch's nodes."""
    return {n.name for n in model.graph.node if n.name.startswith(PREFIX)}


def test_unmasked_layers_give_back_the_second_versions_weights_exactly():
    rng = np.random.default_rng(7)
    w1, b1 = rng.normal(size=(5, 16)), rng.normal(size=16)
    w2, b2 = rng.normal(size=(16, 32)), rng.normal(size=32)
    # the second version's layout: b1 from the validity column, which one more hidden
    # unit copies to carry b2
    layer1 = np.zeros((6, 17))
    layer1[:5, :16], layer1[5, :16], layer1[5, 16] = w1, b1, 1.0
    layer2 = np.concatenate([w2, b2[None, :]], axis=0)
    for got, want in zip(unmasked_layers(layer1, layer2), (w1, b1, w2, b2)):
        assert np.array_equal(got, want)


def test_the_committed_reference_is_rewritten_and_keeps_its_head_weights():
    graph = onnx.load(os.path.join(REFERENCE, "model.onnx")).graph
    assert any(n.name.startswith(PREFIX) for n in graph.node)
    points = {n.op_type for n in graph.node if n.name.startswith(PREFIX)}
    assert points == POINT_OPS, points
    readers = {n.op_type for n in graph.node if "mmwave" in n.input}
    assert readers == {"Reshape"}, f"mmwave is read by {readers}"
    # the second round too: series standardization folded into the first layers (WiFi
    # reshaped for its pooling MatMul, RFID straight into its conv), no pooling op left,
    # the maxima over time as trees
    for name, reader in (("wifi", "Reshape"), ("rfid", "Conv")):
        readers = {n.op_type for n in graph.node if name in n.input}
        assert readers == {reader}, f"{name} is read by {readers}"
    # (the head's fusion weights are its own Mul nodes, after the encoders; the point
    # branch's Mul is its mask)
    ops = {
        n.op_type for n in graph.node if not n.name.startswith(("/head/", PREFIX + "/"))
    }
    assert not ops & {"AveragePool", "ReduceMax", "Sub", "Mul"}, ops
    assert not [n.name for n in graph.node if "/readout_folded/tree" in n.name]
    head = load_file(os.path.join(REFERENCE, "head.safetensors"))
    inits = {t.name: t for t in graph.initializer}
    for name, value in head.items():
        assert inits[name].raw_data == value.astype("<f4").tobytes(), name


@pytest.mark.parametrize("rewrite", [fast_point_branch, rewrite_for_tract])
def test_rewriting_twice_changes_nothing(rewrite, tmp_path):
    model = small_model(2, **TEMPORAL[-1])
    once = rewrite(pytorch_graph(model, tmp_path))
    assert rewrite(once).SerializeToString() == once.SerializeToString()


def test_a_graph_without_the_point_encoder_is_refused_naming_the_file():
    x = helper.make_tensor_value_info("mmwave", onnx.TensorProto.FLOAT, [1, 40, 64, 5])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 40, 64, 5])
    scale = numpy_helper.from_array(np.ones(5, np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["mmwave", "scale"], ["y"])], "g", [x], [y], [scale]
    )
    with pytest.raises(PointBranchMismatch, match=r"other\.onnx: input `mmwave`"):
        fast_point_branch(helper.make_model(graph), where="other.onnx")
