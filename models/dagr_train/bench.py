"""`bench`: onnxruntime latency per window at batch 1 of a model package, on one CPU thread,
with the package's own parity input (real window, all modalities). Prints median and 90th
percentile; a benchmark, not a test."""

import os
import time

import numpy as np
import onnxruntime as ort

from .export import INPUTS


def bench(package, iterations=200, warmup=20, threads=1):
    """Latency statistics (ms) of `iterations` runs after `warmup` runs."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(
        os.path.join(package, "model.onnx"), opts, providers=["CPUExecutionProvider"]
    )
    d = np.load(os.path.join(package, "parity", "b1_all.npz"))
    feed = {k: d[k] for k in INPUTS}
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    t = np.array(times)
    return {
        "iterations": iterations,
        "threads": threads,
        "median_ms": float(np.median(t)),
        "p90_ms": float(np.percentile(t, 90)),
        "min_ms": float(t.min()),
        "onnxruntime": ort.__version__,
    }
