"""The session fixture shared by the end-to-end tests: one tiny pipeline run on a corpus
from the real `dagr` binary ($DAGR_BIN, else target/release/dagr, else target/debug/dagr)."""

import os

import pytest

from dagr_train.augment import AugmentConfig
from dagr_train.corpus import build, find_dagr
from dagr_train.evaluate import evaluate
from dagr_train.export import export
from dagr_train.fusion import write as write_fusion
from dagr_train.loss import DagrConfig
from dagr_train.train import TrainConfig, train

TINY = {
    "rooms": {"train": [1, 2], "val": [3], "test": [4]},
    "subjects": {"train": [1, 2], "val": [3], "test": [4]},
}

FUSION_WEIGHTS = (1.0, 0.25, 0.5)
"""The tiny run's fusion weights (mmwave, wifi, rfid)."""


@pytest.fixture(scope="session")
def package(tmp_path_factory):
    """(corpus dir, run dir, package dir, eval result) of one tiny pipeline run."""
    root = tmp_path_factory.mktemp("pipeline")
    data, run, pkg = str(root / "corpus"), str(root / "run"), str(root / "pkg")
    dagr = find_dagr(os.environ.get("DAGR_BIN"))
    build(
        data,
        dagr,
        TINY["rooms"],
        TINY["subjects"],
        duration=12.0,
        log=lambda *_: None,
        keep_captures=False,  # training, eval and export read only the shards
    )
    cfg = TrainConfig(
        method="tiny",
        epochs=2,
        batch_size=16,
        series_steps=True,  # the export and parity checks then cover the step channels
        temporal_segments=4,  # ... and the order-keeping readout (ONNX Slice/ReduceMean)
        temporal_dilated=True,  # ... and the dilated convolution
        dagr=DagrConfig(lambda_d=0.1, lambda_a=0.5),
        # every training-only regularizer on, so export and parity run after them
        augment=AugmentConfig(0.1, 0.2, 0.1, 0.1, 0.1, 15.0),
        feat_dropout=0.1,
        label_smoothing=0.05,
        unimodal_weight=0.5,
    )
    train(data, run, cfg, log=lambda *_: None)
    # Unequal fusion weights (as `fusion` may choose), so that eval, export and every
    # parity check cover the weighted head.
    write_fusion(run, {"weights": list(FUSION_WEIGHTS)})
    ev = evaluate([run], data, "test", os.path.join(run, "eval.json"), degraded=False)
    export(run, pkg, data, os.path.join(run, "eval.json"))
    return data, run, pkg, ev
