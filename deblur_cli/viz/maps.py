"""What the figures read from the network (the engine's `Maps`), and how its grids land on the photo."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # only the type: drawing needs neither torch nor the engine
    from ..engine.maps import Maps


def stage_count(maps: Maps) -> int:
    """S, the number of stages (refinement stages are 2..S)."""
    return int(np.asarray(maps.difficulty).shape[0]) + 1


def stage_index(maps: Maps, stage: int | None) -> int:
    """Index into `difficulty` / `chosen` for a user-facing refinement stage number (None -> stage 2)."""
    last = stage_count(maps)
    if last < 2:
        raise ValueError("the model has a single stage: it recorded no sampling policy")
    stage = 2 if stage is None else stage
    if not 2 <= stage <= last:
        raise ValueError(f"stage must be between 2 and {last} (the refinement stages), got {stage}")
    return stage - 2


def display_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """The size a photo is drawn at: unchanged up to `max_side` pixels on its long side, else scaled down."""
    factor = min(1.0, max_side / max(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def _photo_coords(display: int, photo: int) -> np.ndarray:
    """Photo-pixel coordinate of each display pixel's centre (pixel centres at integer + 0.5)."""
    return (np.arange(display, dtype=np.float64) + 0.5) * (photo / display)


def cells_on_display(grid: np.ndarray, cell: int, photo: tuple[int, int],
                     display: tuple[int, int] | None = None) -> np.ndarray:
    """Nearest (block) upsampling of a cell grid: every display pixel takes the value of the cell it lies in.

    At display == photo size, cell (i, j) fills exactly pixels [i*c, (i+1)*c) x [j*c, (j+1)*c), cropped.
    """
    grid = np.asarray(grid)
    height, width = photo
    out_h, out_w = display or photo
    if grid.ndim != 2:
        raise ValueError(f"expected an h x w cell grid, got shape {grid.shape}")
    if cell < 1:
        raise ValueError(f"cell size must be positive, got {cell}")
    if grid.shape[0] * cell < height or grid.shape[1] * cell < width:
        raise ValueError(f"a {grid.shape[0]} x {grid.shape[1]} grid of {cell}-pixel cells does not cover a "
                         f"{height} x {width} photo")
    rows = np.floor(_photo_coords(out_h, height) / cell).astype(np.intp)
    cols = np.floor(_photo_coords(out_w, width) / cell).astype(np.intp)
    return grid[rows[:, None], cols[None, :]]


def map_scale(maps: Maps, name: str, map_height: int, photo_height: int) -> int:
    """Photo pixels per map pixel for the recorded map `name`, `map_height` rows tall.

    Taken from `maps.scale` when it holds the name; otherwise the power of two that takes the map to
    the cell grid's extent (rows x cell), which covers the photo as the network saw it.
    """
    recorded = maps.scale.get(name)
    if recorded:
        return int(recorded)
    extent = max(int(np.asarray(maps.difficulty).shape[1]) * maps.cell, photo_height)
    return 2 ** max(0, round(math.log2(extent / max(map_height, 1))))


def map_on_display(plane: np.ndarray, scale: int, photo: tuple[int, int],
                   display: tuple[int, int] | None = None) -> np.ndarray:
    """Bilinear sampling of an h x w map whose pixel covers `scale` x `scale` photo pixels, at display size.

    Map pixel (i, j) is centred on photo point ((i + 0.5) * scale, (j + 0.5) * scale); edges are replicated.
    Where the display is coarser than the map, the map is area-averaged first so nothing aliases.
    """
    plane = np.asarray(plane, dtype=np.float32)
    if plane.ndim != 2:
        raise ValueError(f"expected an h x w map, got shape {plane.shape}")
    out_h, out_w = display or photo
    h, w = plane.shape
    shrunk = (max(1, min(h, round(h * scale * out_h / photo[0]))),
              max(1, min(w, round(w * scale * out_w / photo[1]))))
    if shrunk != (h, w):
        plane = cv2.resize(plane, shrunk[::-1], interpolation=cv2.INTER_AREA)
    step_y, step_x = scale * h / shrunk[0], scale * w / shrunk[1]  # photo pixels per (shrunk) map pixel
    ys = (_photo_coords(out_h, photo[0]) / step_y - 0.5).astype(np.float32)
    xs = (_photo_coords(out_w, photo[1]) / step_x - 0.5).astype(np.float32)
    map_x = np.broadcast_to(xs[None, :], (out_h, out_w)).copy()
    map_y = np.broadcast_to(ys[:, None], (out_h, out_w)).copy()
    return cv2.remap(plane, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def default_name(names: list[str], branch: str) -> str:
    """The map drawn when none is named: the last one recorded by the whole-image level's decoder.

    Prefers CAPM `branch` ("global_branch" or "local_branch") entries; falls back to the last name recorded.
    """
    if not names:
        raise ValueError("the network recorded no maps of this kind (does the preset have CAPMs?)")
    for pick in (lambda n: ".decoders.0." in f".{n}" and n.endswith(f"capm.{branch}"),
                 lambda n: ".decoders.0." in f".{n}"):
        found = [n for n in names if pick(n)]
        if found:
            return found[-1]
    return names[-1]


def resolve_name(names: list[str], wanted: str | None, branch: str) -> str:
    """A recorded map's full name from an exact name or a CAPM prefix (e.g. '...blocks.0.capm').

    None picks `default_name`.
    """
    if wanted is None:
        return default_name(names, branch)
    if wanted in names:
        return wanted
    matches = [n for n in names if n.startswith(wanted.rstrip(".") + ".")]
    preferred = [n for n in matches if n.endswith(branch)]
    if len(preferred) == 1:
        return preferred[0]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"no single recorded map named {wanted!r}; recorded: {', '.join(names) or 'none'}")


def mean_offset(offsets: np.ndarray) -> np.ndarray:
    """(2k^2, h, w) per-tap (dy, dx) offsets -> (2, h, w) mean (dy, dx) over the taps."""
    offsets = np.asarray(offsets, dtype=np.float32)
    if offsets.ndim != 3 or offsets.shape[0] % 2:
        raise ValueError(f"expected (2k^2, h, w) offsets, got shape {offsets.shape}")
    return offsets.reshape(-1, 2, *offsets.shape[1:]).mean(axis=0)


def hardest_cell(maps: Maps, index: int, height: int, width: int) -> tuple[int, int]:
    """(row, col) of the most difficult cell at refinement index `index` among cells inside the photo."""
    grid = np.asarray(maps.difficulty[index], dtype=np.float32)
    rows, cols = math.ceil(height / maps.cell), math.ceil(width / maps.cell)
    inside = grid[:rows, :cols]
    i, j = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return int(i), int(j)
