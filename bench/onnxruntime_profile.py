"""Where onnxruntime's time goes on a model package, per node, from its own profiler.

One intra-op thread, all graph optimizations (as `dagr --engine ort` runs it), batch 1,
random inputs with every modality present; prints the median kernel time of each node
over the timed runs, largest first. The counterpart of tract's `tract_profile` example in
BENCHMARKS.md's "Point 7 on the final build" (the profiler adds its own per-node cost, so
compare nodes, not totals):

    taskset -c 0 ~/.cache/dagr/train-venv/bin/python bench/onnxruntime_profile.py \\
        models/reference --runs 400 --top 15
"""

import argparse
import collections
import json
import os
import statistics

import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="a model package directory (holds model.onnx)")
    p.add_argument("--runs", type=int, default=400)
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(
        os.path.join(args.model, "model.onnx"), options, ["CPUExecutionProvider"]
    )
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [1 if isinstance(d, str) else d for d in i.shape]
        feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    feeds["present"] = np.ones((1, 3), np.float32)
    for _ in range(args.runs):
        session.run(None, feeds)
    path = session.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[e["name"].removesuffix("_kernel_time")].append(e["dur"])
    medians = {name: statistics.median(d) for name, d in times.items()}
    print(f"sum of node medians {sum(medians.values()):.0f} us ({args.runs} runs)")
    for name, us in sorted(medians.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{us:8.1f} us  {name}")


if __name__ == "__main__":
    main()
