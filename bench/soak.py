"""Soak benchmark (issue 8 point 8): `dagr record` of every device of a `dagr sim --serve`
(the radar's two ptys, three ESP32 CSI receivers, the LLRP reader) for a long run.

Checks, each a non-zero exit when it fails:
- the recorder's resident memory is flat: the least-squares slope of its RSS, sampled every
  --interval seconds after a warm-up, is at most --max-slope MB per minute;
- nothing was dropped: `dagr record` reports 0 events dropped per source, the simulated
  devices 0 chunks the client did not read in time, and the reader saw one LLRP connection;
- the capture is complete: `dagr inspect --json` says complete with no damage, every stream
  holds records, and no stream has a hole (including before its first and after its last
  record) longer than the device's own simulated outages: the longest gap of the same
  stream in a `dagr sim --out` capture of the same scene (same devices, seeds and
  outages), plus HOLE_SLACK_S.

    python3 bench/soak.py --dagr target/release/dagr --seconds 1800

Prints the RSS series, its slope, drops per source and coverage per stream. Scratch files
go to a temporary directory that is removed at the end (--keep DIR keeps the capture).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A live hole may be this much longer than the same outage in `sim --out` (the served
# devices poll their ports every 2 ms; the recorder's clock maps arrival, not send, time).
HOLE_SLACK_S = 1.0
# A served radar starts only once the recorder has sent its .cfg, and a CSI receiver's
# first row follows its reset: the first record of a stream may come this late.
START_SLACK_S = 5.0
# Opening an ESP32 board resets it and it prints its header line (about 230 bytes), which
# the decoder skips as no row: at most one such line per CSI stream is expected.
HEADER_LINE_MAX = 512


def rss_kb(pid):
    """VmRSS of process `pid` in kB, or None once it has exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(found[1]) if found else None


def slope_mb_per_min(series):
    """Least-squares slope of [(seconds, kB)] in MB per minute (0 for fewer than 2)."""
    if len(series) < 2:
        return 0.0
    n = len(series)
    mean_t = sum(t for t, _ in series) / n
    mean_r = sum(r for _, r in series) / n
    var = sum((t - mean_t) ** 2 for t, _ in series)
    cov = sum((t - mean_t) * (r - mean_r) for t, r in series)
    return cov / var * 60 / 1024 if var > 0 else 0.0


