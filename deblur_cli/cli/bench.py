"""`deblur bench`: speed and memory per image size, through the same engine as `deblur run`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ..batch import EngineOptions
from ..bench import REFERENCES, BenchReport, load_reference, parse_sizes
from ..bench import bench as run_bench
from ..errors import DeblurError
from ..model import DEFAULT_PRESET, create_model
from .console import Terminal
from .options import (
    BudgetOption,
    DeviceOption,
    EnsembleOption,
    PrecisionOption,
    TileOption,
    TileOverlapOption,
    WeightsOption,
    check_model,
    usage_check,
)


def _check_reference(value: str | None) -> str | None:
    if value is not None and value not in REFERENCES:
        raise typer.BadParameter(f"unknown reference {value!r}; choose from {', '.join(REFERENCES)}")
    return value


def bench(
    model: Annotated[str, typer.Option(
        "--model", "-m", "--preset", callback=check_model, help="Network preset (see `deblur info`).")
    ] = DEFAULT_PRESET,
    weights: WeightsOption = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    sizes: Annotated[str, typer.Option(
        callback=usage_check(parse_sizes), help="Image sizes, comma-separated: N for N x N, or WxH.")
    ] = "512,1024,2048",
    budget: BudgetOption = None,
    ensemble: EnsembleOption = 1,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per size.")] = 5,
    warmup: Annotated[int, typer.Option(
        min=0, help="Untimed runs per size before them (0 for one-off memory checks of huge sizes).")] = 1,
    tile: TileOption = "auto",
    tile_overlap: TileOverlapOption = 32,
    threads: Annotated[int | None, typer.Option(
        min=1, help="CPU threads for torch. Default: torch's own choice.")] = None,
    reference: Annotated[str | None, typer.Option(
        callback=_check_reference, help="Also time this reference network on the same images, runs "
        "alternating, and report our time over its time: dmphn (DMPHN 1-2-4, random weights).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Time restoring random images of each size: median seconds per megapixel, throughput, peak memory.

    Without --weights the preset runs with random weights: speed does not depend on them. Times are medians
    over --repeats runs; on a busy machine, raise --repeats.
    """
    term = Terminal(quiet=as_json)
    engine = EngineOptions(model=model, weights=weights, device=device, precision=precision, tile=tile,
                           tile_overlap=tile_overlap, budget=budget, threads=threads, ensemble=ensemble)
    with term.logging():
        try:
            ref = load_reference(reference) if reference is not None else None
            deblurrer = engine.load(create_model(model) if weights is None else None)
            report = run_bench(deblurrer, parse_sizes(sizes), repeats=repeats, warmup=warmup,
                               reference=ref, model_name=model)
        except (DeblurError, ValueError) as exc:
            term.error(str(exc))
            raise typer.Exit(1) from exc
    if as_json:
        term.out.print_json(json.dumps(report.to_dict()))
    else:
        term.out.print(_table(report))


def _table(report: BenchReport) -> Table:
    budget = "preset's" if report.budget is None else report.budget
    passes = f", {report.ensemble} passes per tile" if report.ensemble > 1 else ""
    table = Table(
        "size", "MP", "tiles", "median s", "s / MP", "MP / s", "peak MiB",
        title=f"{report.model} ({report.parameters / 1e6:.2f} M parameters) on {report.device} "
        f"({report.machine}), {report.precision}, {report.threads} threads, tile {report.tile}, "
        f"budget {budget}{passes}; memory: {report.memory_source}",
        title_justify="left",
    )
    if report.reference:
        table.add_column(f"{report.reference} s")
        table.add_column(f"ours / {report.reference}")
    for size in report.sizes:
        row = [f"{size.width}x{size.height}", f"{size.megapixels:.3g}", str(size.tiles),
               f"{size.median_seconds:.3f}", f"{size.seconds_per_megapixel:.3f}",
               f"{size.megapixels_per_second:.3f}", f"{size.peak_bytes / 2**20:.0f}"]
        if report.reference:
            ratio = size.reference_ratio
            reference_median = size.median_seconds / ratio if ratio else float("nan")
            row += [f"{reference_median:.3f}", f"{ratio:.2f}"]
        table.add_row(*row)
    return table
