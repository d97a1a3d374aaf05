"""The inference contract between a network and the engine, kept beside the network rather than inside its
`forward` (after spandrel's ModelDescriptor). It is all the engine knows of a network, so any module that
states one runs through the same padding, precision and tiling.

Fields left at their defaults describe a plain image-to-image network: called on the padded batch, it
returns the image, takes no budget and records no maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

Budget = float | Sequence[float] | None
"""A refinement budget as callers give it: None for the network's default, one number for the first
refinement stage's fraction of cells (later stages keep the default's proportions), or one fraction per
refinement stage."""


@dataclass
class ModelOutput:
    """What one run gives the engine; images and maps lie on the grid of the padded input."""

    image: torch.Tensor
    """N x 3 x H x W restored image (not clamped)."""
    difficulty: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x 1 x h x w, how much each cell needs refining, in [0, 1]."""
    chosen: list[torch.Tensor] = field(default_factory=list)
    """Per refinement stage: N x 1 x h x w bool, the cells that stage refined."""
    attention: dict[str, torch.Tensor] = field(default_factory=dict)
    """Recorded attention maps, name -> N x M x h x w, each map a softmax over pixels."""
    offsets: dict[str, torch.Tensor] = field(default_factory=dict)
    """Recorded filter offsets, name -> N x 2k^2 x h x w, in pixels of that map."""


RunFn = Callable[[nn.Module, torch.Tensor, tuple[float, ...], bool], ModelOutput]
"""(network, N x 3 x H x W batch in [0, 1] with sides that are multiples of the size multiple, resolved
budget, whether to record maps) -> its output."""
CastFn = Callable[[nn.Module, torch.dtype], nn.Module]
"""(network, dtype) -> the network cast for inference at that dtype."""
BytesFn = Callable[[torch.dtype], int]
"""dtype -> peak working memory of one forward, in bytes per input pixel."""


def run_image_to_image(
    model: nn.Module, x: torch.Tensor, budget: tuple[float, ...], record: bool
) -> ModelOutput:
    """Run a plain image-to-image network: no budget to spend, no maps to record."""
    return ModelOutput(image=model(x))


def cast_all(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Cast every parameter and buffer to `dtype`."""
    return model.to(dtype)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad bottom/right to a multiple, by reflection where the image is large enough, else by replication."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, [0, pw, 0, ph], mode=mode)


@dataclass(frozen=True, kw_only=True)
class ModelDescriptor:
    """What a caller needs to know to run the network well, and the call that runs it."""

    size_multiple: int
    """Inputs are padded (bottom/right, see `pad_to_multiple`) to this multiple before `run`, which takes
    nothing else."""
    min_size: int
    """Smallest side the network accepts; smaller inputs are an error, not a silent upscale."""
    supports_half: bool
    """fp16 is numerically safe on devices that run it."""
    supports_bfloat16: bool
    tiling_safe: bool
    """True: overlapping tiles, blended across the overlap, stand in closely for a whole-image run (a tile's
    padded edges get little weight; attention over the whole input sees one tile at a time). False: an
    automatic tile size runs the whole image at once."""
    cell: int = 1
    """Image pixels per side of a cell of the recorded `difficulty` and `chosen` grids."""
    default_budget: tuple[float, ...] = ()
    """Fraction of cells each refinement stage refines when no budget is given (empty: no such stages)."""
    bytes_per_pixel: BytesFn | None = None
    """Working memory one forward needs per input pixel, for sizing tiles; None when unknown: automatic
    tiles then start at the device's cap and halve when memory runs out."""
    run: RunFn = run_image_to_image
    """Runs the network on a padded batch with a resolved budget (see `RunFn`)."""
    to_dtype: CastFn = cast_all
    """Casts the network for inference (a network may keep sensitive parts in float32)."""

    def resolve_budget(self, budget: Budget) -> tuple[float, ...]:
        """One fraction per refinement stage. A single number sets the first stage's fraction and scales
        the later ones in the default's proportions; None keeps the default.

        Raises:
            ValueError: not one fraction in [0, 1] per refinement stage.
        """
        default = self.default_budget
        if budget is None:
            return default
        if isinstance(budget, int | float):
            if not default:
                return ()
            scale = float(budget) / default[0] if default[0] else 0.0
            fractions = tuple(min(1.0, float(budget) if i == 0 else d * scale) for i, d in enumerate(default))
        else:
            fractions = tuple(float(b) for b in budget)
        if len(fractions) != len(default) or any(not 0.0 <= f <= 1.0 for f in fractions):
            raise ValueError(f"budget needs {len(default)} fractions in [0, 1], got {budget!r}")
        return fractions
