"""Splitting an image batch into the patch hierarchy's parts and joining them back.

Parts are stacked along the batch dimension, part-major: halves are [top, bottom], quadrants are
[top-left, top-right, bottom-left, bottom-right], each block holding the N images in order.
"""

from __future__ import annotations

from typing import Literal

import torch

Layout = Literal["whole", "halves", "quadrants"]


def split_halves(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (2N, C, H/2, W): top halves then bottom halves."""
    top, bottom = x.chunk(2, dim=2)
    return torch.cat([top, bottom], dim=0)


def join_halves(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `split_halves`."""
    top, bottom = x.chunk(2, dim=0)
    return torch.cat([top, bottom], dim=2)


def split_quadrants(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (4N, C, H/2, W/2): TL, TR, BL, BR."""
    top, bottom = x.chunk(2, dim=2)
    tl, tr = top.chunk(2, dim=3)
    bl, br = bottom.chunk(2, dim=3)
    return torch.cat([tl, tr, bl, br], dim=0)


def quadrants_to_halves(x: torch.Tensor) -> torch.Tensor:
    """(4N, C, h, w) quadrants -> (2N, C, h, 2w) halves, joining left and right side by side."""
    tl, tr, bl, br = x.chunk(4, dim=0)
    return torch.cat([torch.cat([tl, tr], dim=3), torch.cat([bl, br], dim=3)], dim=0)


def join_layout(x: torch.Tensor, layout: Layout) -> torch.Tensor:
    """Whatever the layout, return the whole-image tensor (N, C, H, W)."""
    if layout == "quadrants":
        x = quadrants_to_halves(x)
        layout = "halves"
    if layout == "halves":
        x = join_halves(x)
    return x


PARTS: dict[Layout, int] = {"whole": 1, "halves": 2, "quadrants": 4}
