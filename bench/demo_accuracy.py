"""`dagr demo`'s live accuracy beside the same scene written by `dagr sim --out` and replayed.

For each room/person/seed: `dagr demo --duration S --json` (the served devices, live, through
the gateway's real sources), then `dagr sim --out` of the same room, person, seed and length
replayed with `dagr replay --model --json`. Both are scored the same way: the share of the
windows with a label whose predicted class is that label. A live figure far below the
replayed one means the served devices do not send what the model was trained on (issue 11
point 4); similar figures mean they do.

    python3 bench/demo_accuracy.py --dagr target/release/dagr --duration 60 --seeds 1 2 3

Scratch captures go to a temporary directory that is removed at the end.
"""

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "reference"


def run(cmd):
    """Runs `cmd` (a list) and returns its stdout, failing loudly with its stderr."""
    cmd = [str(c) for c in cmd]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr}")
    return out.stdout


def score(json_lines):
    """(right, labeled, windows, the most predicted class and its share) of prediction lines."""
    predictions = [json.loads(line) for line in json_lines.splitlines() if line]
    labeled = [p for p in predictions if p.get("label")]
    right = sum(p["class"] == p["label"] for p in labeled)
    top, count = collections.Counter(p["class"] for p in predictions).most_common(1)[0]
    return right, len(labeled), len(predictions), top, count / len(predictions)


def describe(name, scored):
    right, labeled, windows, top, share = scored
    return (
        f"{name} {right / labeled:.3f} ({right}/{labeled} labeled of {windows} windows; "
        f"most predicted {top} {share:.2f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dagr", default=REPO / "target" / "release" / "dagr")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--room", type=int, default=47)
    parser.add_argument("--subject", type=int, default=67)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    totals = {"live": [0, 0], "replay": [0, 0]}
    with tempfile.TemporaryDirectory(prefix="dagr-demo-accuracy-") as tmp:
        for seed in args.seeds:
            scene = ["--room", args.room, "--subject", args.subject, "--seed", seed]
            live = score(
                run([args.dagr, "demo", "--duration", args.duration, "--json"] + scene)
            )
            capture = Path(tmp) / f"seed{seed}.mcap"
            run(
                [args.dagr, "sim", "--duration", args.duration, "--out", capture]
                + scene
            )
            replayed = score(
                run([args.dagr, "replay", "--max", "--json", "--model", MODEL, capture])
            )
            print(
                f"room {args.room} person {args.subject} seed {seed}, {args.duration:g} s: "
                f"{describe('demo', live)}; {describe('sim --out replay', replayed)}",
                flush=True,
            )
            for name, (right, labeled, *_) in (("live", live), ("replay", replayed)):
                totals[name][0] += right
                totals[name][1] += labeled
    for name, (right, labeled) in totals.items():
        print(f"pooled {name}: {right / labeled:.3f} ({right}/{labeled})")


if __name__ == "__main__":
    main()
