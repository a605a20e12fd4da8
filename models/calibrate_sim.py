"""Calibrate the digital twin: how much each modality alone, and the three fused, tell about
the activity in rooms and people never seen in training.

For each seed: simulate captures (`dagr sim`) for random (room, subject) pairs drawn from the
training ranges and from disjoint test ranges (a test capture's room AND subject are both
unseen), export them with `dagr dataset export`, compute generic per-modality features per
window (row-order-free summaries: no feature knows which row is which link, subcarrier or
tag, except the two object-tag rows), fit a gradient-boosting classifier (scikit-learn's
HistGradientBoostingClassifier, fixed settings, never tuned on the test captures) per
modality and on the three concatenated, and score the test windows. Reported per seed with
a 95 % interval from a bootstrap over test captures, and over seeds as mean, standard
deviation, min and max.

With `--corpus DIR` nothing is simulated: the probe trains on a training corpus's train
part (`python -m dagr_train corpus`, the data the trained encoders learn from: 240 rooms and
people for the reference), each seed on its own bootstrap draw of those captures (or on
`--train-captures N` of them drawn without replacement, for a learning curve), and is
scored on the corpus's test part (rooms and people held out together; `--test-parts` adds
`val`). `--work` then keeps each capture's features, so later runs skip computing them.

Targets (issue 9): mmWave >= 0.5, WiFi >= 0.3, RFID >= 0.3, fused >= best single + 0.05,
no single modality >= 0.9. Room and subject ids >= 1000 are reserved for outside
evaluation; this script refuses them.

Usage (from the repository root, after `cargo build --release -p dagr-host --bin dagr`):

    ~/.cache/dagr/venv/bin/python models/calibrate_sim.py \\
        [--dagr target/release/dagr] [--seeds 0,1,2] [--duration 90] \\
        [--train-captures 24] [--test-captures 8] [--work DIR] [--json FILE]
    ~/.cache/dagr/venv/bin/python models/calibrate_sim.py --corpus DIR \\
        [--seeds 0,1,2] [--train-captures N] [--test-parts test[,val]] [--work DIR]

Needs numpy and scikit-learn (pinned in tests/peers/requirements.txt, the tools venv).
"""

import argparse
import functools
import hashlib
import inspect
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

# One thread: the probe runs beside other jobs, and OpenMP threads spinning on a busy
# machine cost far more than they gain. Set before scikit-learn loads its thread pool.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I64": "<i8"}
MODALITIES = ("mmwave", "wifi", "rfid")  # the order of the `present` columns
TRAIN_ROOMS = range(1, 41)
TRAIN_SUBJECTS = range(1, 61)
TEST_ROOMS = range(41, 61)
TEST_SUBJECTS = range(61, 91)
RESERVED = 1000  # ids from here on belong to outside evaluation
BANDS_HZ = ((0.1, 0.6), (0.6, 2.0), (2.0, 5.0), (5.0, 50.0))
BOOTSTRAP = 1000


