"""Warm start of a fusion model from late-fusion members: each modality's encoder and
projection taken from the single-modality run trained on it (`train --only m`, method g),
the shared classifier the mean of the members' classifiers.

Why: a member trained alone reaches more with its modality than the same encoder trained
through the shared head (study of 2026-12-04: mmWave alone 0.755 against 0.59-0.63), so
joint training can start from encoders that already carry their modality, and the head and
DAGR then learn to fuse them. The fused logits of the warm model are the mean of
`classifier(z_m)`; with the members' own classifiers they would be their sum, so the mean
classifier is only a starting point that training adjusts."""

import torch

from . import MODALITIES
from .runs import load_run


def member_modality(info, run):
    """The modality a late-fusion member run was trained on, or a clear error."""
    only = info["config"].get("only", "")
    if only not in MODALITIES:
        raise ValueError(
            f"{run}: not a single-modality run (config.only = {only!r}); warm start takes "
            "the runs of `train --only mmwave|wifi|rfid`"
        )
    return only


def same_architecture(model, member, run, modality):
    """Refuses a member whose architecture differs from the model's where it shapes the
    encoder and projection taken from it (its modality's input shape, widths, readout):
    its weights would not mean the same thing. The other modalities' input shapes are not
    compared; they build encoders that are not taken (an mmWave member stays valid when the
    WiFi tensor changes shape)."""

    def seen(arch):
        return dict(arch, shapes={modality: arch.get("shapes", {}).get(modality)})

    wanted, given = seen(model.arch), seen(member.arch)
    if given != wanted:
        differ = sorted(k for k in wanted if wanted[k] != given.get(k))
        raise ValueError(
            f"{run}: trained with another architecture ({', '.join(differ)}) than this run"
        )


def warm_start(model, runs):
    """Copies each member's encoder and projection of its modality into `model`, and the
    mean of the members' classifiers into its classifier. Every modality must come from
    exactly one of `runs`. Returns {modality: run}."""
    chosen, classifiers = {}, []
    for run in runs:
        info, member = load_run(run)
        m = member_modality(info, run)
        if m in chosen:
            raise ValueError(f"{run}: a second member for {m} (first: {chosen[m]})")
        same_architecture(model, member, run, m)
        chosen[m] = run
        model.encoders[m].load_state_dict(member.encoders[m].state_dict())
        model.head.proj[m].load_state_dict(member.head.proj[m].state_dict())
        classifiers.append(member.head.classifier.state_dict())
    missing = [m for m in MODALITIES if m not in chosen]
    if missing:
        raise ValueError(f"warm start: no member run for {', '.join(missing)}")
    with torch.no_grad():
        for name, value in model.head.classifier.state_dict().items():
            value.copy_(torch.stack([c[name] for c in classifiers]).mean(0))
    return chosen
