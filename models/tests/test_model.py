"""Encoder budget, exact masked fusion, modality dropout, and the order-keeping temporal
readout."""

import itertools

import pytest
import torch

from dagr_train import MODALITIES
from dagr_train.dropout import drop_modalities
from dagr_train.model import (
    FusionModel,
    TemporalEncoder,
    flops_per_window,
    segment_bounds,
    size_report,
    temporal_readout,
)

TODAY = {"mmwave": (40, 64, 5), "wifi": (270, 200), "rfid": (23, 60)}
"""The default PreprocessSpec shapes at the time of writing; the end-to-end test checks the
budget again on whatever shapes the current `dagr dataset export` writes."""

MAX_FLOPS, MAX_PARAMS = 20e6, 1e6


ORIGINAL_FLOPS = 6_857_664
"""FLOPs per window of the original encoders (mean + max readout, two convolutions) on the
reference corpus's shapes (RFID with 46 tag rows); the order-keeping options may cost at
most 1.5 times this."""

REFERENCE_SHAPES = {"mmwave": (40, 64, 5), "wifi": (270, 200), "rfid": (46, 60)}

TEMPORAL = [
    {},
    {"temporal_segments": 4},
    {"temporal_segments": 4, "temporal_dilated": True},
]
"""The encoder variants every shape and fusion test runs on: the original and the
order-keeping readout without and with the dilated convolution."""


def small_model(seed=0, series_steps=False, **temporal):
    torch.manual_seed(seed)
    classes = [f"c{i}" for i in range(13)]
    return FusionModel(TODAY, classes, series_steps=series_steps, **temporal).eval()


@pytest.mark.parametrize(
    "series_steps,temporal",
    [(False, t) for t in TEMPORAL] + [(True, {})],
)
def test_the_model_fits_the_edge_budget(series_steps, temporal):
    size = size_report(small_model(series_steps=series_steps, **temporal))
    assert 0 < size["flops_per_window"] <= MAX_FLOPS
    assert 0 < size["parameters"] <= MAX_PARAMS
    assert sum(size["flops_per_encoder"].values()) <= size["flops_per_window"]
    assert all(v > 0 for v in size["flops_per_encoder"].values())


def test_flop_counting_counts_two_per_multiply_add():
    model = small_model()
    total, _ = flops_per_window(model)
    # the head alone: three projections 64 -> 32 and a classifier 32 -> 13, batch 1
    head = 2 * (3 * 64 * 32 + 32 * 13)
    wifi_first_conv = 2 * 270 * 48 * 100  # 1x1 conv over 100 pooled steps
    assert total > head + wifi_first_conv


def inputs(batch, seed):
    g = torch.Generator().manual_seed(seed)
    x = [torch.randn(batch, *TODAY[m], generator=g) for m in MODALITIES]
    x[0] = x[0] * (torch.rand(batch, 40, 64, 1, generator=g) > 0.5)  # padded points
    return x


@pytest.mark.parametrize("temporal", TEMPORAL)
@pytest.mark.parametrize(
    "subset", [s for r in (1, 2, 3) for s in itertools.combinations(range(3), r)]
)
def test_absent_modalities_change_nothing(subset, temporal):
    model = small_model(**temporal)
    x = inputs(4, 1)
    present = torch.zeros(4, 3)
    present[:, list(subset)] = 1.0
    with torch.no_grad():
        ref = model(*x, present)[0]
        for m in set(range(3)) - set(subset):
            x[m] = (
                torch.full_like(x[m], 1e30)
                if m != 1
                else torch.full_like(x[m], float("nan"))
            )
        again = model(*x, present)[0]
    assert torch.equal(ref, again)


def test_fusion_is_the_mean_of_the_present_embeddings():
    model = small_model()
    x = inputs(3, 2)
    present = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    with torch.no_grad():
        logits, _, zs = model.run(*x, present)
        fused = torch.stack(
            [(zs[0][0] + zs[1][0] + zs[2][0]) / 3, zs[1][1], (zs[0][2] + zs[2][2]) / 2]
        )
        want = model.head.classifier(fused)
    assert torch.allclose(logits, want, atol=1e-6)


def test_fusion_weights_weigh_the_present_embeddings():
    model = small_model()
    model.head.fusion_weights.copy_(torch.tensor([1.0, 0.25, 0.5]))
    x = inputs(3, 2)
    present = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    with torch.no_grad():
        logits, _, zs = model.run(*x, present)
        fused = torch.stack(
            [
                (zs[0][0] + 0.25 * zs[1][0] + 0.5 * zs[2][0]) / 1.75,
                zs[1][1],  # alone: its own embedding, whatever its weight
                (0.25 * zs[1][2] + 0.5 * zs[2][2]) / 0.75,
            ]
        )
        want = model.head.classifier(fused)
    assert torch.allclose(logits, want, atol=1e-6)


def test_equal_fusion_weights_are_the_plain_mean_bit_for_bit():
    model = small_model()
    zs = [torch.randn(4, 32) for _ in range(3)]
    present = torch.tensor([[1.0, 1, 1], [1, 0, 1], [0, 1, 0], [0, 0, 0]])
    fused = model.head.fuse(zs, present)
    mask = present > 0.5
    plain = sum(torch.where(mask[:, i : i + 1], z, 0.0) for i, z in enumerate(zs))
    plain = plain / mask.float().sum(1, keepdim=True).clamp(min=1.0)
    assert torch.equal(fused, plain)


def test_fusion_weights_are_not_in_the_state_dict():
    # saved runs from before the weights existed still load; fusion.json carries them
    assert not any("fusion" in k for k in small_model().state_dict())


