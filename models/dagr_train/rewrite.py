"""`rewrite`: an ONNX graph rewrite of the mmWave point branch that keeps the model's outputs
and makes it several times cheaper for tract, the gateway's default engine.

PyTorch exports PointEncoder (model.py) on the input's own layout [B, frames, points, 5]:
a mask from |x| summed over the 5 values, (x - mean) / std by constants, two per-point
MatMul + Add + Relu layers, the mask multiplied in, a max and a mean over the points
(axis 2, not the innermost) and a transpose to [B, 33, frames] for the temporal
convolutions. tract runs the standardization as two generic broadcasting ops and the max
over a middle axis element by element; together they were half of a window's time
(BENCHMARKS.md, "Inference latency per window").

The rewritten branch computes the same function with the points axis leading:

    x_p   = Transpose(x, [0, 2, 1, 3])                       [B, P, F, 5]
    valid = Sign(ReduceL1(x_p, axis 3))                      [B, P, F, 1], 0 or 1
    h     = Relu(Relu(x_p W1' + b1') W2 + b2) * valid        [B, P, F, W]
    max   = Max of h's first and last halves of P, halving until one is left
    out   = Transpose(Concat(max, ReduceMean(valid, axis 1)), [0, 2, 1])   [B, W + 1, F]

with the standardization folded into the first layer (W1' = W1 / std, b1' = b1 -
(mean / std) W1, computed in float64). The max is taken on h flattened to [B, P * F * W],
as elementwise maxima of contiguous halves; tract fuses them and keeps the two MLP layers
as one matrix product each (on the unflattened tensor it pushes the slices up into one
small product per point; its ReduceMax and MaxPool pay per output value). Every
other node and initializer (the other encoders, the head) is left as it is."""

import numpy as np
import onnx
from onnx import helper, numpy_helper

PREFIX = "/mmwave/points_fast"
"""Name prefix of the nodes and initializers the rewrite adds."""


class PointBranchMismatch(ValueError):
    """The graph's mmWave branch is not the exported PointEncoder the rewrite knows."""


class _Graph:
    """Look-ups over a GraphProto: producers, consumers, constant values."""

    def __init__(self, graph, where):
        self.graph = graph
        self.where = where
        self.inits = {t.name: t for t in graph.initializer}
        self.producer = {o: n for n in graph.node for o in n.output}

    def consumers(self, name):
        """The nodes that read tensor `name`."""
        return [n for n in self.graph.node if name in n.input]

    def only_consumer(self, name, op):
        """The single node of type `op` reading `name` (the pattern has no fan-out there)."""
        found = self.consumers(name)
        if len(found) != 1 or found[0].op_type != op:
            kinds = [n.op_type for n in found]
            raise PointBranchMismatch(
                f"{self.where}: `{name}` should feed one {op} node, feeds {kinds}"
            )
        return found[0]

    def const(self, name):
        """The value of an initializer or Constant node output, as numpy."""
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        node = self.producer.get(name)
        if node is not None and node.op_type == "Constant":
            return numpy_helper.to_array(node.attribute[0].t)
        raise PointBranchMismatch(f"{self.where}: `{name}` should be a constant")

    def other_input(self, node, name):
        """The input of a binary `node` that is not `name`."""
        rest = [i for i in node.input if i != name]
        if len(rest) != 1:
            raise PointBranchMismatch(
                f"{self.where}: node {node.name} should have one input besides `{name}`"
            )
        return rest[0]


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _expect(cond, where, what):
    if not cond:
        raise PointBranchMismatch(f"{where}: {what}")


def _linear_relu(g, x_name):
    """(weight [in, out], bias [out], relu node) of MatMul(x, W) + b -> Relu."""
    mm = g.only_consumer(x_name, "MatMul")
    _expect(
        mm.input[0] == x_name, g.where, f"{mm.name} should multiply `{x_name}` by W"
    )
    weight = g.const(mm.input[1])
    add = g.only_consumer(mm.output[0], "Add")
    bias = g.const(g.other_input(add, mm.output[0]))
    _expect(
        weight.ndim == 2 and bias.shape == (weight.shape[1],),
        g.where,
        f"{mm.name}/{add.name}: weight [in, out] and bias [out] expected, got "
        f"{list(weight.shape)} and {list(bias.shape)}",
    )
    relu = g.only_consumer(add.output[0], "Relu")
    return weight, bias, [mm, add, relu]