def read_safetensors(path):
    """Tensors and metadata of one safetensors file (8-byte header length, JSON, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).reshape(
            info["shape"]
        )
    return out


def segment_means(x, segments):
    """Mean of `x` [N, T] over `segments` equal time segments -> [N, segments]."""
    t = x.shape[1]
    edges = np.linspace(0, t, segments + 1).astype(int)
    return np.stack([x[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:])], 1)


def row_features(x, window_s):
    """Row-order-free summary of `x` [N, R, T]: per row std, mean |step|, range and
    |end - start| / std (a steady change or an oscillation), each
    summarized over the rows by quantiles (10/50/90 %) and mean; spectral energy in
    BANDS_HZ averaged over rows (log) and as shares of their sum; the motion-energy profile over 8 time segments;
    mean correlation of neighbouring rows' steps."""
    n, rows, t = x.shape
    d = np.diff(x, axis=2)
    ad = np.abs(d)
    feats = []
    trend = np.abs(x[:, :, -5:].mean(2) - x[:, :, :5].mean(2))
    for v in (x.std(2), ad.mean(2), x.max(2) - x.min(2), trend / (x.std(2) + 1e-9)):
        feats.append(np.percentile(v, [10, 50, 90], axis=1).T)
        feats.append(v.mean(1, keepdims=True))
    spectrum = np.abs(np.fft.rfft(x - x.mean(2, keepdims=True), axis=2)) ** 2
    freqs = np.fft.rfftfreq(t, d=window_s / t)
    energies = []
    for lo, hi in BANDS_HZ:
        band = (freqs >= lo) & (freqs < hi)
        energies.append(
            spectrum[:, :, band].sum(2).mean(1) if band.any() else np.zeros(n)
        )
    energies = np.stack(energies, 1)
    feats.append(np.log(energies + 1e-9))
    # the same as shares of the total: how fast, whatever how strong
    feats.append(energies / np.maximum(energies.sum(1, keepdims=True), 1e-12))
    profile = segment_means(ad.mean(1), 8)
    feats.append(profile / np.maximum(profile.mean(1, keepdims=True), 1e-9))
    feats.append(np.log(profile.mean(1, keepdims=True) + 1e-9))
    dc = d - d.mean(2, keepdims=True)
    dn = dc / np.maximum(np.linalg.norm(dc, axis=2, keepdims=True), 1e-9)
    feats.append((dn[:, 1:] * dn[:, :-1]).sum(2).mean(1, keepdims=True))
    return np.concatenate(feats, axis=1)


def wifi_features(w, window_s):
    """Power rows and antenna phase-difference rows summarized separately. Three links
    of blocks of 30 rows, the power blocks first: three blocks a link (one power block,
    the gateway's layout) or five (three antennas' powers, the layout tried in
    models/reports/antennas-2026-12-05.md)."""
    n, rows, t = w.shape
    per_link = rows // 3 // 30
    powers = per_link - 2  # every block but the two phase differences
    blocks = w.reshape(n, 3, per_link, 30, t)
    power = blocks[:, :, :powers].reshape(n, -1, t)
    phase = blocks[:, :, powers:].reshape(n, -1, t)
    return np.concatenate(
        [row_features(power, window_s), row_features(phase, window_s)], 1
    )


def rfid_features(r, window_s):
    """Phase-track rows and RSSI rows summarized separately, plus the two object-tag rows
    (cup, phone: their EPCs sort first) on their own and the number of tags read."""
    phase, rssi = r[:, 0::2], r[:, 1::2]
    feats = [row_features(phase, window_s), row_features(rssi, window_s)]
    for rows in (phase[:, :2], rssi[:, :2]):
        feats.append(rows.std(2))
        feats.append(np.abs(np.diff(rows, axis=2)).mean(2))
    feats.append(np.any(r != 0, axis=2).sum(1, keepdims=True) / 2.0)
    return np.concatenate(feats, 1)


