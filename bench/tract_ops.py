"""Where tract's inference time goes, from a perf profile with call graphs.

Reads `perf script` output (samples with DWARF call chains) on stdin, keeps the samples
whose stack passes through the tract engine's `run`, and prints their share by the tract
op whose `eval` is on the stack (the innermost one) and by leaf symbol. Used for
BENCHMARKS.md's "Where tract's time goes":

    perf record -F 500 --call-graph dwarf,16384 -o lat.perf \\
        target/release/examples/latency --model models/reference --runs 5 --python none
    perf script -i lat.perf | python3 bench/tract_ops.py
"""

import collections
import sys

ENGINE_RUN = "TractEngine as dagr_infer::engine::Engine>::run"
OP_EVAL = ("as tract_core::ops::EvalOp>::eval", "as tract_core::ops::OpState>::eval")


def samples(lines):
    """Each sample's call chain (innermost frame first), as symbol names."""
    chain = []
    for line in lines:
        if not line.strip():
            if chain:
                yield chain
            chain = []
        elif line[0] in " \t":
            parts = line.strip().split(" ", 1)
            if len(parts) == 2:
                chain.append(parts[1])
        else:
            chain = []
    if chain:
        yield chain


def op_of(chain):
    """The innermost tract op whose eval is on the stack, or None."""
    for frame in chain:
        if any(e in frame for e in OP_EVAL):
            return frame.split(" as ")[0].split("<")[-1]
    return None


def main():
    all_samples = list(samples(sys.stdin))
    tract = [c for c in all_samples if any(ENGINE_RUN in f for f in c)]
    print(f"samples {len(all_samples)}, inside the tract engine's run {len(tract)}")
    if not tract:
        return
    for title, key in (
        ("by op", op_of),
        ("by leaf symbol", lambda c: c[0].split("+0x")[0]),
    ):
        print(f"--- {title}")
        counts = collections.Counter(key(c) for c in tract)
        for name, n in counts.most_common(15):
            print(f"{100 * n / len(tract):5.1f} %  {name}")


if __name__ == "__main__":
    main()
