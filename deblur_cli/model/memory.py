"""How much working memory one forward of SAPHNet needs, per input pixel: what the engine sizes tiles by."""

from __future__ import annotations

import torch

from .config import SAPHNetConfig

BYTES_PER_WIDTH = 90
"""Peak activation bytes per input pixel, per unit of `width`, fp32, one forward under inference_mode.

Measured on CPU (torch 2.13, one thread) as the rise of peak RSS over a forward of a random image,
taken between two sizes so fixed costs cancel (256^2 -> 512^2):
saphnet-s (width 16, CAPMs at scale 2): 1594 B/px; saphnet-b (width 32, CAPMs at scales 1-2, as it was then;
now at scale 2 only, which needs less): 2664 B/px;
saphnet-test (width 8, CAPMs at 0-2): 1400 B/px; an earlier saphnet-b with CAPMs at 0-2: 5400 B/px.
Rule: 90 B x width, doubled when CAPMs run at full resolution (scale 0): 1440, 2880 and 1440 B/px for
the three presets (saphnet-s runs 10% over the rule; the tile budget keeps half the free memory spare).
Recording maps adds little (saphnet-s at 512^2: same peak)."""


def network_bytes_per_pixel(config: SAPHNetConfig, dtype: torch.dtype) -> int:
    """Estimated peak working memory of one forward, in bytes per input pixel."""
    full_resolution = 2 if 0 in config.capm_scales else 1
    itemsize = torch.empty((), dtype=dtype).element_size()
    return BYTES_PER_WIDTH * config.width * full_resolution * itemsize // 4
