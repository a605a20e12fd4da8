"""Geometry diagnostics of the embeddings, computed per epoch on validation data and saved
with the run (DESIGN.md "DAGR"): effective rank per modality, cross-modal drift and
semantic margin. They show *how* a regularizer changes the embedding space, beside
whether accuracy moved."""

import torch

from . import MODALITIES
from .loss import pair_distance, present_pairs


def effective_rank(z):
    """exp of the entropy of the normalized singular values of `z` [n, E] (uncentred);
    0 for an empty or all-zero matrix."""
    if z.shape[0] == 0:
        return 0.0
    s = torch.linalg.svdvals(z.double())
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def drift(zs, present, tau, distance="cosine"):
    """Cross-modal drift: mean paired distance over samples and present pairs, and the
    fraction of them outside the band (d > tau). None where no pair is present."""
    d = torch.cat(
        [pair_distance(a, b, distance) for a, b in present_pairs(zs, present)]
    )
    if d.numel() == 0:
        return {"mean": None, "outside_band": None}
    return {"mean": float(d.mean()), "outside_band": float((d > tau).double().mean())}


def semantic_margin(z, labels, distance="cosine"):
    """Mean distance between samples of different classes minus mean distance between
    different samples of the same class (d as in the anchoring). None if either is empty."""
    u = z / z.norm(dim=1, keepdim=True).clamp(min=1e-12)
    if distance == "cosine":
        d = 1.0 - u @ u.T
    else:
        d = torch.cdist(u, u)
    same = labels[:, None] == labels[None, :]
    off = ~torch.eye(len(labels), dtype=torch.bool, device=z.device)
    within, between = d[same & off], d[~same]
    if within.numel() == 0 or between.numel() == 0:
        return None
    return float(between.mean() - within.mean())


def diagnose(zs, fused, present, labels, tau, distance="cosine"):
    """All diagnostics of one set of embeddings (`zs` per modality, `fused`) as a dict."""
    mask = present > 0.5
    return {
        "effective_rank": {
            m: effective_rank(zs[i][mask[:, i]]) for i, m in enumerate(MODALITIES)
        },
        "drift": drift(zs, present, tau, distance),
        "semantic_margin": semantic_margin(fused, labels, distance),
        "semantic_margin_per_modality": {
            m: semantic_margin(zs[i][mask[:, i]], labels[mask[:, i]], distance)
            for i, m in enumerate(MODALITIES)
        },
    }
