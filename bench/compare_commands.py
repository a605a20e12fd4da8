"""Wall time of shell commands, run alternately: medians and the ratio to the first.

Used for before/after figures on one machine (BENCHMARKS.md), e.g. two builds of `dagr`:

    python bench/compare_commands.py --runs 7 \\
        'old/dagr replay --max --json sim60.mcap > /dev/null' \\
        'new/dagr replay --max --json sim60.mcap > /dev/null'

Runs interleave (A B A B ...) so that a change in machine load hits both sides alike.
"""

import argparse
import statistics
import subprocess
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commands", nargs="+", help="shell commands to time")
    parser.add_argument("--runs", type=int, default=5, help="runs per command (5)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be positive")
    times: list[list[float]] = [[] for _ in args.commands]
    for _ in range(args.runs):
        for i, cmd in enumerate(args.commands):
            start = time.perf_counter()
            subprocess.run(cmd, shell=True, check=True)
            times[i].append(time.perf_counter() - start)
    base = statistics.median(times[0])
    for cmd, t in zip(args.commands, times):
        median = statistics.median(t)
        print(
            f"{median * 1e3:9.1f} ms median of {len(t)}  {base / median:5.2f}x  {cmd}"
        )


if __name__ == "__main__":
    main()
