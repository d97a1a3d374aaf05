"""Global branch of the CAPM: self- or cross-attention whose cost is linear in the number of pixels.

M maps, each a softmax over the source's pixels, pool the source's values into M descriptors; every
query pixel then mixes the descriptors with its own softmax over the M maps (DESIGN.md, "CAPM").
"""

from __future__ import annotations

import torch
from torch import nn

from .recorder import Recorder


class GlobalAttention(nn.Module):
    """Linear attention over all pixels of a context: cost O(HW x C x M), run at full feature resolution.

    A context is `group` consecutive batch items: one image (group 1) or all chosen patches of one
    image (group K), so attention spans every patch of the image together.
    """

    def __init__(self, channels: int, maps: int, source_channels: int | None = None) -> None:
        super().__init__()
        source_channels = source_channels or channels
        self.to_keys = nn.Conv2d(source_channels, maps, 1)
        self.to_values = nn.Conv2d(source_channels, channels, 1)
        self.to_queries = nn.Conv2d(channels, maps, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.name = ""

    def forward(
        self,
        x: torch.Tensor,
        source: torch.Tensor | None = None,
        *,
        group: int = 1,
        source_group: int | None = None,
        recorder: Recorder | None = None,
    ) -> torch.Tensor:
        """Attend from `x` (queries) to `source` (keys and values; `x` itself when None)."""
        if source is None:
            source, source_group = x, group
        source_group = source_group or 1
        contexts = source.shape[0] // source_group
        if x.shape[0] // group != contexts:
            raise ValueError("queries and source must come from the same number of images")

        keys = self.to_keys(source)  # (B_s, M, h, w)
        maps, h, w = keys.shape[1], keys.shape[2], keys.shape[3]
        keys = _group_pixels(keys, source_group)  # (contexts, M, group*h*w)
        attention = torch.softmax(keys.float(), dim=-1).to(source.dtype)
        values = _group_pixels(self.to_values(source), source_group)  # (contexts, C, group*h*w)
        descriptors = values @ attention.transpose(1, 2)  # (contexts, C, M)
        if recorder is not None and self.name and source_group == 1:
            recorder.add_attention(self.name, attention.view(-1, maps, h, w))

        queries = torch.softmax(self.to_queries(x).float(), dim=1).to(x.dtype)  # (B, M, hq, wq)
        descriptors = descriptors.repeat_interleave(group, dim=0)  # one per query item
        out = descriptors @ queries.flatten(2)  # (B, C, hq*wq)
        return self.proj(out.view(x.shape[0], -1, x.shape[2], x.shape[3]))


def _group_pixels(t: torch.Tensor, group: int) -> torch.Tensor:
    """(G*n, C, h, w) -> (n, C, G*h*w): the pixels of `group` consecutive items become one context."""
    b, c, h, w = t.shape
    if group == 1:
        return t.flatten(2)
    return t.view(b // group, group, c, h * w).transpose(1, 2).reshape(b // group, c, group * h * w)
