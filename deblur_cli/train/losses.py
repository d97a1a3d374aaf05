"""Training losses: per-stage Charbonnier (or per-image RMSE) (+ optional FFT L1) weighted toward refined
cells, and REINFORCE for the sampling policy (DESIGN.md, "Training")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..model import SAPHNetOutput


def charbonnier(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-3
) -> torch.Tensor:
    """Mean sqrt((pred - target)^2 + eps^2), optionally weighted per pixel (weights normalised to mean 1)."""
    err = torch.sqrt((pred - target).square() + eps * eps)
    if weight is None:
        return err.mean()
    return (err * weight).sum() / (weight.sum() * pred.shape[1]).clamp(min=1e-8)


def rmse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over images of each image's root-mean-square error, optionally weighted per pixel. Where many
    pixels are uncertain (an edge's place under long blur) it favours the mean of their plausible values, as
    PSNR does, where Charbonnier favours the likeliest, a committed edge; its gradients are on Charbonnier's
    scale, so the other weights keep their meaning."""
    err = (pred - target).square()
    if weight is None:
        mse = err.flatten(1).mean(1)
    else:
        mse = (err * weight).flatten(1).sum(1) / (weight.flatten(1).sum(1) * pred.shape[1]).clamp(min=1e-8)
    return (mse + 1e-12).sqrt().mean()


PIXEL_LOSSES = {"charbonnier": charbonnier, "rmse": rmse}
"""The per-stage restoration losses `LossWeights.pixel` can name."""


def fft_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 distance between the 2-D FFT magnitudes (keeps high frequencies honest)."""
    return (torch.fft.rfft2(pred.float()).abs() - torch.fft.rfft2(target.float()).abs()).abs().mean()


def cell_weights(chosen: torch.Tensor, cell: int, size: tuple[int, int], hard_weight: float) -> torch.Tensor:
    """Per-pixel weights, `hard_weight` on chosen cells and 1 elsewhere, cropped to the image size."""
    up = F.interpolate(chosen.float(), scale_factor=cell, mode="nearest")
    return (1.0 + (hard_weight - 1.0) * up)[..., : size[0], : size[1]]


def per_cell_error(image: torch.Tensor, target: torch.Tensor, cell: int) -> torch.Tensor:
    """Mean absolute error of every cell, (N, cells) in raster order; images are padded (replicated) to
    whole cells the same way."""
    err = (image - target).abs().mean(dim=1, keepdim=True)
    h, w = err.shape[-2:]
    err = F.pad(err, [0, (-w) % cell, 0, (-h) % cell], mode="replicate")
    return F.avg_pool2d(err, cell).flatten(1)


@dataclass(frozen=True)
class LossWeights:
    """How the terms of the training loss are weighed."""

    stages: Sequence[float] = (0.5, 0.75, 1.0)
    """lambda_s per stage (a shorter list is padded with its last value)."""
    pixel: str = "charbonnier"
    """The per-stage restoration loss, a key of PIXEL_LOSSES."""
    hard_cells: float = 2.0
    """Weight of the refined (hard) cells in stages >= 2, relative to 1 elsewhere."""
    fft: float = 0.0
    """Weight of the optional FFT-magnitude L1 term."""
    cell_cost: float = 0.0
    """Reward penalty per refined cell (prices computation)."""
    entropy: float = 0.01
    """eta: entropy bonus keeping the policy from collapsing early."""
    difficulty: float = 1.0
    """Weight of the dense, supervised signal: the policy's P_s learns, for every cell, whether the previous
    stage's L1 error puts it among the stage's K_s hardest cells of its image. REINFORCE alone sees only
    the cells it chose and learned no map of the blur on a CPU's budget of steps."""
    difficulty_floor: float = 4.0 / 255.0
    """A cell counts as hard for the dense signal only if its mean absolute error (images in [0, 1]) is
    also above this: in a sharp region no cell is hard, rather than the K least easy ones. On the five
    `val/gopro-test` frames blurred on their right half, saphnet-s's stage 1 leaves 90 % of the sharp
    half's cells under 3.5/255 and a third of the blurred half's over 5/255."""
    budget_prior: float = 0.1
    """Weight of a per-cell cross-entropy pulling P_s towards the stage's budget fraction. REINFORCE on the
    chosen cells alone drifts every logit down without bound (its push up saturates at p -> 1, its push down
    never does); this anchor's gradient, p - budget, does not saturate either, so P_s stays a readable
    probability while the rewards order the cells."""


