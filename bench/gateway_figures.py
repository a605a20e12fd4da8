"""The gateway's figures (issue 11 point 7) with the reference model, in one run:

- latency: per-window inference latency at batch 1 of tract, ort and onnxruntime from
  Python, side by side (the `latency` example of dagr-infer, built with `--features ort`;
  skipped with a note when it or libonnxruntime is missing);
- replay: a simulated 10-minute 3-modality capture through `dagr replay --model` pinned to
  one core (taskset), as a multiple of real time (median of --runs), by wall time and by
  the CPU time the process used (on a shared machine the wall time includes waiting), on
  tract and, when `--dagr` was built with `--features dagr-infer/ort`, on ONNX Runtime
  (`--engine ort`), the two alternating;
- live: `dagr run` on the devices of a separate `dagr sim --serve` process for --live
  seconds: deadline-to-prediction latency p50/p99, CPU share of a core since the first
  prediction, RSS (its own end-of-run summary, measured from /proc/self);
- accuracy: the reference model's held-out test captures rebuilt (rooms 47-54 with
  subjects 67-74, seeds 37-44, 120 s each: the corpus plan of models/reports/reference.md)
  and replayed through the Rust path, against the held-out accuracy the training report
  gives with all three modalities (models/reference/model.json, metrics.test).

    python3 bench/gateway_figures.py --dagr target/release/dagr

Scratch files go to a temporary directory that is removed at the end.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "reference"
# The Python path's held-out accuracy with all three modalities of the model as shipped:
# with its norm guard (head.norm_band.held_out of model.json, from `dagr_train guard`), else
# the training report's figure exported with the package (metrics.test).
_MODEL_JSON = json.loads((MODEL / "model.json").read_text())
_GUARD = _MODEL_JSON["head"].get("norm_band", {}).get("held_out")
REPORT_ACCURACY = (
    _GUARD["clean"]["with"]
    if _GUARD
    else _MODEL_JSON["metrics"]["test"]["mmwave+wifi+rfid"]["accuracy"]
)
# The test part of the reference corpus plan: (room, subject, seed) per capture.
TEST_CAPTURES = [(47 + i, 67 + i, 37 + i) for i in range(8)]


def run(cmd, **kw):
    """Runs `cmd` (a list), failing loudly with its stderr."""
    cmd = [str(c) for c in cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({out.returncode}): {out.stderr}")
    return out


def simulate(dagr, out, room, subject, seed, duration):
    run(
        [dagr, "sim", "--room", room, "--subject", subject, "--seed", seed]
        + ["--duration", duration, "--out", out]
    )


def children_cpu_s():
    """User + system CPU seconds of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ort_library():
    """The libonnxruntime the train venv's onnxruntime wheel ships, or None."""
    venv = Path.home() / ".cache" / "dagr" / "train-venv"
    libs = sorted(
        venv.glob("lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*")
    )
    return libs[-1] if libs else None


def ort_env(lib):
    """This process's environment with ORT_DYLIB_PATH at `lib` (unchanged when None)."""
    return os.environ | ({"ORT_DYLIB_PATH": str(lib)} if lib else {})


def replay_speed(dagr, tmp, runs):
    """Median wall and CPU time of replaying a 600 s capture with the model on one core,
    on tract and (where `dagr` has the ort engine and the library is there) on ONNX
    Runtime, the two engines alternating run by run."""
    capture = tmp / "ten_minutes.mcap"
    simulate(dagr, capture, 47, 67, 1, 600)
    lib = ort_library()
    env = ort_env(lib)
    engines = ["tract", "ort"] if lib else ["tract"]
    walls = {e: [] for e in engines}
    cpus = {e: [] for e in engines}
    windows = {}
    for _ in range(runs):
        for engine in list(engines):
            cmd = ["taskset", "-c", "0", dagr, "replay", "--json", "--engine", engine]
            cmd = [str(c) for c in cmd + ["--model", MODEL, capture]]
            start, cpu = time.perf_counter(), children_cpu_s()
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0 and "not in this build" in out.stderr:
                print(
                    f"replay on ort: skipped ({dagr} was built without the ort engine)"
                )
                engines.remove(engine)
                continue
            if out.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
            walls[engine].append(time.perf_counter() - start)
            cpus[engine].append(children_cpu_s() - cpu)
            windows[engine] = len(out.stdout.splitlines())
    if not lib:
        print("replay on ort: skipped (no libonnxruntime in the train venv)")
    for engine in engines:
        wall, cpu = statistics.median(walls[engine]), statistics.median(cpus[engine])
        print(
            f"replay ({engine}): 600 s capture, {windows[engine]} windows, median of "
            f"{runs} on one core: wall {wall:.2f} s = {600 / wall:.0f}x real time, "
            f"CPU {cpu:.2f} s = {600 / cpu:.0f}x (target >= 300x)"
        )


