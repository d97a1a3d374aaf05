"""A batch's settings: how to build the engine and where and how each photo's results are written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..engine.devices import Precision
from ..model import DEFAULT_PRESET
from ..pretrained import Deblurrer


@dataclass(frozen=True)
class EngineOptions:
    """How to build the Deblurrer: model preset, weights, device, precision, tiling, CPU threads and the
    passes per tile (`ensemble`)."""

    model: str = DEFAULT_PRESET
    weights: str | None = None
    device: str | torch.device = "auto"
    precision: Precision = "auto"
    tile: str = "auto"
    tile_overlap: int = 32
    budget: float | None = None
    threads: int | None = None
    ensemble: int = 1

    def load(self, network: nn.Module | None = None) -> Deblurrer:
        """The engine around `network` (a published network, random weights), else around the preset's
        weights (may download them). Sets torch's CPU threads first: the one place a batch sets them.

        Raises:
            ValueError: an option the engine rejects.
            DeblurError: weights or device not available.
        """
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        tile = self.tile if self.tile == "auto" else int(self.tile)
        if network is None:
            return Deblurrer.from_pretrained(self.model, weights=self.weights, device=self.device,
                                             precision=self.precision, tile=tile,
                                             tile_overlap=self.tile_overlap, budget=self.budget,
                                             ensemble=self.ensemble)
        return Deblurrer(network, device=self.device, precision=self.precision, tile=tile,
                         tile_overlap=self.tile_overlap, budget=self.budget, ensemble=self.ensemble)


@dataclass(frozen=True)
class OutputOptions:
    """Where and how each photo's results are written: the restored photo (unless `photo` is False, as for
    `deblur heatmap`), its figures `views`, and with `raw` its maps as `.npz`.

    `stage` and `capm` pick the refinement stage and the recorded map the figures draw (None: their default).
    """

    out: Path | None = None
    format: str = "auto"
    quality: int = 95
    suffix: str | None = None
    skip_existing: bool = False
    overwrite: bool = False
    photo: bool = True
    views: tuple[str, ...] = ()
    raw: bool = False
    stage: int | None = None
    capm: str | None = None
