"""`report`: eval.json files to markdown tables, runs of the same method pooled over seeds
as mean ± std (sample std, n-1; a single seed shows no spread)."""

import json
from collections import defaultdict

import numpy as np

from .evaluate import SUBSETS

SUBSET_KEYS = ["+".join(s) for s in SUBSETS]


def mean_std(values):
    """'m ± s' of the non-missing values ('-' when none, 'm' for a single value)."""
    v = np.array([x for x in values if x is not None], float)
    if len(v) == 0:
        return "-"
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def load_evals(paths):
    """eval.json documents grouped by method (in first-seen order)."""
    groups = defaultdict(list)
    for p in paths:
        with open(p) as f:
            ev = json.load(f)
        groups[ev["method"] or p].append(ev)
    return groups


def subset_table(groups, metric):
    """Markdown table: one row per method, one column per modality subset."""
    lines = [
        "| method | seeds | " + " | ".join(SUBSET_KEYS) + " |",
        "|---|---:|" + "---:|" * len(SUBSET_KEYS),
    ]
    for method, evs in groups.items():
        cells = [
            mean_std([ev["subsets"][k][metric] for ev in evs]) for k in SUBSET_KEYS
        ]
        lines.append(f"| {method} | {len(evs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def degradation_table(groups):
    """Markdown table: accuracy with all modalities at each degradation level."""
    first = next(iter(groups.values()))[0]
    if "degraded" not in first:
        return ""
    lines = []
    for curve in first["degraded"]:
        levels = [c["level"] for c in first["degraded"][curve]]
        lines += [
            f"\n{curve} (levels {levels})\n",
            "| method | " + " | ".join(str(v) for v in levels) + " |",
            "|---|" + "---:|" * len(levels),
        ]
        for method, evs in groups.items():
            cells = [
                mean_std([ev["degraded"][curve][i]["accuracy"] for ev in evs])
                for i in range(len(levels))
            ]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(paths, title="Evaluation"):
    """The markdown report of the eval.json files `paths`."""
    groups = load_evals(paths)
    parts = {ev["part"] for evs in groups.values() for ev in evs}
    out = [
        f"# {title}",
        "",
        f"Part: {', '.join(sorted(parts))}; mean ± std over seeds.",
        "",
    ]
    out += ["## Accuracy per modality subset", "", subset_table(groups, "accuracy"), ""]
    out += ["## Macro-F1 per modality subset", "", subset_table(groups, "macro_f1"), ""]
    deg = degradation_table(groups)
    if deg:
        out += ["## Accuracy (all modalities) with one modality degraded", deg, ""]
    return "\n".join(out)
