"""A published image-to-image network (DMPHN 1-2-4, Stack(k)-DMPHN) behind SAPHNet's inference interface,
so that the engine runs it exactly as it runs SAPHNet: the same padding, tiling, precision and scoring."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .config import SAPHNetConfig
from .descriptor import ModelDescriptor
from .saphnet import SAPHNetOutput


class PublishedNetwork(nn.Module):
    """Wraps `net` (image in [0, 1] -> image); `config` tells the engine its width (for sizing tiles) and
    that it has no refinement stages, so it records no maps and takes no budget."""

    def __init__(self, net: nn.Module, name: str) -> None:
        super().__init__()
        self.net = net
        self.name = name
        self.config = SAPHNetConfig(backbone="dmphn", width=32, capm_scales=(), stages=1, budget=())

    @property
    def descriptor(self) -> ModelDescriptor:
        """Padded as saphnet-b is (DMPHN needs sides divisible by 8; the cells of 16 make it 16)."""
        return ModelDescriptor(
            size_multiple=self.config.size_multiple,
            min_size=1,
            supports_half=True,
            supports_bfloat16=True,
            tiling_safe=True,
        )

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
