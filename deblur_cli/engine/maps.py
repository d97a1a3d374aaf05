"""The maps a network records, as layers each tile hands the stitcher and as the whole-image `Maps` that
`Deblurrer.restore_with_maps` returns (what the figures in `deblur_cli.viz` draw)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import torch

from ..model.descriptor import ModelOutput
from .tiling import Layers


@dataclass
class Maps:
    """What the network did where, stitched over tiles, at the model's resolution for the whole image.

    A map at scale s has ceil(H / s) x ceil(W / s) pixels, pixel (i, j) covering image pixels
    [i s, (i + 1) s) x [j s, (j + 1) s): only cells that touch the image are kept, never padding.
    Index 0 of the first axis of `difficulty` and `chosen` is the first refinement stage (stage 2).
    """

    difficulty: np.ndarray
    """(S - 1, ceil(H / cell), ceil(W / cell)) float32: each refinement stage's P_s, blended over tiles."""
    chosen: np.ndarray
    """Same shape, bool: cells a stage refined (the blended 0/1 choice of the covering tiles >= 0.5)."""
    attention: dict[str, np.ndarray]
    """name -> (M, h, w) float32, each map renormalised to sum to 1 over the image."""
    offsets: dict[str, np.ndarray]
    """name -> (2 k^2, h, w) float32: (dy, dx) per filter tap, in pixels of that map."""
    cell: int
    """Image pixels per side of a sampling cell."""
    scale: dict[str, int] = field(default_factory=dict)
    """Image pixels per map pixel, for every name in `attention` and `offsets`."""


def map_layers(out: ModelOutput, h: int, w: int, cell: int, map_names: Collection[str] | None) -> Layers:
    """A tile's maps as stitchable layers, cropped to the cells/pixels that touch the tile's own box."""
    padded_h, padded_w = out.image.shape[-2:]
    layers: Layers = {}
    if out.difficulty:
        rows, cols = -(-h // cell), -(-w // cell)
        for key, grids in (("difficulty", out.difficulty), ("chosen", out.chosen)):
            layers[key] = (cell, torch.cat([g[0] for g in grids]).float()[:, :rows, :cols].cpu().numpy())
    for kind, maps in (("attention", out.attention), ("offsets", out.offsets)):
        for name, data in maps.items():
            if map_names is not None and name not in map_names:
                continue
            scale = padded_h // data.shape[-2]
            if (scale * data.shape[-2], scale * data.shape[-1]) != (padded_h, padded_w):
                raise ValueError(f"map {name!r} of shape {tuple(data.shape)} is not the tile "
                                 f"({padded_h}x{padded_w}) at an integer scale")
            crop = data[0, :, : -(-h // scale), : -(-w // scale)]
            layers[f"{kind}:{name}"] = (scale, crop.float().cpu().numpy())
    return layers


def whole_image_maps(canvases: Layers, height: int, width: int, cell: int) -> Maps:
    """The stitched map layers of a height x width image as `Maps`, attention renormalised over it."""
    grid = (-(-height // cell), -(-width // cell))
    empty = np.zeros((0, *grid), dtype=np.float32)
    attention, offsets, scale = {}, {}, {}
    for key, (s, data) in canvases.items():
        kind, _, name = key.partition(":")
        if kind == "attention":
            data /= np.maximum(data.sum(axis=(1, 2), keepdims=True), np.finfo(np.float32).tiny)
            attention[name] = data
        elif kind == "offsets":
            offsets[name] = data
        if name:
            scale[name] = s
    return Maps(
        difficulty=canvases["difficulty"][1] if "difficulty" in canvases else empty,
        chosen=canvases["chosen"][1] >= 0.5 if "chosen" in canvases else empty.astype(bool),
        attention=attention,
        offsets=offsets,
        cell=cell,
        scale=scale,
    )