def serve(dagr, args, seconds):
    """Starts `dagr sim --serve`; returns the process and its source URIs."""
    sim = subprocess.Popen(
        [dagr, "sim", "--serve", "--room", args.room, "--subject", args.subject]
        + ["--seed", args.seed, "--duration", str(seconds + 60)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    uris = []
    while not (uris and uris[-1].startswith("llrp://")):
        line = sim.stdout.readline()
        if not line:
            sim.kill()
            sys.exit(f"dagr sim --serve ended early: {sim.stderr.read()}")
        uris.append(line.strip())
    return sim, uris


def sample_rss(record, sim, args, started):
    """Samples the recorder's and the simulator's RSS every --interval s until the recorder
    exits; returns [(seconds, recorder kB, simulator kB)]."""
    series = []
    next_sample = started
    while record.poll() is None:
        now = time.monotonic()
        if now >= next_sample:
            rec, srv = rss_kb(record.pid), rss_kb(sim.pid)
            if rec is not None:
                t = now - started
                series.append((t, rec, srv))
                print(
                    f"  t={t:7.1f} s  record RSS {rec / 1024:6.1f} MB  "
                    f"sim RSS {(srv or 0) / 1024:6.1f} MB",
                    flush=True,
                )
            next_sample += args.interval
        time.sleep(min(0.5, max(0.0, next_sample - time.monotonic())))
    return series


def record_drops(stderr):
    """`dagr record`'s "source URI: N events dropped" lines as {uri: N}."""
    return {
        m[1]: int(m[2])
        for m in re.finditer(r"source (\S+): (\d+) events dropped", stderr)
    }


def sim_outcome(stderr):
    """The simulator's closing lines: LLRP connections, how many of them it dropped as
    idle, and {device: chunks dropped}."""
    served = re.search(r"(\d+) LLRP connections \((\d+) dropped as idle\)", stderr)
    dropped = {
        m[1]: int(m[2]) for m in re.finditer(r"(\S+): (\d+) chunks dropped", stderr)
    }
    connections, idle = (int(served[1]), int(served[2])) if served else (None, None)
    return connections, idle, dropped


def holes(stream, seconds):
    """The longest hole of a stream: before its first record, between records (inspect's
    largest gaps), after its last one."""
    between = max((g["seconds"] for g in stream["largest_gaps"]), default=0.0)
    return stream["start"] - START_SLACK_S, between, seconds - stream["end"]


def inspect(dagr, capture, failures):
    """`dagr inspect --json` of `capture` (None, with a failure noted, when it fails)."""
    out = subprocess.run(
        [dagr, "inspect", "--json", capture], capture_output=True, text=True
    )
    if out.returncode != 0:
        failures.append(f"dagr inspect exited {out.returncode}: {out.stderr.strip()}")
        return None
    return json.loads(out.stdout)


def outage_holes(dagr, args, seconds, tmp, failures):
    """{stream: longest gap} of a `dagr sim --out` capture of the served scene: the holes
    the devices' own outages make (the served devices are --out's, same seeds)."""
    capture = tmp / "same_scene.mcap"
    subprocess.run(
        [dagr, "sim", "--room", args.room, "--subject", args.subject, "--seed"]
        + [args.seed, "--duration", str(seconds + 10), "--out", capture],
        check=True,
        capture_output=True,
    )
    report = inspect(dagr, capture, failures) or {"streams": []}
    capture.unlink()
    return {
        s["source"]: max((g["seconds"] for g in s["largest_gaps"]), default=0.0)
        for s in report["streams"]
    }


def check_capture(dagr, capture, seconds, outages, failures):
    """Prints per-stream coverage of `dagr inspect --json` and records what fails."""
    report = inspect(dagr, capture, failures)
    if report is None:
        return
    if not report["complete"] or report["damage"] or report["lost"]:
        failures.append(
            f"capture not complete: complete={report['complete']} "
            f"damage={report['damage']} lost={report['lost']}"
        )
    print(f"capture: {Path(capture).stat().st_size / 1e6:.1f} MB, complete")
    for s in report["streams"]:
        lead, between, trail = holes(s, seconds)
        covered = s["duration"] / seconds
        allowed = outages.get(s["source"], 0.0) + HOLE_SLACK_S
        print(
            f"  {s['source']}: {s['records']} records, {s['start']:.2f}-{s['end']:.2f} s "
            f"({100 * covered:.1f} % of the run), longest hole {between:.2f} s "
            f"(its longest outage in sim --out {allowed - HOLE_SLACK_S:.2f} s), "
            f"{s['bytes_skipped']} bytes skipped, {s['frames_rejected']} frames rejected"
        )
        worst = max(lead, between, trail)
        if s["records"] == 0 or worst > allowed:
            failures.append(
                f"{s['source']}: a hole of {worst:.2f} s (allowed {allowed:.2f} s: its "
                f"own outages) or no records ({s['records']})"
            )
        header = HEADER_LINE_MAX if s["format"] == "esp32-csi" else 0
        if s["bytes_skipped"] > header or s["frames_rejected"]:
            failures.append(f"{s['source']}: decoder skipped bytes or rejected frames")
    if len(report["streams"]) < 5:
        failures.append(f"{len(report['streams'])} streams, expected 5")


def check_rss(series, args, failures):
    """Prints the slope of the recorder's RSS after the warm-up and records a failure."""
    warm = [(t, rec) for t, rec, _ in series if t >= args.warmup]
    slope = slope_mb_per_min(warm)
    sim_slope = slope_mb_per_min([(t, srv) for t, _, srv in series if t >= args.warmup])
    peak = max((rec for _, rec, _ in series), default=0) / 1024
    print(
        f"record RSS: {len(series)} samples, peak {peak:.1f} MB, slope after "
        f"{args.warmup:.0f} s {slope:+.3f} MB/min ({len(warm)} samples; allowed "
        f"{args.max_slope}); sim RSS slope {sim_slope:+.3f} MB/min"
    )
    if len(warm) < 3:
        failures.append(f"only {len(warm)} RSS samples after the warm-up")
    elif slope > args.max_slope:
        failures.append(f"record RSS grows {slope:.3f} MB/min > {args.max_slope}")


def soak(args, tmp):
    """Runs the soak in `tmp`; returns the list of failed checks."""
    seconds = args.seconds
    sim, uris = serve(args.dagr, args, seconds)
    capture = tmp / "soak.mcap"
    cmd = [args.dagr, "record", "--out", capture, "--duration", str(seconds)]
    for uri in uris:
        cmd += ["--source", uri]
    print(f"soak: recording {len(uris)} sources for {seconds} s: {' '.join(uris)}")
    started = time.monotonic()
    record = subprocess.Popen(
        [str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        series = sample_rss(record, sim, args, started)
        record_err = record.stderr.read().decode()
    finally:
        sim.terminate()
        _, sim_err = sim.communicate(timeout=60)
    failures = []
    if record.returncode != 0:
        failures.append(f"dagr record exited {record.returncode}: {record_err.strip()}")
    check_rss(series, args, failures)
    drops = record_drops(record_err)
    connections, idle_drops, served_drops = sim_outcome(sim_err)
    for uri in uris:
        print(f"  {uri}: {drops.get(uri, 'no report of')} events dropped by record")
    for device, n in served_drops.items():
        print(f"  {device}: {n} chunks dropped by the simulated device")
    print(f"  LLRP connections the reader accepted: {connections}")
    print(f"  LLRP clients the reader dropped as idle: {idle_drops}")
    if len(drops) != len(uris) or any(drops.values()):
        failures.append(f"record drops: {drops}")
    if any(served_drops.values()):
        failures.append(f"simulated devices dropped: {served_drops}")
    if connections != 1 or idle_drops != 0:
        failures.append(
            f"{connections} LLRP connections, {idle_drops} dropped as idle; expected 1, 0"
        )
    outages = outage_holes(args.dagr, args, seconds, tmp, failures)
    check_capture(args.dagr, capture, seconds, outages, failures)
    if args.keep:
        shutil.copy(capture, args.keep)
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagr", default=str(REPO / "target" / "release" / "dagr"))
    parser.add_argument("--seconds", type=float, default=1800, help="run (1800)")
    parser.add_argument("--interval", type=float, default=30, help="RSS sample (30 s)")
    parser.add_argument(
        "--warmup", type=float, default=60, help="RSS slope after this (60 s)"
    )
    parser.add_argument(
        "--max-slope", type=float, default=0.1, help="MB/min allowed (0.1)"
    )
    parser.add_argument("--room", default="47")
    parser.add_argument("--subject", default="67")
    parser.add_argument("--seed", default="3")
    parser.add_argument("--keep", type=Path, help="copy the capture here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dagr-soak-") as tmp:
        failures = soak(args, Path(tmp))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("soak: all checks passed")


if __name__ == "__main__":
    main()
