"""Options shared by the commands that run the network; their values travel in the batch layer's
`EngineOptions` (not a global dict)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from ..batch import EngineOptions, check_workers
from ..engine.devices import Precision, is_device_name
from ..engine.ensemble import ensemble_views
from ..errors import DeblurError
from ..model import list_presets
from ..pretrained import Deblurrer
from .console import Terminal

T = TypeVar("T")


def check_model(value: str) -> str:
    """A preset's name, or bad usage (exit 2) listing the presets."""
    if value not in list_presets(include_test=True):
        raise typer.BadParameter(f"unknown model {value!r}; choose from {', '.join(list_presets())}")
    return value


def usage_check(check: Callable[[T], object]) -> Callable[[T], T]:
    """A Typer callback that runs `check` on the value before any weights load: its ValueError is bad usage
    (exit 2) with its message, so the CLI and the library refuse a value alike."""

    def callback(value: T) -> T:
        try:
            check(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def _check_devices(value: str) -> str:
    """Bad spelling is bad usage (exit 2); a device that is spelled right but absent is found on loading."""
    bad = [name for name in value.split(",") if not is_device_name(name)]
    if bad:
        raise typer.BadParameter(f"unknown device {bad[0].strip()!r}; use auto, cpu, cuda, cuda:N or mps")
    return value


def _check_device(value: str) -> str:
    """One device, spelled right: a list is bad usage in every command but `deblur run`."""
    if "," in value:
        raise typer.BadParameter(f"{value!r} names several devices; only `deblur run` spreads photos over "
                                 "devices, give one here")
    return _check_devices(value)


def _check_workers(value: str) -> str:
    try:
        return check_workers(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _check_tile(value: str) -> str:
    if value != "auto" and not value.isdigit():
        raise typer.BadParameter(f"{value!r} is not 'auto', 0 or a tile size in pixels")
    return value


ModelOption = Annotated[str, typer.Option(
    "--model", "-m", callback=check_model, help="Network preset (see `deblur info`).")]
WeightsOption = Annotated[str | None, typer.Option(
    "--weights", "-w", help="Weights: a .safetensors file, a folder, or a Hub repo ORG/NAME[@REV]. "
    "Default: the preset's own (bundled, cached or downloaded).")]
DeviceOption = Annotated[str, typer.Option(
    "--device", "-d", callback=_check_device, help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N or mps.")]
SpreadDeviceOption = Annotated[str, typer.Option(
    "--device", "-d", callback=_check_devices, help="auto (CUDA > MPS > CPU), cpu, cuda, cuda:N or mps; or "
    "a comma-separated list (cuda:0,cuda:1) to spread the photos over several devices, one worker process "
    "each.")]
PrecisionOption = Annotated[Precision, typer.Option(
    "--precision", help="auto: fp16/bf16 on GPUs that run them correctly, bf16 on CPUs with native bf16 "
    "(AVX512-BF16, AMX), else fp32.")]
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
EnsembleOption = Annotated[int, typer.Option(
    "--ensemble", callback=usage_check(ensemble_views), help="Restore each tile in this many flipped and "
    "transposed views and average them: 1 (off), 2, 4 or 8. N times the time, a little sharper "
    "(docs/performance.md).")]
ClusterOption = Annotated[str | None, typer.Option(
    "--cluster", metavar="ADDRESS", help="Spread the photos over a Ray cluster: auto (the running one), "
    "local (start one here) or its address; OUT must be on storage every node sees (docs/cluster.md).")]
WorkersOption = Annotated[str, typer.Option(
    "--workers", callback=_check_workers, help="With --cluster: auto (one per GPU, else one per 4 CPU "
    "cores), a number of workers, or cpu:N (one per N CPU cores).")]


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
        warn_untrained(engine.model, term, untrained_means)
    return deblurrer


def warn_untrained(model: str, term: Terminal, untrained_means: str) -> None:
    """The warning for a network without trained weights: what that means for this command's results."""
    term.warn(f"{model} has no trained weights yet: {untrained_means} "
              "(see `deblur weights list`, or pass --weights)")
