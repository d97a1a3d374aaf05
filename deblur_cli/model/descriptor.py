"""The inference contract of a network, kept beside it rather than inside `forward` (after spandrel)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelDescriptor:
    """What a caller needs to know to run the network well."""

    size_multiple: int
    """Inputs are padded (bottom/right, by reflection) to this multiple; padding a tile first avoids
    the network doing it again."""
    min_size: int
    """Smallest side the network accepts; smaller inputs are an error, not a silent upscale."""
    supports_half: bool
    """fp16 is numerically safe on devices that run it (attention softmaxes run in fp32)."""
    supports_bfloat16: bool
    tiling_safe: bool
    """Overlapping tiles give results close to a whole-image run (global attention sees one tile)."""
