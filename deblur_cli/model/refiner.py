"""A refinement stage: a small encoder-decoder over the chosen patches of every image."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import BlockStack
from .config import SAPHNetConfig
from .cross_merge import CrossMerge
from .recorder import Recorder


class PatchRefiner(nn.Module):
    """Refines a batch of patches (K per image). Its CAPMs attend over all chosen patches of an image
    together, and its bottleneck cross-attends to the previous stage's whole-image features.

    Input per patch: [blurred, previous image, previous features]. Output: (residual, features), the
    residual head zero-initialised so a fresh stage changes nothing.
    """

    def __init__(self, cfg: SAPHNetConfig) -> None:
        super().__init__()
        c = cfg.width
        self.embed = nn.Conv2d(6 + c, c, 3, padding=1)
        self.encode = BlockStack(c, cfg.refiner_blocks, cfg, with_capm=False)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.middle = BlockStack(2 * c, cfg.refiner_blocks, cfg, with_capm=True)
        self.context = CrossMerge(
            2 * c, cfg.attention_maps, cfg.cross_attention, source_channels=c, aligned=False
        )
        self.up = nn.Sequential(nn.Conv2d(2 * c, 4 * c, 1), nn.PixelShuffle(2))
        self.skip = CrossMerge(c, cfg.attention_maps, cfg.cross_attention)
        self.decode = BlockStack(c, cfg.refiner_blocks, cfg, with_capm=False)
        self.head = nn.Conv2d(c, 3, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, patches: torch.Tensor, context: torch.Tensor, *, group: int, recorder: Recorder | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """patches: (N*K, 6 + C, P, P); context: previous stage's features (N, C, H, W)."""
        skip = self.encode(self.embed(patches), group=group)
        x = self.middle(self.down(skip), group=group)
        x = self.context(x, context, group=group, source_group=1)
        x = self.skip(self.up(x), skip, group=group, source_group=group)
        x = self.decode(x, group=group)
        return self.head(x), x
