"""`study` and `sweep`: the issue's comparison of methods, one command each.

Methods (each trained with the same encoders, head, optimizer and epochs):
  a  cross-entropy, no modality dropout
  b  cross-entropy + modality dropout
  c  b + dispersion only (lambda_d)
  d  b + anchoring only (lambda_a, band tau)
  e  b + rigid alignment (anchoring with tau = 0)
  f  b + full DAGR (lambda_d, lambda_a, tau)
  g  late fusion: one model per modality trained alone, logits summed over the present ones
  w  warm-started DAGR fusion: f + the unimodal auxiliary loss, started from g's members
  x  w without DAGR: b + the unimodal auxiliary loss, started from g's members
`study` trains every method for every seed, evaluates on the test part (7 subsets,
robustness curves) and writes report.md, diagnostics.png, robustness.png, confusion.md.
`sweep` trains method f over a grid of settings and ranks them on the *validation* part
only, so defaults are never chosen on test data. w and x (beyond the issue's a-g) train
after g, from the members of g of the same seed, with `WarmRecipe`'s learning rate and
unimodal weight."""

import itertools
import json
import os
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from . import MODALITIES
from .evaluate import evaluate
from .loss import DagrConfig
from .report import mean_std, report
from .train import TrainConfig, train

METHODS = "abcdefg"
"""The issue's methods, the study's default."""

ALL_METHODS = METHODS + "wx"
"""Every method letter `study` knows."""

WARM = "wx"
"""The methods that start from g's members (trained after them)."""


@dataclass
class WarmRecipe:
    """What w and x change in the study's recipe besides their start: fine-tuning trained
    encoders takes a smaller learning rate, and the unimodal loss keeps each encoder's own
    signal (settings of the validation screen in reports/study-2026-12-05.md)."""

    lr: float = 5e-4
    unimodal_weight: float = 1.0


def method_config(method, base, warm=None):
    """The TrainConfig of one method letter (g: the single-modality members' config; w
    and x: without their members, which `planned_runs` adds per seed).

    `base` is the study's recipe; its `dagr` holds the settings of full DAGR (f): c keeps
    its dispersion, d its anchoring, e its anchoring with tau = 0, and every other choice
    (normalized dispersion, distance, ...) carries over; a, b and g train without DAGR."""
    full = base.dagr
    if full.form != "lambda":
        raise ValueError(
            f"study: DAGR form {full.form!r}; the methods are defined in the lambda form"
        )
    if method not in ALL_METHODS:
        raise ValueError(
            f"study: unknown method {method!r}, expected one of {ALL_METHODS}"
        )
    if method in WARM:
        warm = warm or WarmRecipe()
        like = method_config("f" if method == "w" else "b", base)
        return replace(
            like, method=method, lr=warm.lr, unimodal_weight=warm.unimodal_weight
        )
    dropout = 0.0 if method in "ag" else base.modality_dropout
    if method in "abg":
        dagr = DagrConfig()
    else:
        dagr = replace(
            full,
            lambda_d=full.lambda_d if method in "cf" else 0.0,
            lambda_a=full.lambda_a if method in "def" else 0.0,
            tau=0.0 if method == "e" else full.tau,
        )
    return replace(base, method=method, modality_dropout=dropout, dagr=dagr)


def run_dir(out, method, seed, only=""):
    """Where the study keeps one training run."""
    return os.path.join(out, "runs", f"{method}_s{seed}" + (f"_{only}" if only else ""))


def members(out, seed):
    """The run directories of g's members of `seed`, in MODALITIES order."""
    return tuple(run_dir(out, "g", seed, m) for m in MODALITIES)


def planned_runs(out, methods, seeds, base, warm=None):
    """(run directory, TrainConfig) of every training the study needs, in order: g's
    members before the warm-started methods that start from them (g is added when a
    warm-started method is asked for without it)."""
    if set(methods) & set(WARM) and "g" not in methods:
        methods = "g" + methods
    methods = sorted(methods, key=lambda m: m in WARM)
    plan = []
    for method in methods:
        for seed in seeds:
            cfg = replace(method_config(method, base, warm), seed=seed)
            if method in WARM:
                cfg = replace(cfg, warm_start=members(out, seed))
            for only in MODALITIES if method == "g" else ("",):
                plan.append((run_dir(out, method, seed, only), replace(cfg, only=only)))
    return plan


