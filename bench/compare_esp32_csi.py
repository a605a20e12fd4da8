"""ESP32-CSI-Tool CSV decoding throughput: dagr-protocols next to csiread.

Generates a deterministic file of ESP32-CSI-Tool rows (firmware style: 26 columns,
`[v0 v1 ... ]` list, 128-value LLTF rows and 384-value HT40 rows), then times

* csiread 1.4.1: `csiread.ESP32(file, if_report=False, maxlen=384).read()`, median of
  `--runs` runs in this process;
* ours: by default `cargo run --release -q -p dagr-protocols --example throughput --
  esp32-csi FILE`, which prints one JSON line `{"records": N, "bytes": B, "median_s": S}`;
  or, with `--ours-cmd 'CMD {file}'`, the wall time of that shell command (median of
  `--runs` runs), e.g.
  `--ours-cmd 'target/release/dagr decode --format esp32-csi {file} --json > /dev/null'`.

Prints rows/s and MB/s for both and the ratio ours / csiread. Run from the workspace root:
    python bench/compare_esp32_csi.py [--rows 100000] [--runs 5] [--seed 1]
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

MAXLEN = 384


def generate(path: str, rows: int, seed: int) -> int:
    """Writes `rows` rows; returns the file size in bytes."""
    rng = np.random.default_rng(seed)
    macs = [":".join(f"{b:02X}" for b in rng.integers(0, 256, 6)) for _ in range(4)]
    long_rows = rng.random(rows) < 0.5
    values = rng.integers(-40, 41, size=(rows, MAXLEN))
    rssi = rng.integers(-95, -30, rows)
    timestamp = 80_000_000
    with open(path, "w") as f:
        for i in range(rows):
            timestamp = (timestamp + int(rng.integers(500, 20_000))) % (1 << 32)
            ts_printed = timestamp - (1 << 32) if timestamp >= 1 << 31 else timestamp
            n = MAXLEN if long_rows[i] else 128
            csi = " ".join(map(str, values[i, :n].tolist()))
            f.write(
                f"CSI_DATA,AP,{macs[i % 4]},{rssi[i]},11,1,0,1,1,1,0,0,0,0,-93,0,6,1,"
                f"{ts_printed},0,101,0,0,{timestamp / 1e6:.6f},384,[{csi} ]\n"
            )
    return os.path.getsize(path)


def time_csiread(path: str, runs: int) -> tuple[int, float]:
    import csiread

    times, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        data = csiread.ESP32(path, if_report=False, maxlen=MAXLEN)
        data.read()
        times.append(time.perf_counter() - start)
        count = data.count
    return count, statistics.median(times)


def time_ours_example(path: str) -> tuple[int, float]:
    cmd = [
        "cargo",
        "run",
        "--release",
        "-q",
        "-p",
        "dagr-protocols",
        "--example",
        "throughput",
        "--",
        "esp32-csi",
        path,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return int(result["records"]), float(result["median_s"])


def time_ours_command(
    template: str, path: str, runs: int, rows: int
) -> tuple[int, float]:
    cmd = template.format(file=shlex.quote(path))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, shell=True, check=True)
        times.append(time.perf_counter() - start)
    return rows, statistics.median(times)


def report(name: str, records: int, seconds: float, size: int) -> float:
    print(
        f"{name:<10} {records:>8} rows  {seconds * 1e3:9.1f} ms  "
        f"{records / seconds:>12,.0f} rows/s  {size / seconds / 1e6:8.1f} MB/s"
    )
    return records / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows to generate (100000)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side (5)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument(
        "--ours-cmd", help="time this shell command ({file} = input) instead"
    )
    parser.add_argument("--keep", help="write the generated file here and keep it")
    parser.add_argument(
        "--min-ratio",
        type=float,
        help="exit 1 when dagr/csiread, measured in this run, is below this (CI's guard)",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.rows < 1:
        parser.error("--rows and --runs must be positive")

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or os.path.join(tmp, "esp32_csi.csv")
        size = generate(path, args.rows, args.seed)
        print(f"input: {args.rows} rows, {size / 1e6:.1f} MB (seed {args.seed})")
        peer_n, peer_s = time_csiread(path, args.runs)
        if args.ours_cmd:
            ours_n, ours_s = time_ours_command(
                args.ours_cmd, path, args.runs, args.rows
            )
        else:
            ours_n, ours_s = time_ours_example(path)
        if peer_n != args.rows or ours_n != args.rows:
            sys.exit(
                f"row count mismatch: csiread {peer_n}, ours {ours_n}, wrote {args.rows}"
            )
        peer = report("csiread", peer_n, peer_s, size)
        ours = report("dagr", ours_n, ours_s, size)
        print(f"ratio dagr/csiread: {ours / peer:.1f}x (target >= 5x)")
        if args.min_ratio is not None and ours / peer < args.min_ratio:
            sys.exit(f"dagr/csiread {ours / peer:.1f}x is below {args.min_ratio}x")


if __name__ == "__main__":
    main()
