"""Self-ensemble: a tile restored in several flipped and transposed views, each mapped back, averaged.

A network is not exactly symmetric under flips, so its errors differ between views and partly cancel in the
mean (Lim et al., EDSR's geometric self-ensemble). Each view costs one more pass, so `--ensemble` trades time
for quality; figures in docs/performance.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ENSEMBLE_SIZES = (1, 2, 4, 8)
"""Passes per tile `--ensemble` accepts: the identity, then the horizontal flip, the vertical flip and both,
then the same four transposed."""


@dataclass(frozen=True)
class View:
    """One of the eight flips and transposes of an N x C x H x W tensor, and its inverse."""

    transpose: bool
    flip: tuple[int, ...]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """The tensor as this view sees it (H and W swapped when transposed)."""
        if self.transpose:
            x = x.transpose(-2, -1)
        return x.flip(self.flip) if self.flip else x

    def undo(self, y: torch.Tensor) -> torch.Tensor:
        """Map a result computed on `apply(x)` back to `x`'s orientation."""
        if self.flip:
            y = y.flip(self.flip)
        return y.transpose(-2, -1) if self.transpose else y


_VIEWS = tuple(View(transpose, flip) for transpose in (False, True) for flip in ((), (-1,), (-2,), (-2, -1)))


def ensemble_views(size: int) -> tuple[View, ...]:
    """The first `size` views, the identity first (the pass whose maps a heatmap shows).

    Raises:
        ValueError: `size` is not one of ENSEMBLE_SIZES.
    """
    if isinstance(size, bool) or size not in ENSEMBLE_SIZES:
        sizes = ", ".join(map(str, ENSEMBLE_SIZES))
        raise ValueError(f"ensemble must be one of {sizes} passes, got {size!r}")
    return _VIEWS[:size]