def _match(g, x):
    """The nodes and constants of the exported PointEncoder reading input `x`."""
    where = g.where
    by_op = {n.op_type: n for n in g.consumers(x)}
    _expect(
        sorted(by_op) == ["Abs", "Sub"],
        where,
        f"input `{x}` should feed Abs (the point mask) and Sub (the standardization), "
        f"feeds {sorted(by_op)}",
    )
    abs_, sub = by_op["Abs"], by_op["Sub"]
    rsum = g.only_consumer(abs_.output[0], "ReduceSum")
    axes = g.const(rsum.input[1]).tolist()
    _expect(
        axes in ([3], [-1]) and _attr(rsum, "keepdims", 1) == 1,
        where,
        f"{rsum.name} should sum the 5 values of each point, keeping the axis",
    )
    greater = g.only_consumer(rsum.output[0], "Greater")
    _expect(
        float(g.const(greater.input[1])) == 0.0, where, f"{greater.name}: > 0 expected"
    )
    cast = g.only_consumer(greater.output[0], "Cast")
    valid = cast.output[0]

    mean = g.const(sub.input[1]).reshape(-1)
    div = g.only_consumer(sub.output[0], "Div")
    std = g.const(div.input[1]).reshape(-1)
    w1, b1, layer1 = _linear_relu(g, div.output[0])
    w2, b2, layer2 = _linear_relu(g, layer1[-1].output[0])
    _expect(
        mean.shape == std.shape == (w1.shape[0],) and w2.shape[0] == w1.shape[1],
        where,
        "standardization constants and layer sizes disagree",
    )

    mul = g.only_consumer(layer2[-1].output[0], "Mul")
    _expect(
        g.other_input(mul, layer2[-1].output[0]) == valid,
        where,
        f"{mul.name} should multiply the point features by the mask",
    )
    rmax = g.only_consumer(mul.output[0], "ReduceMax")
    mask_users = {n.op_type: n for n in g.consumers(valid)}
    _expect(
        sorted(mask_users) == ["Mul", "ReduceMean"],
        where,
        f"the point mask should feed Mul and ReduceMean, feeds {sorted(mask_users)}",
    )
    rmean = mask_users["ReduceMean"]
    for r in (rmax, rmean):
        _expect(
            _attr(r, "axes") in ([2], [-2]) and _attr(r, "keepdims", 1) == 0,
            where,
            f"{r.name} should reduce the points axis (2) without keeping it",
        )
    concat = g.only_consumer(rmax.output[0], "Concat")
    _expect(
        list(concat.input) == [rmax.output[0], rmean.output[0]]
        and _attr(concat, "axis") in (2, -1),
        where,
        f"{concat.name} should join [max, mean] on the last axis",
    )
    transpose = g.only_consumer(concat.output[0], "Transpose")
    _expect(
        _attr(transpose, "perm") == [0, 2, 1],
        where,
        f"{transpose.name} should swap frames and channels",
    )
    nodes = [
        abs_,
        rsum,
        greater,
        cast,
        sub,
        div,
        *layer1,
        *layer2,
        mul,
        rmax,
        rmean,
        concat,
        transpose,
    ]
    return nodes, (mean, std, w1, b1, w2, b2), transpose.output[0]


def fold_standardization(mean, std, w, b):
    """(W', b') with ((x - mean) / std) @ W + b == x @ W' + b', in float64 then float32."""
    mean, std, w, b = (np.asarray(a, dtype=np.float64) for a in (mean, std, w, b))
    folded_w = w / std[:, None]
    folded_b = b - (mean / std) @ w
    return folded_w.astype(np.float32), folded_b.astype(np.float32)


def _max_tree(node, const, flat, points, block):
    """Nodes taking the max over the `points` equal blocks of tensor `flat` [B, points *
    block]: Max of its first and last ceil(n / 2) blocks (they overlap by one when n is
    odd, which max does not mind) until one block is left. Slicing the flattened tensor
    keeps tract from pushing the slices up into one matrix product per point. Returns the
    nodes and the last tensor's name."""
    nodes, current, n, level = [], flat, points, 0
    while n > 1:
        half = (n + 1) // 2
        parts = []
        for part, first in (("lo", 0), ("hi", n - half)):
            tag = f"tree{level}.{part}"
            start = const(f"{tag}.start", [first * block])
            end = const(f"{tag}.end", [(first + half) * block])
            nodes.append(node("Slice", [current, start, end, const("axis1", [1])], tag))
            parts.append(tag)
        nodes.append(node("Max", parts, f"tree{level}"))
        current, n, level = f"tree{level}", half, level + 1
    return nodes, current


