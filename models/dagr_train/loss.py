"""The DAGR regularizer as DESIGN.md ("DAGR") states it, on the head's embeddings z_m.

- dispersion, per modality m over the samples of the batch where m is present:
  `log mean_{i,j} exp(-||z_i - z_j||^2 / (D * tau_d))`, the mean over all ordered pairs
  including i = j (so its minimum is log(1/n), reached as the embeddings spread apart);
  D is the embedding dimension unless `disp_dim` says otherwise; computed on the raw z
  (`disp_normalized=True` uses z / ||z||). A modality present in no sample adds 0.
- anchoring, over samples i and modality pairs (m, n), m < n, both present in sample i:
  `mean max(0, d(z_i^m, z_i^n) - tau)`, d = 1 - cosine (`distance="cosine"`) or the
  Euclidean distance between the L2-normalized vectors (`distance="l2"`; note
  1 - cos = ||u - v||^2 / 2 for unit u, v). No present pair: 0.
- total, lambda form: `L_task + lambda_d * sum_m L_disp_m + lambda_a * L_anc`;
  Pareto form: `L_task + beta_total * ((1 - beta) * sum_m L_disp_m + beta * L_anc)`.
L_task is the cross-entropy of the fused logits."""

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

EPS = 1e-12
"""Floor under norms: keeps the gradient finite for a zero or coincident embedding."""


@dataclass
class DagrConfig:
    """Every choice of the reconstruction, as a flag (see the module docstring)."""

    form: str = "lambda"  # "lambda" or "pareto"
    lambda_d: float = 0.0
    lambda_a: float = 0.0
    beta_total: float = 0.0
    beta: float = 0.5
    tau: float = 0.3  # agreement band
    tau_d: float = 1.0  # dispersion temperature
    disp_dim: int = 0  # D; 0: the embedding dimension
    disp_normalized: bool = False
    distance: str = "cosine"  # "cosine" or "l2"

    def __post_init__(self):
        if self.form not in ("lambda", "pareto"):
            raise ValueError(f"DAGR form {self.form!r}: expected 'lambda' or 'pareto'")
        if self.distance not in ("cosine", "l2"):
            raise ValueError(
                f"DAGR distance {self.distance!r}: expected 'cosine' or 'l2'"
            )
        if self.tau_d <= 0:
            raise ValueError(f"DAGR tau_d {self.tau_d}: expected > 0")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"DAGR beta {self.beta}: expected in [0, 1]")

    def weights(self):
        """(weight of sum_m L_disp, weight of L_anc) of the chosen form."""
        if self.form == "lambda":
            return self.lambda_d, self.lambda_a
        return self.beta_total * (1.0 - self.beta), self.beta_total * self.beta

    def to_json(self):
        """The settings as a plain dict (model.json, run.json)."""
        return asdict(self)


def dispersion(z, mask, tau_d, dim=0, normalized=False):
    """Dispersion of the rows of `z` [B, E] where `mask` [B] is true (see module docstring)."""
    z = z[mask]
    n = z.shape[0]
    if n == 0:
        return z.new_zeros(())
    if normalized:
        z = z / z.norm(dim=1, keepdim=True).clamp(min=EPS)
    d = dim or z.shape[1]
    sq = ((z[:, None, :] - z[None, :, :]) ** 2).sum(dim=2)
    return torch.logsumexp((-sq / (d * tau_d)).reshape(-1), dim=0) - math.log(n * n)


def pair_distance(a, b, distance="cosine"):
    """d(a_i, b_i) per row: 1 - cosine, or the L2 distance of the normalized rows."""
    ua = a / a.norm(dim=1, keepdim=True).clamp(min=EPS)
    ub = b / b.norm(dim=1, keepdim=True).clamp(min=EPS)
    if distance == "cosine":
        return 1.0 - (ua * ub).sum(dim=1)
    return ((ua - ub) ** 2).sum(dim=1).clamp(min=EPS).sqrt()


def present_pairs(zs, present):
    """Distances d(z_i^m, z_i^n) of every sample and pair m < n present in it, concatenated."""
    mask = present > 0.5
    out = []
    for m in range(len(zs)):
        for n in range(m + 1, len(zs)):
            both = mask[:, m] & mask[:, n]
            out.append((zs[m][both], zs[n][both]))
    return out


def anchoring(zs, present, tau, distance="cosine"):
    """Mean hinge max(0, d - tau) over samples and present modality pairs."""
    hinges = [
        F.relu(pair_distance(a, b, distance) - tau)
        for a, b in present_pairs(zs, present)
    ]
    hinges = torch.cat(hinges)
    if hinges.numel() == 0:
        return zs[0].new_zeros(())
    return hinges.mean()


def dagr_loss(logits, labels, zs, present, cfg, label_smoothing=0.0):
    """(total, parts): the DAGR objective of one batch and its terms (task, disp per
    modality, anc) as tensors. `label_smoothing` (training only, a regularizer of the
    encoders; 0 is DESIGN.md's plain cross-entropy, which the head fixtures use)
    smooths the task's targets."""
    task = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    mask = present > 0.5
    disp = [
        dispersion(z, mask[:, i], cfg.tau_d, cfg.disp_dim, cfg.disp_normalized)
        for i, z in enumerate(zs)
    ]
    anc = anchoring(zs, present, cfg.tau, cfg.distance)
    w_d, w_a = cfg.weights()
    total = task + w_d * torch.stack(disp).sum() + w_a * anc
    return total, {"task": task, "disp": disp, "anc": anc}
