"""The five figures, each rendered to an H x W x 3 uint8 RGB array (writing is done by `write.py`).

Photos larger than `MAX_SIDE` pixels on their long side are drawn scaled down; every overlay is sampled at
the drawn size from the network's own grids (cells: nearest, maps: bilinear), never from a resized figure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from . import canvas as cv
from .colormaps import apply_colormap
from .maps import (
    cells_on_display,
    display_size,
    hardest_cell,
    map_on_display,
    map_scale,
    mean_offset,
    resolve_name,
    stage_index,
)

if TYPE_CHECKING:
    from ..engine.maps import Maps

MAX_SIDE = 2048
"""Longest side, in pixels, a photo is drawn at in a figure."""

STAGE_COLOURS: tuple[cv.RGB, ...] = (
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (204, 121, 167), (213, 94, 0), (0, 114, 178),
    (240, 228, 66),
)
"""One colour per refinement stage (Okabe-Ito, distinguishable with colour-vision deficiencies)."""

HIGHLIGHT: cv.RGB = (255, 40, 40)


def _frame(photo_rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """The photo at display size, its own size and the display size."""
    photo = photo_rgb.shape[:2]
    display = display_size(*photo, MAX_SIDE)
    if display == photo:
        return photo_rgb, photo, display
    shown = cv2.resize(photo_rgb, display[::-1], interpolation=cv2.INTER_AREA)
    return shown, photo, display


def render_heatmap(photo_rgb: np.ndarray, maps: Maps, *, stage: int | None = None,
                   alpha: float = 0.65) -> np.ndarray:
    """The policy's difficulty P_s (one flat block per cell, magma on a fixed 0..1 scale) over a dimmed grey
    copy of the photo, with a labelled colour bar."""
    index = stage_index(maps, stage)
    shown, photo, display = _frame(photo_rgb)
    prob = cells_on_display(np.clip(np.asarray(maps.difficulty[index], np.float32), 0.0, 1.0), maps.cell,
                            photo, display)
    panel = cv.blend(cv.dimmed_gray(shown), apply_colormap(prob, "magma"), alpha)
    size = cv.font_size_for(display[0])
    bar = cv.colour_bar(display[0], size, cmap="magma", ticks=(0.0, 0.25, 0.5, 0.75, 1.0),
                        labels=("0", "0.25", "0.5", "0.75", "1"),
                        title=("P(hard)", f"stage {index + 2}"))
    return cv.hstack([panel, bar], gap=size // 2)


def render_sampled(photo_rgb: np.ndarray, maps: Maps, *, alpha: float = 0.45) -> np.ndarray:
    """The cells each refinement stage chose: translucent fill in the stage's colour with the chosen region's
    border drawn inside it, over a light grey photo, later stages on top; the legend gives cell counts."""
    shown, photo, display = _frame(photo_rgb)
    chosen = np.asarray(maps.chosen, dtype=bool)
    base = cv.dimmed_gray(shown, level=0.75)
    panel = np.clip(np.rint(base), 0, 255).astype(np.uint8)
    thickness = max(1, round(maps.cell * display[0] / photo[0] / 8))
    kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
    entries: list[tuple[cv.RGB, str]] = []
    for index, mask in enumerate(chosen):
        colour = STAGE_COLOURS[index % len(STAGE_COLOURS)]
        inside = cells_on_display(mask, maps.cell, photo, display)
        eroded = cv2.erode(inside.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        border = inside & ~eroded.astype(bool)
        panel[inside] = cv.blend(base[inside], np.array(colour, np.float32)[None], alpha)
        panel[border] = colour
        share = 100.0 * mask.sum() / max(mask.size, 1)
        entries.append((colour, f"stage {index + 2}: {int(mask.sum())} of {mask.size} cells ({share:.0f}%)"))
    size = cv.font_size_for(display[0])
    return cv.hstack([panel, cv.legend(entries or [(cv.WHITE, "no refinement stages")], size)], gap=size // 2)


def _to_display(coordinate: int, photo: int, display: int) -> int:
    """A photo pixel edge coordinate on the display grid."""
    return int(round(coordinate * display / photo))


def render_attention(photo_rgb: np.ndarray, maps: Maps, *, name: str | None = None, alpha: float = 0.7,
                     columns: int | None = None) -> np.ndarray:
    """A grid of the M attention maps of one CAPM (viridis, each map stretched to its own range) over the
    dimmed photo; each tile's title gives its peak relative to a uniform map."""
    key = resolve_name(list(maps.attention), name, "global_branch")
    maps_m = np.asarray(maps.attention[key], dtype=np.float32)
    if maps_m.ndim != 3:
        raise ValueError(f"attention {key!r}: expected (M, h, w), got shape {maps_m.shape}")
    count, h, w = maps_m.shape
    photo = photo_rgb.shape[:2]
    cols = columns or (count if count <= 4 else math.ceil(count / math.ceil(count / 4)))
    tile_w = min(photo[1], max(160, 1600 // cols))
    tile = (max(1, round(photo[0] * tile_w / photo[1])), tile_w)
    shown = cv2.resize(photo_rgb, tile[::-1], interpolation=cv2.INTER_AREA) if tile != photo else photo_rgb
    base = cv.dimmed_gray(shown)
    scale = map_scale(maps, key, h, photo[0])
    size = int(np.clip(round(tile[1] * 0.045), 12, 40))
    tiles = []
    for m, plane in enumerate(maps_m):
        values = map_on_display(plane, scale, photo, tile)
        low, high = float(values.min()), float(values.max())
        norm = (values - low) / (high - low) if high > low else np.zeros_like(values)
        panel = cv.blend(base, apply_colormap(norm, "viridis"), alpha)
        peak = float(plane.max()) * plane.size
        tiles.append(cv.titled(panel, f"map {m + 1}  peak {peak:.1f}x uniform", size))
    gap = max(4, size // 2)
    rows = [cv.hstack(tiles[r:r + cols], gap=gap) for r in range(0, count, cols)]
    grid = cv.vstack(rows, gap=gap)
    bar = cv.colour_bar(grid.shape[0], size, cmap="viridis", ticks=(0.0, 1.0), labels=("min", "max"),
                        title=("each map", "to its range"))
    body = cv.hstack([grid, bar], gap=gap)
    header = f"attention: {key}  ({count} maps at {h} x {w}, 1 map px = {scale} photo px)"
    return cv.titled(body, header, size)


def offset_colours(dy: np.ndarray, dx: np.ndarray, limit: float) -> np.ndarray:
    """Colour-wheel encoding of a vector field: hue = direction (0 deg = +x, right; 90 deg = +y, down),
    saturation = magnitude / limit (white = no shift, full colour at `limit` and beyond)."""
    angle = (np.degrees(np.arctan2(dy, dx)) % 360.0).astype(np.float32)
    sat = np.clip(np.hypot(dy, dx) / max(limit, 1e-12), 0.0, 1.0).astype(np.float32)
    hsv = np.stack([angle, sat, np.ones_like(sat)], axis=-1)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def colour_wheel(diameter: int) -> np.ndarray:
    """The legend for `offset_colours`: a disc whose rim is the saturating magnitude, white outside."""
    r = diameter / 2.0
    yy, xx = np.mgrid[0:diameter, 0:diameter].astype(np.float32) + 0.5 - r
    wheel = offset_colours(yy, xx, r)
    wheel[np.hypot(yy, xx) > r] = cv.WHITE
    return wheel


def render_offsets(photo_rgb: np.ndarray, maps: Maps, *, name: str | None = None) -> np.ndarray:
    """The pixel-dependent filter's mean offset (over its k x k taps) as a direction field: colour wheel
    over the faint photo plus sparse arrows, with a wheel legend; magnitudes in photo pixels."""
    key = resolve_name(list(maps.offsets), name, "local_branch")
    field = mean_offset(maps.offsets[key])
    taps = np.asarray(maps.offsets[key]).shape[0] // 2
    shown, photo, display = _frame(photo_rgb)
    scale = map_scale(maps, key, field.shape[1], photo[0])
    dy = map_on_display(field[0], scale, photo, display) * scale
    dx = map_on_display(field[1], scale, photo, display) * scale
    magnitude = np.hypot(dy, dx)
    limit = float(np.percentile(magnitude, 99)) if magnitude.size else 0.0
    lum = cv.dimmed_gray(shown, level=1.0)[:, :, :1] / 255.0
    panel = np.clip(np.rint(offset_colours(dy, dx, limit) * (0.6 + 0.4 * lum)), 0, 255).astype(np.uint8)
    _draw_arrows(panel, dy, dx, limit)
    size = cv.font_size_for(display[0])
    diameter = max(6 * size, 48)
    wheel = cv.pad(colour_wheel(diameter), top=size, left=size, right=size, bottom=size // 2)
    lines = [f"{limit:.2f} px at rim" if limit > 0 else "all offsets 0 px", f"mean of {taps} taps",
             f"max {float(magnitude.max()):.2f} px"]
    text = cv.blank(int(len(lines) * size * 1.4) + size, wheel.shape[1])
    text = cv.draw_texts(text, [(t, (wheel.shape[1] // 2, int(i * size * 1.4)), size, cv.INK, "ma")
                                for i, t in enumerate(lines)])
    side = cv.vstack([wheel, text])
    body = cv.hstack([panel, side], gap=size // 2)
    return cv.titled(body, f"filter offsets: {key}  (1 map px = {scale} photo px)", size)


def _draw_arrows(panel: np.ndarray, dy: np.ndarray, dx: np.ndarray, limit: float) -> None:
    """Sparse arrows (block means of the field) drawn in place; length proportional to magnitude, capped."""
    if limit <= 0:
        return
    h, w = panel.shape[:2]
    step = max(12, max(h, w) // 32)
    rows, cols = max(1, h // step), max(1, w // step)
    mean_dy = cv2.resize(dy, (cols, rows), interpolation=cv2.INTER_AREA)
    mean_dx = cv2.resize(dx, (cols, rows), interpolation=cv2.INTER_AREA)
    thickness = max(1, step // 20)
    for i in range(rows):
        for j in range(cols):
            vy, vx = float(mean_dy[i, j]), float(mean_dx[i, j])
            strength = math.hypot(vy, vx) / limit
            if strength < 0.1:
                continue
            length = 0.45 * step * min(strength, 1.0) / math.hypot(vy, vx)
            cy, cx = (i + 0.5) * h / rows, (j + 0.5) * w / cols
            start = (round(cx - vx * length), round(cy - vy * length))
            end = (round(cx + vx * length), round(cy + vy * length))
            cv2.arrowedLine(panel, start, end, cv.INK, thickness, cv2.LINE_AA, tipLength=0.35)


def render_compare(photo_rgb: np.ndarray, result_rgb: np.ndarray, maps: Maps, *,
                   stage: int | None = None) -> np.ndarray:
    """Input and result side by side, the hardest cell (highest P_s) and one cell of context outlined on
    both, with that region enlarged (nearest neighbour, integer factor) below each."""
    if photo_rgb.shape != result_rgb.shape:
        raise ValueError(f"photo {photo_rgb.shape} and result {result_rgb.shape} differ in shape")
    index = stage_index(maps, stage)
    photo = photo_rgb.shape[:2]
    i, j = hardest_cell(maps, index, *photo)
    c = maps.cell
    y0, x0 = max(0, (i - 1) * c), max(0, (j - 1) * c)
    y1, x1 = min(photo[0], (i + 2) * c), min(photo[1], (j + 2) * c)
    shown_before, _, display = _frame(photo_rgb)
    shown_after, _, _ = _frame(result_rgb)
    size = cv.font_size_for(display[0])
    thickness = max(2, display[0] // 200)
    box = (_to_display(y0, photo[0], display[0]), _to_display(x0, photo[1], display[1]),
           _to_display(y1, photo[0], display[0]), _to_display(x1, photo[1], display[1]))
    factor = max(1, min(display[1] // (x1 - x0), display[0] // 2 // (y1 - y0)))
    columns = []
    for title, full, source in (("input", shown_before, photo_rgb), ("restored", shown_after, result_rgb)):
        full = full.copy()
        cv.outline(full, box[0] - thickness, box[1] - thickness, box[2] + thickness, box[3] + thickness,
                   HIGHLIGHT, thickness)
        crop = source[y0:y1, x0:x1]
        zoom = cv2.resize(crop, ((x1 - x0) * factor, (y1 - y0) * factor), interpolation=cv2.INTER_NEAREST)
        zoom = cv.pad(zoom, 2, 2, 2, 2, HIGHLIGHT)
        left = max(0, (display[1] - zoom.shape[1]) // 2)
        columns.append(cv.vstack([cv.titled(full, title, size), cv.pad(zoom, left=left)], gap=size // 2))
    body = cv.hstack(columns, gap=size)
    prob = float(np.asarray(maps.difficulty[index])[i, j])
    caption = (f"enlarged x{factor}: hardest cell (row {i}, col {j}) with 1 cell of context; "
               f"P(hard) = {prob:.2f} at stage {index + 2}")
    footer = cv.draw_texts(cv.blank(int(size * 1.8), body.shape[1]),
                           [(caption, (body.shape[1] // 2, int(size * 0.9)), size, cv.INK, "mm")])
    return cv.pad(cv.vstack([body, footer]), top=size // 2, left=size // 2, right=size // 2)
