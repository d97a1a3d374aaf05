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
    Computed in float32: half-precision coordinates are off by up to a quarter pixel at 1024 px, which ruins
    the filter. On the CPU one weighted `embedding_bag` gathers the 4 bilinear corners of every tap
    (2-5x faster than `grid_sample` and the tap sum at the bottleneck, docs/performance.md); elsewhere one
    `grid_sample` samples all taps.
    """
    out_dtype = x.dtype
    x, weights, offsets = x.float(), weights.float(), offsets.float()
    if x.device.type == "cpu":
        return _gathered_filter(x, weights, offsets, kernel_size).to(out_dtype)
    return _sampled_filter(x, weights, offsets, kernel_size).to(out_dtype)


def _tap_steps(kernel_size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Each tap's (dy, dx) from the centre, in raster order, as two float32 vectors of k^2."""
    r = kernel_size // 2
    steps = torch.arange(-r, r + 1, device=device, dtype=torch.float32)
    ty, tx = torch.meshgrid(steps, steps, indexing="ij")
    return ty.reshape(-1), tx.reshape(-1)


def _sampled_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int
) -> torch.Tensor:
    """`deformable_filter` by one `grid_sample` over all taps, then the weighted tap sum."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    ty, tx = _tap_steps(kernel_size, x.device)
    off = offsets.view(n, taps, 2, h, w)
    ys = torch.arange(h, device=x.device, dtype=torch.float32).view(1, 1, h, 1)
    xs = torch.arange(w, device=x.device, dtype=torch.float32).view(1, 1, 1, w)
    py = ys + ty.view(1, taps, 1, 1) + off[:, :, 0]  # (N, taps, H, W)
    px = xs + tx.view(1, taps, 1, 1) + off[:, :, 1]
    # align_corners=True: pixel i sits at -1 + 2i/(size-1)
    gy = py * (2.0 / max(h - 1, 1)) - 1.0
    gx = px * (2.0 / max(w - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1).view(n, taps * h, w, 2)
    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    sampled = sampled.view(n, groups, c // groups, taps, h, w)
    return _weighted_sum_of_taps(sampled, weights).view(n, c, h, w)


def _gathered_filter(
    x: torch.Tensor, weights: torch.Tensor, offsets: torch.Tensor, kernel_size: int
) -> torch.Tensor:
    """`deformable_filter` as one weighted gather: each output pixel and channel group is the sum of the
    taps' 4 bilinear corners, weighted by tap weight x bilinear weight (0 outside the image), read from
    the pixel-major rows of `x` (a free view when `x` is channels_last). The result is channels_last."""
    n, c, h, w = x.shape
    groups, taps = weights.shape[1], weights.shape[2]
    f32 = {"device": x.device, "dtype": torch.float32}
    ty, tx = _tap_steps(kernel_size, x.device)
    off = offsets.permute(0, 2, 3, 1).reshape(n, h, w, taps, 2, 1)  # a view for channels_last offsets
    # Where each tap samples, in pixels: (N, H, W, taps, 1).
    py = torch.arange(h, **f32).view(1, h, 1, 1, 1) + ty.view(taps, 1) + off[..., 0, :]
    px = torch.arange(w, **f32).view(1, 1, w, 1, 1) + tx.view(taps, 1) + off[..., 1, :]
    # Corners top-left, top-right, bottom-left, bottom-right, as a last dimension of 4.
    dy, dx = torch.tensor([0.0, 0.0, 1.0, 1.0], **f32), torch.tensor([0.0, 1.0, 0.0, 1.0], **f32)
    y0, x0 = py.floor(), px.floor()
    ys, xs = y0 + dy, x0 + dx
    bilinear = ((1 - dy) + (py - y0) * (2 * dy - 1)) * ((1 - dx) + (px - x0) * (2 * dx - 1))
    bilinear = bilinear.masked_fill_((ys < 0) | (ys > h - 1) | (xs < 0) | (xs > w - 1), 0.0)
    # A NaN offset must not become an index: it reads pixel 0 with a NaN weight, so the output shows it.
    ys, xs = ys.nan_to_num_(0.0).clamp_(0, h - 1), xs.nan_to_num_(0.0).clamp_(0, w - 1)
    pixel = (ys * w + xs).int()  # (N, H, W, taps, 4)
    if n > 1:
        pixel += (torch.arange(n, device=x.device, dtype=torch.int32) * (h * w)).view(n, 1, 1, 1, 1)
    # Rows of the table are (pixel, group) pairs: bag (n, y, x, g) reads rows pixel * groups + g.
    group = torch.arange(groups, device=x.device, dtype=torch.int32).view(1, 1, 1, groups, 1)
    rows = (pixel.reshape(n, h, w, 1, taps * 4) * groups + group).view(-1, taps * 4)
    tap_weights = weights.permute(0, 3, 4, 1, 2).unsqueeze(-1)  # (N, H, W, G, taps, 1)
    bag_weights = (tap_weights * bilinear.reshape(n, h, w, 1, taps, 4)).reshape(-1, taps * 4)
    table = x.permute(0, 2, 3, 1).reshape(n * h * w * groups, c // groups)
    out = F.embedding_bag(rows, table, mode="sum", per_sample_weights=bag_weights)
    return out.view(n, h, w, c).permute(0, 3, 1, 2)


def _weighted_sum_of_taps(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_t values[:, :, :, t] * weights[:, :, t], accumulated tap by tap: about twice as fast on CPU as
    a broadcast product and sum, which materialises a k^2-times larger temporary."""
    weights = weights.unsqueeze(2)
    out = values[:, :, :, 0] * weights[:, :, :, 0]
    for t in range(1, values.shape[3]):
        out = out.addcmul_(values[:, :, :, t], weights[:, :, :, t])
    return out