def mmwave_features(m):
    """Summary statistics of the radar point tensor `m` [N, F, P, 5] (x, y, z, v, snr)."""
    valid = np.any(m != 0, axis=3)
    w = valid.astype(np.float64)
    count = w.sum(2)
    total = np.maximum(w.sum((1, 2)), 1.0)
    feats = [count.mean(1, keepdims=True), count.std(1, keepdims=True)]
    feats.append((count > 0).mean(1, keepdims=True))
    for c in range(5):
        v = m[..., c].astype(np.float64)
        mean = (v * w).sum((1, 2)) / total
        var = ((v - mean[:, None, None]) ** 2 * w).sum((1, 2)) / total
        feats += [mean[:, None], np.sqrt(var)[:, None]]
        fm = (v * w).sum(2) / np.maximum(count, 1.0)
        fm = np.where(count > 0, fm, mean[:, None])
        feats.append(segment_means(fm, 4))
        feats.append(np.abs(np.diff(fm, axis=1)).mean(1, keepdims=True))
    for values, edges in (
        (m[..., 3], np.linspace(-1.0, 1.0, 11)),
        (m[..., 2], np.linspace(-0.1, 0.5, 11)),
    ):
        clipped = np.clip(values, edges[0], edges[-1] - 1e-6)
        idx = np.digitize(clipped, edges) - 1
        hist = np.stack([((idx == b) & valid).sum((1, 2)) for b in range(10)], 1)
        feats.append(hist / total[:, None])
    moving = (np.abs(m[..., 3]) > 0.05) & valid
    feats.append(segment_means(moving.sum(2) / np.maximum(count, 1.0), 4))
    # where the moving points are: height histogram of moving points, and their speed
    # quantiles (a point's own speed, not a class rule)
    z = m[..., 2]
    edges = np.linspace(-0.1, 0.5, 7)
    idx = np.digitize(np.clip(z, edges[0], edges[-1] - 1e-6), edges) - 1
    n_moving = np.maximum(moving.sum((1, 2)), 1.0)
    feats.append(
        np.stack([((idx == b) & moving).sum((1, 2)) for b in range(6)], 1)
        / n_moving[:, None]
    )
    feats.append(np.log1p(moving.sum((1, 2)))[:, None])
    speed = np.where(moving, np.abs(m[..., 3]), np.nan).reshape(len(m), -1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanpercentile(speed, [50, 90], axis=1).T
    feats.append(np.nan_to_num(q))
    return np.concatenate(feats, axis=1)


def features_of(path, window_s):
    t = read_safetensors(path)
    present = t["present"] > 0.5
    wifi, rfid = t["wifi"].astype(np.float64), t["rfid"].astype(np.float64)
    if rfid.shape[1] == 23:
        # The first twin's layout (WiFi amplitude per antenna, one RFID row per tag), to
        # measure the "before" figures with the same probe: whole-tensor summaries.
        count = np.any(rfid != 0, axis=2).sum(1, keepdims=True)
        wifi_f = row_features(wifi, window_s)
        rfid_f = np.concatenate([row_features(rfid, window_s), count], 1)
    else:
        wifi_f, rfid_f = wifi_features(wifi, window_s), rfid_features(rfid, window_s)
    mmwave = t["mmwave"].astype(np.float32)  # a training corpus stores float16
    feats = {"mmwave": mmwave_features(mmwave), "wifi": wifi_f, "rfid": rfid_f}
    for i, m in enumerate(MODALITIES):
        feats[m] = feats[m] * present[:, [i]]
    return feats, present.astype(np.float64), t["label"].astype(np.int64)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r


def draw_pairs(rng, rooms, subjects, count):
    """`count` (room, subject) pairs, no room and no subject twice while they last."""
    rooms = rng.permutation(list(rooms))
    subjects = rng.permutation(list(subjects))
    return [
        (int(rooms[i % len(rooms)]), int(subjects[i % len(subjects)]))
        for i in range(count)
    ]


def simulate(args, seed, work):
    """Simulates and exports one seed's captures; returns per-capture feature sets."""
    rng = np.random.default_rng(seed)
    plan = [
        ("train", r, s)
        for r, s in draw_pairs(rng, TRAIN_ROOMS, TRAIN_SUBJECTS, args.train_captures)
    ]
    plan += [
        ("test", r, s)
        for r, s in draw_pairs(rng, TEST_ROOMS, TEST_SUBJECTS, args.test_captures)
    ]
    for _, room, subject in plan:
        if room >= RESERVED or subject >= RESERVED:
            sys.exit(
                f"room/subject ids >= {RESERVED} are reserved for outside evaluation"
            )
    captures = []
    shards = os.path.join(work, "shards")
    reuse = args.reuse and os.path.exists(os.path.join(shards, "dataset.json"))
    for i, (split, room, subject) in enumerate(plan):
        sim_seed = seed * 1000 + i + 1
        path = os.path.join(work, f"{split}_r{room}_s{subject}_seed{sim_seed}.mcap")
        captures.append(path)
        if reuse:
            continue
        run(
            [args.dagr, "sim", "--seed", str(sim_seed), "--room", str(room)]
            + [
                "--subject",
                str(subject),
                "--duration",
                str(args.duration),
                "--out",
                path,
                "--force",  # regenerating the work directory is the intent
            ]
        )
    if not reuse:
        run([args.dagr, "dataset", "export", *captures, "--out", shards, "--force"])
    manifest = json.load(open(os.path.join(shards, "dataset.json")))
    window_s = manifest["spec"]["window_s"]
    parts = []
    for (split, room, subject), entry in zip(plan, manifest["files"]):
        if not entry["file"]:
            continue
        feats, present, label = features_of(
            os.path.join(shards, entry["file"]), window_s
        )
        parts.append(
            {
                "split": split,
                "room": room,
                "subject": subject,
                "feats": feats,
                "present": present,
                "label": label,
            }
        )
    return parts, manifest


@functools.cache
def feature_code():
    """The source of the functions that compute the features (read once)."""
    functions = (
        features_of,
        row_features,
        wifi_features,
        rfid_features,
        mmwave_features,
        segment_means,
    )
    return "".join(inspect.getsource(f) for f in functions)


def features_key(path):
    """What kept features must match to be reused: the shard (its absolute path, size and
    modification time) and the source of the functions that compute them."""
    info = os.stat(path)
    text = (
        f"{os.path.abspath(path)} {info.st_size} {info.st_mtime_ns}\n{feature_code()}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def cached_features(path, window_s, cache):
    """`features_of(path)`, kept in `cache` (a directory, or None) as .npz between runs;
    recomputed when the shard or the feature code changed since."""
    if cache is None:
        return features_of(path, window_s)
    stored = os.path.join(cache, os.path.basename(path) + ".npz")
    key = features_key(path)
    if os.path.exists(stored):
        z = np.load(stored)
        if "key" in z.files and str(z["key"]) == key:
            return {m: z[m] for m in MODALITIES}, z["present"], z["label"]
    feats, present, label = features_of(path, window_s)
    os.makedirs(cache, exist_ok=True)
    np.savez(stored, key=key, present=present, label=label, **feats)
    return feats, present, label


def corpus_parts(corpus, cache, test_parts):
    """Per-capture feature sets of a training corpus's train part and of `test_parts`
    (made by `python -m dagr_train corpus`; see models/README.md; the parts named in its
    split.json), the latter all tested on, features kept in `cache` when given; the
    corpus's manifest; and the rooms and subjects of those parts."""
    split = json.load(open(os.path.join(corpus, "split.json")))
    manifest = json.load(open(os.path.join(corpus, "dataset.json")))
    window_s = manifest["spec"]["window_s"]
    entries = {e["file"]: e for e in manifest["files"] if e["file"]}
    parts = []
    for name in ("train", *test_parts):
        if name not in split:
            sys.exit(f"{corpus}/split.json has no part {name!r}")
        files = split[name]["files"]
        print(f"{name}: features of {len(files)} captures", flush=True)
        for file in files:
            entry = entries[file]
            if entry["room"] >= RESERVED or entry["subject"] >= RESERVED:
                sys.exit(
                    f"room/subject ids >= {RESERVED} are reserved for outside evaluation"
                )
            feats, present, label = cached_features(
                os.path.join(corpus, file), window_s, cache
            )
            parts.append(
                {
                    "split": "train" if name == "train" else "test",
                    "room": entry["room"],
                    "subject": entry["subject"],
                    "feats": feats,
                    "present": present,
                    "label": label,
                }
            )
    ranges = {
        f"{part}_{what}": split[part][what]
        for part in ("train", *test_parts)
        for what in ("rooms", "subjects")
    }
    return parts, manifest, ranges


def resample_training(parts, seed, count):
    """The test captures and seed `seed`'s draw of the training captures, so that seeds
    differ in which rooms trained: `count` of them without replacement, or with `count`
    None a bootstrap draw (with replacement) of as many as there are."""
    train = [p for p in parts if p["split"] == "train"]
    rng = np.random.default_rng(seed)
    if count is None:
        drawn = [train[i] for i in rng.integers(0, len(train), size=len(train))]
    else:
        if count > len(train):
            sys.exit(f"--train-captures {count}: the corpus has {len(train)}")
        drawn = [train[i] for i in rng.permutation(len(train))[:count]]
    return drawn + [p for p in parts if p["split"] != "train"]


def stack(parts, split, names):
    chosen = [p for p in parts if p["split"] == split]
    x = np.concatenate(
        [
            np.concatenate(
                [p["feats"][m] for m in names]
                + ([p["present"]] if len(names) > 1 else []),
                1,
            )
            for p in chosen
        ]
    )
    y = np.concatenate([p["label"] for p in chosen])
    group = np.concatenate([np.full(len(p["label"]), i) for i, p in enumerate(chosen)])
    return x, y, group


def bootstrap_interval(correct, group, rng):
    """95 % interval of the accuracy, resampling whole test captures."""
    ids = np.unique(group)
    per = [(correct[group == g].sum(), (group == g).sum()) for g in ids]
    per = np.array(per, dtype=np.float64)
    draws = rng.integers(0, len(ids), size=(BOOTSTRAP, len(ids)))
    acc = per[draws, 0].sum(1) / per[draws, 1].sum(1)
    return float(np.percentile(acc, 2.5)), float(np.percentile(acc, 97.5))


def evaluate(parts, seed, classes):
    settings = {m: (m,) for m in MODALITIES}
    settings["fused"] = MODALITIES
    rng = np.random.default_rng(10_000 + seed)
    out = {}
    for name, mods in settings.items():
        x_tr, y_tr, _ = stack(parts, "train", mods)
        x_te, y_te, g_te = stack(parts, "test", mods)
        model = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            random_state=seed,
        )
        model.fit(x_tr, y_tr)
        pred = model.predict(x_te)
        correct = pred == y_te
        recalls = [
            np.mean(pred[y_te == c] == c) for c in range(classes) if np.any(y_te == c)
        ]
        out[name] = {
            "features": int(x_tr.shape[1]),
            "train_accuracy": float(np.mean(model.predict(x_tr) == y_tr)),
            "test_accuracy": float(correct.mean()),
            "test_interval_95": bootstrap_interval(correct, g_te, rng),
            "test_balanced_accuracy": float(np.mean(recalls)),
            "per_class_recall": {
                int(c): float(np.mean(pred[y_te == c] == c))
                for c in range(classes)
                if np.any(y_te == c)
            },
        }
        print(
            f"  {name:7s} features {x_tr.shape[1]:4d}  train {out[name]['train_accuracy']:.3f}  "
            f"test {out[name]['test_accuracy']:.3f}  95% {out[name]['test_interval_95'][0]:.3f}"
            f"-{out[name]['test_interval_95'][1]:.3f}  balanced {out[name]['test_balanced_accuracy']:.3f}",
            flush=True,
        )
    return out


def summary(per_seed):
    def stats(values):
        v = np.array(values)
        return {
            "mean": float(v.mean()),
            "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()),
            "max": float(v.max()),
        }

    names = list(MODALITIES) + ["fused"]
    out = {
        n: stats([s["results"][n]["test_accuracy"] for s in per_seed]) for n in names
    }
    gains = [
        s["results"]["fused"]["test_accuracy"]
        - max(s["results"][m]["test_accuracy"] for m in MODALITIES)
        for s in per_seed
    ]
    out["fused_minus_best_single"] = stats(gains)
    means = {n: out[n]["mean"] for n in names}
    out["targets"] = {
        "mmwave_at_least_0.5": means["mmwave"] >= 0.5,
        "wifi_at_least_0.3": means["wifi"] >= 0.3,
        "rfid_at_least_0.3": means["rfid"] >= 0.3,
        "fused_at_least_best_single_plus_0.05": out["fused_minus_best_single"]["mean"]
        >= 0.05,
        "no_single_at_or_above_0.9": max(means[m] for m in MODALITIES) < 0.9,
    }
    return out


def markdown(report):
    """The report's tables as Markdown (what CALIBRATION.md quotes)."""
    names = list(MODALITIES) + ["fused"]
    classes = report["classes"]
    lines = [
        "| input | "
        + " | ".join(f"seed {s['seed']}" for s in report["per_seed"])
        + " | mean ± sd (min–max) |",
        "|---|" + "---:|" * (len(report["per_seed"]) + 1),
    ]
    for n in names:
        cells = []
        for s in report["per_seed"]:
            r = s["results"][n]
            lo, hi = r["test_interval_95"]
            cells.append(f"{r['test_accuracy']:.3f} [{lo:.2f}, {hi:.2f}]")
        st = report["summary"][n]
        lines.append(
            f"| {n} | "
            + " | ".join(cells)
            + f" | **{st['mean']:.3f} ± {st['std']:.3f}** ({st['min']:.3f}–{st['max']:.3f}) |"
        )
    g = report["summary"]["fused_minus_best_single"]
    gains = []
    for s in report["per_seed"]:
        best = max(s["results"][m]["test_accuracy"] for m in MODALITIES)
        gains.append(f"{s['results']['fused']['test_accuracy'] - best:+.3f}")
    lines.append(
        "| fused − best single | "
        + " | ".join(gains)
        + f" | **{g['mean']:+.3f} ± {g['std']:.3f}** ({g['min']:+.3f}–{g['max']:+.3f}) |"
    )
    lines.append("")
    lines.append("| class | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for c, name in enumerate(classes):
        cells = []
        for n in names:
            values = [
                s["results"][n]["per_class_recall"].get(
                    str(c), s["results"][n]["per_class_recall"].get(c)
                )
                for s in report["per_seed"]
            ]
            values = [v for v in values if v is not None]
            cells.append(f"{np.mean(values):.2f}" if values else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_report(seed, parts, results):
    """One seed's entry of the report: its captures, window counts and results."""
    train = [p for p in parts if p["split"] == "train"]
    test = [p for p in parts if p["split"] == "test"]
    return {
        "seed": seed,
        "train_pairs": [(p["room"], p["subject"]) for p in train],
        "test_pairs": [(p["room"], p["subject"]) for p in test],
        "train_windows": int(sum(len(p["label"]) for p in train)),
        "test_windows": int(sum(len(p["label"]) for p in test)),
        "test_present": [
            float(np.mean(np.concatenate([p["present"][:, i] for p in test])))
            for i in range(3)
        ],
        "results": results,
    }


def probe_corpus(args, seeds, test_parts):
    """Per seed's report over a training corpus (`--corpus`), the class names, and the
    rooms and subjects trained and tested on."""
    parts, manifest, ranges = corpus_parts(args.corpus, args.work, test_parts)
    classes = manifest["classes"]
    per_seed = []
    for seed in seeds:
        drawn = resample_training(parts, seed, args.train_captures)
        print(
            f"seed {seed}: {sum(p['split'] == 'train' for p in drawn)} training captures"
        )
        per_seed.append(seed_report(seed, drawn, evaluate(drawn, seed, len(classes))))
    return per_seed, classes, ranges


def probe_simulated(args, seeds):
    """Per seed's report over captures simulated for it, the class names, and the ranges
    of rooms and subjects the captures are drawn from."""
    per_seed = []
    classes = None
    for seed in seeds:
        temporary = args.work is None
        work = (
            tempfile.mkdtemp(prefix="dagr-calib-")
            if temporary
            else os.path.join(args.work, f"seed{seed}")
        )
        os.makedirs(work, exist_ok=True)
        print(
            f"seed {seed}: simulating {args.train_captures} + {args.test_captures} captures",
            flush=True,
        )
        parts, manifest = simulate(args, seed, work)
        classes = manifest["classes"]
        per_seed.append(seed_report(seed, parts, evaluate(parts, seed, len(classes))))
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    ranges = {
        "train_rooms": [TRAIN_ROOMS.start, TRAIN_ROOMS.stop - 1],
        "train_subjects": [TRAIN_SUBJECTS.start, TRAIN_SUBJECTS.stop - 1],
        "test_rooms": [TEST_ROOMS.start, TEST_ROOMS.stop - 1],
        "test_subjects": [TEST_SUBJECTS.start, TEST_SUBJECTS.stop - 1],
    }
    return per_seed, classes, ranges


def curve_markdown(reports):
    """One line per report (a learning curve: the same corpus, more training captures):
    training captures and windows, each input's mean ± sd over seeds, the fusion gain."""
    names = list(MODALITIES) + ["fused", "fused_minus_best_single"]
    lines = [
        "| training captures | windows | mmwave | wifi | rfid | fused | fused − best single |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for report in reports:
        count = report["train_captures"]
        drawn = "all, bootstrap" if count is None else str(count)
        windows = np.mean([s["train_windows"] for s in report["per_seed"]])
        cells = []
        for n in names:
            st = report["summary"][n]
            sign = "+" if n == "fused_minus_best_single" else ""
            cells.append(f"{st['mean']:{sign}.3f} ± {st['std']:.3f}")
        lines.append(f"| {drawn} | {windows:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dagr", default="target/release/dagr")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--duration", type=float, default=90.0)
    ap.add_argument(
        "--train-captures",
        type=int,
        default=None,
        help="training captures per seed (default 24; with --corpus, a bootstrap draw "
        "of all of them)",
    )
    ap.add_argument("--test-captures", type=int, default=8)
    ap.add_argument(
        "--work",
        default=None,
        help="keep captures and shards here (with --corpus: the features)",
    )
    ap.add_argument(
        "--corpus",
        metavar="DIR",
        help="probe a training corpus instead of simulating: train on its train part "
        "(each seed a bootstrap draw of its captures), test on its test part",
    )
    ap.add_argument("--json", default="calibration_sim.json")
    ap.add_argument(
        "--test-parts",
        default="test",
        help="with --corpus: the parts tested on, comma-separated (test, val)",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="reuse captures and shards already in --work (same seeds and counts)",
    )
    ap.add_argument(
        "--markdown",
        metavar="JSON",
        help="print the tables of an earlier report as Markdown and exit",
    )
    ap.add_argument(
        "--curve",
        metavar="JSON",
        nargs="+",
        help="print a learning curve of earlier --corpus reports as Markdown and exit",
    )
    args = ap.parse_args()
    if args.curve:
        print(curve_markdown([json.load(open(f)) for f in args.curve]))
        return
    if args.markdown:
        print(markdown(json.load(open(args.markdown))))
        return
    started = time.time()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    test_parts = [p.strip() for p in args.test_parts.split(",") if p.strip()]
    if args.corpus:
        if "train" in test_parts:
            sys.exit("--test-parts: the train part is what the probe trains on")
        per_seed, classes, ranges = probe_corpus(args, seeds, test_parts)
    else:
        if args.train_captures is None:
            args.train_captures = 24
        per_seed, classes, ranges = probe_simulated(args, seeds)
    report = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "classes": classes,
        "duration_s": None if args.corpus else args.duration,
        "corpus": args.corpus,
        "train_captures": args.train_captures,
        "test_parts": test_parts if args.corpus else None,
        "ranges": ranges,
        "per_seed": per_seed,
        "summary": summary(per_seed),
        "runtime_s": round(time.time() - started, 1),
    }
    s = report["summary"]
    for n in list(MODALITIES) + ["fused", "fused_minus_best_single"]:
        print(
            f"{n:24s} mean {s[n]['mean']:.3f}  std {s[n]['std']:.3f}  "
            f"min {s[n]['min']:.3f}  max {s[n]['max']:.3f}"
        )
    print(f"targets: {s['targets']}  ({report['runtime_s']} s)")
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
