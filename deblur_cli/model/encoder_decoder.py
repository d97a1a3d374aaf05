"""The three-scale encoder-decoder every level of the hierarchy (and each refinement stage) is built from."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import BlockStack
from .config import SAPHNetConfig
from .cross_merge import CrossMerge
from .recorder import Recorder


class Encoder(nn.Module):
    """conv in -> [blocks, stride-2 conv] per scale; returns the features of every scale, finest first."""

    def __init__(self, in_channels: int, cfg: SAPHNetConfig, scales: int = 3) -> None:
        super().__init__()
        widths = [cfg.width * 2**s for s in range(scales)]
        self.embed = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.stacks = nn.ModuleList(
            BlockStack(widths[s], cfg.blocks, cfg, s in cfg.capm_scales) for s in range(scales)
        )
        self.downs = nn.ModuleList(
            nn.Conv2d(widths[s], widths[s + 1], 3, stride=2, padding=1) for s in range(scales - 1)
        )

    def forward(
        self, x: torch.Tensor, *, group: int = 1, recorder: Recorder | None = None
    ) -> list[torch.Tensor]:
        feats = []
        x = self.embed(x)
        for s, stack in enumerate(self.stacks):
            if s:
                x = self.downs[s - 1](x)
            x = stack(x, group=group, recorder=recorder)
            feats.append(x)
        return feats


class Decoder(nn.Module):
    """Mirror of the encoder: upsampling, cross-attention skips, a head to 3 channels. Returns (head output,
    full-resolution features).

    DMPHN's backbone: 4x4 stride-2 transposed convolutions and no skips but the attention branch (which
    starts at zero), so with DMPHN's weights it is DMPHN's decoder. Ours: pixel-shuffle upsampling, added
    skips, a zero-initialised head (a fresh network is the identity)."""

    def __init__(self, cfg: SAPHNetConfig, scales: int = 3) -> None:
        super().__init__()
        widths = [cfg.width * 2**s for s in range(scales)]
        dmphn = cfg.backbone == "dmphn"
        self.stacks = nn.ModuleList(
            BlockStack(widths[s], cfg.blocks, cfg, s in cfg.capm_scales) for s in range(scales)
        )
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(widths[s + 1], widths[s], 4, stride=2, padding=1)
            if dmphn
            else nn.Sequential(nn.Conv2d(widths[s + 1], widths[s] * 4, 1), nn.PixelShuffle(2))
            for s in range(scales - 1)
        )
        self.skips = nn.ModuleList(
            CrossMerge(widths[s], cfg.attention_maps, cfg.cross_attention, aligned=not dmphn)
            for s in range(scales - 1)
        )
        self.head = nn.Conv2d(widths[0], 3, 3, padding=1)
        if not dmphn:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(
        self, feats: list[torch.Tensor], *, group: int = 1, recorder: Recorder | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = feats[-1]
        for s in range(len(feats) - 1, -1, -1):
            if s < len(feats) - 1:
                x = self.skips[s](
                    self.ups[s](x), feats[s], group=group, source_group=group, recorder=recorder
                )
            x = self.stacks[s](x, group=group, recorder=recorder)
        return self.head(x), x
