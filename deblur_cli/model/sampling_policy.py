"""Pixel-adaptive non-uniform sampling: a light policy scores every cell; a stage refines the K hardest."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Selection = Literal["policy", "random"]


class SamplingPolicy(nn.Module):
    """Looks at [blurred, previous stage's image, previous stage's features] and gives each cell a
    difficulty logit. Its inputs are detached: restoration gradients never reach the policy, which is
    trained by policy gradient alone."""

    def __init__(self, feature_channels: int, cell: int, hidden: int = 16) -> None:
        super().__init__()
        self.cell = cell
        self.embed = nn.Sequential(
            nn.Conv2d(6 + feature_channels, hidden, 3, padding=1), nn.LeakyReLU(0.1, inplace=True)
        )
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(hidden, 1, 1)
        )

    def forward(self, blurred: torch.Tensor, previous: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Cell logits, (N, 1, H / c, W / c)."""
        x = torch.cat([blurred, previous, features], dim=1).detach()
        # Runs in its own parameters' dtype, never autocast: keep the policy in float32 (see
        # `SAPHNet.to_inference_dtype`): half-precision logits reorder near-ties and flip top-K choices.
        with torch.autocast(x.device.type, enabled=False):
            x = x.to(self.head[-1].weight.dtype)
            return self.head(F.avg_pool2d(self.embed(x), self.cell))


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
