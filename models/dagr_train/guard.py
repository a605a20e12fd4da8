"""`guard`: the norm guard's band of a trained model, chosen on clean validation windows,
and what it does to held-out accuracy when a sensor turns to noise.

A sensor that turns to noise is not an outage: the window says it is present, its noise
goes through its encoder, and the embedding comes out far longer than any clean window's.
The head's weighted mean is then dominated by that one vector, and the fused class is what
the noise says (a reference trained without noisy sensors, held out, all three sensors,
RFID noise of one standard deviation of its input: 0.425; one trained with
`--augment-noisy-modality` needs the guard far less). The guard sets such a modality aside: a present modality
whose embedding norm |z_m| exceeds its bound is left out of the fusion, unless every
present one does (see `Head.admitted`; the gateway's `dagr_head::admitted` is the same
rule). Each bound is a quantile (0.999 by default: one clean validation window in a
thousand is longer) of |z_m| over the validation windows where m is present. Nothing else
is tuned and test data is never read to choose it.

The command works on a run (`--run`: writes band.json, which `load_run` applies, so `eval`
and `export` see the guard) or on a model package (`--package`: the embeddings through
model.onnx with onnxruntime and head.safetensors; `--write` puts `head.norm_band` into its
model.json). Either way it then scores the test part with and without the guard, clean and
with each modality's input under Gaussian noise (degrade.py's `sigma`, the robustness
curves' unit), and prints and writes that table."""

import json
import os

import numpy as np

from . import MODALITIES
from .data import load_part
from .degrade import degrade, noise_scale
from .runs import BAND_JSON, load_run

QUANTILE = 0.999
"""Default share of clean validation windows each bound lies above."""

SIGMAS = (0.5, 1.0, 2.0, 4.0)
"""Noise levels scored on the test part (degrade.py's sigma, in the modality's std)."""

RULE = (
    "a present modality m whose embedding norm |z_m| (Euclidean, z_m = the projection's "
    "output) exceeds bounds[m] is left out of the fusion, unless every present modality's "
    "does; applied by the runtime before the fusion, not part of model.onnx"
)
"""model.json's words for the guard (`head.norm_band.rule`)."""


class RunHead:
    """Embeddings and head parameters of a run's PyTorch model."""

    def __init__(self, run_dir):
        from .evaluate import predict

        _, self.model = load_run(run_dir, fusion=True)
        self.model.head.norm_band.fill_(float("inf"))  # the guard is applied here
        self._predict = predict
        h = self.model.head
        self.weights = h.fusion_weights.double().numpy()
        self.classifier = (
            h.classifier.weight.detach().double().numpy(),
            h.classifier.bias.detach().double().numpy(),
        )

    def embed(self, inputs):
        """z_m of every window, [N, embed_dim] per modality (float64)."""
        return [z.double().numpy() for z in self._predict(self.model, inputs)[2]]


class PackageHead:
    """Embeddings through a package's model.onnx (onnxruntime) and head.safetensors."""

    def __init__(self, package_dir):
        import onnxruntime as ort
        from safetensors.numpy import load_file

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            os.path.join(package_dir, "model.onnx"), options
        )
        with open(os.path.join(package_dir, "model.json")) as f:
            head = json.load(f)["head"]
        tensors = load_file(os.path.join(package_dir, "head.safetensors"))
        self.proj = [
            (
                tensors[head["projection"][m]["weight"]].astype(np.float64),
                tensors[head["projection"][m]["bias"]].astype(np.float64),
            )
            for m in MODALITIES
        ]
        self.weights = np.array(head.get("fusion_weights", [1.0] * 3), np.float64)
        self.classifier = (
            tensors[head["classifier"]["weight"]].astype(np.float64),
            tensors[head["classifier"]["bias"]].astype(np.float64),
        )

    def embed(self, inputs, batch=64):
        names = [f"feat_{m}" for m in MODALITIES]
        feats = [[], [], []]
        for s in range(0, len(inputs[3]), batch):
            feed = dict(
                zip((*MODALITIES, "present"), (x[s : s + batch] for x in inputs))
            )
            for i, f in enumerate(self.session.run(names, feed)):
                feats[i].append(f.astype(np.float64))
        return [np.concatenate(f) @ w.T + b for f, (w, b) in zip(feats, self.proj)]


def norms(zs):
    """|z_m| per window, [N, 3]."""
    return np.stack([np.linalg.norm(z, axis=1) for z in zs], 1)


