"""Command line: `python -m dagr_train corpus|train|eval|export|rewrite|report|study|sweep|bench`."""

import argparse
import json
import sys

from . import MODALITIES
from .data import DataError


def corpus_cmd(a):
    """`corpus`: simulate, export and split."""

    from .corpus import build, find_dagr, parse_ids

    rooms = {
        p: parse_ids(getattr(a, f"{p}_rooms"), f"--{p}-rooms")
        for p in ("train", "val", "test")
    }
    subjects = {
        p: parse_ids(getattr(a, f"{p}_subjects"), f"--{p}-subjects")
        for p in ("train", "val", "test")
    }
    build(
        a.out,
        find_dagr(a.dagr),
        rooms,
        subjects,
        a.duration,
        a.captures_per_pair,
        a.seed,
        a.window,
        a.hop,
        pairing=a.pairing,
        extra={
            "rooms": parse_ids(a.extra_train_rooms, "--extra-train-rooms")
            if a.extra_train_rooms
            else [],
            "subjects": parse_ids(a.extra_train_subjects, "--extra-train-subjects")
            if a.extra_train_subjects
            else [],
        },
        keep_captures=not a.drop_captures,
        half_train=a.float16_train,
    )


def dagr_config(a):
    """The DagrConfig of the DAGR flags."""

    from .loss import DagrConfig

    return DagrConfig(
        form=a.form,
        lambda_d=a.lambda_d,
        lambda_a=a.lambda_a,
        beta_total=a.beta_total,
        beta=a.beta,
        tau=a.tau,
        tau_d=a.tau_d,
        disp_dim=a.disp_dim,
        disp_normalized=a.disp_normalized,
        distance=a.distance,
    )


def train_config(a, **fields):
    """The TrainConfig of the recipe flags (`add_recipe_flags`), with `fields` set."""

    from .augment import AugmentConfig
    from .train import TrainConfig

    return TrainConfig(
        epochs=a.epochs,
        batch_size=a.batch_size,
        lr=a.lr,
        weight_decay=a.weight_decay,
        modality_dropout=a.modality_dropout,
        threads=a.threads,
        series_steps=a.series_steps,
        temporal_segments=a.temporal_segments,
        temporal_dilated=a.temporal_dilated,
        widths=tuple(a.widths),
        dagr=dagr_config(a),
        augment=AugmentConfig(
            time_shift=a.augment_time_shift,
            gain=a.augment_gain,
            noise=a.augment_noise,
            row_mask=a.augment_row_mask,
            point_drop=a.augment_point_drop,
            rotate=a.augment_rotate,
            noisy_modality=a.augment_noisy_modality,
            noisy_sigma=a.augment_noisy_sigma,
        ),
        feat_dropout=a.feat_dropout,
        label_smoothing=a.label_smoothing,
        unimodal_weight=a.unimodal_weight,
        warm_start=tuple(a.warm_start),
        **fields,
    )


def train_cmd(a):
    """`train`: one run."""

    from .train import train

    train(a.data, a.out, train_config(a, method=a.method, seed=a.seed, only=a.only))


def eval_cmd(a):
    """`eval`: scores of a run (or a late-fusion set of runs), printed and saved."""

    from .evaluate import evaluate

    r = evaluate(a.run, a.data, a.part, a.out, degraded=not a.no_degradation)
    for k, v in r["subsets"].items():
        if k != "confusion_all":
            print(
                f"{k:18s} n {v['n']:5d}  accuracy {v['accuracy']}  macro-F1 {v['macro_f1']}"
            )


def numbers(text, flag):
    """A comma-separated list of numbers given to `flag`."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(
            f"{flag} {text!r}: expected numbers separated by commas"
        ) from None


def fusion_cmd(a):
    """`fusion`: the head's fusion weights of a run, chosen on validation."""

    from .fusion import choose, write

    weights = numbers(a.weights, "--weights") if a.weights else None
    doc = choose(a.run, a.data, numbers(a.grid, "--grid"), weights)
    write(a.run, doc)
    val = doc["val"]
    print(
        f"fusion: {a.run}: weights {dict(zip(doc['order'], doc['weights']))}; "
        f"validation mean over fused subsets {val['equal']['mean']:.3f} (equal) -> "
        f"{val['chosen']['mean']:.3f}, all three {val['equal']['mmwave+wifi+rfid']:.3f} -> "
        f"{val['chosen']['mmwave+wifi+rfid']:.3f}"
    )


