"""How much memory a tile of the network needs, and the tile size that fits in what is free."""

from __future__ import annotations

import math

import torch

from ..model import SAPHNetConfig

BYTES_PER_WIDTH = 90
"""Peak activation bytes per input pixel, per unit of `width`, fp32, one forward under inference_mode.

Measured on CPU (torch 2.13, one thread) as the rise of peak RSS over a forward of a random image,
taken between two sizes so fixed costs cancel:
saphnet-s (width 16, CAPMs at scales 1-2): 1580 B/px (256^2 -> 512^2), 1290 B/px (512^2 -> 1024^2);
saphnet-test (width 8, CAPMs at 0-2): 1400 B/px at 512^2; saphnet-b (width 32, CAPMs at 0-2): 5400 B/px
(256^2 -> 512^2). Rule: 90 B x width, doubled when CAPMs run at full resolution (scale 0): 1440, 1440
and 5760 B/px for the three presets. Recording maps adds little (saphnet-s at 512^2: same peak)."""


def network_bytes_per_pixel(config: SAPHNetConfig, dtype: torch.dtype) -> int:
    """Estimated peak working memory of one forward, in bytes per input pixel."""
    full_resolution = 2 if 0 in config.capm_scales else 1
    itemsize = torch.empty((), dtype=dtype).element_size()
    return BYTES_PER_WIDTH * config.width * full_resolution * itemsize // 4


def auto_tile(free_bytes: float, bytes_per_pixel: int, *, multiple: int, cap: int, floor: int = 128) -> int:
    """Largest square tile (a multiple of `multiple`) whose forward fits in `free_bytes`, kept within
    [floor, cap] (both rounded to the multiple): tiles are not allowed to become useless or huge."""
    side = int(math.sqrt(max(free_bytes, 0.0) / bytes_per_pixel)) // multiple * multiple
    low = -(-floor // multiple) * multiple
    high = max(low, cap // multiple * multiple)
    return min(max(side, low), high)
