"""How much tract gains if the WiFi and RFID branches' input standardization were folded
into their first convolution (and, with --fold-pool, the WiFi branch's average pool too):
a measurement for BENCHMARKS.md ("Inference latency per window"), not a change to the
committed model.

Both branches start `(x - mean) / std` (per input row, constants), and the WiFi branch
then averages 4 steps (AveragePool k=4, s=4) before a 1x1 convolution; the RFID branch
goes straight into its 1x1 convolution. A per-row affine map commutes with the pool, so
the first convolution can take the raw (pooled) input:

    Conv(k=1): W'[o, c] = W[o, c] / std[c],  b' = b - sum_c W[o, c] mean[c] / std[c]

and with --fold-pool the WiFi convolution takes the unpooled input as Conv(k=4, s=4),
W'[o, c, j] = W[o, c] / (4 std[c]) (computed in float64). tract runs the standardization
as a broadcasting Sub+Mul and the pool as OptSumPool, which pays per output value. This
script writes a copy of a model package with the folded graph and checks with onnxruntime
that every output on the package's parity files stays within --tol of the original's:

    ~/.cache/dagr/train-venv/bin/python bench/fold_branch_inputs.py models/reference /tmp/folded
    cargo run --release -p dagr-infer --features ort --example latency -- --model /tmp/folded
"""

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper


def _consumers(graph, name):
    return [n for n in graph.node if name in n.input]


def _node(graph, name):
    found = [n for n in graph.node if n.name == name]
    if len(found) != 1:
        sys.exit(f"model.onnx: expected one node {name}, found {len(found)}")
    return found[0]


def fold(model, branch, pool, fold_pool):
    """Folds `branch`'s norm (and its pool when `fold_pool`) into its first convolution;
    `pool`: the branch has the average pool."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    sub = _node(graph, f"/{branch}/norm/Sub")
    div = _node(graph, f"/{branch}/norm/Div")
    conv = _node(graph, f"/{branch}/temporal/net/net.0/Conv")
    mean = numpy_helper.to_array(inits[sub.input[1]]).astype(np.float64).reshape(-1)
    std = numpy_helper.to_array(inits[div.input[1]]).astype(np.float64).reshape(-1)
    weight = numpy_helper.to_array(inits[conv.input[1]]).astype(np.float64)
    bias = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64)
    if weight.shape[2] != 1:
        sys.exit(f"{conv.name}: expected a 1x1 convolution, kernel {weight.shape[2]}")
    w = weight[:, :, 0] / std[None, :]
    new_bias = bias - w @ mean
    kernel = 1
    conv_input = branch
    if pool and not fold_pool:
        avg = _node(graph, f"/{branch}/temporal/pool/AveragePool")
        avg.input[0] = branch
        conv_input = avg.output[0]
    if pool and fold_pool:
        avg = _node(graph, f"/{branch}/temporal/pool/AveragePool")
        attrs = {a.name: helper.get_attribute_value(a) for a in avg.attribute}
        kernel = attrs["kernel_shape"][0]
        if attrs["strides"][0] != kernel or any(attrs.get("pads", [0])):
            sys.exit(
                f"{avg.name}: expected kernel == stride and no padding, got {attrs}"
            )
        graph.node.remove(avg)
    new_weight = np.repeat(w[:, :, None] / kernel, kernel, axis=2)
    w_name, b_name = f"{conv.input[1]}.folded", f"{conv.input[2]}.folded"
    graph.initializer.extend(
        [
            numpy_helper.from_array(new_weight.astype(np.float32), w_name),
            numpy_helper.from_array(new_bias.astype(np.float32), b_name),
        ]
    )
    conv.input[:] = [conv_input, w_name, b_name]
    for attr in list(conv.attribute):
        if attr.name in ("kernel_shape", "strides"):
            conv.attribute.remove(attr)
    conv.attribute.extend(
        [
            helper.make_attribute("kernel_shape", [kernel]),
            helper.make_attribute("strides", [kernel]),
        ]
    )
    for node in (div, sub):
        graph.node.remove(node)
        if any(_consumers(graph, o) for o in node.output):
            sys.exit(f"{node.name}: its output feeds more than the folded nodes")


def outputs(path, arrays):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: arrays[i.name] for i in session.get_inputs()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--fold-pool", action="store_true")
    args = parser.parse_args()
    model = onnx.load(args.package / "model.onnx")
    fold(model, "wifi", pool=True, fold_pool=args.fold_pool)
    fold(model, "rfid", pool=False, fold_pool=False)
    used = {i for n in model.graph.node for i in n.input}
    unused = [i for i in model.graph.initializer if i.name not in used]
    for init in unused:
        model.graph.initializer.remove(init)
    onnx.checker.check_model(model)
    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(args.package, args.out)
    onnx.save(model, args.out / "model.onnx")
    worst = 0.0
    for parity in sorted((args.package / "parity").glob("b*.npz")):
        arrays = dict(np.load(parity))
        before = outputs(args.package / "model.onnx", arrays)
        after = outputs(args.out / "model.onnx", arrays)
        for name, value in before.items():
            diff = float(np.max(np.abs(value - after[name])))
            worst = max(worst, diff)
            print(f"{parity.name} {name}: max |diff| {diff:.2e}")
    print(f"largest difference {worst:.2e} (tolerance {args.tol:g})")
    if worst > args.tol:
        sys.exit(1)


if __name__ == "__main__":
    main()
