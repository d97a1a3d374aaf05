"""Where two feature streams cross: cross-attention instead of plain addition."""

from __future__ import annotations

import torch
from torch import nn

from .global_attention import GlobalAttention
from .recorder import Recorder


class CrossMerge(nn.Module):
    """Merge `source` into `x`: x (+ source) + CrossAttention(queries from x, keys/values from source).

    Spatially aligned streams (encoder -> decoder skips, level -> level) keep the identity path of the
    source, so local detail is not squeezed through M descriptors (ours); the attention term lets each
    pixel of the receiver pick the global context of the source it needs. Streams that are not aligned
    (stage -> stage: patches attend to the previous stage's whole image) use the attention term alone.
    With cross-attention switched off, aligned streams are added and unaligned ones are not merged.
    """

    def __init__(
        self,
        channels: int,
        maps: int,
        enabled: bool,
        *,
        source_channels: int | None = None,
        aligned: bool = True,
    ) -> None:
        super().__init__()
        self.aligned = aligned
        self.attention = GlobalAttention(channels, maps, source_channels) if enabled else None
        if self.attention is not None:  # a zero branch: merging starts as plain addition (or nothing)
            nn.init.zeros_(self.attention.proj.weight)
            nn.init.zeros_(self.attention.proj.bias)

    def forward(
        self,
        x: torch.Tensor,
        source: torch.Tensor,
        *,
        group: int = 1,
        source_group: int = 1,
        recorder: Recorder | None = None,
    ) -> torch.Tensor:
        out = x + source if self.aligned else x
        if self.attention is not None:
            out = out + self.attention(x, source, group=group, source_group=source_group, recorder=recorder)
        return out