def choose_bounds(zs, present, quantile=QUANTILE):
    """Each modality's `quantile` of |z_m| over the windows where it is present."""
    n = norms(zs)
    bounds = []
    for i, m in enumerate(MODALITIES):
        values = n[present[:, i] > 0.5, i]
        if values.size == 0:
            raise ValueError(
                f"no validation window has {m}: its bound cannot be chosen"
            )
        bounds.append(float(np.quantile(values, quantile)))
    return bounds


def admitted(zs, present, bounds):
    """The modalities the fusion takes [N, 3] (bool), as `Head.admitted`."""
    mask = present > 0.5
    if bounds is None:
        return mask
    kept = mask & (norms(zs) <= np.asarray(bounds))
    return np.where(kept.any(axis=1, keepdims=True), kept, mask)


def classify(head, zs, present, bounds):
    """Predicted classes of the fused head with the guard `bounds` (None: off)."""
    mask = admitted(zs, present, bounds).astype(np.float64) * head.weights
    total = mask.sum(1, keepdims=True)
    fused = sum(z * mask[:, i : i + 1] for i, z in enumerate(zs))
    fused = fused / np.where(total > 0, total, 1.0)
    w, b = head.classifier
    return (fused @ w.T + b).argmax(1)


def noisy_conditions(head, samples, sigmas=SIGMAS, seed=0):
    """{condition: embeddings} of `samples`: clean, then each modality's input under each of
    `sigmas` (noise drawn as the robustness curves draw it), the others kept clean."""
    clean = samples.inputs()
    present = clean[3]
    clean_z = head.embed(clean)
    out = {"clean": clean_z}
    for i, m in enumerate(MODALITIES):
        scale = noise_scale(clean[i], present[:, i], m)
        for sigma in sigmas:
            rng = np.random.default_rng(seed)
            inputs = list(clean)
            inputs[i] = degrade(clean[i], present[:, i], m, "sigma", sigma, rng, scale)
            zs = list(clean_z)
            zs[i] = head.embed(inputs)[i]
            out[f"{m} sigma {sigma:g}"] = zs
    return out


def score(head, zs, present, labels, bounds):
    """(accuracy, share of windows with a modality set aside) under the guard `bounds`
    (None: off)."""
    aside = (present > 0.5) & ~admitted(zs, present, bounds)
    right = classify(head, zs, present, bounds) == labels
    return float(right.mean()), float(aside.any(axis=1).mean())


def score_test(head, data, bounds, seed=0):
    """{condition: {"without": acc, "with": acc, "set_aside": share}} on the test part,
    for each of `noisy_conditions`."""
    samples = load_part(data, "test")
    present = samples.inputs()[3]
    out = {}
    for name, zs in noisy_conditions(head, samples, SIGMAS, seed).items():
        without, _ = score(head, zs, present, samples.label, None)
        with_guard, aside = score(head, zs, present, samples.label, bounds)
        out[name] = {"without": without, "with": with_guard, "set_aside": aside}
    return out


def band_doc(bounds, quantile):
    """band.json / model.json `head.norm_band` (the `guard` command adds `held_out`: the
    test part's scores of `score_test`, which nothing reads back to choose anything)."""
    return {"bounds": bounds, "quantile": quantile, "chosen_on": "val", "rule": RULE}


def choose(head, data, quantile=QUANTILE):
    """The band document chosen on `data`'s validation part."""
    samples = load_part(data, "val")
    if len(samples) == 0:
        raise ValueError(f"{data}: the validation part is empty; nothing to choose on")
    inputs = samples.inputs()
    return band_doc(choose_bounds(head.embed(inputs), inputs[3], quantile), quantile)


def write_run(run_dir, doc):
    """Writes band.json into the run (which `load_run` then applies)."""
    with open(os.path.join(run_dir, BAND_JSON), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def write_package(package_dir, doc):
    """Puts `doc` into the package's model.json as `head.norm_band`."""
    path = os.path.join(package_dir, "model.json")
    with open(path) as f:
        model = json.load(f)
    model["head"]["norm_band"] = doc
    with open(path, "w") as f:
        json.dump(model, f, indent=2)
        f.write("\n")


def table(scores):
    """The scores as aligned text lines."""
    lines = [f"{'test part':<20} {'without':>8} {'with':>8} {'set aside':>10}"]
    for name, s in scores.items():
        lines.append(
            f"{name:<20} {s['without']:>8.3f} {s['with']:>8.3f} {s['set_aside']:>10.3f}"
        )
    return "\n".join(lines)
