"""A published image-to-image network (DMPHN 1-2-4, Stack(k)-DMPHN) with a descriptor, so that the engine
runs it exactly as it runs SAPHNet: the same padding, tiling, precision and scoring."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .config import SAPHNetConfig
from .descriptor import ModelDescriptor
from .memory import network_bytes_per_pixel

_STAGE_ONE = SAPHNetConfig(backbone="dmphn", width=32, capm_scales=(), stages=1, budget=())
"""The SAPHNet whose stage 1 is DMPHN 1-2-4's layers: published networks are padded and sized as it is."""


class PublishedNetwork(nn.Module):
    """Wraps `net` (image in [0, 1] -> image) under its published name; it takes no budget and records
    no maps."""

    descriptor = ModelDescriptor(
        size_multiple=_STAGE_ONE.size_multiple,
        min_size=1,
        supports_half=True,
        supports_bfloat16=True,
        tiling_safe=True,
        bytes_per_pixel=partial(network_bytes_per_pixel, _STAGE_ONE),
    )

    def __init__(self, net: nn.Module, name: str) -> None:
        super().__init__()
        self.net = net
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The restored N x 3 x H x W image."""
        return self.net(x)