def test_no_modality_present_gives_the_classifier_bias():
    model = small_model()
    with torch.no_grad():
        logits = model(*inputs(2, 3), torch.zeros(2, 3))[0]
    assert torch.equal(logits, model.head.classifier.bias.expand(2, -1))


def test_modality_dropout_keeps_a_non_empty_subset_of_what_was_present():
    g = torch.Generator().manual_seed(0)
    x = [torch.ones(500, 2), torch.ones(500, 2, 3), torch.ones(500, 4)]
    present = (torch.rand(500, 3, generator=g) > 0.3).float()
    present[present.sum(1) == 0, 0] = 1.0
    out, new = drop_modalities(x, present, 1.0, g)
    assert torch.all(new <= present)
    assert torch.all(new.sum(1) >= 1)
    assert (new != present).any()
    for i, t in enumerate(out):
        assert torch.equal(t.flatten(1).amax(1), new[:, i])
    seen = {tuple(r) for r in new[present.sum(1) == 3].tolist()}
    assert len(seen) == 7  # every subset drawn when all three were present


def test_modality_dropout_with_p_zero_changes_nothing():
    present = torch.ones(8, 3)
    x = [torch.ones(8, 2)] * 3
    out, new = drop_modalities(x, present, 0.0, torch.Generator())
    assert torch.equal(new, present) and all(o is i for o, i in zip(out, x))


@pytest.mark.parametrize("temporal", TEMPORAL[1:])
def test_order_keeping_encoders_stay_within_one_and_a_half_times_the_original_cost(
    temporal,
):
    torch.manual_seed(0)
    classes = [f"c{i}" for i in range(13)]
    original = size_report(FusionModel(REFERENCE_SHAPES, classes))
    assert original["flops_per_window"] == ORIGINAL_FLOPS
    size = size_report(FusionModel(REFERENCE_SHAPES, classes, **temporal))
    assert ORIGINAL_FLOPS < size["flops_per_window"] <= 1.5 * ORIGINAL_FLOPS
    assert size["parameters"] <= MAX_PARAMS
    # the head is untouched: same parameters as the original model's
    assert size["parameters_head"] == original["parameters_head"]


@pytest.mark.parametrize("temporal", TEMPORAL)
def test_every_variant_gives_the_head_the_same_shapes(temporal):
    model = small_model(**temporal)
    x = inputs(5, 4)
    with torch.no_grad():
        logits, *feats = model(*x, torch.ones(5, 3))
    assert logits.shape == (5, 13)
    assert [f.shape for f in feats] == [(5, 64)] * 3
    assert model.arch["temporal_segments"] == temporal.get("temporal_segments", 0)
    assert model.arch["temporal_dilated"] == temporal.get("temporal_dilated", False)


def test_segments_cover_the_series_in_order_without_gaps():
    assert segment_bounds(10, 4) == [(0, 3), (3, 5), (5, 8), (8, 10)]
    assert segment_bounds(13, 4)[0][0] == 0 and segment_bounds(13, 4)[-1][1] == 13
    for length in range(4, 40):
        b = segment_bounds(length, 4)
        assert all(e > s for s, e in b)
        assert all(b[i][1] == b[i + 1][0] for i in range(3))
    with pytest.raises(ValueError, match="only 3 time steps"):
        segment_bounds(3, 4)


def test_the_segment_readout_tells_a_series_from_its_reversal_and_mean_max_does_not():
    # "going down, then still" against "still, then going up": one channel, 8 steps
    down = torch.tensor([[[3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]])
    up = down.flip(2)
    mean_max = [temporal_readout(h, []) for h in (down, up)]
    assert torch.equal(mean_max[0], mean_max[1])
    bounds = segment_bounds(8, 4)
    seg = [temporal_readout(h, bounds) for h in (down, up)]
    assert seg[0].shape == (1, 5)
    assert torch.equal(seg[0][:, :4], torch.tensor([[2.5, 0.5, 0.0, 0.0]]))
    assert torch.equal(seg[1][:, :4], torch.tensor([[0.0, 0.0, 0.5, 2.5]]))
    assert torch.equal(seg[0][:, 4], seg[1][:, 4])  # the global max, order-free


@pytest.mark.parametrize("dilated", [False, True])
def test_a_time_reversed_input_gives_a_different_feature(dilated):
    torch.manual_seed(1)
    enc = TemporalEncoder(6, 40, 16, 64, segments=4, dilated=dilated).eval()
    x = torch.randn(3, 6, 40)
    with torch.no_grad():
        f, f_rev = enc(x), enc(x.flip(2))
        readout = temporal_readout(enc.net(x), enc.bounds)
    assert f.shape == (3, 64)
    assert (f - f_rev).abs().amax() > 1e-3
    assert readout.shape == (3, 5 * 32)


def test_the_dilated_convolution_widens_what_one_output_step_sees():
    # an impulse at input step 0 reaches later conv outputs only through the dilated layer
    def reach(dilated):
        torch.manual_seed(2)
        enc = TemporalEncoder(1, 40, 4, 8, dilated=dilated).eval()
        with torch.no_grad():
            for conv in [m for m in enc.modules() if isinstance(m, torch.nn.Conv1d)]:
                conv.weight.fill_(0.1)
                conv.bias.zero_()
            x = torch.zeros(1, 1, 40)
            x[0, 0, 0] = 1.0
            h = enc.net(x)
            if enc.dilated is not None:
                h = h + enc.dilated(h)
        return int((h[0].abs().sum(0) > 0).sum())

    assert reach(False) == 2  # 13-step field at stride 4: outputs 0 and 1 see step 0
    assert reach(True) == 4  # + (3 - 1) * 2 output steps
