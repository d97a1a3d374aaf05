"""Global branch of the CAPM: self- or cross-attention whose cost is linear in the number of pixels.

M maps, each a softmax over the source's pixels, pool the source's values into M descriptors; every
query pixel then mixes the descriptors with its own softmax over the M maps (DESIGN.md, "CAPM").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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

        # Softmaxes run where CPU kernels are fast: over the last dim of a contiguous (contexts, M, P) copy
        # for the keys, over dim 1 of the 4-D tensor for the queries (7-10x faster than the same softmaxes
        # on pixel-major views).
        keys = self.to_keys(source)  # (B_s, M, h, w)
        maps, h, w = keys.shape[1], keys.shape[2], keys.shape[3]
        keys = _pixels_last(keys, source_group).transpose(1, 2).contiguous()  # (contexts, M, P)
        attention = torch.softmax(keys.float(), dim=2).to(source.dtype)
        if recorder is not None and self.name and source_group == 1:
            recorder.add_attention(self.name, attention.reshape(-1, maps, h, w))
        # The maps pool the source's pixels first; the 1x1 value and output projections then act on M pooled
        # rows instead of every pixel: the same result (each map sums to 1), two full-size convolutions
        # fewer (docs/performance.md). The source is a free pixel-major view when channels_last.
        pooled = attention @ _pixels_last(source, source_group)  # (contexts, M, C_s)
        descriptors = F.linear(pooled, self.to_values.weight.flatten(1), self.to_values.bias)
        mixing = F.linear(descriptors, self.proj.weight.flatten(1))  # (contexts, M, C), proj's bias below
        queries = torch.softmax(self.to_queries(x).float(), dim=1).to(x.dtype)
        queries = queries.contiguous(memory_format=torch.channels_last)  # 20x faster 1x1 convolution on CPU
        # Each query pixel mixes its context's M rows: a 1x1 convolution whose weights are those rows.
        weights = mixing.transpose(1, 2).reshape(contexts, -1, maps, 1, 1)
        bias = self.proj.bias
        outs = [F.conv2d(queries[i * group : (i + 1) * group], weights[i], bias) for i in range(contexts)]
        return outs[0] if contexts == 1 else torch.cat(outs)


def _pixels_last(t: torch.Tensor, group: int) -> torch.Tensor:
    """(G*n, C, h, w) -> (n, G*h*w, C): the pixels of `group` consecutive items become one context."""
    b, c, h, w = t.shape
    return t.permute(0, 2, 3, 1).reshape(b // group, group * h * w, c)