def guard_cmd(a):
    """`guard`: the norm guard's bounds, chosen on validation; the test part scored."""

    from . import guard

    if not 0.0 < a.quantile <= 1.0:
        raise SystemExit(
            f"dagr_train guard: --quantile {a.quantile}: expected in (0, 1]"
        )
    if a.run:
        head, where = guard.RunHead(a.run), a.run
    else:
        head, where = guard.PackageHead(a.package), a.package
    doc = guard.choose(head, a.data, a.quantile)
    bounds = ", ".join(f"{m} {b:.3f}" for m, b in zip(MODALITIES, doc["bounds"]))
    print(f"guard: {where}: bounds (quantile {a.quantile} of validation) {bounds}")
    doc["held_out"] = guard.score_test(head, a.data, doc["bounds"])
    print(guard.table(doc["held_out"]))
    if a.write:
        if a.run:
            guard.write_run(a.run, doc)
        else:
            guard.write_package(a.package, doc)
        print(f"guard: written to {where}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"source": where, **doc}, f, indent=2)
            f.write("\n")


def export_cmd(a):
    """`export`: the model package of a run."""

    from .export import export

    doc = export(a.run, a.out, a.data, a.eval)
    print(
        f"export: {a.out} ({doc['encoders']['parameters']} parameters, {doc['encoders']['flops_per_window']} FLOPs per window)"
    )


def rewrite_cmd(a):
    """`rewrite`: an already exported model.onnx given the export's graph rewrite."""

    from .rewrite import rewrite_file

    rewrite_file(a.onnx, a.out or a.onnx)
    print(f"rewrite: {a.out or a.onnx} (rewritten for tract: rewrite.py, same outputs)")


def report_cmd(a):
    """`report`: markdown tables of eval.json files."""

    from .report import report

    text = report(a.evals, a.title)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


def study_cmd(a):
    """`study`: methods a-g over seeds, every method with the same recipe."""

    from .study import study

    from .study import ALL_METHODS, WarmRecipe

    bad = set(a.methods) - set(ALL_METHODS)
    if bad:
        raise ValueError(
            f"--methods {a.methods!r}: unknown {sorted(bad)}, expected letters of {ALL_METHODS}"
        )
    seeds = [int(s) for s in a.seeds.split(",")]
    study(
        a.data,
        a.out,
        seeds,
        train_config(a),
        a.methods,
        a.title,
        a.note,
        a.jobs,
        warm=WarmRecipe(a.warm_lr, a.warm_unimodal_weight),
    )


def sweep_cmd(a):
    """`sweep`: DAGR settings ranked on validation data."""

    from .study import sweep

    grid = {}
    allowed = ("lambda_d", "lambda_a", "tau", "beta_total", "beta")
    for item in a.grid:
        name, _, values = item.partition("=")
        if name not in allowed or not values:
            raise ValueError(
                f"--grid {item!r}: expected NAME=V1,V2 with NAME one of {allowed}"
            )
        grid[name] = [float(v) for v in values.split(",")]
    sweep(a.data, a.out, grid, train_config(a), a.seed)


def bench_cmd(a):
    """`bench`: onnxruntime latency per window."""

    from .bench import bench

    r = bench(a.model, a.iterations, threads=a.threads)
    print(
        f"onnxruntime {r['onnxruntime']}, {r['threads']} thread(s), batch 1, "
        f"{r['iterations']} runs: median {r['median_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms, "
        f"min {r['min_ms']:.3f} ms"
    )


def add_augment_flags(p):
    """Adds the training-time augmentation flags (augment.py; all off by default)."""

    g = p.add_argument_group(
        "augmentation (augment.py; training only, recorded in run.json; 0 = off)"
    )
    g.add_argument(
        "--augment-time-shift",
        type=float,
        default=0.0,
        help="max random time shift per sample and modality, fraction of the window",
    )
    g.add_argument(
        "--augment-gain",
        type=float,
        default=0.0,
        help="std of the log gain of each WiFi/RFID row about its training mean",
    )
    g.add_argument(
        "--augment-noise",
        type=float,
        default=0.0,
        help="Gaussian noise, in training stds of each row / point value, on data only",
    )
    g.add_argument(
        "--augment-row-mask",
        type=float,
        default=0.0,
        help="probability a WiFi/RFID row is replaced by its training mean",
    )
    g.add_argument(
        "--augment-point-drop",
        type=float,
        default=0.0,
        help="probability a real radar point is removed",
    )
    g.add_argument(
        "--augment-rotate",
        type=float,
        default=0.0,
        help="max rotation of the radar points about the vertical axis, degrees",
    )
    g.add_argument(
        "--augment-noisy-modality",
        type=float,
        default=0.0,
        help="probability a sample has one present modality drowned in noise",
    )
    g.add_argument(
        "--augment-noisy-sigma",
        type=float,
        default=2.0,
        help="that noise's largest sigma, in the modality's std (default %(default)s)",
    )


def add_dagr_flags(p):
    """Adds the DAGR flags (one per choice of DESIGN.md's reconstruction) to `p`."""

    g = p.add_argument_group(
        "DAGR (DESIGN.md 'DAGR'; all zero weights = plain cross-entropy)"
    )
    g.add_argument(
        "--form",
        default="lambda",
        choices=["lambda", "pareto"],
        help="weighting form (default lambda)",
    )
    g.add_argument(
        "--lambda-d",
        type=float,
        default=0.0,
        help="dispersion weight, lambda form (default %(default)s)",
    )
    g.add_argument(
        "--lambda-a",
        type=float,
        default=0.0,
        help="anchoring weight, lambda form (default %(default)s)",
    )
    g.add_argument(
        "--beta-total",
        type=float,
        default=0.0,
        help="regularizer weight, Pareto form (default 0)",
    )
    g.add_argument(
        "--beta",
        type=float,
        default=0.5,
        help="anchoring share, Pareto form (default 0.5)",
    )
    g.add_argument(
        "--tau", type=float, default=0.3, help="agreement band (default 0.3)"
    )
    g.add_argument(
        "--tau-d", type=float, default=1.0, help="dispersion temperature (default 1)"
    )
    g.add_argument(
        "--disp-dim",
        type=int,
        default=0,
        help="D of the dispersion (default 0: embedding dim)",
    )
    g.add_argument(
        "--disp-normalized",
        action="store_true",
        help="dispersion on z/||z|| instead of z",
    )
    g.add_argument(
        "--distance",
        default="cosine",
        choices=["cosine", "l2"],
        help="anchoring distance (default 1 - cosine)",
    )


def add_recipe_flags(p):
    """Adds the flags that decide a training run (shared by train, study and sweep)."""

    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument(
        "--modality-dropout",
        type=float,
        default=0.5,
        help="probability a sample keeps a random non-empty subset",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--series-steps",
        action="store_true",
        help="WiFi/RFID encoders also get each row's |step| as input channels",
    )
    p.add_argument(
        "--temporal-segments",
        type=int,
        default=0,
        metavar="N",
        help="each encoder reads its last convolution out as the means of N consecutive "
        "time segments, in order, plus the max over time, so the order of motion in the "
        "window is kept; 0 (default) = mean + max over all time",
    )
    p.add_argument(
        "--temporal-dilated",
        action="store_true",
        help="a residual dilated temporal convolution (k 3, dilation 2) after each "
        "encoder's strided ones: receptive field 29 instead of 13 input steps",
    )
    p.add_argument(
        "--widths",
        type=int,
        nargs=3,
        default=[32, 48, 32],
        metavar=("MMWAVE", "WIFI", "RFID"),
        help="channel width of each encoder's temporal convolutions (default 32 48 32)",
    )
    p.add_argument(
        "--feat-dropout",
        type=float,
        default=0.0,
        help="dropout on each feat_m before the head, training only (default 0)",
    )
    p.add_argument(
        "--label-smoothing",
        type=float,
        default=0.0,
        help="label smoothing of the task cross-entropy, training only (default 0)",
    )
    p.add_argument(
        "--unimodal-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="weight of the unimodal auxiliary loss: each present modality's embedding "
        "alone through the shared classifier must name the class (training only; "
        "default 0)",
    )
    p.add_argument(
        "--warm-start",
        nargs="+",
        default=[],
        metavar="RUN",
        help="start from late-fusion members: the runs of `train --only mmwave|wifi|rfid` "
        "(one per modality) give each encoder and projection, the mean of their "
        "classifiers the classifier (default: random initialization)",
    )
    add_augment_flags(p)
    add_dagr_flags(p)


def parser():
    """The argument parser of every subcommand."""

    ap = argparse.ArgumentParser(
        prog="python -m dagr_train", description="DAGR training pipeline of dagr-edge."
    )
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("corpus", help="simulate, export and split a corpus")
    p.add_argument(
        "--out",
        required=True,
        help="corpus directory (captures/, shards, dataset.json, split.json)",
    )
    p.add_argument(
        "--dagr",
        help="dagr binary (default: target/release/dagr, then target/debug/dagr)",
    )
    p.add_argument("--train-rooms", default="1-30", help="ids or ranges a-b")
    p.add_argument("--train-subjects", default="1-30")
    p.add_argument("--val-rooms", default="41-46")
    p.add_argument("--val-subjects", default="61-66")
    p.add_argument("--test-rooms", default="47-54")
    p.add_argument("--test-subjects", default="67-74")
    p.add_argument(
        "--pairing",
        default="zip",
        choices=["zip", "grid"],
        help="zip: i-th room with i-th subject, one person per room (default); "
        "grid: every room of a part with every subject of it",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=120.0,
        help="seconds per capture (default 120)",
    )
    p.add_argument(
        "--extra-train-rooms",
        default="",
        help="more training rooms (ids or ranges), planned after the test part so the "
        "default parts keep their capture seeds (default: none)",
    )
    p.add_argument(
        "--extra-train-subjects",
        default="",
        help="more training subjects, paired with --extra-train-rooms (default: none)",
    )
    p.add_argument(
        "--drop-captures",
        action="store_true",
        help="delete the MCAP captures once exported (training reads only the shards)",
    )
    p.add_argument(
        "--float16-train",
        action="store_true",
        help="store the training shards' inputs in float16 (half the disk; validation and "
        "test shards stay float32)",
    )
    p.add_argument("--captures-per-pair", type=int, default=1)
    p.add_argument(
        "--seed", type=int, default=0, help="capture k gets seed 1000*seed + k + 1"
    )
    p.add_argument("--window", type=float, help="window length, s (default: dagr's)")
    p.add_argument("--hop", type=float, help="hop, s (default: dagr's)")
    p.set_defaults(func=corpus_cmd)

    p = sub.add_parser("train", help="train a fusion model on a corpus")
    p.add_argument("--data", required=True, help="corpus directory")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--method", default="", help="label saved with the run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--only",
        default="",
        choices=[""] + list(MODALITIES),
        help="train one modality alone",
    )
    add_recipe_flags(p)
    p.set_defaults(func=train_cmd)

    p = sub.add_parser(
        "eval", help="score a run on a split part, all 7 subsets and degradations"
    )
    p.add_argument(
        "--run",
        required=True,
        nargs="+",
        help="run directory; several --only runs = late fusion",
    )
    p.add_argument("--data", required=True)
    p.add_argument("--part", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", help="eval.json path")
    p.add_argument(
        "--no-degradation", action="store_true", help="skip the robustness curves"
    )
    p.set_defaults(func=eval_cmd)

    p = sub.add_parser(
        "fusion",
        help="choose a run's per-modality fusion weights on validation (fusion.json)",
    )
    p.add_argument("--run", required=True, help="run directory (fusion.json goes here)")
    p.add_argument(
        "--data", required=True, help="corpus directory (its val part is used)"
    )
    p.add_argument(
        "--grid",
        default="0.25,0.5,0.75,1",
        help="weights tried for each modality, comma-separated (default 0.25,0.5,0.75,1)",
    )
    p.add_argument(
        "--weights",
        help="mmwave,wifi,rfid weights to use instead of searching (e.g. 1,0.5,0.25: "
        "more robust to a failing radar, reports/fusion-2026-12-05.md); still scored on "
        "validation and written to fusion.json",
    )
    p.set_defaults(func=fusion_cmd)

    p = sub.add_parser(
        "guard",
        help="choose the norm guard's bounds on validation; score the test part with "
        "and without it, clean and with noise (guard.py)",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="run directory (band.json goes here with --write)")
    which.add_argument(
        "--package", help="model package (head.norm_band in model.json with --write)"
    )
    p.add_argument("--data", required=True, help="corpus (its val and test parts)")
    p.add_argument(
        "--quantile",
        type=float,
        default=0.999,
        help="share of clean validation windows each bound lies above (%(default)s)",
    )
    p.add_argument("--write", action="store_true", help="write the bounds")
    p.add_argument("--out", help="write the bounds and scores as JSON here")
    p.set_defaults(func=guard_cmd)

    p = sub.add_parser("export", help="write the model package of a run")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True, help="package directory")
    p.add_argument("--data", help="corpus for parity inputs (default: the run's)")
    p.add_argument("--eval", help="eval.json whose scores go into model.json")
    p.set_defaults(func=export_cmd)

    p = sub.add_parser(
        "rewrite",
        help="apply the export's graph rewrite (rewrite.py) to an exported model.onnx",
    )
    p.add_argument("onnx", help="model.onnx to rewrite")
    p.add_argument("--out", help="where to write it (default: in place)")
    p.set_defaults(func=rewrite_cmd)

    p = sub.add_parser(
        "study", help="train and compare methods a-g over seeds on the test part"
    )
    p.add_argument("--data", required=True)
    p.add_argument(
        "--out", required=True, help="study directory (runs/, evals/, report.md, PNGs)"
    )
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument(
        "--methods",
        default="abcdefg",
        help="method letters (default abcdefg, the issue's; also w: g-warm-started DAGR "
        "fusion with the unimodal loss, x: the same without DAGR)",
    )
    p.add_argument(
        "--warm-lr",
        type=float,
        default=0.0005,
        help="learning rate of w and x (default 5e-4; fine-tuning trained encoders)",
    )
    p.add_argument(
        "--warm-unimodal-weight",
        type=float,
        default=1.0,
        help="unimodal loss weight of w and x (default 1)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="trainings and evaluations run side by side (default 1)",
    )
    p.add_argument("--title", default="Study")
    p.add_argument("--note", default="", help="a line printed under the title")
    add_recipe_flags(p)
    # the DAGR flags give c-f their settings; full DAGR's defaults for the study
    p.set_defaults(lambda_d=0.1, lambda_a=0.5)
    p.set_defaults(func=study_cmd)

    p = sub.add_parser("sweep", help="rank DAGR settings (method f) on validation data")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument(
        "--grid",
        nargs="+",
        required=True,
        help="NAME=V1,V2 ... (lambda_d lambda_a tau beta_total beta)",
    )
    p.add_argument("--seed", type=int, default=0)
    add_recipe_flags(p)
    p.set_defaults(func=sweep_cmd)

    p = sub.add_parser("bench", help="onnxruntime latency per window at batch 1")
    p.add_argument("--model", required=True, help="model package directory")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=bench_cmd)

    p = sub.add_parser("report", help="markdown tables from eval.json files")
    p.add_argument("evals", nargs="+")
    p.add_argument("--title", default="Evaluation")
    p.add_argument("--out", help="markdown file to write")
    p.set_defaults(func=report_cmd)
    return ap


def main(argv=None):
    """Parses `argv` and runs the subcommand; bad input exits 2 with the message."""
    a = parser().parse_args(argv)
    sys.stdout.reconfigure(
        line_buffering=True
    )  # progress lines appear as they happen in logs
    try:
        a.func(a)
    except (DataError, ValueError) as e:
        print(f"python -m dagr_train {a.command}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
