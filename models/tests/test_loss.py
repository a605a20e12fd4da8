"""The DAGR terms against hand-computed values, the two weighting forms, and float64
gradient checks."""

import math

import pytest
import torch

from dagr_train.loss import DagrConfig, anchoring, dagr_loss, dispersion, pair_distance

T = torch.tensor


def test_dispersion_matches_the_formula_on_two_points():
    z = T([[0.0, 0.0], [1.0, 0.0]])
    # pairs (i, j): squared distances 0, 1, 1, 0; D = 2, tau_d = 1
    want = math.log((2 + 2 * math.exp(-1 / 2)) / 4)
    got = dispersion(z, T([True, True]), tau_d=1.0)
    assert got.item() == pytest.approx(want, abs=1e-7)


def test_dispersion_uses_tau_d_and_an_explicit_dimension():
    z = T([[0.0, 0.0], [0.0, 2.0]])
    want = math.log((2 + 2 * math.exp(-4 / (10 * 0.5))) / 4)
    got = dispersion(z, T([True, True]), tau_d=0.5, dim=10)
    assert got.item() == pytest.approx(want, abs=1e-7)


def test_dispersion_ignores_samples_where_the_modality_is_absent():
    z = T([[0.0, 0.0], [1.0, 0.0], [50.0, -3.0]])
    two = dispersion(z[:2], T([True, True]), 1.0)
    masked = dispersion(z, T([True, True, False]), 1.0)
    assert masked.item() == two.item()


def test_dispersion_of_one_or_no_sample_is_zero():
    z = T([[3.0, 4.0]])
    assert dispersion(z, T([True]), 1.0).item() == 0.0
    assert dispersion(z, T([False]), 1.0).item() == 0.0


def test_dispersion_on_normalized_embeddings():
    z = T([[2.0, 0.0], [0.0, 3.0]])  # unit vectors (1,0), (0,1): squared distance 2
    want = math.log((2 + 2 * math.exp(-2 / 2)) / 4)
    got = dispersion(z, T([True, True]), 1.0, normalized=True)
    assert got.item() == pytest.approx(want, abs=1e-7)


def test_pair_distances_cosine_and_l2():
    a, b = T([[1.0, 0.0], [2.0, 0.0]]), T([[0.0, 5.0], [-1.0, 0.0]])
    assert pair_distance(a, b, "cosine").tolist() == pytest.approx([1.0, 2.0])
    assert pair_distance(a, b, "l2").tolist() == pytest.approx([math.sqrt(2), 2.0])


def test_anchoring_is_the_mean_hinge_over_present_pairs():
    # sample 0: all three present; sample 1: mmwave + rfid only
    zm = T([[1.0, 0.0], [1.0, 0.0]])
    zw = T([[0.0, 1.0], [9.0, 9.0]])  # sample 1's wifi is absent: must not count
    zr = T([[1.0, 0.0], [-1.0, 0.0]])
    present = T([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    # distances: s0 (m,w)=1, (m,r)=0, (w,r)=1; s1 (m,r)=2. tau = 0.3
    want = ((1 - 0.3) + 0 + (1 - 0.3) + (2 - 0.3)) / 4
    assert anchoring([zm, zw, zr], present, 0.3).item() == pytest.approx(want)


def test_anchoring_without_any_present_pair_is_zero():
    z = [T([[1.0, 0.0]]), T([[0.0, 1.0]]), T([[1.0, 1.0]])]
    assert anchoring(z, T([[0.0, 1.0, 0.0]]), 0.1).item() == 0.0


def test_anchoring_with_tau_zero_is_rigid_alignment():
    z = [T([[1.0, 0.0]]), T([[1.0, 1.0]]), T([[1.0, 0.0]])]
    d = 1 - 1 / math.sqrt(2)
    want = (d + 0 + d) / 3
    assert anchoring(z, T([[1.0, 1.0, 1.0]]), 0.0).item() == pytest.approx(want)


def regularized_case():
    torch.manual_seed(0)
    zs = [torch.randn(5, 4) for _ in range(3)]
    present = T([[1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0], [1, 1, 1]]).float()
    logits, labels = torch.randn(5, 3), T([0, 1, 2, 1, 0])
    return logits, labels, zs, present


def test_lambda_form_adds_weighted_terms():
    logits, labels, zs, present = regularized_case()
    cfg = DagrConfig(lambda_d=0.3, lambda_a=2.0, tau=0.2)
    total, parts = dagr_loss(logits, labels, zs, present, cfg)
    mask = present > 0.5
    disp = sum(dispersion(z, mask[:, i], 1.0) for i, z in enumerate(zs))
    anc = anchoring(zs, present, 0.2)
    task = torch.nn.functional.cross_entropy(logits, labels)
    assert total.item() == pytest.approx(
        (task + 0.3 * disp + 2.0 * anc).item(), abs=1e-6
    )
    assert parts["anc"].item() == pytest.approx(anc.item())


def test_pareto_form_splits_beta_total_between_the_terms():
    logits, labels, zs, present = regularized_case()
    cfg = DagrConfig(form="pareto", beta_total=0.5, beta=0.8, tau=0.2)
    total, parts = dagr_loss(logits, labels, zs, present, cfg)
    disp = torch.stack(parts["disp"]).sum()
    want = parts["task"] + 0.5 * ((1 - 0.8) * disp + 0.8 * parts["anc"])
    assert total.item() == pytest.approx(want.item(), abs=1e-6)
    assert parts["anc"].item() > 0 and disp.item() < 0


def test_bad_settings_are_rejected_by_name():
    with pytest.raises(ValueError, match="form"):
        DagrConfig(form="sum")
    with pytest.raises(ValueError, match="distance"):
        DagrConfig(distance="l1")
    with pytest.raises(ValueError, match="tau_d"):
        DagrConfig(tau_d=0.0)


@pytest.mark.parametrize("distance", ["cosine", "l2"])
@pytest.mark.parametrize("normalized", [False, True])
def test_gradients_match_finite_differences_in_float64(distance, normalized):
    _, labels, zs, present = regularized_case()
    zs = [z.double().requires_grad_() for z in zs]
    logits = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    cfg = DagrConfig(
        lambda_d=0.7,
        lambda_a=1.3,
        tau=0.1,
        tau_d=0.5,
        distance=distance,
        disp_normalized=normalized,
    )

    def f(lg, a, b, c):
        return dagr_loss(lg, labels, [a, b, c], present.double(), cfg)[0]

    assert torch.autograd.gradcheck(f, (logits, *zs), eps=1e-6, atol=1e-6)
