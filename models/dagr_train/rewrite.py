"""`rewrite`: ONNX graph rewrites that keep the model's outputs and make it cheaper for
tract, the gateway's default engine (rewrite_for_tract applies them all; export does).

1. The mmWave point branch (fast_point_branch). PyTorch exports PointEncoder (model.py) on
the input's own layout [B, frames, points, 5]: a mask from |x| summed over the 5 values,
(x - mean) / std by constants, two per-point MatMul + Add + Relu layers, the mask
multiplied in, a max and a mean over the points (axis 2, not the innermost) and a
transpose to [B, 33, frames] for the temporal convolutions. tract runs the
standardization as two generic broadcasting ops, the max over a middle axis element by
element and the mask multiply per point (BENCHMARKS.md, "Inference latency per window").
The rewritten branch computes the same function with the 5 values leading, so that each
layer is one product of a constant weight by every point at once (the points and frames
of the window are the columns):

    x_c   = [B, 5, P * F], x's values by point then frame (two plain transposes)
    valid = Sign(ones[1, 5] x |x_c|)                                [B, 1, P * F], 0 or 1
    h     = Relu(Conv1x1(Relu(Conv1x1(x_c, W1', b1')), W2, b2)) * valid      [B, W, P * F]
    max   = MaxPool(Reshape(h, [B, W, P, F]), kernel [P, 1])               [B, W, F]
    out   = Concat(max, (ones[1, P] x Reshape(valid, [B, P, F])) / P, axis 1) [B, W + 1, F]

with the standardization folded into the first layer (W1' = W1 / std, b1' = b1 -
(mean / std) W1, computed in float64). tract runs each layer as one matrix product with
its bias, Relu and (for the second) the mask multiply applied in the product's kernel,
per column of its output; onnxruntime fuses the Relus into its convolutions. The input
is moved as [F, P * 5] -> [P * 5, F] and [P, 5, F] -> [5, P, F], two moves onnxruntime
makes by rows where the single [0, 3, 2, 1] permutation cost it three times as much. The
max over the points is one MaxPool whose window spans them: tract runs it in a loop over
the points for every (channel, frame) where ReduceMax builds a slice per output value, and
where a tree of halves became 64 slices of one point and the max nodes between them. The sum of magnitudes and the
share of valid points are products by constant ones, which tract runs in its matrix
kernels rather than value by value; they give the reductions' bits (a sum of magnitudes
is zero exactly when every one of them is, and a count of ones and zeros is exact in any
order before it is divided by the number of points). A branch rewritten by
an earlier version of this module is brought up to date (_earlier_rewrite).

2. The series inputs (fold_series_inputs): WiFi's and RFID's per-row standardization is
folded into the first 1x1 convolution, and WiFi's AveragePool in time becomes one MatMul
of the input's [C * T / k, k] rows by a constant 1/k column.

3. The temporal readouts (fold_temporal_readouts): every encoder's segment means become
one MatMul by a constant averaging matrix, its max over time one MaxPool whose window spans
the steps, and the Concat + output Gemm one Gemm with its columns reordered to match. A
readout folded by an earlier version (the max as a tree of halves) gets the MaxPool.

Every other node and initializer (the head in particular) is left as it is."""

import numpy as np
import onnx
from onnx import helper, numpy_helper

PREFIX = "/mmwave/points_fast"
"""Name prefix of the nodes and initializers the rewrite adds."""


class GraphMismatch(ValueError):
    """A part of the graph is not the exported pattern a rewrite knows."""