def check_reused(run, cfg):
    """A run directory that already holds a run is reused only if it was trained with
    exactly `cfg`; anything else would put another recipe's numbers into the study. The
    thread count is not part of the recipe (it says how many cores a run used, not what
    it learned), so a run trained on one thread is reused by a study on two."""
    saved = json.load(open(os.path.join(run, "run.json")))["config"]
    wanted = json.loads(json.dumps(asdict(cfg)))
    # A setting added after the run was trained is absent from its run.json; the run was
    # trained with that setting's default.
    default = json.loads(json.dumps(asdict(TrainConfig())))
    differ = sorted(
        k
        for k in (set(saved) | set(wanted)) - {"threads"}
        if saved.get(k, default.get(k)) != wanted.get(k)
    )
    if differ:
        raise ValueError(
            f"{run}: already holds a run trained with other settings ({', '.join(differ)}); "
            "remove it or use another --out"
        )


def eval_is_current(runs, data, path):
    """An eval.json is reused when it scored exactly these runs on this corpus's test part
    after they were last trained (an interrupted study resumes without scoring again)."""
    if not os.path.exists(path):
        return False
    ev = json.load(open(path))
    made = os.path.getmtime(path)
    return (
        ev.get("runs") == list(runs)
        and ev.get("data") == os.path.abspath(data)
        and ev.get("part") == "test"
        and "degraded" in ev
        and all(made > os.path.getmtime(os.path.join(r, "run.json")) for r in runs)
    )


def _train_one(job):
    data, run, cfg = job
    train(data, run, cfg)
    return run


def _evaluate_one(job):
    runs, data, path = job
    torch.set_num_threads(1)  # one process per core when evaluations run side by side
    evaluate(runs, data, "test", path)
    return path


def run_jobs(fn, jobs, parallel):
    """Runs `fn` over `jobs`, in `parallel` processes (spawned: torch is not fork-safe).
    A worker that dies (the kernel kills a training that runs out of memory) stops the
    study with an error saying so, where a `multiprocessing.Pool` would wait for it
    forever."""
    if parallel <= 1 or len(jobs) <= 1:
        return [fn(j) for j in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(parallel, mp_context=context) as pool:
            return list(pool.map(fn, jobs))
    except BrokenProcessPool as e:
        raise RuntimeError(
            f"a worker of the {parallel} running side by side died before it finished "
            "(killed by the system, e.g. out of memory: see `dmesg`); rerun with fewer "
            "--jobs (finished runs are reused)"
        ) from e


def plot_diagnostics(out, methods, seeds):
    """diagnostics.png: per epoch (mean over seeds) effective rank per modality, drift, share
    outside the band and semantic margin, for the given methods."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.5))
    for method in methods:
        hist = [
            json.load(open(os.path.join(run_dir(out, method, s), "run.json")))[
                "history"
            ]
            for s in seeds
        ]
        epochs = [h["epoch"] for h in hist[0]]

        def series(get):
            return np.mean(
                [[get(e["val"]["diagnostics"]) or 0.0 for e in h] for h in hist], axis=0
            )

        for m in MODALITIES:
            axes[0].plot(
                epochs,
                series(lambda d, m=m: d["effective_rank"][m]),
                label=f"{method} {m}",
            )
        axes[1].plot(epochs, series(lambda d: d["drift"]["mean"]), label=method)
        axes[2].plot(epochs, series(lambda d: d["drift"]["outside_band"]), label=method)
        axes[3].plot(epochs, series(lambda d: d["semantic_margin"]), label=method)
    titles = [
        "effective rank",
        "drift (mean d)",
        "fraction outside band",
        "semantic margin",
    ]
    for ax, t in zip(axes, titles):
        ax.set_title(t)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "diagnostics.png"), dpi=80)
    plt.close(fig)


def plot_robustness(out, evals_by_method):
    """robustness.png: accuracy with all modalities vs degradation level, one panel per
    (degraded modality, kind), one line per method (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = list(next(iter(evals_by_method.values()))[0]["degraded"])
    fig, axes = plt.subplots(3, 3, figsize=(12, 10))
    for ax, curve in zip(axes.flat, curves):
        for method, evs in evals_by_method.items():
            levels = [c["level"] for c in evs[0]["degraded"][curve]]
            acc = np.mean(
                [[c["accuracy"] for c in ev["degraded"][curve]] for ev in evs], axis=0
            )
            ax.plot(levels, acc, marker="o", label=method)
        ax.set_title(curve)
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "robustness.png"), dpi=80)
    plt.close(fig)


