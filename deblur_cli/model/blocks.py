"""Residual block (conv, activation, conv) optionally followed by a CAPM."""

from __future__ import annotations

import torch
from torch import nn

from .capm import CAPM
from .config import SAPHNetConfig
from .recorder import Recorder


class ResBlock(nn.Module):
    """x + conv(act(conv(x))), then a CAPM where the preset places one."""

    def __init__(self, channels: int, capm: CAPM | None = None, *, leaky: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.LeakyReLU(0.1, inplace=True) if leaky else nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.capm = capm

    def forward(self, x: torch.Tensor, *, group: int = 1, recorder: Recorder | None = None) -> torch.Tensor:
        x = x + self.body(x)
        if self.capm is not None:
            x = self.capm(x, group=group, recorder=recorder)
        return x


class BlockStack(nn.Module):
    """`count` residual blocks at one scale, each with a CAPM when `with_capm`; ReLU for DMPHN's backbone."""

    def __init__(self, channels: int, count: int, cfg: SAPHNetConfig, with_capm: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            ResBlock(channels, make_capm(channels, cfg) if with_capm else None, leaky=cfg.backbone != "dmphn")
            for _ in range(count)
        )

    def forward(self, x: torch.Tensor, *, group: int = 1, recorder: Recorder | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, group=group, recorder=recorder)
        return x


def make_capm(channels: int, cfg: SAPHNetConfig) -> CAPM:
    """A CAPM with the config's branch switches."""
    return CAPM(
        channels,
        maps=cfg.attention_maps,
        kernel_size=cfg.filter_size,
        groups=cfg.filter_groups,
        use_global=cfg.use_global,
        use_local=cfg.use_local,
        use_offsets=cfg.use_offsets,
    )
