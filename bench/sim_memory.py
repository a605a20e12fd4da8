"""Where `dagr sim --out`'s memory goes: the scene's plan against what grows per chunk.

Runs `dagr sim --duration D --out FILE` and reads the process's /proc status: VmRSS when
the temporary file appears (the world's plan is drawn, no chunk is written yet) and VmHWM
at the end. What grows after the file appears is what the run adds per simulated second
(one MCAP chunk each), mostly the summary's chunk index the writer keeps until the end.

    python3 bench/sim_memory.py target/debug/dagr 60 600
"""

import glob
import os
import subprocess
import sys
import tempfile
import time


def status_kb(pid, key):
    """One `/proc/PID/status` figure, kB; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(dagr, duration, work):
    """(RSS when the file appeared, peak RSS, capture bytes) of one run, kB/kB/bytes."""
    out = os.path.join(work, f"m{duration}.mcap")
    partial = os.path.join(work, f".m{duration}*partial")
    run = subprocess.Popen(
        [dagr, "sim", "--duration", duration, "--out", out], stderr=subprocess.DEVNULL
    )
    at_start, peak = None, 0
    while run.poll() is None:
        if at_start is None and glob.glob(partial):
            at_start = status_kb(run.pid, "VmRSS:")
        peak = max(peak, status_kb(run.pid, "VmHWM:") or 0)
        time.sleep(0.01)
    if run.returncode != 0:
        sys.exit(f"dagr sim --duration {duration} exited {run.returncode}")
    size = os.path.getsize(out)
    os.remove(out)
    return at_start, peak, size


def main():
    dagr, durations = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as work:
        for duration in durations:
            at_start, peak, size = measure(dagr, duration, work)
            print(
                f"--duration {duration}: RSS when the file appeared {at_start} kB, "
                f"peak {peak} kB, growth while writing {peak - (at_start or 0)} kB, "
                f"capture {size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
