"""Pixel-adaptive non-uniform sampling: a light policy scores every cell; a stage refines the K hardest."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Selection = Literal["policy", "random"]


PolicyInput = Literal["features", "change"]

CUE_CHANNELS = 2
"""Per-cell statistics of the previous stage's change (`change_statistics`)."""


class SamplingPolicy(nn.Module):
    """Gives each cell a difficulty logit. Its inputs are detached: restoration gradients never reach the
    policy, which learns from its own losses (the dense difficulty target and REINFORCE).

    `inputs` says what it reads. "features", the paper's policy: one 3x3 convolution over [blurred,
    previous stage's image, previous stage's features], pooled per cell, then two convolutions on the cell
    grid. "change" (ours): how far the previous stage moved each cell's pixels (`change_statistics`),
    weighed by non-negative learned weights, so a cell the previous stage moved further never scores lower.
    Where stage 1 moved pixels far it found blur, and there its error stays largest (rank correlation
    0.84-0.90 per real GoPro test frame); the learned policies, of either input, ranked the sharp half of
    a half-blurred frame's detail alongside the blurred half (docs/architecture.md)."""

    def __init__(
        self, feature_channels: int, cell: int, hidden: int = 16, inputs: PolicyInput = "features"
    ) -> None:
        super().__init__()
        self.cell = cell
        self.inputs = inputs
        if inputs == "change":
            # softplus(-2) = 0.13: a gentle start; the dense target sets the slope and the offset
            self.slope = nn.Parameter(torch.full((CUE_CHANNELS,), -2.0))
            self.offset = nn.Parameter(torch.zeros(()))
            return
        self.embed = nn.Sequential(
            nn.Conv2d(6 + feature_channels, hidden, 3, padding=1), nn.LeakyReLU(0.1, inplace=True)
        )
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(hidden, 1, 1)
        )

    def forward(self, blurred: torch.Tensor, previous: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Cell logits, (N, 1, H / c, W / c)."""
        # Runs in its own parameters' dtype, never autocast: keep the policy in float32 (see
        # `SAPHNet.to_inference_dtype`): half-precision logits reorder near-ties and flip top-K choices.
        dtype = next(self.parameters()).dtype
        with torch.autocast(blurred.device.type, enabled=False):
            if self.inputs == "change":
                stats = change_statistics(blurred.detach().to(dtype), previous.detach().to(dtype), self.cell)
                weights = F.softplus(self.slope).view(1, -1, 1, 1)
                return (stats * weights).sum(dim=1, keepdim=True) + self.offset
            x = torch.cat([blurred, previous, features], dim=1).detach().to(dtype)
            return self.head(F.avg_pool2d(self.embed(x), self.cell))


def change_statistics(blurred: torch.Tensor, previous: torch.Tensor, cell: int) -> torch.Tensor:
    """(N, 2, H / c, W / c): how far the previous stage moved each cell's pixels, as L = log(1 + the mean
    over the cell of |previous - blurred| in 1/255 units), and L less its median over the image. The
    first says how much the stage did; the second where, within the image, it did most (a noisy photo
    moves everywhere, and its hardest cells are still those it moved most)."""
    change = (previous - blurred).abs().mean(dim=1, keepdim=True) * 255.0
    level = torch.log1p(F.avg_pool2d(change, cell))
    median = level.flatten(1).median(dim=1).values.view(-1, 1, 1, 1)
    return torch.cat([level, level - median], dim=1)


def choose_cells(
    logits: torch.Tensor, count: int, *, sample: bool, selection: Selection = "policy"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick `count` cells per image. Returns (cell numbers (N, K), log P_s of each chosen cell (N, K)).

    P_s = sigmoid(logit) is each cell's difficulty. Training draws cells without replacement in
    proportion to P_s (Gumbel-top-k on log P_s); evaluation takes the top K, deterministically.
    `selection="random"` draws uniformly, for the schedule's warm-up before the policy is switched on.
    """
    log_p = F.logsigmoid(logits.flatten(1).float())
    if selection == "random":
        keys = torch.rand_like(log_p)
    elif sample:
        uniform = torch.rand_like(log_p).clamp_(1e-9, 1.0 - 1e-9)
        keys = log_p - torch.log(-torch.log(uniform))
    else:
        keys = log_p
    cells = keys.topk(count, dim=1).indices
    return cells, log_p.gather(1, cells)