def confusion_table(ev):
    """Markdown confusion matrix (rows true, columns predicted) of one eval."""
    classes = ev["classes"]
    c = ev["subsets"]["confusion_all"]
    lines = [
        "| true \\ predicted | " + " | ".join(classes) + " |",
        "|---|" + "---:|" * len(classes),
    ]
    lines += [
        f"| {classes[i]} | " + " | ".join(str(v) for v in row) + " |"
        for i, row in enumerate(c)
    ]
    return "\n".join(lines)


def dagr_vs_b(evals_by_method, with_dagr="f", without="b"):
    """Per subset: accuracy of `with_dagr` minus `without` (f and b; or w and x, the
    same comparison among warm-started runs), paired by seed, as mean ± std."""
    if with_dagr not in evals_by_method or without not in evals_by_method:
        return ""
    b = {ev["seed"]: ev for ev in evals_by_method[without]}
    keys = [k for k in evals_by_method[with_dagr][0]["subsets"] if k != "confusion_all"]
    lines = [
        f"| subset | {with_dagr} - {without} accuracy (paired by seed) |",
        "|---|---:|",
    ]
    for k in keys:
        diffs = [
            ev["subsets"][k]["accuracy"] - b[ev["seed"]]["subsets"][k]["accuracy"]
            for ev in evals_by_method[with_dagr]
            if ev["seed"] in b
        ]
        lines.append(f"| {k} | {mean_std(diffs)} |")
    return "\n".join(lines)


def recipe_line(base):
    """The study's recipe as the train settings that differ from TrainConfig's defaults."""
    default, used = asdict(TrainConfig()), asdict(base)
    parts = []
    for key in used:
        if key in ("method", "seed", "only", "threads") or used[key] == default[key]:
            continue
        value = used[key]
        if isinstance(value, dict):
            value = ", ".join(
                f"{k} {v}" for k, v in value.items() if v != default[key].get(k)
            )
        parts.append(f"{key} {value}")
    return "; ".join(parts)


