"""Compares LLRP decoding throughput: dagr's Rust decoder vs llrpkit and sllurp.

Generates N RO_ACCESS_REPORT messages (one Impinj-extended TagReportData each, as a
reader sends with N=1) with llrpkit's encoder into a temporary file, then times:
  * llrpkit  `decode_message` over a subset (framing split included),
  * sllurp   `LLRPMessage(msgbytes=...)` over the same subset,
  * ours     `cargo run --release -q -p dagr-protocols --example throughput -- llrp FILE`
             (prints {"records", "bytes", "median_s"}), or with --ours-cmd the CLI:
             `target/release/dagr decode --format llrp FILE --json > /dev/null`
             (wall time, JSON formatting included).
Each figure is the median of --runs runs; Python throughput is per message on the subset.

usage: python bench/compare_llrp.py [--messages 100000] [--subset 10000] [--runs 3] [--ours-cmd]
Run with the peers' venv: ~/.cache/dagr/venv/bin/python.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from llrpkit.protocol import decode_message, impinj, messages, params
from sllurp.llrp import LLRPMessage

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_report(rng, index):
    epc = bytes.fromhex("e2000017010b01621000") + (index & 0xFFFF).to_bytes(2, "big")
    seen = 1_700_000_000_000_000 + index * 1000
    trd = params.TagReportData(
        epc_parameter=params.EPC_96(epc=epc),
        antenna_id=params.AntennaID(antenna_id=rng.randint(1, 4)),
        peak_rssi=params.PeakRSSI(peak_rssi=rng.randint(-80, -30)),
        channel_index=params.ChannelIndex(channel_index=rng.randint(1, 50)),
        first_seen_timestamp_utc=params.FirstSeenTimestampUTC(microseconds=seen),
        last_seen_timestamp_utc=params.LastSeenTimestampUTC(microseconds=seen),
        tag_seen_count=params.TagSeenCount(tag_count=1),
        custom=[
            impinj.ImpinjPeakRSSI(rssi=rng.randint(-8000, -3000)),
            impinj.ImpinjRFPhaseAngle(phase_angle=rng.randint(0, 4095)),
            impinj.ImpinjRFDopplerFrequency(doppler_frequency=rng.randint(-5120, 5120)),
        ],
    )
    return messages.RO_ACCESS_REPORT(tag_report_datas=[trd]).to_bytes(message_id=index)


def generate(path, count, seed=1):
    """Encodes 2000 distinct reports with llrpkit and tiles them up to `count`."""
    rng = random.Random(seed)
    distinct = [make_report(rng, i) for i in range(min(count, 2000))]
    with open(path, "wb") as f:
        for i in range(count):
            f.write(distinct[i % len(distinct)])
    return os.path.getsize(path)


def split(data, limit):
    pos, frames = 0, []
    while pos < len(data) and len(frames) < limit:
        length = int.from_bytes(data[pos + 2 : pos + 6], "big")
        frames.append(data[pos : pos + length])
        pos += length
    return frames


def time_python(name, data, subset, runs, decode):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        frames = split(data, subset)
        tags = 0
        for frame in frames:
            tags += decode(frame)
        times.append(time.perf_counter() - start)
        assert tags == subset, f"{name} decoded {tags} tags"
    return subset / statistics.median(times)


def llrpkit_tags(frame):
    return len(decode_message(frame).tag_report_datas)


def sllurp_tags(frame):
    return len(LLRPMessage(msgbytes=frame).msgdict["RO_ACCESS_REPORT"]["TagReportData"])


def time_ours_example(path, count):
    out = subprocess.run(
        [
            "cargo",
            "run",
            "--release",
            "-q",
            "-p",
            "dagr-protocols",
            "--example",
            "throughput",
            "--",
            "llrp",
            path,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["records"] == count, result
    return result["records"] / result["median_s"]


def time_ours_cli(path, count, runs):
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "dagr-host"], cwd=REPO, check=True
    )
    binary = os.path.join(REPO, "target", "release", "dagr")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            subprocess.run(
                [binary, "decode", "--format", "llrp", path, "--json"],
                stdout=sink,
                check=True,
            )
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--messages",
        type=int,
        default=100_000,
        help="RO_ACCESS_REPORTs in the file (default 100000)",
    )
    ap.add_argument(
        "--subset",
        type=int,
        default=10_000,
        help="messages the Python decoders time (default 10000)",
    )
    ap.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per decoder; the median is reported (default 3)",
    )
    ap.add_argument(
        "--ours-cmd",
        action="store_true",
        help="time the dagr CLI instead of the throughput example",
    )
    ap.add_argument(
        "--min-ratio",
        type=float,
        help="exit 1 when ours / either peer, measured in this run, is below this (CI's guard)",
    )
    args = ap.parse_args()
    subset = min(args.subset, args.messages)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ro_access_reports.bin")
        size = generate(path, args.messages)
        data = open(path, "rb").read()
        print(
            f"{args.messages} RO_ACCESS_REPORT messages, {size} bytes (Python decoders time {subset})"
        )
        rates = {
            "llrpkit 0.3.0": time_python(
                "llrpkit", data, subset, args.runs, llrpkit_tags
            ),
            "sllurp 3.0.5": time_python("sllurp", data, subset, args.runs, sllurp_tags),
        }
        if args.ours_cmd:
            ours_name = "dagr CLI (--json)"
            rates[ours_name] = time_ours_cli(path, args.messages, args.runs)
        else:
            ours_name = "dagr-protocols"
            rates[ours_name] = time_ours_example(path, args.messages)

    for name, rate in rates.items():
        print(f"{name:>20}: {rate:14,.0f} messages/s")
    slowest = None
    for name, rate in rates.items():
        if name != ours_name:
            ratio = rates[ours_name] / rate
            print(f"{ours_name} / {name}: {ratio:,.1f}x")
            slowest = ratio if slowest is None else min(slowest, ratio)
    if args.min_ratio is not None and slowest < args.min_ratio:
        print(f"{ours_name} is only {slowest:.1f}x a peer, below {args.min_ratio}x")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
