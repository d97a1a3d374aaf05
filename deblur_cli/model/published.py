"""A published image-to-image network (DMPHN 1-2-4, Stack(k)-DMPHN) behind SAPHNet's inference interface,
so that the engine runs it exactly as it runs SAPHNet: the same padding, tiling, precision and scoring."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .config import SAPHNetConfig
from .saphnet import SAPHNet, SAPHNetOutput


class PublishedNetwork(nn.Module):
    """Wraps `net` (image in [0, 1] -> image); `config` tells the engine its width (for sizing tiles) and
    that it has no refinement stages, so it records no maps and takes no budget."""

    def __init__(self, net: nn.Module, name: str) -> None:
        super().__init__()
        self.net = net
        self.name = name
        self.config = SAPHNetConfig(backbone="dmphn", width=32, capm_scales=(), stages=1, budget=())

    descriptor = SAPHNet.descriptor
    """The same contract as saphnet-b's, read from `config` (sides padded to 16, halves supported)."""

    def resolve_budget(self, budget: float | Sequence[float] | None) -> tuple[float, ...]:
        """No refinement stages: every budget means the same, the whole network."""
        return ()

    def to_inference_dtype(self, dtype: torch.dtype) -> PublishedNetwork:
        return self.to(dtype)

    def forward(
        self, x: torch.Tensor, *, record: bool = False, budget: float | Sequence[float] | None = None
    ) -> SAPHNetOutput:
        image = self.net(x)
        return SAPHNetOutput(image=image, stages=[image])
