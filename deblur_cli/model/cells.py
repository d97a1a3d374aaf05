"""Gathering chosen cells (with a halo of context) into a batch of patches, and blending them back."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class CellGrid:
    """An H x W image cut into c x c cells; each patch is a cell plus `halo` pixels on every side."""

    height: int
    width: int
    cell: int
    halo: int

    @property
    def rows(self) -> int:
        return self.height // self.cell

    @property
    def cols(self) -> int:
        return self.width // self.cell

    @property
    def count(self) -> int:
        return self.rows * self.cols

    @property
    def patch(self) -> int:
        return self.cell + 2 * self.halo

    def pixel_index(self, cells: torch.Tensor) -> torch.Tensor:
        """Flat indices into the halo-padded image of every pixel of each chosen patch.

        cells: (N, K) cell numbers in raster order -> (N, K * P * P).
        """
        padded_w = self.width + 2 * self.halo
        top = (cells // self.cols) * self.cell
        left = (cells % self.cols) * self.cell
        offs = torch.arange(self.patch, device=cells.device)
        rows = (top.unsqueeze(-1) + offs).unsqueeze(-1)  # (N, K, P, 1)
        cols = (left.unsqueeze(-1) + offs).unsqueeze(-2)  # (N, K, 1, P)
        return (rows * padded_w + cols).flatten(1)

    def source_index(self, cells: torch.Tensor) -> torch.Tensor:
        """Flat indices into the unpadded image of every pixel of each chosen patch, halo pixels beyond
        the edge clamped to it: replication padding without a padded copy.

        cells: (N, K) cell numbers in raster order -> (N, K * P * P).
        """
        offs = torch.arange(self.patch, device=cells.device) - self.halo
        top = (cells // self.cols) * self.cell
        left = (cells % self.cols) * self.cell
        rows = (top.unsqueeze(-1) + offs).clamp_(0, self.height - 1).unsqueeze(-1)  # (N, K, P, 1)
        cols = (left.unsqueeze(-1) + offs).clamp_(0, self.width - 1).unsqueeze(-2)  # (N, K, 1, P)
        return (rows * self.width + cols).flatten(1)

    def window(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """Blending weights of a patch: 1 over the cell, a raised cosine falling towards 0 across the halo."""
        ramp = torch.ones(self.patch, device=device, dtype=dtype)
        for d in range(1, self.halo + 1):
            fall = 0.5 * (1.0 + math.cos(math.pi * d / (self.halo + 1)))
            ramp[self.halo - d] = fall
            ramp[self.halo + self.cell - 1 + d] = fall
        return ramp.view(-1, 1) * ramp.view(1, -1)

    def chosen_mask(self, cells: torch.Tensor) -> torch.Tensor:
        """(N, K) cell numbers -> (N, 1, rows, cols) bool."""
        mask = torch.zeros(cells.shape[0], self.count, dtype=torch.bool, device=cells.device)
        mask.scatter_(1, cells, True)
        return mask.view(-1, 1, self.rows, self.cols)


def gather_cells(x: torch.Tensor, cells: torch.Tensor, grid: CellGrid) -> torch.Tensor:
    """(N, C, H, W) -> (N * K, C, P, P), channels_last: the chosen cells with their halos (edges padded by
    replication).

    Reads whole pixel rows (all C channels at once) of the pixel-major view, which a channels_last `x`
    gives for free: one `index_select`, 10-30x faster on the CPU than gathering each channel plane apart.
    """
    n, c, h, w = x.shape
    k, p = cells.shape[1], grid.patch
    # Indices into x itself, not into a replicate-padded copy: the same values, one copy fewer, and a
    # graph torch.compile can train (inductor 2.13 mis-strides replication_pad2d_backward, channels_last).
    idx = grid.source_index(cells) + _image_offsets(n, h * w, cells.device)
    pixels = x.permute(0, 2, 3, 1).reshape(n * h * w, c)
    return pixels.index_select(0, idx.flatten()).view(n * k, p, p, c).permute(0, 3, 1, 2)


def scatter_cells(
    base: torch.Tensor, patches: torch.Tensor, cells: torch.Tensor, grid: CellGrid
) -> torch.Tensor:
    """Blend refined patches back into `base`.

    Each pixel becomes the window-weighted mean of the patches covering it, mixed with `base` by
    min(total weight, 1): cells' interiors take the refined values, and the halos fade into the
    neighbouring unchosen cells without a seam. Pixels no patch covers keep `base` exactly. Sums whole
    pixel rows into a pixel-major accumulator, so the result keeps `base`'s channels_last layout.
    """
    n, c, h, w = base.shape
    k, p, halo = cells.shape[1], grid.patch, grid.halo
    hp, wp = h + 2 * halo, w + 2 * halo
    window = grid.window(base.device, base.dtype)
    weighted = (patches.permute(0, 2, 3, 1) * window.unsqueeze(-1)).reshape(n * k * p * p, c)
    idx = (grid.pixel_index(cells) + _image_offsets(n, hp * wp, cells.device)).flatten()
    acc = base.new_zeros(n * hp * wp, c).index_add_(0, idx, weighted)
    wsum = base.new_zeros(n * hp * wp, 1).index_add_(0, idx, window.reshape(-1, 1).repeat(n * k, 1))
    acc = acc.view(n, hp, wp, c)[:, halo : halo + h, halo : halo + w].permute(0, 3, 1, 2)
    wsum = wsum.view(n, hp, wp, 1)[:, halo : halo + h, halo : halo + w].permute(0, 3, 1, 2)
    # base + alpha * (mean - base): exactly base where alpha is 0, exactly the mean where it is 1.
    return torch.lerp(base, acc / wsum.clamp(min=1e-6), wsum.clamp(max=1.0))


def _image_offsets(n: int, size: int, device: torch.device) -> torch.Tensor:
    """(N, 1) offsets of each image's first pixel when N images of `size` pixels are stacked as rows."""
    return (torch.arange(n, device=device) * size).unsqueeze(1)
