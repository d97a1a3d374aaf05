"""EXIF orientation (tag 0x0112) applied to a numpy image, so 8- and 16-bit decoders share one path."""

from __future__ import annotations

import numpy as np

#: The EXIF tag number of Orientation.
ORIENTATION_TAG = 0x0112


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Return `pixels` (H x W x C) turned upright per EXIF orientation 1..8, as Pillow's exif_transpose does.

    Unknown values are treated as 1 (no change): a camera's bad tag should not stop a photo being read.
    """
    if orientation == 2:
        out = pixels[:, ::-1]
    elif orientation == 3:
        out = pixels[::-1, ::-1]
    elif orientation == 4:
        out = pixels[::-1]
    elif orientation == 5:
        out = pixels.transpose(1, 0, 2)
    elif orientation == 6:
        out = np.rot90(pixels, k=-1)
    elif orientation == 7:
        out = np.rot90(pixels, k=2).transpose(1, 0, 2)
    elif orientation == 8:
        out = np.rot90(pixels, k=1)
    else:
        return pixels
    return np.ascontiguousarray(out)
