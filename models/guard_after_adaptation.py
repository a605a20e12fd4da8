"""The norm guard's band after head adaptation: does an adapted head need its own band, and
does the band `dagr adapt` moves for it (`host/src/adapt/band.rs`) do what a band chosen
afresh would?

For each adapted package (made by `dagr adapt` from `--source`), on the corpus's test part,
all three sensors, clean and with one modality's input under noise (degrade.py's sigma),
accuracy and the share of windows with a modality set aside under four bands: none, the
source package's (what adapted packages kept before), the moved one in the adapted package's
model.json, and one chosen afresh for the adapted head on the corpus's validation part (the
0.999 quantile, as `guard` chooses it; the gateway has no such set, which is why it moves the
band instead). With `--captures` (one per adapted package, a held-out capture of the room it
was adapted to), the same packages through `dagr replay --model`: the source, the adapted
one with the source band, the adapted one with its moved band.

    python models/guard_after_adaptation.py --source models/reference \\
        --adapted A50 A48 ... --captures r50_s13.mcap r48_s13.mcap ... \\
        --data CORPUS --dagr target/release/dagr --out result.json
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dagr_train import guard  # noqa: E402
from dagr_train.data import load_part  # noqa: E402

SIGMAS = (1.0, 4.0)


def bounds_of(package):
    """The package's `head.norm_band.bounds`."""
    with open(os.path.join(package, "model.json")) as f:
        return json.load(f)["head"]["norm_band"]["bounds"]


def corpus_table(source, adapted, data):
    """{band: {condition: [accuracy, set aside]}} for one adapted package."""
    head = guard.PackageHead(adapted)
    val, test = load_part(data, "val"), load_part(data, "test")
    vx = val.inputs()
    bands = {
        "none": None,
        "source": bounds_of(source),
        "moved": bounds_of(adapted),
        "fresh": guard.choose_bounds(head.embed(vx), vx[3]),
    }
    present = test.inputs()[3]
    zs_by = guard.noisy_conditions(head, test, SIGMAS)
    table = {
        name: {
            c: guard.score(head, zs, present, test.label, b) for c, zs in zs_by.items()
        }
        for name, b in bands.items()
    }
    return {"bands": bands, "table": table}


def replay(dagr, package, capture):
    """(accuracy over labeled windows, share of windows with a modality set aside)."""
    out = subprocess.run(
        [dagr, "replay", "--json", "--model", package, capture],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    labeled = [r for r in rows if r.get("label") is not None]
    accuracy = np.mean([r["class"] == r["label"] for r in labeled])
    aside = np.mean([bool(r.get("set_aside")) for r in rows])
    return float(accuracy), float(aside)


def with_bounds(package, bounds, into):
    """A copy of `package` in `into` whose band is `bounds`."""
    shutil.copytree(package, into)
    path = os.path.join(into, "model.json")
    with open(path) as f:
        doc = json.load(f)
    doc["head"]["norm_band"]["bounds"] = bounds
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return into


def replay_row(dagr, source, adapted, capture):
    with tempfile.TemporaryDirectory() as tmp:
        stale = with_bounds(adapted, bounds_of(source), os.path.join(tmp, "stale"))
        return {
            "source": replay(dagr, source, capture),
            "adapted, source band": replay(dagr, stale, capture),
            "adapted, moved band": replay(dagr, adapted, capture),
        }


def summary(results):
    """Mean ± sd over the adapted packages, per band and condition (corpus) and per
    package (replays)."""
    lines = ["corpus test part: accuracy (share of windows with a modality set aside)"]
    first = results[0]["corpus"]["table"]
    conds = list(first["none"])
    lines.append("| band | " + " | ".join(conds) + " |")
    lines.append("|---" * (len(conds) + 1) + "|")
    for band in first:
        cells = []
        for c in conds:
            acc = [r["corpus"]["table"][band][c][0] for r in results]
            aside = [r["corpus"]["table"][band][c][1] for r in results]
            cells.append(
                f"{np.mean(acc):.3f} ± {np.std(acc):.3f} ({np.mean(aside):.3f})"
            )
        lines.append(f"| {band} | " + " | ".join(cells) + " |")
    replays = [r["replay"] for r in results if r.get("replay")]
    if replays:
        lines.append("")
        lines.append("held-out capture of the adapted room through `dagr replay`:")
        for which in replays[0]:
            acc = [r[which][0] for r in replays]
            aside = [r[which][1] for r in replays]
            lines.append(
                f"- {which}: accuracy {np.mean(acc):.3f} ± {np.std(acc):.3f}, "
                f"set aside {np.mean(aside):.3f} ± {np.std(aside):.3f} "
                f"(per capture {', '.join(f'{a:.3f}' for a in acc)})"
            )
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", required=True, help="the package adapted from")
    p.add_argument("--adapted", nargs="+", required=True, help="adapted packages")
    p.add_argument("--captures", nargs="*", default=[], help="one per adapted package")
    p.add_argument("--data", required=True, help="corpus (val and test parts)")
    p.add_argument("--dagr", default="target/release/dagr")
    p.add_argument("--out", help="write the results as JSON here")
    a = p.parse_args()
    if a.captures and len(a.captures) != len(a.adapted):
        p.error("--captures needs one capture per --adapted package")
    results = []
    for i, adapted in enumerate(a.adapted):
        row = {"adapted": adapted, "corpus": corpus_table(a.source, adapted, a.data)}
        if a.captures:
            row["capture"] = a.captures[i]
            row["replay"] = replay_row(a.dagr, a.source, adapted, a.captures[i])
        results.append(row)
        print(f"{adapted}: done", file=sys.stderr)
    text = summary(results)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"results": results, "summary": text}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
