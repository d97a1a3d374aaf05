"""`deblur heatmap`: draw where and how the network worked on each photo (parse options, call the batch
layer, print its events)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..batch import EngineOptions, Job, OutputOptions, deblur_batch, plan_batch
from ..errors import DeblurError
from ..model import DEFAULT_PRESET
from .console import Terminal
from .options import (
    BudgetOption,
    DeviceOption,
    EnsembleOption,
    ModelOption,
    ThreadsOption,
    TileOption,
    WeightsOption,
)
from .progress import BatchView

HEATMAP_VIEWS: tuple[str, ...] = ("heatmap", "sampled", "attention", "offsets")
UNTRAINED = "the maps show an UNTRAINED network"


def heatmap(
    inputs: Annotated[list[Path], typer.Argument(
        help="Photos and/or folders of photos.", show_default=False)],
    out: Annotated[Path, typer.Option(
        "--output", "-o", help="Folder for the figures, mirroring the input folders.", show_default=False)],
    raw: Annotated[bool, typer.Option(
        "--raw", help="Also save the maps at the model's resolution as <stem>.maps.npz.")] = False,
    stage: Annotated[int | None, typer.Option(
        "--stage", min=2, help="Refinement stage whose difficulty map to draw (2..S). Default: 2.")] = None,
    capm: Annotated[str | None, typer.Option(
        "--capm", help="Recorded map to draw for attention and offsets: a full name or a CAPM prefix "
        "(see the keys of --raw). Default: the whole-image level's last decoder CAPM.")] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Also write <stem>.compare.png (before/after, hardest cell enlarged).")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Walk into subfolders.")] = False,
    model: ModelOption = DEFAULT_PRESET,
    weights: WeightsOption = None,
    device: DeviceOption = "auto",
    tile: TileOption = "auto",
    budget: BudgetOption = None,
    threads: ThreadsOption = None,
    ensemble: EnsembleOption = 1,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing figures.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only.")] = False,
) -> None:
    """Draw the sampling heatmap, the chosen cells, attention maps and filter offsets of each photo.

    Writes <stem>.heatmap.png, <stem>.sampled.png, <stem>.attention.png and <stem>.offsets.png into the
    output folder (and <stem>.maps.npz with --raw). The maps come from the plain pass: --ensemble changes only
    the deblurred image of --compare. Exit code: 0 all done, 1 some failed, 2 bad usage.
    """
    term = Terminal(quiet=quiet)
    engine = EngineOptions(model=model, weights=weights, device=device, tile=tile, budget=budget,
                           threads=threads, ensemble=ensemble)
    output = OutputOptions(out=out, overwrite=overwrite, photo=False, raw=raw, stage=stage, capm=capm,
                           views=HEATMAP_VIEWS + (("compare",) if compare else ()))
    with term.logging():
        code = _heatmap(inputs, recursive=recursive, engine=engine, output=output, term=term)
    raise typer.Exit(code)


def _heatmap(inputs: list[Path], *, recursive: bool, engine: EngineOptions, output: OutputOptions,
             term: Terminal) -> int:
    try:
        plan = plan_batch(inputs, output, recursive=recursive)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    def done(job: Job) -> None:
        written = job.outputs(output)
        term.say(f"{job.item.path}: wrote {', '.join(p.name for p in written)} in {written[0].parent}")

    show = BatchView(term, untrained_means=UNTRAINED, done=done, bars=False)
    try:
        deblur_batch(plan, engine, output, show)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except DeblurError as exc:
        term.error(str(exc))
        return 1
    summary = show.summary
    if len(plan.jobs) > 1 or len(summary.failed) > 1:
        term.say(f"{len(summary.done)} done, {len(summary.failed)} failed")
    return 1 if summary.failed else 0
