"""The public `Deblurrer`: the engine plus `from_pretrained`, which builds it from a preset's weights. It sits
above both the engine and the weights, so the engine never imports the weights or the Hub client."""

from __future__ import annotations

from typing import Self

import torch

from . import engine
from .engine.deblurrer import Tile
from .engine.devices import Precision
from .model.descriptor import Budget
from .weights import load_model


class Deblurrer(engine.Deblurrer):
    """`deblur_cli.engine.Deblurrer` with a constructor from weights: what `from deblur_cli import Deblurrer`
    gives."""

    @classmethod
    def from_pretrained(
        cls,
        model: str | None = None,
        *,
        weights: str | None = None,
        device: str | torch.device = "auto",
        precision: Precision = "auto",
        tile: Tile = "auto",
        tile_overlap: int = 32,
        budget: Budget = None,
        ensemble: int = 1,
        revision: str | None = None,
        offline: bool | None = None,
    ) -> Self:
        """A Deblurrer for a preset's weights (None: the default preset's; or `weights`: a folder, file or
        hub repo id), resolved by `deblur_cli.weights.load_model`; falls back to an untrained network (see
        `.untrained`).

        Raises:
            ValueError: an unknown preset or an option out of range.
            WeightsError: weights not found, not verified or not loadable (one line, as the CLI shows it).
            DeviceError: the device or precision is not available.
        """
        net, source = load_model(weights, preset=model, revision=revision, offline=offline)
        return cls(net, device=device, precision=precision, tile=tile, tile_overlap=tile_overlap,
                   budget=budget, ensemble=ensemble, untrained=source.kind == "untrained")
