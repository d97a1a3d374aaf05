"""Tiling as plain functions (after chaiNNer's auto_split and tiler): where the tiles go, how their
results are blended, and the retry that halves the tile size when the device runs out of memory.

A per-tile callable gets a box (y0, y1, x0, x1) of the image and returns named layers, each at its own
scale (pixels of the image per layer pixel): the restored image at scale 1, maps at coarser ones. Every
layer is blended into a whole-image canvas held in host memory, with raised-cosine weights that rise
across each overlap, so no seam shows. Blending is a running weighted mean computed as a lerp,
`canvas += alpha * (tile - canvas)` with alpha = this tile's weight / the weight seen so far: where
tiles agree the canvas keeps their value exactly, so a position-independent per-tile function gives
bit for bit the untiled result. Nothing here keeps state between calls.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DeviceError

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""(y0, y1, x0, x1): rows y0..y1-1 and columns x0..x1-1 of the image."""
Layers = dict[str, tuple[int, np.ndarray]]
"""name -> (scale, C x ceil(box height / scale) x ceil(box width / scale) float32 array)."""
TileFn = Callable[[Box], Layers]
Progress = Callable[[int, int], None]


def tile_spans(length: int, tile: int, overlap: int, align: int) -> list[tuple[int, int]]:
    """(start, end) of tiles covering [0, length): as few tiles as fit, each at most `tile` long and
    shrunk to share the length evenly (a 2048 axis in 1024 tiles with overlap 32 takes three 704-pixel
    tiles, not three of 1024), starting on multiples of `align`, neighbours overlapping by at least
    `overlap` (at most tile - align); one tile when the length fits."""
    if length <= 0 or tile <= 0 or align <= 0 or tile % align:
        raise ValueError(f"need length > 0 and a tile that is a positive multiple of {align}, "
                         f"got {length} and {tile}")
    if overlap < 0:
        raise ValueError(f"tile overlap must be >= 0, got {overlap}")
    if length <= tile:
        return [(0, length)]
    # In align steps: the axis, the largest tile, the overlap; then the count and the even tile size.
    steps, most = -(-length // align), tile // align
    over = min(-(-overlap // align), most - 1)
    count = -(-(steps - over) // (most - over))
    size = -(-(steps + (count - 1) * over) // count)
    starts = sorted({i * (steps - size) // (count - 1) for i in range(count)})
    return [(s * align, min((s + size) * align, length)) for s in starts]


def _rise(n: int) -> np.ndarray:
    """Raised cosine from near 0 to near 1 over n samples; _rise(n) + _rise(n)[::-1] == 1."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


@dataclass(frozen=True)
class AxisBlend:
    """Blending weights along one axis at one scale, restricted to each tile's span."""

    spans: list[tuple[int, int]]
    weight: list[np.ndarray]
    """Each tile's own weight: 1 inside, a raised cosine across the overlap with each neighbour."""
    before: list[np.ndarray]
    """Sum of the weights of the tiles before this one (in this axis)."""
    upto: list[np.ndarray]
    """`before` plus this tile's weight."""
    total: list[np.ndarray]
    """Sum of all tiles' weights."""

    @classmethod
    def build(cls, spans: list[tuple[int, int]], length: int, scale: int) -> AxisBlend:
        """Weights for `spans` (image pixels) seen at `scale` (starts must be multiples of it)."""
        if any(a % scale for a, _ in spans):
            raise ValueError(f"tile starts {spans} are not multiples of the layer scale {scale}")
        spans = [(a // scale, -(-b // scale)) for a, b in spans]
        weight = []
        for i, (a, b) in enumerate(spans):
            w = np.ones(b - a, dtype=np.float32)
            if i > 0 and spans[i - 1][1] > a:
                w[: spans[i - 1][1] - a] *= _rise(spans[i - 1][1] - a)
            if i + 1 < len(spans) and b > spans[i + 1][0]:
                w[spans[i + 1][0] - a :] *= _rise(b - spans[i + 1][0])[::-1]
            weight.append(w)
        running = np.zeros(-(-length // scale), dtype=np.float32)
        before, upto = [], []
        for (a, b), w in zip(spans, weight, strict=True):
            before.append(running[a:b].copy())
            running[a:b] += w
            upto.append(running[a:b].copy())
        return cls(spans, weight, before, upto, [running[a:b].copy() for a, b in spans])


def _alpha(rows: AxisBlend, cols: AxisBlend, r: int, c: int) -> np.ndarray:
    """Share of tile (r, c) in the running mean over tiles visited in raster order (rows, then columns):
    its weight over the weight of every tile visited so far, itself included (exactly 1 where it is the
    first tile to cover a pixel)."""
    own = np.outer(rows.weight[r], cols.weight[c])
    seen = np.outer(rows.before[r], cols.total[c]) + np.outer(rows.weight[r], cols.upto[c])
    return (own / seen)[None]


def stitch_tiles(
    height: int,
    width: int,
    tile_fn: TileFn,
    *,
    tile: int,
    overlap: int,
    align: int,
    progress: Progress | None = None,
    reserve: Callable[[int], None] | None = None,
) -> Layers:
    """Run `tile_fn` over overlapping tiles of a height x width image and blend each layer it returns
    into a whole-image canvas (C x ceil(height / scale) x ceil(width / scale), float32).

    `reserve(bytes)` is called once, before the canvases are allocated (after the first tile, when the
    layers are known), and may raise to refuse. `progress(done, total)` is called after every tile.
    """
    rows, cols = tile_spans(height, tile, overlap, align), tile_spans(width, tile, overlap, align)
    total = len(rows) * len(cols)
    blends: dict[int, tuple[AxisBlend, AxisBlend]] = {}
    canvases: Layers = {}
    done = 0
    for r, (y0, y1) in enumerate(rows):
        for c, (x0, x1) in enumerate(cols):
            layers = tile_fn((y0, y1, x0, x1))
            if not canvases:
                canvases = _allocate(layers, height, width, reserve)
            alphas: dict[int, np.ndarray] = {}
            for name, (scale, data) in layers.items():
                if scale not in blends:
                    blends[scale] = (AxisBlend.build(rows, height, scale),
                                     AxisBlend.build(cols, width, scale))
                by, bx = blends[scale]
                if scale not in alphas:
                    alphas[scale] = _alpha(by, bx, r, c)
                (ya, yb), (xa, xb) = by.spans[r], bx.spans[c]
                view = canvases[name][1][:, ya:yb, xa:xb]
                if data.shape != view.shape:
                    raise ValueError(f"layer {name!r} of tile {(y0, y1, x0, x1)} has shape {data.shape}, "
                                     f"expected {view.shape} at scale {scale}")
                view += alphas[scale] * (data - view)
            done += 1
            if progress is not None:
                progress(done, total)
    return canvases


def _allocate(layers: Layers, height: int, width: int, reserve: Callable[[int], None] | None) -> Layers:
    shapes = {
        name: (scale, (data.shape[0], -(-height // scale), -(-width // scale)))
        for name, (scale, data) in layers.items()
    }
    if reserve is not None:
        reserve(sum(4 * math.prod(shape) for _, shape in shapes.values()))
    return {name: (scale, np.zeros(shape, dtype=np.float32)) for name, (scale, shape) in shapes.items()}


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says the device or host ran out of memory: torch.OutOfMemoryError (CUDA, and MPS in
    recent torch) by type, numpy's MemoryError, and the CPU allocator's failure, which torch raises as a
    plain RuntimeError whose only mark is its message."""
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc)
    cpu_allocator = "DefaultCPUAllocator" in text or "can't allocate memory" in text
    return isinstance(exc, RuntimeError) and cpu_allocator


def stitch_with_retry(
    height: int,
    width: int,
    tile_fn: TileFn,
    *,
    tile: int,
    overlap: int,
    align: int,
    min_tile: int,
    progress: Progress | None = None,
    reserve: Callable[[int], None] | None = None,
) -> Layers:
    """`stitch_tiles`, starting again with half the tile size whenever a tile runs out of memory on any
    device (see `is_out_of_memory`); below `min_tile` a DeviceError gives up. tile=0 means one tile."""
    if tile == 0:
        tile = -(-max(height, width) // align) * align
    while True:
        try:
            return stitch_tiles(height, width, tile_fn, tile=tile, overlap=min(overlap, tile // 2),
                                align=align, progress=progress, reserve=reserve)
        except (RuntimeError, MemoryError) as err:
            if not is_out_of_memory(err):
                raise
            smaller = (tile // 2) // align * align
            if smaller < min_tile:
                raise DeviceError(f"out of memory even with {tile}-pixel tiles; "
                                  "try a lower precision or another device") from err
        logger.warning("out of memory with %d-pixel tiles; retrying with %d", tile, smaller)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        tile = smaller
