"""Local branch of the CAPM: pixel-dependent filtering with per-pixel k x k weights and offsets.

Every pixel p gets its own normalised k x k weights w_{p,i} (shared within a channel group) and 2-D
offsets d_{p,i}, both predicted from content: out(p) = sum_i w_{p,i} F(p + p_i + d_{p,i}), sampled
bilinearly. Offsets start at zero, where the filter is a plain dynamic filter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .recorder import Recorder


class PixelDependentFilter(nn.Module):
    """A dynamic, deformable k x k filter whose weights and offsets are predicted per pixel."""

    def __init__(self, channels: int, kernel_size: int = 3, groups: int = 4, offsets: bool = True) -> None:
        super().__init__()
        taps = kernel_size * kernel_size
        self.kernel_size, self.groups, self.taps = kernel_size, groups, taps
        hidden = max(channels // 2, 8)
        self.predictor = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1), nn.LeakyReLU(0.1, inplace=True)
        )
        self.to_weights = nn.Conv2d(hidden, groups * taps, 1)
        self.to_offsets = nn.Conv2d(hidden, 2 * taps, 1) if offsets else None
        if self.to_offsets is not None:
            nn.init.zeros_(self.to_offsets.weight)
            nn.init.zeros_(self.to_offsets.bias)
        self.name = ""

    def forward(self, x: torch.Tensor, recorder: Recorder | None = None) -> torch.Tensor:
        hidden = self.predictor(x)
        n, _, h, w = x.shape
        weights = torch.softmax(self.to_weights(hidden).view(n, self.groups, self.taps, h, w), dim=2)
        if self.to_offsets is None:
            return dynamic_filter(x, weights, self.kernel_size)
        offsets = self.to_offsets(hidden)
        if recorder is not None and self.name:
            recorder.add_offsets(self.name, offsets)
        return deformable_filter(x, weights, offsets, self.kernel_size)


def dynamic_filter(x: torch.Tensor, weights: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Per-pixel k x k filter on a fixed grid (zero padding); weights: (N, G, k^2, H, W)."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    patches = F.unfold(x, kernel_size, padding=kernel_size // 2).view(n, groups, c // groups, taps, h, w)
    return _weighted_sum_of_taps(patches, weights).view(n, c, h, w)


def deformable_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int
) -> torch.Tensor:
    """Per-pixel k x k filter sampled bilinearly at tap + offset (zero outside the image).

    offsets: (N, 2k^2, H, W) in pixels, (dy, dx) for tap 0, then tap 1, ... (taps in raster order).
    All taps are sampled by one `grid_sample` call, in float32: half-precision grid coordinates are off by up
    to a quarter pixel at 1024 px, which ruins the filter.
    """
    out_dtype = x.dtype
    x, weights, offsets = x.float(), weights.float(), offsets.float()
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    r = kernel_size // 2
    dtype, device = x.dtype, x.device
    ty, tx = torch.meshgrid(
        torch.arange(-r, r + 1, device=device, dtype=dtype),
        torch.arange(-r, r + 1, device=device, dtype=dtype),
        indexing="ij",
    )
    ys = torch.arange(h, device=device, dtype=dtype).view(1, 1, h, 1)
    xs = torch.arange(w, device=device, dtype=dtype).view(1, 1, 1, w)
    off = offsets.view(n, taps, 2, h, w)
    py = ys + ty.reshape(1, taps, 1, 1) + off[:, :, 0]  # (N, taps, H, W)
    px = xs + tx.reshape(1, taps, 1, 1) + off[:, :, 1]
    # align_corners=True: pixel i sits at -1 + 2i/(size-1)
    gy = py * (2.0 / max(h - 1, 1)) - 1.0
    gx = px * (2.0 / max(w - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1).view(n, taps * h, w, 2)
    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    sampled = sampled.view(n, groups, c // groups, taps, h, w)
    return _weighted_sum_of_taps(sampled, weights).view(n, c, h, w).to(out_dtype)


def _weighted_sum_of_taps(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_t values[:, :, :, t] * weights[:, :, t], accumulated tap by tap: about twice as fast on CPU as
    a broadcast product and sum, which materialises a k^2-times larger temporary."""
    weights = weights.unsqueeze(2)
    out = values[:, :, :, 0] * weights[:, :, :, 0]
    for t in range(1, values.shape[3]):
        out = out.addcmul_(values[:, :, :, t], weights[:, :, :, t])
    return out
