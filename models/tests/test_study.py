"""The study's method definitions and its paired DAGR-vs-b comparison."""

from dagr_train.study import dagr_vs_b, method_config
from dagr_train.train import TrainConfig


def test_methods_differ_only_in_what_the_issue_says():
    base = TrainConfig(modality_dropout=0.5)
    cfg = {m: method_config(m, base, 0.1, 0.5, 0.3) for m in "abcdefg"}
    assert cfg["a"].modality_dropout == 0.0 and cfg["a"].dagr.weights() == (0.0, 0.0)
    assert cfg["b"].modality_dropout == 0.5 and cfg["b"].dagr.weights() == (0.0, 0.0)
    assert cfg["c"].dagr.weights() == (0.1, 0.0)
    assert cfg["d"].dagr.weights() == (0.0, 0.5) and cfg["d"].dagr.tau == 0.3
    assert cfg["e"].dagr.weights() == (0.0, 0.5) and cfg["e"].dagr.tau == 0.0
    assert cfg["f"].dagr.weights() == (0.1, 0.5) and cfg["f"].dagr.tau == 0.3
    assert all(cfg[m].modality_dropout == 0.5 for m in "bcdef")
    assert {cfg[m].epochs for m in cfg} == {base.epochs}


def test_dagr_is_compared_to_b_seed_by_seed():
    def ev(seed, acc):
        return {"seed": seed, "subsets": {"mmwave": {"accuracy": acc}}}

    table = dagr_vs_b({"b": [ev(0, 0.5), ev(1, 0.7)], "f": [ev(1, 0.8), ev(0, 0.6)]})
    assert "| mmwave | 0.100 ± 0.000 |" in table
