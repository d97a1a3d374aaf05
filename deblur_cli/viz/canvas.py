"""Drawing primitives for the figures: display conversion, text, colour bars, legends, panel layout.

Everything works on H x W x 3 uint8 RGB arrays; text is drawn with Pillow's built-in scalable font.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .colormaps import ColormapName, colormap

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
INK: RGB = (25, 25, 25)


def to_display_rgb(image: np.ndarray) -> np.ndarray:
    """Any photo the tool reads (uint8/uint16/float in [0,1]; gray, RGB or RGBA) as H x W x 3 uint8 RGB.

    Alpha is dropped: the figures show what the network saw, which is the colour channels.
    """
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or min(pixels.shape[:2]) < 1:
        raise ValueError(f"expected an H x W, H x W x 1, x 3 or x 4 image, got shape {pixels.shape}")
    if pixels.dtype == np.uint8:
        out = pixels
    elif pixels.dtype == np.uint16:
        out = np.rint(pixels.astype(np.float32) / 257.0).astype(np.uint8)
    elif np.issubdtype(pixels.dtype, np.floating):
        out = np.rint(np.clip(np.nan_to_num(pixels.astype(np.float32)), 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        raise ValueError(f"unsupported image dtype {pixels.dtype}; expected uint8, uint16 or float")
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return np.ascontiguousarray(out[:, :, :3])


def dimmed_gray(rgb: np.ndarray, *, level: float = 0.55, floor: float = 0.0) -> np.ndarray:
    """A grey, darkened copy of a photo (float32 H x W x 3 in [0, 255]) to lay colours over unambiguously."""
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gray = floor * 255.0 + (1.0 - floor) * level * luma
    return np.repeat(gray[:, :, None], 3, axis=2)


def blend(base: np.ndarray, overlay: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """(1 - alpha) * base + alpha * overlay, rounded to uint8; alpha may be a scalar or H x W."""
    a = np.asarray(alpha, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    out = (1.0 - a) * base.astype(np.float32) + a * overlay.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def font_size_for(height: int) -> int:
    """A legible text height in pixels for a figure whose main panel is `height` pixels tall."""
    return int(np.clip(round(height * 0.032), 12, 40))


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_size(text: str, size: int) -> tuple[int, int]:
    """Width and height in pixels that `text` takes at font size `size`."""
    left, top, right, bottom = _font(size).getbbox(text)
    return int(right - left), int(bottom - top)


def draw_texts(canvas: np.ndarray, items: Sequence[tuple[str, tuple[int, int], int, RGB, str]]) -> np.ndarray:
    """Draw several (text, (x, y), size, colour, anchor) items onto a copy of `canvas`.

    Anchors are Pillow's two-letter anchors, e.g. "la" (left, ascender), "mm" (middle), "rm" (right, middle).
    """
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for text, xy, size, colour, anchor in items:
        draw.text(xy, text, fill=colour, font=_font(size), anchor=anchor)
    return np.asarray(image).copy()


def blank(height: int, width: int, colour: RGB = WHITE) -> np.ndarray:
    """A filled H x W x 3 uint8 canvas."""
    out = np.empty((max(height, 0), max(width, 0), 3), dtype=np.uint8)
    out[:] = colour
    return out


def hstack(panels: Sequence[np.ndarray], *, gap: int = 0, colour: RGB = WHITE) -> np.ndarray:
    """Panels side by side, top-aligned, separated by `gap` pixels of `colour`."""
    height = max(p.shape[0] for p in panels)
    parts: list[np.ndarray] = []
    for i, panel in enumerate(panels):
        if i:
            parts.append(blank(height, gap, colour))
        parts.append(np.concatenate([panel, blank(height - panel.shape[0], panel.shape[1], colour)], axis=0))
    return np.concatenate(parts, axis=1)


def vstack(panels: Sequence[np.ndarray], *, gap: int = 0, colour: RGB = WHITE) -> np.ndarray:
    """Panels one above the other, left-aligned, separated by `gap` pixels of `colour`."""
    width = max(p.shape[1] for p in panels)
    parts: list[np.ndarray] = []
    for i, panel in enumerate(panels):
        if i:
            parts.append(blank(gap, width, colour))
        parts.append(np.concatenate([panel, blank(panel.shape[0], width - panel.shape[1], colour)], axis=1))
    return np.concatenate(parts, axis=0)


def pad(panel: np.ndarray, top: int = 0, right: int = 0, bottom: int = 0, left: int = 0,
        colour: RGB = WHITE) -> np.ndarray:
    """A panel with a margin of `colour` around it."""
    h, w = panel.shape[:2]
    out = blank(h + top + bottom, w + left + right, colour)
    out[top:top + h, left:left + w] = panel
    return out


def titled(panel: np.ndarray, title: str, size: int) -> np.ndarray:
    """A panel with a centred one-line title above it."""
    band = max(int(size * 1.6), 1)
    out = pad(panel, top=band)
    return draw_texts(out, [(title, (panel.shape[1] // 2, band // 2), size, INK, "mm")])


def colour_bar(height: int, size: int, *, cmap: ColormapName, ticks: Sequence[float],
               labels: Sequence[str], title: Sequence[str] = ()) -> np.ndarray:
    """A vertical colour bar (value 0 at the bottom, 1 at the top) with tick labels and a title above.

    `ticks` are positions in [0, 1] along the bar; `labels` their text.
    """
    bar_w = max(size, 10)
    title_h = int(len(title) * size * 1.35) + (size // 2 if title else 0)
    label_w = max((text_size(t, size)[0] for t in labels), default=0)
    margin = size
    bar_h = max(height - title_h - 2 * margin, 2 * size)
    width = margin + bar_w + size // 3 + 4 + label_w + margin
    width = max(width, max((text_size(t, size)[0] for t in title), default=0) + 2 * margin // 2)
    canvas = blank(title_h + bar_h + 2 * margin, width)
    top, left = title_h + margin, margin
    ramp = np.linspace(1.0, 0.0, bar_h)
    lut = colormap(cmap)
    canvas[top:top + bar_h, left:left + bar_w] = lut[np.rint(ramp * 255).astype(np.intp)][:, None, :]
    canvas[top:top + bar_h, left - 1] = INK
    canvas[top:top + bar_h, left + bar_w] = INK
    canvas[top - 1, left - 1:left + bar_w + 1] = INK
    canvas[top + bar_h, left - 1:left + bar_w + 1] = INK
    items: list[tuple[str, tuple[int, int], int, RGB, str]] = []
    for value, label in zip(ticks, labels, strict=True):
        y = top + int(round((1.0 - value) * (bar_h - 1)))
        canvas[y, left + bar_w:left + bar_w + size // 3 + 1] = INK
        items.append((label, (left + bar_w + size // 3 + 4, y), size, INK, "lm"))
    for i, line in enumerate(title):
        items.append((line, (width // 2, size // 2 + int(i * size * 1.35)), size, INK, "ma"))
    return draw_texts(canvas, items)


def legend(entries: Sequence[tuple[RGB, str]], size: int) -> np.ndarray:
    """A column of colour swatches with labels."""
    row = int(size * 1.7)
    sw = size
    width = size + sw + size // 2 + max(text_size(t, size)[0] for _, t in entries) + size
    canvas = blank(row * len(entries) + size, width)
    items: list[tuple[str, tuple[int, int], int, RGB, str]] = []
    for i, (colour, label) in enumerate(entries):
        y = size // 2 + i * row + row // 2
        canvas[y - sw // 2:y + sw // 2, size:size + sw] = colour
        canvas[y - sw // 2:y + sw // 2, size] = INK
        canvas[y - sw // 2:y + sw // 2, size + sw - 1] = INK
        canvas[y - sw // 2, size:size + sw] = INK
        canvas[y + sw // 2 - 1, size:size + sw] = INK
        items.append((label, (size + sw + size // 2, y), size, INK, "lm"))
    return draw_texts(canvas, items)


def outline(canvas: np.ndarray, y0: int, x0: int, y1: int, x1: int, colour: RGB, thickness: int) -> None:
    """Draw, in place, a rectangle's border lying inside [y0, y1) x [x0, x1) (clipped to the canvas)."""
    h, w = canvas.shape[:2]
    y0, x0, y1, x1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
    if y1 <= y0 or x1 <= x0:
        return
    t = max(1, min(thickness, (y1 - y0 + 1) // 2, (x1 - x0 + 1) // 2))
    canvas[y0:y0 + t, x0:x1] = colour
    canvas[y1 - t:y1, x0:x1] = colour
    canvas[y0:y1, x0:x0 + t] = colour
    canvas[y0:y1, x1 - t:x1] = colour
