"""The unimodal auxiliary loss: each modality's embedding z_m, put alone through the head's
shared classifier, must name the activity by itself.

Why: the head's fused logits are `classifier(mean of the present z_m)`, and the classifier
is affine, so they equal the mean of the per-modality logits `classifier(z_m)`. Trained only
through that mean, one modality can lean on the others (the study of 2026-12-04: the jointly
trained models' mmWave subset scored 0.59-0.63 where late fusion's mmWave member, trained
alone, scored 0.755). Adding the cross-entropy of each present modality's own logits gives
every encoder the training signal it would get alone, without changing the model, its
export or the gateway: it is a training-only term."""

import torch
import torch.nn.functional as F


def unimodal_loss(classifier, zs, present, labels, label_smoothing=0.0):
    """Mean over the modalities present in at least one sample of the batch of the
    cross-entropy of `classifier(z_m)` on the samples where m is present; 0 when no
    modality is present anywhere."""
    mask = present > 0.5
    terms = []
    for i, z in enumerate(zs):
        rows = mask[:, i]
        if bool(rows.any()):
            terms.append(
                F.cross_entropy(
                    classifier(z[rows]), labels[rows], label_smoothing=label_smoothing
                )
            )
    if not terms:
        return zs[0].sum() * 0.0
    return torch.stack(terms).mean()