def _new_nodes(x, out, consts, dims):
    """The rewritten branch's nodes and initializers, writing tensor `out`; `dims` are the
    input's (frames, points)."""
    mean, std, w1, b1, w2, b2 = consts
    frames, points = dims
    width = w2.shape[1]
    w1f, b1f = fold_standardization(mean, std, w1, b1)
    inits = {}

    def name(s):
        return f"{PREFIX}/{s}"

    def const(key, value, dtype=np.int64):
        """The name of initializer `key` holding `value` (added on first use)."""
        if name(key) not in inits:
            inits[name(key)] = numpy_helper.from_array(
                np.asarray(value, dtype), name(key)
            )
        return name(key)

    def node(op, inputs, output, **attrs):
        """A node named like its output; inputs are the graph input, full initializer
        names (from `const`) or the short names of earlier outputs."""
        return helper.make_node(
            op,
            [i if i == x or i.startswith(PREFIX) else name(i) for i in inputs],
            [name(output)],
            name=name(output),
            **attrs,
        )

    f32 = np.float32
    nodes = [
        # [B, points, frames, values]: the points axis leads, so the max over it below
        # is an elementwise max of contiguous blocks
        node("Transpose", [x], "x_p", perm=[0, 2, 1, 3]),
        # the point mask: sum |x| > 0 (Sign of a sum of magnitudes is 0 or 1)
        node("ReduceL1", ["x_p"], "l1", axes=[3], keepdims=1),
        node("Sign", ["l1"], "valid"),
        node("ReduceMean", ["valid"], "point_fraction", axes=[1], keepdims=0),
        # the point MLP, standardization folded in
        node("MatMul", ["x_p", const("point1.weight", w1f, f32)], "mm1"),
        node("Add", ["mm1", const("point1.bias", b1f, f32)], "add1"),
        node("Relu", ["add1"], "relu1"),
        node("MatMul", ["relu1", const("point2.weight", w2, f32)], "mm2"),
        node("Add", ["mm2", const("point2.bias", b2, f32)], "add2"),
        node("Relu", ["add2"], "relu2"),
        node("Mul", ["relu2", "valid"], "masked"),
        node("Reshape", ["masked", const("flat.shape", [0, -1])], "flat"),
    ]
    tree, top = _max_tree(node, const, "flat", points, frames * width)
    nodes += tree
    nodes += [
        node("Reshape", [top, const("max.shape", [0, frames, width])], "point_max"),
        node("Concat", ["point_max", "point_fraction"], "per_frame", axis=2),
    ]
    nodes.append(
        helper.make_node(
            "Transpose",
            [name("per_frame")],
            [out],
            name=name("transpose"),
            perm=[0, 2, 1],
        )
    )
    return nodes, list(inits.values())


def fast_point_branch(model, input_name="mmwave", where="model.onnx"):
    """A copy of `model` whose mmWave point branch is rewritten as the module docstring
    says; raises PointBranchMismatch (naming `where`) when the branch is not the exported
    PointEncoder, and returns the model unchanged when it was rewritten already."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    if any(n.name.startswith(PREFIX + "/") for n in graph.node):
        return model
    g = _Graph(graph, where)
    old, consts, out = _match(g, input_name)
    new, inits = _new_nodes(input_name, out, consts, _dims(graph, input_name, where))
    old_names = {n.name for n in old}
    first = min(i for i, n in enumerate(graph.node) if n.name in old_names)
    kept = [n for n in graph.node if n.name not in old_names]
    nodes = kept[:first] + new + kept[first:]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    _drop_unused(graph)
    onnx.checker.check_model(model)
    return model


def _dims(graph, input_name, where):
    """(frames, points) of graph input `input_name` [batch, frames, points, values]."""
    for value in graph.input:
        if value.name == input_name:
            dims = value.type.tensor_type.shape.dim
            if len(dims) == 4 and dims[1].dim_value > 0 and dims[2].dim_value > 0:
                return dims[1].dim_value, dims[2].dim_value
    raise PointBranchMismatch(
        f"{where}: input `{input_name}` should be [batch, frames, points, 5]"
    )


def _drop_unused(graph):
    """Removes initializers and Constant nodes nothing reads any more."""
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = [n for n in graph.node if n.op_type != "Constant" or n.output[0] in used]
    del graph.node[:]
    graph.node.extend(nodes)


def rewrite_file(src, dst):
    """Rewrites the ONNX file `src` into `dst` (the same path is fine)."""
    model = fast_point_branch(onnx.load(src), where=src)
    onnx.save(model, dst)
