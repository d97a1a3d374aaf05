"""How much working memory one forward of SAPHNet needs, per input pixel: what the engine sizes tiles by."""

from __future__ import annotations

import torch

from .config import SAPHNetConfig

BYTES_PER_WIDTH = 90
"""Peak activation bytes per input pixel, per unit of `width`, fp32, one forward under inference_mode.

From the rise of peak RSS between forwards at 256^2 and 512^2 on a CPU (fixed costs cancel): a width-32
DMPHN-backbone SAPHNet with CAPMs at scales 1-2 took 2664 B/px, a width-8 one with CAPMs at 0-2 1400 B/px.
Rule: 90 B x width, doubled when CAPMs run at full resolution (scale 0); the tile budget keeps half the
free memory spare for the rule's misses. Recording maps adds little."""


def network_bytes_per_pixel(config: SAPHNetConfig, dtype: torch.dtype) -> int:
    """Estimated peak working memory of one forward, in bytes per input pixel."""
    full_resolution = 2 if 0 in config.capm_scales else 1
    itemsize = torch.empty((), dtype=dtype).element_size()
    return BYTES_PER_WIDTH * config.width * full_resolution * itemsize // 4
