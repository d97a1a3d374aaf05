"""Collects the attention maps and filter offsets of CAPMs during one forward pass (off by default)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .layout import PARTS, Layout, join_layout


@dataclass
class Recorder:
    """Where CAPMs write what they did; maps are joined into whole-image layout as they arrive.

    `layout` is set by the patch hierarchy before each part-wise module runs. Attention maps of a part
    are a softmax over that part's pixels; joined over P parts they are divided by P so every recorded
    map still sums to 1 over the image.
    """

    layout: Layout = "whole"
    attention: dict[str, torch.Tensor] = field(default_factory=dict)
    offsets: dict[str, torch.Tensor] = field(default_factory=dict)

    def add_attention(self, name: str, maps: torch.Tensor) -> None:
        """Record N x M x h x w maps (detached)."""
        self.attention[name] = join_layout(maps.detach().float(), self.layout) / PARTS[self.layout]

    def add_offsets(self, name: str, offsets: torch.Tensor) -> None:
        """Record N x 2k^2 x h x w offsets (pixels, (dy, dx) pairs per tap)."""
        self.offsets[name] = join_layout(offsets.detach().float(), self.layout)
