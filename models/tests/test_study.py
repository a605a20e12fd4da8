"""The study's method definitions, its recipe flags, run reuse and the paired DAGR-vs-b
comparison."""

import json
import os
from dataclasses import asdict, replace

import pytest

from dagr_train.__main__ import parser, train_config
from dagr_train.loss import DagrConfig
from dagr_train import MODALITIES
from dagr_train.study import (
    WarmRecipe,
    check_reused,
    dagr_vs_b,
    method_config,
    planned_runs,
    run_jobs,
)
from dagr_train.train import TrainConfig


def full_dagr_base(**dagr):
    return TrainConfig(
        modality_dropout=0.5,
        dagr=DagrConfig(lambda_d=0.1, lambda_a=0.5, tau=0.3, **dagr),
    )


def test_methods_differ_only_in_what_the_issue_says():
    base = full_dagr_base()
    cfg = {m: method_config(m, base) for m in "abcdefg"}
    assert cfg["a"].modality_dropout == 0.0 and cfg["a"].dagr.weights() == (0.0, 0.0)
    assert cfg["b"].modality_dropout == 0.5 and cfg["b"].dagr.weights() == (0.0, 0.0)
    assert cfg["c"].dagr.weights() == (0.1, 0.0)
    assert cfg["d"].dagr.weights() == (0.0, 0.5) and cfg["d"].dagr.tau == 0.3
    assert cfg["e"].dagr.weights() == (0.0, 0.5) and cfg["e"].dagr.tau == 0.0
    assert cfg["f"].dagr.weights() == (0.1, 0.5) and cfg["f"].dagr.tau == 0.3
    assert all(cfg[m].modality_dropout == 0.5 for m in "bcdef")
    assert {cfg[m].epochs for m in cfg} == {base.epochs}


def test_dagr_choices_carry_to_c_to_f_and_never_to_the_plain_methods():
    base = full_dagr_base(disp_normalized=True, distance="l2")
    cfg = {m: method_config(m, base) for m in "abcdefg"}
    for m in "cdef":
        assert cfg[m].dagr.disp_normalized and cfg[m].dagr.distance == "l2", m
    for m in "abg":
        assert cfg[m].dagr == DagrConfig(), m


def test_warm_methods_are_f_and_b_started_from_g_of_their_seed():
    base = full_dagr_base(disp_normalized=True)
    plan = planned_runs(
        "/s", "xw", [0, 1], base, WarmRecipe(lr=1e-4, unimodal_weight=2)
    )
    names = [os.path.basename(run) for run, _ in plan]
    # g is trained first (added although not asked for), then x and w
    assert names[:6] == [f"g_s{s}_{m}" for s in (0, 1) for m in MODALITIES]
    assert names[6:] == ["x_s0", "x_s1", "w_s0", "w_s1"]
    cfg = {os.path.basename(run): c for run, c in plan}
    f, b = method_config("f", base), method_config("b", base)
    for name, like in (("w_s1", f), ("x_s1", b)):
        c = cfg[name]
        assert c.warm_start == tuple(f"/s/runs/g_s1_{m}" for m in MODALITIES)
        assert (c.lr, c.unimodal_weight, c.seed) == (1e-4, 2, 1)
        assert c.dagr == like.dagr and c.modality_dropout == like.modality_dropout
    assert cfg["w_s0"].dagr.weights() == (0.1, 0.5) and cfg["w_s0"].dagr.disp_normalized
    assert cfg["g_s0_wifi"].warm_start == () and cfg["g_s0_wifi"].lr == base.lr
    with pytest.raises(ValueError, match="unknown method 'z'"):
        method_config("z", base)


def test_the_study_refuses_the_pareto_form():
    base = replace(full_dagr_base(), dagr=DagrConfig(form="pareto", beta_total=1.0))
    with pytest.raises(ValueError, match="lambda form"):
        method_config("f", base)


def test_study_flags_give_every_method_the_train_recipe():
    a = parser().parse_args(
        "study --data d --out o --epochs 12 --temporal-segments 4 --temporal-dilated "
        "--augment-rotate 15 --feat-dropout 0.2 --disp-normalized".split()
    )
    base = train_config(a)
    assert (base.dagr.lambda_d, base.dagr.lambda_a, base.dagr.tau) == (0.1, 0.5, 0.3)
    plan = planned_runs("o", "bfg", [0, 1], base)
    assert [os.path.relpath(r, "o") for r, _ in plan] == [
        "runs/b_s0",
        "runs/b_s1",
        "runs/f_s0",
        "runs/f_s1",
        *[f"runs/g_s{s}_{m}" for s in (0, 1) for m in ("mmwave", "wifi", "rfid")],
    ]
    for _, cfg in plan:
        assert cfg.epochs == 12 and cfg.temporal_segments == 4 and cfg.temporal_dilated
        assert cfg.augment.rotate == 15 and cfg.feat_dropout == 0.2
    # the same flags given to train make the same f run (so study runs can be reused)
    t = parser().parse_args(
        "train --data d --out o --epochs 12 --temporal-segments 4 --temporal-dilated "
        "--augment-rotate 15 --feat-dropout 0.2 --disp-normalized --lambda-d 0.1 "
        "--lambda-a 0.5 --method f --seed 1".split()
    )
    assert train_config(t, method="f", seed=1, only="") == plan[3][1]


def test_a_run_with_other_settings_is_not_reused(tmp_path):
    cfg = method_config("f", full_dagr_base())
    (tmp_path / "run.json").write_text(json.dumps({"config": asdict(cfg)}))
    check_reused(str(tmp_path), cfg)
    other = replace(cfg, dagr=replace(cfg.dagr, tau=0.2), feat_dropout=0.1)
    with pytest.raises(ValueError, match=r"other settings \(dagr, feat_dropout\)"):
        check_reused(str(tmp_path), other)


def test_a_run_saved_before_a_setting_existed_has_its_default(tmp_path):
    cfg = method_config("f", full_dagr_base())
    saved = asdict(cfg)
    del saved["unimodal_weight"]  # run.json of a run trained before the setting existed
    (tmp_path / "run.json").write_text(json.dumps({"config": saved}))
    check_reused(str(tmp_path), cfg)
    with pytest.raises(ValueError, match=r"other settings \(unimodal_weight\)"):
        check_reused(str(tmp_path), replace(cfg, unimodal_weight=1.0))


def test_dagr_is_compared_to_b_seed_by_seed():
    def ev(seed, acc):
        return {"seed": seed, "subsets": {"mmwave": {"accuracy": acc}}}

    table = dagr_vs_b({"b": [ev(0, 0.5), ev(1, 0.7)], "f": [ev(1, 0.8), ev(0, 0.6)]})
    assert "| mmwave | 0.100 ± 0.000 |" in table


def test_a_worker_that_dies_stops_the_study_with_a_clear_error():
    # os._exit ends a worker at once, as the kernel's out-of-memory killer does.
    with pytest.raises(RuntimeError, match="died before it finished.*fewer --jobs"):
        run_jobs(os._exit, [3, 3], 2)