def study(
    data,
    out,
    seeds,
    base,
    methods=METHODS,
    title="Study",
    note="",
    jobs=1,
    log=print,
    warm=None,
):
    """Trains and evaluates every method and seed, then writes the report files into `out`.

    Runs already in `out/runs` with the same settings are reused (so an interrupted study
    resumes); `jobs` trainings and evaluations run side by side."""
    os.makedirs(out, exist_ok=True)
    plan = planned_runs(out, methods, seeds, base, warm)
    todo = []
    for run, cfg in plan:
        if os.path.exists(os.path.join(run, "run.json")):
            check_reused(run, cfg)
        else:
            todo.append((data, run, cfg))
    log(
        f"study: {len(plan)} runs, {len(plan) - len(todo)} reused, {len(todo)} to train"
    )
    # the warm-started runs read g's members, so they wait until those are trained
    run_jobs(_train_one, [t for t in todo if t[2].method not in WARM], jobs)
    run_jobs(_train_one, [t for t in todo if t[2].method in WARM], jobs)
    evals = {
        m: [os.path.join(out, "evals", f"{m}_s{s}.json") for s in seeds]
        for m in methods
    }
    os.makedirs(os.path.join(out, "evals"), exist_ok=True)
    eval_jobs = [
        (
            [run_dir(out, m, s, o) for o in (MODALITIES if m == "g" else ("",))],
            data,
            evals[m][i],
        )
        for m in methods
        for i, s in enumerate(seeds)
    ]
    run_jobs(_evaluate_one, [j for j in eval_jobs if not eval_is_current(*j)], jobs)
    loaded = {m: [json.load(open(p)) for p in ps] for m, ps in evals.items()}
    dagr = base.dagr
    text = report([p for ps in evals.values() for p in ps], title)
    head = ([note, ""] if note else []) + [
        f"Data: `{data}`; seeds {list(seeds)}; epochs {base.epochs}; "
        f"DAGR of c-f: lambda_d {dagr.lambda_d}, lambda_a {dagr.lambda_a}, tau {dagr.tau}"
        f"{', normalized dispersion' if dagr.disp_normalized else ''}.",
        "",
        f"Recipe (every method): {recipe_line(replace(base, dagr=DagrConfig()))}.",
        "",
        "Methods: "
        + "; ".join(" ".join(line.split()) for line in __doc__.split("\n")[3:10])
        + ".",
    ]
    lines = text.split("\n")
    text = "\n".join(lines[:1] + [""] + head + lines[1:])
    if "f" in loaded and "b" in loaded:
        text += (
            "\n## DAGR (f) against CE + modality dropout (b)\n\n"
            + dagr_vs_b(loaded)
            + "\n"
        )
    if "w" in loaded and "x" in loaded:
        text += (
            "\n## DAGR among warm-started fusions (w against x)\n\n"
            + dagr_vs_b(loaded, "w", "x")
            + "\n"
        )
    # the reference's method: w when the study has it, else full DAGR (f)
    fused = next((m for m in "wf" if m in loaded), None)
    if fused:
        text += (
            f"\n## Confusion of the fused model ({fused}, seed "
            + str(seeds[0])
            + ", all modalities)\n\n"
        )
        text += confusion_table(loaded[fused][0]) + "\n"
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text + "\n")
    diag_methods = [m for m in "bf" if m in methods]
    if diag_methods:
        plot_diagnostics(out, diag_methods, seeds)
    plot_robustness(out, loaded)
    log(f"study: wrote {out}/report.md, diagnostics.png, robustness.png")
    return text


def sweep(data, out, grid, base, seed=0, log=print):
    """Trains method f for every combination of `grid` (name -> values among lambda_d,
    lambda_a, tau, beta_total, beta; beta* switch to the Pareto form) and ranks them by
    validation accuracy; writes sweep.json and sweep.md."""
    names = list(grid)
    rows = []
    for values in itertools.product(*(grid[n] for n in names)):
        setting = dict(zip(names, values))
        form = "pareto" if any(n.startswith("beta") for n in names) else "lambda"
        cfg = replace(
            base, method="f", seed=seed, dagr=replace(base.dagr, form=form, **setting)
        )
        tag = "_".join(f"{n}{v}" for n, v in setting.items())
        run = os.path.join(out, "runs", tag)
        if not os.path.exists(os.path.join(run, "run.json")):
            train(data, run, cfg, log)
        info = json.load(open(os.path.join(run, "run.json")))
        rows.append(
            {
                **setting,
                "val_accuracy": info["val"]["accuracy"],
                "val_macro_f1": info["val"]["macro_f1"],
            }
        )
    rows.sort(key=lambda r: -(r["val_accuracy"] or 0))
    with open(os.path.join(out, "sweep.json"), "w") as f:
        json.dump(rows, f, indent=2)
    lines = [
        "| " + " | ".join(names) + " | val accuracy | val macro-F1 |",
        "|" + "---:|" * (len(names) + 2),
    ]
    lines += [
        "| "
        + " | ".join(str(r[n]) for n in names)
        + f" | {r['val_accuracy']:.3f} | {r['val_macro_f1']:.3f} |"
        for r in rows
    ]
    with open(os.path.join(out, "sweep.md"), "w") as f:
        f.write(
            f"# Sweep of method f on validation data (seed {seed})\n\n"
            + "\n".join(lines)
            + "\n"
        )
    log("\n".join(lines))
    return rows
