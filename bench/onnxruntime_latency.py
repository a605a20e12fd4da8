"""Per-window latency of onnxruntime (Python) at batch 1: the peer of dagr-infer's engines.

Runs model.onnx on one parity window (inputs as stored in the .npz) `--windows` times after
`--warmup` runs and prints one JSON line: p50 and p99 in milliseconds, the onnxruntime
version and the intra-op thread setting. Called by `cargo run --release -p dagr-infer
--example latency`, which prints its figures beside these; run it alone the same way:

    ~/.cache/dagr/train-venv/bin/python bench/onnxruntime_latency.py \\
        --model models/reference/model.onnx --npz models/reference/parity/b1_all.npz
"""

import argparse
import json
import time

import numpy as np
import onnxruntime as ort

INPUTS = ("mmwave", "wifi", "rfid", "present")


def percentile_ms(times: list[float], q: float) -> float:
    """The q-th percentile (nearest rank, like the Rust side) of `times` in seconds, as ms."""
    ordered = sorted(times)
    rank = min(len(ordered) - 1, max(0, int(np.ceil(q / 100 * len(ordered))) - 1))
    return ordered[rank] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model.onnx")
    parser.add_argument(
        "--npz", required=True, help="a parity file with batch-1 inputs"
    )
    parser.add_argument("--windows", type=int, default=300, help="timed runs (300)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed runs first (20)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="intra-op threads (0: onnxruntime's default)",
    )
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(
        args.model, options, providers=["CPUExecutionProvider"]
    )
    data = np.load(args.npz)
    feed = {name: np.ascontiguousarray(data[name][:1]) for name in INPUTS}
    for _ in range(args.warmup):
        session.run(None, feed)
    times = []
    for _ in range(args.windows):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "p50_ms": percentile_ms(times, 50),
                "p99_ms": percentile_ms(times, 99),
                "onnxruntime": ort.__version__,
                "threads": args.threads,
            }
        )
    )


if __name__ == "__main__":
    main()
