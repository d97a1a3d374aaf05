"""The tile size that fits a network's forward in the memory that is free."""

from __future__ import annotations

import math


def auto_tile(free_bytes: float, bytes_per_pixel: int, *, multiple: int, cap: int, floor: int = 128) -> int:
    """Largest square tile (a multiple of `multiple`) whose forward fits in `free_bytes`, kept within
    [floor, cap] (both rounded to the multiple): tiles are not allowed to become useless or huge.
    `bytes_per_pixel` 0 means unknown: the cap, which the out-of-memory retry halves if it must."""
    low = -(-floor // multiple) * multiple
    high = max(low, cap // multiple * multiple)
    if not bytes_per_pixel:
        return high
    side = int(math.sqrt(max(free_bytes, 0.0) / bytes_per_pixel)) // multiple * multiple
    return min(max(side, low), high)
