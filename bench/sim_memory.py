"""Where `dagr sim --out`'s memory goes: the scene's plan against what grows per chunk.

Runs `dagr sim --duration D --out FILE` and reads the process's /proc status: VmRSS when
the temporary file appears (the world is built, no chunk is written yet) and VmHWM at the
end, with the time from the start to the file's first byte. What grows after the file
appears is what the run adds per simulated second (one MCAP chunk each), mostly the
summary's chunk index the writer keeps until the end.

    python3 bench/sim_memory.py target/release/dagr 60 600
    python3 bench/sim_memory.py --stop-after 5 target/release/dagr 36000 1000000

With --stop-after S the run is stopped (SIGTERM, which removes its unfinished file) S
seconds after its first byte: the figures of a very long run without waiting for it.
"""

import argparse
import glob
import os
import signal
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


def written(pattern):
    """Bytes in the first file matching `pattern`, 0 when there is none."""
    for path in glob.glob(pattern):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0
    return 0


def measure(dagr, duration, work, stop_after):
    """(RSS when the file appeared kB, peak RSS kB, capture bytes, s to the first byte)."""
    out = os.path.join(work, f"m{duration}.mcap")
    partial = os.path.join(work, f".m{duration}*partial")
    started = time.monotonic()
    run = subprocess.Popen(
        [dagr, "sim", "--duration", duration, "--out", out], stderr=subprocess.DEVNULL
    )
    at_start, peak, first_byte, size = None, 0, None, 0
    while run.poll() is None:
        if at_start is None and glob.glob(partial):
            at_start = status_kb(run.pid, "VmRSS:")
        if first_byte is None and written(partial) > 0:
            first_byte = time.monotonic() - started
        peak = max(peak, status_kb(run.pid, "VmHWM:") or 0)
        if stop_after is not None and first_byte is not None:
            size = max(size, written(partial))
            if time.monotonic() - started > first_byte + stop_after:
                run.send_signal(signal.SIGTERM)
                run.wait()
                return at_start, peak, size, first_byte
        time.sleep(0.01)
    if run.returncode != 0:
        sys.exit(f"dagr sim --duration {duration} exited {run.returncode}")
    size = os.path.getsize(out)
    os.remove(out)
    return at_start, peak, size, first_byte


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dagr")
    parser.add_argument("durations", nargs="+")
    parser.add_argument(
        "--stop-after",
        type=float,
        metavar="S",
        help="stop each run S seconds after its first byte",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for duration in args.durations:
            at_start, peak, size, first_byte = measure(
                args.dagr, duration, work, args.stop_after
            )
            stopped = (
                ""
                if args.stop_after is None
                else f" (stopped after {args.stop_after:g} s)"
            )
            first = "never" if first_byte is None else f"{first_byte:.2f} s"
            print(
                f"--duration {duration}: first byte after {first}, RSS when the file "
                f"appeared {at_start} kB, peak {peak} kB, growth while writing "
                f"{peak - (at_start or 0)} kB, capture {size / 1e6:.1f} MB{stopped}"
            )


if __name__ == "__main__":
    main()