def restoration_loss(
    out: SAPHNetOutput, target: torch.Tensor, weights: LossWeights, cell: int, stages: int | None = None
) -> tuple[torch.Tensor, list[float]]:
    """Sum over the first `stages` stages of lambda_s x (pixel loss + fft x FFT L1): (loss, terms)."""
    pixel_loss = PIXEL_LOSSES[weights.pixel]
    count = len(out.stages) if stages is None else stages
    total = target.new_zeros(())
    parts = []
    for s in range(count):
        lam = weights.stages[min(s, len(weights.stages) - 1)]
        weight = None
        if s >= 1 and weights.hard_cells != 1.0:
            weight = cell_weights(out.chosen[s - 1], cell, target.shape[-2:], weights.hard_cells)
        term = pixel_loss(out.stages[s], target, weight)
        if weights.fft:
            term = term + weights.fft * fft_l1(out.stages[s], target)
        parts.append(float(term.detach()))
        total = total + lam * term
    return total, parts


def hardest_cells(error: torch.Tensor, k: int, floor: float = 0.0) -> torch.Tensor:
    """1 for the `k` cells of largest error in each row of `error` (N x cells) whose error is also above
    `floor`, 0 elsewhere."""
    target = torch.zeros_like(error)
    target.scatter_(1, error.topk(min(k, error.shape[1]), dim=1).indices, 1.0)
    return target * (error > floor)


def difficulty_loss(out: SAPHNetOutput, target: torch.Tensor, cell: int, floor: float = 0.0) -> torch.Tensor:
    """Binary cross-entropy of each stage's logits against `hardest_cells` of the previous stage's error,
    K_s being the number of cells the stage refined: P_s reads as the chance that a cell is among them
    and wrong by more than `floor`."""
    total = target.new_zeros(())
    for s, (cells, logits) in enumerate(zip(out.cells, out.logits, strict=True)):
        if not logits.requires_grad or not cells.shape[1]:
            continue
        with torch.no_grad():
            hard = hardest_cells(per_cell_error(out.stages[s], target, cell), cells.shape[1], floor)
        total = total + F.binary_cross_entropy_with_logits(logits.float().flatten(1), hard)
    return total


def policy_loss(
    out: SAPHNetOutput, target: torch.Tensor, weights: LossWeights, cell: int
) -> tuple[torch.Tensor, dict[str, float]]:
    """REINFORCE: for each chosen cell, reward = L1 error of I_{s-1} minus L1 error of I_s on that cell,
    minus the cell cost; advantage = (reward - batch mean) / batch std; loss = -mean(advantage x log p)
    - eta x entropy + budget_prior x cross-entropy(P_s, budget fraction)."""
    total = target.new_zeros(())
    stats = {"reward": 0.0, "entropy": 0.0}
    if not out.logits:
        return total, stats
    for s, (cells, log_probs, logits) in enumerate(zip(out.cells, out.log_probs, out.logits, strict=True)):
        with torch.no_grad():
            before = per_cell_error(out.stages[s], target, cell)
            after = per_cell_error(out.stages[s + 1], target, cell)
            reward = (before - after).gather(1, cells) - weights.cell_cost
            # normalised: per-cell L1 changes are ~1e-4, which the entropy bonus would otherwise drown
            advantage = (reward - reward.mean()) / (reward.std() + 1e-8)
        p = torch.sigmoid(logits.float())
        entropy = -(p * F.logsigmoid(logits.float()) + (1 - p) * F.logsigmoid(-logits.float())).mean()
        fraction = torch.full_like(p, cells.shape[1] / max(logits[0].numel(), 1))
        prior = F.binary_cross_entropy_with_logits(logits.float(), fraction)
        total = total - (advantage * log_probs).mean() - weights.entropy * entropy
        total = total + weights.budget_prior * prior
        stats["reward"] += float(reward.mean()) / len(out.logits)
        stats["entropy"] += float(entropy.detach()) / len(out.logits)
    return total, stats
