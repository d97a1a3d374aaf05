"""Options shared by the commands that run the network, gathered into a dataclass (not a global dict)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import torch
import typer

from ..engine import Deblurrer
from ..engine.devices import Precision, is_device_name
from ..errors import DeblurError
from ..model import DEFAULT_PRESET, list_presets
from .console import Terminal

if TYPE_CHECKING:
    from torch import nn

def _check_model(value: str) -> str:
    if value not in list_presets(include_test=True):
        raise typer.BadParameter(f"unknown model {value!r}; choose from {', '.join(list_presets())}")
    return value


def _check_device(value: str) -> str:
    """Bad spelling is bad usage (exit 2); a device that is spelled right but absent is found on loading."""
    bad = [name for name in value.split(",") if not is_device_name(name)]
    if bad:
        raise typer.BadParameter(f"unknown device {bad[0].strip()!r}; use auto, cpu, cuda, cuda:N or mps")
    return value


def _check_tile(value: str) -> str:
    if value != "auto" and not value.isdigit():
        raise typer.BadParameter(f"{value!r} is not 'auto', 0 or a tile size in pixels")
    return value


ModelOption = Annotated[str, typer.Option(
    "--model", "-m", callback=_check_model, help="Network preset (see `deblur info`).")]
WeightsOption = Annotated[str | None, typer.Option(
    "--weights", "-w", help="Weights: a .safetensors file, a folder, or a Hub repo ORG/NAME[@REV]. "
    "Default: the preset's own (bundled, cached or downloaded).")]
DeviceOption = Annotated[str, typer.Option(
    "--device", "-d", callback=_check_device, help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N or mps.")]
SpreadDeviceOption = Annotated[str, typer.Option(
    "--device", "-d", callback=_check_device, help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N or mps; or "
    "a comma-separated list (cuda:0,cuda:1) to spread the photos over several devices, one worker process "
    "each.")]
PrecisionOption = Annotated[Precision, typer.Option(
    "--precision", help="auto uses fp16/bf16 only where the device runs them correctly, never on CPU.")]
TileOption = Annotated[str, typer.Option(
    "--tile", callback=_check_tile,
    help="Tile size in pixels: auto (from free memory), 0 (whole image at once) or N.")]
TileOverlapOption = Annotated[int, typer.Option(
    "--tile-overlap", min=0, help="Pixels by which neighbouring tiles overlap (blended, no seams).")]
ThreadsOption = Annotated[int | None, typer.Option(
    "--threads", min=1, help="CPU threads for the network. Default: as many as torch picks (the cores); "
    "fewer run faster while another program keeps some cores busy.")]
BudgetOption = Annotated[float | None, typer.Option(
    "--budget", min=0.0, max=1.0, help="Fraction of cells the first refinement stage re-works (later stages "
    "scale with it): lower is faster, higher may be sharper. Default: the preset's.")]


@dataclass(frozen=True)
class EngineOptions:
    """How to build the Deblurrer: model preset, weights, device, precision and tiling."""

    model: str = DEFAULT_PRESET
    weights: str | None = None
    device: str = "auto"
    precision: Precision = "auto"
    tile: str = "auto"
    tile_overlap: int = 32
    budget: float | None = None
    threads: int | None = None

    def load(self) -> Deblurrer:
        """Build the engine (loads weights; may download them), after setting torch's CPU threads if asked.

        Raises:
            ValueError: an option the engine rejects.
            DeblurError: weights or device not available.
        """
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        return Deblurrer.from_pretrained(
            self.model,
            weights=self.weights,
            device=self.device,
            precision=self.precision,
            tile=self.tile if self.tile == "auto" else int(self.tile),
            tile_overlap=self.tile_overlap,
            budget=self.budget,
        )

    def wrap(self, network: nn.Module) -> Deblurrer:
        """An engine with these settings around a network already loaded (e.g. a published one)."""
        return Deblurrer(
            network,
            device=self.device,
            precision=self.precision,
            tile=self.tile if self.tile == "auto" else int(self.tile),
            tile_overlap=self.tile_overlap,
        )


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results are written."""

    out: Path | None = None
    format: str = "auto"
    quality: int = 95
    suffix: str | None = None
    skip_existing: bool = False
    overwrite: bool = False


def load_engine(engine: EngineOptions, term: Terminal, untrained_means: str) -> Deblurrer | None:
    """Build the engine for a command: a rejected option is bad usage (exit 2), missing weights or device
    one error line (None back); an untrained network gets a warning saying what that means here."""
    try:
        deblurrer = engine.load()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except DeblurError as exc:
        term.error(str(exc))
        return None
    if deblurrer.untrained:
        warn_untrained(engine, term, untrained_means)
    return deblurrer


def warn_untrained(engine: EngineOptions, term: Terminal, untrained_means: str) -> None:
    """The warning for a network without trained weights: what that means for this command's results."""
    term.warn(f"{engine.model} has no trained weights yet: {untrained_means} "
              "(see `deblur weights list`, or pass --weights)")
