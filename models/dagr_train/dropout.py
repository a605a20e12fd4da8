"""Modality dropout: during training each sample, with probability `p`, keeps only a random
non-empty subset of its present modalities; a dropped modality's tensor is zeroed and its
`present` column cleared, exactly what the gateway's preprocessing gives for an absent
modality. Teaches the fusion to work on every subset."""

import torch

SUBSETS = torch.tensor(
    [[(k >> i) & 1 for i in range(3)] for k in range(1, 8)], dtype=torch.float32
)
"""The 7 non-empty subsets of (mmwave, wifi, rfid) as presence rows."""


def drop_modalities(inputs, present, p, generator):
    """(inputs, present) with modality dropout applied; `inputs` in MODALITIES order.
    A drawn subset that keeps none of the sample's present modalities leaves it unchanged."""
    if p <= 0:
        return inputs, present
    b = present.shape[0]
    apply = torch.rand(b, generator=generator) < p
    drawn = SUBSETS[torch.randint(0, len(SUBSETS), (b,), generator=generator)].to(
        present.dtype
    )
    kept = present * drawn
    keep_some = kept.sum(dim=1) > 0
    new_present = torch.where((apply & keep_some)[:, None], kept, present)
    out = []
    for i, x in enumerate(inputs):
        gate = new_present[:, i].view([-1] + [1] * (x.dim() - 1))
        out.append(x * gate)
    return out, new_present