def latency(dagr, runs):
    """The latency example's table (tract, ort, onnxruntime from Python)."""
    example = Path(dagr).parent / "examples" / "latency"
    lib = ort_library()
    if not example.exists() or not lib:
        print(
            f"latency: skipped ({example} or the train venv's libonnxruntime missing; "
            "build it with cargo build --release -p dagr-infer --features ort --examples)"
        )
        return
    out = run([example, "--model", MODEL, "--runs", runs], env=ort_env(lib))
    print("latency: " + out.stdout.strip().replace("\n", "\n  "))


def live(dagr, tmp, seconds, engine="tract"):
    """`dagr run` on a served room for `seconds`; returns its summary lines."""
    sim = subprocess.Popen(
        [dagr, "sim", "--serve", "--room", "47", "--subject", "67", "--seed", "2"]
        + ["--duration", str(seconds + 30)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        uris = []
        while not (uris and uris[-1].startswith("llrp://")):
            line = sim.stdout.readline()
            if not line:
                sys.exit(f"dagr sim --serve ended early; URIs {uris}")
            uris.append(line.strip())
        cmd = [dagr, "run", "--json", "--duration", str(seconds), "--engine", engine]
        for uri in uris:
            cmd += ["--source", uri]
        out = run(cmd, cwd=tmp, env=ort_env(ort_library()))
    finally:
        sim.terminate()
        sim.wait()
    summary = [
        line
        for line in out.stderr.splitlines()
        if "latency" in line or "CPU" in line or "records" in line
    ]
    print(f"live: dagr run --engine {engine} for {seconds} s on 5 served devices:")
    for line in summary:
        print(f"  {line.strip()}")
    latency = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms", out.stderr)
    usage = re.search(
        r"CPU ([\d.]+) % .*RSS ([\d.]+) MB while predicting \(at most ([\d.]+) MB, "
        r"peak ([\d.]+) MB\)",
        out.stderr,
    )
    if latency and usage:
        print(
            f"  => p50 {latency[1]} ms, p99 {latency[2]} ms (target p99 < 15 ms); "
            f"CPU {usage[1]} % of a core (target < 10 %); RSS while predicting "
            f"{usage[2]} MB, at most {usage[3]} MB (target < 64 MB); peak {usage[4]} MB "
            "with start-up"
        )
        return float(latency[1]), float(latency[2])
    return None


def live_runs(dagr, tmp, seconds, runs, busy, engine="tract"):
    """`live` `runs` times beside `busy` busy-looping processes (extra load on the cores,
    as a loaded edge box has); prints the median p50 and p99 over the runs."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(busy)
    ]
    try:
        if busy:
            print(f"live: {busy} busy-looping processes beside it")
        figures = [
            f for f in (live(dagr, tmp, seconds, engine) for _ in range(runs)) if f
        ]
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    if len(figures) > 1:
        p50 = statistics.median(f[0] for f in figures)
        p99 = statistics.median(f[1] for f in figures)
        print(
            f"live: median over {len(figures)} runs: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
            f"(runs' p99: {', '.join(f'{f[1]:.2f}' for f in figures)})"
        )


def accuracy(dagr, tmp):
    """Accuracy of the Rust path over the rebuilt held-out test captures."""
    right = total = 0
    for room, subject, seed in TEST_CAPTURES:
        capture = tmp / f"test_r{room}_s{subject}_seed{seed}.mcap"
        simulate(dagr, capture, room, subject, seed, 120)
        out = run([dagr, "replay", "--json", "--model", MODEL, capture])
        capture.unlink()
        for line in out.stdout.splitlines():
            p = json.loads(line)
            if p["label"] is not None:
                total += 1
                right += p["class"] == p["label"]
    acc = right / total
    print(
        f"accuracy: {right}/{total} labeled windows of {len(TEST_CAPTURES)} held-out "
        f"captures = {acc:.3f}; report {REPORT_ACCURACY:.3f}; "
        f"difference {100 * (acc - REPORT_ACCURACY):+.1f} points (allowed 3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagr", default=str(REPO / "target" / "release" / "dagr"))
    parser.add_argument("--runs", type=int, default=3, help="replay runs (3)")
    parser.add_argument("--live", type=int, default=60, help="live seconds (60)")
    parser.add_argument(
        "--live-runs", type=int, default=1, help="live runs, medians printed (1)"
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        help="busy-looping processes run beside the live part, as extra load (0)",
    )
    parser.add_argument(
        "--engine",
        choices=["tract", "ort"],
        default="tract",
        help="the engine of the live part (tract; ort needs a --dagr built with it)",
    )
    parser.add_argument(
        "--only",
        choices=["latency", "replay", "live", "accuracy"],
        action="append",
        help="this figure only (repeatable)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dagr-gateway-figures-") as tmp:
        tmp = Path(tmp)
        parts = args.only or ["latency", "replay", "live", "accuracy"]
        if "latency" in parts:
            latency(args.dagr, 5)
        if "replay" in parts:
            replay_speed(args.dagr, tmp, args.runs)
        if "live" in parts:
            live_runs(args.dagr, tmp, args.live, args.live_runs, args.busy, args.engine)
        if "accuracy" in parts:
            accuracy(args.dagr, tmp)


if __name__ == "__main__":
    main()
