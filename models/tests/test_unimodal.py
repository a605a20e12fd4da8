"""The unimodal auxiliary loss against hand-computed cross-entropies, and its place in a
training run (it reaches every encoder; weight 0 leaves training unchanged)."""

import math

import pytest
import torch
import torch.nn.functional as F

from dagr_train.unimodal import unimodal_loss

T = torch.tensor


def identity_classifier():
    c = torch.nn.Linear(2, 2)
    with torch.no_grad():
        c.weight.copy_(torch.eye(2))
        c.bias.zero_()
    return c


def ce(logits, label):
    return -torch.log_softmax(T(logits), 0)[label].item()


def test_each_modality_is_scored_on_its_own_present_samples():
    c = identity_classifier()
    zs = [T([[2.0, 0.0], [0.0, 1.0]]), T([[0.0, 3.0], [9.0, 9.0]]), T([[0.0, 0.0]] * 2)]
    present = T([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    labels = T([0, 1])
    m0 = (ce([2.0, 0.0], 0) + ce([0.0, 1.0], 1)) / 2
    m1 = ce([0.0, 3.0], 0)  # sample 1's wifi is absent: its [9, 9] must not count
    got = unimodal_loss(c, zs, present, labels).item()
    assert got == pytest.approx((m0 + m1) / 2, abs=1e-6)  # rfid absent everywhere


def test_label_smoothing_reaches_every_term():
    c = identity_classifier()
    zs = [T([[2.0, 0.0]])] * 3
    present = T([[1.0, 1.0, 1.0]])
    want = F.cross_entropy(T([[2.0, 0.0]]), T([0]), label_smoothing=0.2).item()
    got = unimodal_loss(c, zs, present, T([0]), label_smoothing=0.2).item()
    assert got == pytest.approx(want, abs=1e-6)
    assert got != pytest.approx(ce([2.0, 0.0], 0), abs=1e-3)


def test_no_present_modality_gives_zero_with_a_gradient_path():
    z = T([[1.0, 2.0]], requires_grad=True)
    got = unimodal_loss(identity_classifier(), [z, z, z], T([[0.0, 0.0, 0.0]]), T([1]))
    assert got.item() == 0.0
    got.backward()
    assert z.grad is not None and float(z.grad.abs().sum()) == 0.0


def test_a_modality_alone_gets_gradient_the_fused_loss_can_withhold():
    # Fused logits are the mean of the per-modality logits; with modality 0 already
    # right, the fused loss is small, while modality 1's own loss is large.
    c = identity_classifier()
    z0 = T([[8.0, 0.0]], requires_grad=True)
    z1 = T([[0.0, 1.0]], requires_grad=True)
    present = T([[1.0, 1.0, 0.0]])
    loss = unimodal_loss(c, [z0, z1, torch.zeros(1, 2)], present, T([0]))
    loss.backward()
    assert math.isfinite(loss.item())
    assert z1.grad.abs().sum() > 10 * z0.grad.abs().sum()
