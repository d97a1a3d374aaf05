"""Between image arrays (H x W x C, uint8 / uint16 / float32, C in 1, 3, 4) and the network's float RGB."""

from __future__ import annotations

import numpy as np

SCALES: dict[np.dtype, float] = {
    np.dtype(np.uint8): 255.0,
    np.dtype(np.uint16): 65535.0,
    np.dtype(np.float32): 1.0,
}
"""Full-scale value of each supported dtype."""

_BAND_ROWS = 256
"""Rows converted at a time when writing the result, so no full-size float temporary is made."""


def check_image(img: np.ndarray) -> None:
    """Raise ValueError unless `img` is H x W or H x W x C (C in 1, 3, 4) of a supported dtype."""
    if not isinstance(img, np.ndarray):
        raise ValueError(f"expected a numpy array, got {type(img).__name__}")
    if img.dtype not in SCALES:
        raise ValueError(f"unsupported pixel type {img.dtype}; use uint8, uint16 or float32")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an H x W x C image with C in 1, 3, 4, got shape {img.shape}")


def color_channels(img: np.ndarray) -> int:
    """Channels the network restores: 1 for grayscale (run as RGB, averaged back), else 3 (alpha kept)."""
    return 1 if img.ndim == 2 or img.shape[2] == 1 else 3


def to_network(pixels: np.ndarray) -> np.ndarray:
    """An H x W (x C) patch -> 3 x H x W float32 in [0, 1]: gray replicated, alpha dropped."""
    scaled = pixels.astype(np.float32)
    if pixels.dtype != np.float32:
        scaled /= SCALES[pixels.dtype]
    if scaled.ndim == 2:
        scaled = scaled[..., None]
    if scaled.shape[2] == 1:
        return np.repeat(scaled.transpose(2, 0, 1), 3, axis=0)
    return np.ascontiguousarray(scaled[..., :3].transpose(2, 0, 1))


def from_network(canvas: np.ndarray, like: np.ndarray) -> np.ndarray:
    """C x H x W float canvas -> an array shaped and typed like `like`: clamped to [0, 1], rounded to
    the integer dtype, and `like`'s alpha channel copied through unchanged."""
    out = np.empty_like(like)
    scale = SCALES[like.dtype]
    channels = canvas.shape[0]
    for y in range(0, like.shape[0], _BAND_ROWS):
        band = np.clip(canvas[:, y : y + _BAND_ROWS].transpose(1, 2, 0), 0.0, 1.0)
        if like.dtype != np.float32:
            band = np.rint(band * scale)
        if like.ndim == 2:
            out[y : y + _BAND_ROWS] = band[..., 0]
        else:
            out[y : y + _BAND_ROWS, :, :channels] = band
    if like.ndim == 3 and like.shape[2] == 4:
        out[..., 3] = like[..., 3]
    return out