class PointBranchMismatch(GraphMismatch):
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
            raise GraphMismatch(
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
        raise GraphMismatch(f"{self.where}: `{name}` should be a constant")

    def other_input(self, node, name):
        """The input of a binary `node` that is not `name`."""
        rest = [i for i in node.input if i != name]
        if len(rest) != 1:
            raise GraphMismatch(
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
        raise GraphMismatch(f"{where}: {what}")


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


def unmasked_layers(layer1, layer2):
    """(W1, b1, W2, b2) of the point MLP that the second version of this rewrite stored as
    Relu(Relu([x, valid] L1) L2): L1 [in + 1, hidden + 1] held b1 in its last row and
    copied the validity column to its last hidden unit, L2 [hidden + 1, out] held b2 in
    its last row. Exact: the values are taken as they were stored."""
    layer1, layer2 = np.asarray(layer1), np.asarray(layer2)
    inputs, hidden = layer1.shape[0] - 1, layer1.shape[1] - 1
    return (
        layer1[:inputs, :hidden],
        layer1[inputs, :hidden],
        layer2[:hidden],
        layer2[hidden],
    )


def _point_columns(b, x, frames, points, values):
    """Nodes writing `columns` [B, values, points * frames] from `x` [B, frames, points,
    values] (module docstring, 1)."""
    return [
        b.node("Reshape", [x, b.const("rows.shape", [0, frames, -1])], "rows"),
        b.node("Transpose", ["rows"], "by_frame", perm=[0, 2, 1]),
        b.node(
            "Reshape",
            ["by_frame", b.const("by_frame.shape", [0, points, values, frames])],
            "values_by_frame",
        ),
        b.node("Transpose", ["values_by_frame"], "values_first", perm=[0, 2, 1, 3]),
        b.node(
            "Reshape",
            ["values_first", b.const("columns.shape", [0, values, -1])],
            "columns",
        ),
    ]


def _point_layer(b, src, index, weight, bias):
    """Nodes `conv{index}` and `relu{index}`: Relu of the 1x1 Conv of `src` by the [in,
    out] `weight` (as a kernel [out, in, 1], constant `point{index}.weight`) plus `bias`."""
    kernel = np.asarray(weight, np.float32).T[:, :, None]
    conv = f"conv{index}"
    return [
        b.node(
            "Conv",
            [
                src,
                b.const(f"point{index}.weight", kernel, np.float32),
                b.const(f"point{index}.bias", bias, np.float32),
            ],
            conv,
            kernel_shape=[1],
        ),
        b.node("Relu", [conv], f"relu{index}"),
    ]


def _new_nodes(x, out, consts, dims):
    """The rewritten branch's nodes and initializers (module docstring, 1), writing tensor
    `out`; `dims` are the input's (frames, points)."""
    mean, std, w1, b1, w2, b2 = consts
    frames, points = dims
    values, width = w1.shape[0], w2.shape[1]
    w1f, b1f = fold_standardization(mean, std, w1, b1)
    b = _Builder(PREFIX, outside={x})
    f32 = np.float32
    nodes = _point_columns(b, x, frames, points, values)
    nodes += [
        # the point mask: Sign of the sum of magnitudes, 0 or 1
        b.node("Abs", ["columns"], "magnitudes"),
        b.node(
            "MatMul",
            [b.const("values.ones", np.ones((1, values)), f32), "magnitudes"],
            "l1",
        ),
        b.node("Sign", ["l1"], "valid"),
        # the point MLP, standardization folded in, the mask multiplied per column
        *_point_layer(b, "columns", 1, w1f, b1f),
        *_point_layer(b, "relu1", 2, w2, b2),
        b.node("Mul", ["relu2", "valid"], "h"),
        b.node(
            "Reshape",
            ["h", b.const("by_point.shape", [0, width, points, frames])],
            "by_point",
        ),
        b.node("MaxPool", ["by_point"], "pooled_max", kernel_shape=[points, 1]),
        b.node(
            "Reshape",
            ["pooled_max", b.const("max.shape", [0, width, frames])],
            "point_max",
        ),
        # the share of valid points per frame
        b.node(
            "Reshape",
            ["valid", b.const("valid_rows.shape", [0, points, frames])],
            "valid_rows",
        ),
        b.node(
            "MatMul",
            [b.const("points.ones", np.ones((1, points)), f32), "valid_rows"],
            "valid_count",
        ),
        b.node(
            "Div",
            ["valid_count", b.const("points.count", points, f32)],
            "point_fraction",
        ),
        b.node(
            "Concat", ["point_max", "point_fraction"], "per_frame", out_name=out, axis=1
        ),
    ]
    return nodes, list(b.inits.values())


def fast_point_branch(model, input_name="mmwave", where="model.onnx"):
    """A copy of `model` whose mmWave point branch is rewritten as the module docstring
    says; raises PointBranchMismatch (naming `where`) when the branch is not the exported
    PointEncoder, and returns the model unchanged when it was rewritten already."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    if any(n.name.startswith(PREFIX + "/") for n in graph.node):
        earlier = _earlier_rewrite(graph)
        if earlier is None:
            return model
        old, consts, out = earlier
        kept = [t for t in graph.initializer if not t.name.startswith(PREFIX + "/")]
        del graph.initializer[:]
        graph.initializer.extend(kept)
    else:
        try:
            old, consts, out = _match(_Graph(graph, where), input_name)
        except GraphMismatch as e:
            raise PointBranchMismatch(str(e)) from None
    new, inits = _new_nodes(input_name, out, consts, _dims(graph, input_name, where))
    _replace(graph, old, new, inits)
    _drop_unused(graph)
    onnx.checker.check_model(model)
    return model


def _earlier_rewrite(graph):
    """(nodes, constants, output) of a point branch rewritten by an earlier version of
    this module, so that rewriting a package exported then brings it up to date; None for
    any other graph (the current version's branch in particular). The first version added
    the biases and multiplied the mask after its products; the second carried the biases
    and the mask in a validity column of its products, with the points leading; the third
    was the current one with the max over the points as a tree of halves. All have the
    standardization folded into their first layer already (mean 0 and std 1 here)."""
    nodes = [n for n in graph.node if n.name.startswith(PREFIX + "/")]
    by_name = {n.name: n for n in nodes}
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}

    def init(key):
        return inits[f"{PREFIX}/{key}"]

    def op(name):
        node = by_name.get(f"{PREFIX}/{name}")
        return node.op_type if node is not None else None

    if op("masked") == "Mul":
        w1, b1, w2, b2 = (
            init(k)
            for k in ("point1.weight", "point1.bias", "point2.weight", "point2.bias")
        )
        out = by_name[f"{PREFIX}/transpose"].output[0]
    elif op("x_valid") == "Concat":
        w1, b1, w2, b2 = unmasked_layers(init("point1.weight"), init("point2.weight"))
        out = by_name[f"{PREFIX}/transpose"].output[0]
    elif op("tree0") == "Max" and op("conv1") == "Conv":
        # 1x1 Conv kernels [out, in, 1] back to [in, out] weights
        w1, w2 = (init(f"point{i}.weight")[:, :, 0].T for i in (1, 2))
        b1, b2 = init("point1.bias"), init("point2.bias")
        out = by_name[f"{PREFIX}/per_frame"].output[0]
    else:
        return None
    mean, std = np.zeros(w1.shape[0]), np.ones(w1.shape[0])
    return nodes, (mean, std, w1, b1, w2, b2), out


def _replace(graph, old, new, inits):
    """Puts nodes `new` where the first of nodes `old` was, drops `old`, adds `inits`."""
    old_names = {n.name for n in old}
    first = min(i for i, n in enumerate(graph.node) if n.name in old_names)
    kept = [n for n in graph.node if n.name not in old_names]
    nodes = kept[:first] + new + kept[first:]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(inits)


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


class _Builder:
    """Nodes and initializers of one rewritten part, all named under `prefix`. A node input
    is taken as given when it is one of the graph's tensors (`outside`) or already carries
    the prefix, else as the short name of an earlier output of this builder."""

    def __init__(self, prefix, outside):
        self.prefix = prefix
        self.outside = set(outside)
        self.inits = {}

    def name(self, short):
        """The full name of this part's tensor or initializer `short`."""
        return f"{self.prefix}/{short}"

    def const(self, key, value, dtype=np.int64):
        """The name of initializer `key` holding `value` (added on first use)."""
        full = self.name(key)
        if full not in self.inits:
            self.inits[full] = numpy_helper.from_array(np.asarray(value, dtype), full)
        return full

    def node(self, op, inputs, output, out_name=None, **attrs):
        """A node named like its output (`out_name`: write that graph tensor instead)."""
        ins = [
            i if i in self.outside or i.startswith(self.prefix + "/") else self.name(i)
            for i in inputs
        ]
        return helper.make_node(
            op, ins, [out_name or self.name(output)], name=self.name(output), **attrs
        )


def _int_const(g, name):
    """The single integer held by constant `name` (a Slice bound or axis)."""
    value = g.const(name).reshape(-1)
    _expect(value.size == 1, g.where, f"`{name}` should hold one integer")
    return int(value[0])


def _time_span(g, reducer, x_of):
    """(x, time indices) that ReduceMean/ReduceMax node `reducer` reduces over the last
    axis: all of x, or the steps of a Slice of x along that axis. `x_of` gives each
    tensor's time length."""
    src = reducer.input[0]
    sl = g.producer.get(src)
    if sl is None or sl.op_type != "Slice":
        return src, np.arange(x_of(src))
    _expect(
        len(sl.input) >= 4 and _int_const(g, sl.input[3]) in (2, -1),
        g.where,
        f"{sl.name} should slice the time axis",
    )
    _expect(
        len(sl.input) < 5 or _int_const(g, sl.input[4]) == 1,
        g.where,
        f"{sl.name} should take every step",
    )
    _expect(
        len(g.consumers(src)) == 1,
        g.where,
        f"{sl.name}'s output should feed only {reducer.name}",
    )
    x = sl.input[0]
    start, end = _int_const(g, sl.input[1]), _int_const(g, sl.input[2])
    return x, np.arange(x_of(x))[start:end]


def _readout_match(g, gemm, x_of):
    """(x, parts, weight, bias, nodes) when Gemm `gemm` reads Concat(axis 1) of
    ReduceMean/ReduceMax over the last axis of one tensor x [B, C, T] or of time Slices of
    it (TemporalEncoder's readout and output layer); parts are (op, time indices) in
    concat order; raises GraphMismatch otherwise."""
    where = g.where
    _expect(
        _attr(gemm, "transA", 0) == 0
        and _attr(gemm, "transB", 0) == 1
        and _attr(gemm, "alpha", 1.0) == 1.0
        and _attr(gemm, "beta", 1.0) == 1.0
        and len(gemm.input) == 3,
        where,
        f"{gemm.name} should be x W^T + b",
    )
    concat = g.producer.get(gemm.input[0])
    _expect(
        concat is not None
        and concat.op_type == "Concat"
        and _attr(concat, "axis") in (1, -1)
        and len(g.consumers(concat.output[0])) == 1,
        where,
        f"{gemm.name} should read a Concat of readouts",
    )
    nodes, parts, xs = [concat], [], set()
    for name in concat.input:
        r = g.producer.get(name)
        _expect(
            r is not None
            and r.op_type in ("ReduceMean", "ReduceMax")
            and _attr(r, "axes") in ([2], [-1])
            and _attr(r, "keepdims", 1) == 0
            and len(g.consumers(name)) == 1,
            where,
            f"`{name}` should be a mean or max over time feeding only {concat.name}",
        )
        x, steps = _time_span(g, r, x_of)
        _expect(steps.size > 0, where, f"{r.name} reduces no time step")
        nodes += [r] + ([g.producer[r.input[0]]] if r.input[0] != x else [])
        parts.append((r.op_type, steps))
        xs.add(x)
    _expect(len(xs) == 1, where, f"{concat.name} should read readouts of one tensor")
    x = xs.pop()
    steps = x_of(x)
    for op, span in parts:
        _expect(
            op == "ReduceMean" or span.size == steps,
            where,
            f"{gemm.name}: a max over part of time is not rewritten",
        )
    weight, bias = g.const(gemm.input[1]), g.const(gemm.input[2])
    return x, parts, weight, bias, nodes + [gemm]


def readout_weights(parts, weight, channels, steps):
    """(averaging matrix A [T, S], output weight W' [out, S * C + C or S * C]) such that
    W' applied to [Reshape(x @ A) ; max_t x] equals `weight` applied to the concat of the
    readout `parts` (S means, in any order among at most one full-time max per part)."""
    weight = np.asarray(weight, np.float64)
    means = [(i, span) for i, (op, span) in enumerate(parts) if op == "ReduceMean"]
    maxes = [i for i, (op, _) in enumerate(parts) if op == "ReduceMax"]
    average = np.zeros((steps, len(means)))
    for s, (_, span) in enumerate(means):
        average[span, s] = 1.0 / span.size
    out = weight.shape[0]
    block = lambda i: weight[:, i * channels : (i + 1) * channels]  # noqa: E731
    # x @ A reshaped is [C, S] flattened: column c * S + s
    mean_w = np.zeros((out, channels, len(means)))
    for s, (i, _) in enumerate(means):
        mean_w[:, :, s] = block(i)
    folded = [mean_w.reshape(out, -1)]
    if maxes:
        folded.append(sum(block(i) for i in maxes))
    return average.astype(np.float32), np.concatenate(folded, axis=1).astype(np.float32)


def _max_over_time(b, x, steps, out_name=None):
    """Nodes writing `max_flat` [B, C] (or `out_name`), the max of `x` [B, C, steps] over
    its steps: one MaxPool whose window spans them."""
    return [
        b.node("MaxPool", [x], "max", kernel_shape=[steps]),
        b.node(
            "Reshape",
            ["max", b.const("flat.shape", [0, -1])],
            "max_flat",
            out_name=out_name,
        ),
    ]


def _readout_nodes(gemm, x, parts, weight, bias, dims):
    """The folded readout: segment means as one MatMul by a constant averaging matrix, the
    max over time as one MaxPool, one Gemm; writes `gemm`'s output."""
    channels, steps = dims
    b = _Builder(f"{gemm.name}/readout_folded", [x, gemm.input[2]])
    average, folded = readout_weights(parts, weight, channels, steps)
    has_max = any(op == "ReduceMax" for op, _ in parts)
    nodes, joined = [], []
    if average.shape[1]:
        nodes += [
            b.node("MatMul", [x, b.const("average", average, np.float32)], "means"),
            b.node("Reshape", ["means", b.const("flat.shape", [0, -1])], "means_flat"),
        ]
        joined.append("means_flat")
    if has_max:
        nodes += _max_over_time(b, x, steps)
        joined.append("max_flat")
    nodes.append(b.node("Concat", joined, "joined", axis=1))
    nodes.append(
        b.node(
            "Gemm",
            ["joined", b.const("weight", folded, np.float32), gemm.input[2]],
            "gemm",
            out_name=gemm.output[0],
            transB=1,
        )
    )
    return nodes, list(b.inits.values())


def fold_temporal_readouts(model, where="model.onnx"):
    """A copy of `model` whose TemporalEncoder readouts (Slice + ReduceMean per segment,
    ReduceMax over time, Concat, output Gemm) are one MatMul by a constant averaging
    matrix, a MaxPool over the time steps and one Gemm with the columns reordered. tract
    runs ReduceMean and ReduceMax paying per output value; this keeps the readout to a few
    whole-tensor ops. Readouts folded with a tree of halves for the max get the MaxPool;
    Gemms that do not read such a readout are left."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    shapes = _time_shapes(model)
    _pool_tree_readouts(model.graph, shapes, where)
    for gemm_name in [n.name for n in model.graph.node if n.op_type == "Gemm"]:
        g = _Graph(model.graph, where)
        gemm = next(n for n in model.graph.node if n.name == gemm_name)
        try:
            x, parts, weight, bias, old = _readout_match(
                g, gemm, lambda t: _known(shapes, t, g.where)[1]
            )
            dims = _known(shapes, x, where)
            _expect(
                weight.shape[1] == len(parts) * dims[0],
                where,
                f"{gemm.name}: weight columns and readout sizes disagree",
            )
        except GraphMismatch:
            continue
        new, inits = _readout_nodes(gemm, x, parts, weight, bias, dims)
        _replace(model.graph, old, new, inits)
    _drop_unused(model.graph)
    onnx.checker.check_model(model)
    return model


def _pool_tree_readouts(graph, shapes, where):
    """Replaces, in each readout folded by an earlier version of this module, the max over
    time taken as a tree of halves (`x_t`, `x_flat`, `tree*` under the readout's prefix)
    by _max_over_time, writing the tree's last tensor; the same values."""
    for transpose in [n for n in graph.node if n.name.endswith("/readout_folded/x_t")]:
        prefix = transpose.name[: -len("/x_t")]
        x = transpose.input[0]
        old = [
            n
            for n in graph.node
            if n.name in (transpose.name, f"{prefix}/x_flat")
            or n.name.startswith(f"{prefix}/tree")
        ]
        maxes = [n for n in old if n.op_type == "Max"]
        _expect(maxes, where, f"{prefix}: a tree of Max nodes expected after x_t")
        top = max(maxes, key=lambda n: int(n.name.rsplit("tree", 1)[1]))
        steps = _known(shapes, x, where)[1]
        b = _Builder(prefix, [x])
        new = _max_over_time(b, x, steps, out_name=top.output[0])
        # the builder's constants replace the graph's of the same names (`flat.shape` is
        # the means' too); the tree's others go with _drop_unused
        kept = [t for t in graph.initializer if t.name not in b.inits]
        del graph.initializer[:]
        graph.initializer.extend(kept)
        _replace(graph, old, new, b.inits.values())


def _time_shapes(model):
    """{tensor: (channels, steps)} of every rank-3 tensor whose last two sizes onnx's
    shape inference knows."""
    inferred = onnx.shape_inference.infer_shapes(model).graph
    out = {}
    for v in [*inferred.value_info, *inferred.input]:
        dims = v.type.tensor_type.shape.dim
        if len(dims) == 3 and dims[1].dim_value > 0 and dims[2].dim_value > 0:
            out[v.name] = (dims[1].dim_value, dims[2].dim_value)
    return out


def _known(shapes, name, where):
    """(channels, steps) of tensor `name`, or GraphMismatch when shape inference did not
    give them."""
    if name not in shapes:
        raise GraphMismatch(f"{where}: the shape of `{name}` is not known")
    return shapes[name]


def _series_match(g, x):
    """(mean, std, pool size or 0, conv, nodes) when input `x` [B, C, T] is standardized by
    constants (Sub, Div), optionally average-pooled in time and fed to a 1x1 Conv
    (SeriesEncoder without step channels); raises GraphMismatch otherwise."""
    where = g.where
    sub = g.only_consumer(x, "Sub")
    _expect(sub.input[0] == x, where, f"{sub.name} should subtract from `{x}`")
    div = g.only_consumer(sub.output[0], "Div")
    _expect(div.input[0] == sub.output[0], where, f"{div.name} should divide")
    mean, std = g.const(sub.input[1]), g.const(div.input[1])
    nodes, current, pool = [sub, div], div.output[0], 0
    found = g.consumers(current)
    if len(found) == 1 and found[0].op_type == "AveragePool":
        p = found[0]
        k = _attr(p, "kernel_shape")
        _expect(
            len(k) == 1
            and _attr(p, "strides") == k
            and not any(_attr(p, "pads", [0]))
            and _attr(p, "ceil_mode", 0) == 0
            and _attr(p, "auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"),
            where,
            f"{p.name} should pool disjoint windows without padding",
        )
        nodes.append(p)
        current, pool = p.output[0], k[0]
    conv = g.only_consumer(current, "Conv")
    _expect(
        _attr(conv, "kernel_shape") == [1]
        and _attr(conv, "group", 1) == 1
        and _attr(conv, "strides", [1]) == [1]
        and not any(_attr(conv, "pads", [0]))
        and _attr(conv, "dilations", [1]) == [1]
        and len(conv.input) == 3,
        where,
        f"{conv.name} should be a 1x1 convolution with bias",
    )
    return mean, std, pool, conv, nodes + [conv]


def fold_series_standardization(mean, std, weight, bias):
    """(W', b') with Conv1x1((x - mean) / std; W, b) == Conv1x1(x; W', b') for per-channel
    `mean` and `std` (any shape broadcasting to [1, C, 1]), in float64 then float32."""
    weight = np.asarray(weight, np.float64)
    channels = weight.shape[1]
    mean = np.broadcast_to(np.asarray(mean, np.float64).reshape(-1), channels)
    std = np.broadcast_to(np.asarray(std, np.float64).reshape(-1), channels)
    folded_w = weight / std[None, :, None]
    folded_b = np.asarray(bias, np.float64) - folded_w[:, :, 0] @ mean
    return folded_w.astype(np.float32), folded_b.astype(np.float32)


def _series_nodes(x, pool, conv, folded, dims):
    """The folded input: the time pooling as one MatMul of [C * T / k, k] rows by a
    constant 1/k column, then the 1x1 Conv with the standardization in its weights."""
    channels, steps = dims
    b = _Builder(f"/{x}/input_folded", [x])
    nodes, current = [], x
    if pool > 1:
        kept = steps // pool * pool
        if kept != steps:  # the pool drops the last steps % pool steps
            nodes.append(
                b.node(
                    "Slice",
                    [
                        x,
                        b.const("start", [0]),
                        b.const("end", [kept]),
                        b.const("axis", [2]),
                    ],
                    "whole_windows",
                )
            )
            current = "whole_windows"
        column = np.full((pool, 1), 1.0 / pool)
        nodes += [
            b.node("Reshape", [current, b.const("rows.shape", [0, -1, pool])], "rows"),
            b.node("MatMul", ["rows", b.const("average", column, np.float32)], "means"),
            b.node(
                "Reshape",
                ["means", b.const("pooled.shape", [0, channels, kept // pool])],
                "pooled",
            ),
        ]
        current = "pooled"
    weight, bias = folded
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    nodes.append(
        b.node(
            "Conv",
            [
                current,
                b.const("weight", weight, np.float32),
                b.const("bias", bias, np.float32),
            ],
            "conv",
            out_name=conv.output[0],
            **attrs,
        )
    )
    return nodes, list(b.inits.values())


def fold_series_inputs(model, inputs=("wifi", "rfid"), where="model.onnx"):
    """A copy of `model` where each series input of `inputs` that is standardized, pooled
    and fed to a 1x1 Conv (_series_match) goes straight to the pool, done as a MatMul by a
    constant averaging column, and to the Conv, the standardization folded into its weights
    (tract runs the broadcasting Sub and Div on the whole [C, T] input and its
    AveragePool pays per output). An input of another shape (step channels, say) is left."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    shapes = _time_shapes(model)
    for x in inputs:
        g = _Graph(model.graph, where)
        try:
            mean, std, pool, conv, old = _series_match(g, x)
            weight, bias = g.const(conv.input[1]), g.const(conv.input[2])
            dims = _known(shapes, x, where)
            _expect(
                weight.shape[1] == dims[0] and np.all(np.asarray(std) > 0),
                where,
                f"`{x}`: standardization and {conv.name} disagree",
            )
        except GraphMismatch:
            continue
        folded = fold_series_standardization(mean, std, weight, bias)
        new, inits = _series_nodes(x, pool, conv, folded, dims)
        _replace(model.graph, old, new, inits)
    _drop_unused(model.graph)
    onnx.checker.check_model(model)
    return model


def rewrite_for_tract(model, where="model.onnx"):
    """Every rewrite of this module, in turn: the point branch (fast_point_branch, which
    refuses a graph without it), the series inputs and the temporal readouts."""
    model = fast_point_branch(model, where=where)
    model = fold_series_inputs(model, where=where)
    return fold_temporal_readouts(model, where=where)


def rewrite_file(src, dst):
    """Rewrites the ONNX file `src` into `dst` (the same path is fine) by
    rewrite_for_tract."""
    model = rewrite_for_tract(onnx.load(src), where=src)
    onnx.save(model, dst)
