"""`deblur run`: deblur photos and folders of photos (parse options, call the batch layer, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from ..batch import ClusterTarget, EngineOptions, Job, OutputOptions, Summary, deblur_batch, plan_batch
from ..errors import DeblurError
from ..model import DEFAULT_PRESET
from ..viz import VIEWS
from .console import Terminal
from .options import (
    BudgetOption,
    ClusterOption,
    EnsembleOption,
    ModelOption,
    PrecisionOption,
    SpreadDeviceOption,
    ThreadsOption,
    TileOption,
    TileOverlapOption,
    WeightsOption,
    WorkersOption,
)
from .progress import BatchView

UNTRAINED = "the network is UNTRAINED; results are not deblurred"
OutputFormat = Literal["auto", "png", "jpg", "tiff", "webp"]


def _check_views(value: str | None) -> str | None:
    if value is None:
        return None
    unknown = [v for v in _views(value) if v not in VIEWS]
    if unknown:
        raise typer.BadParameter(f"unknown view(s) {', '.join(unknown)}; choose from {', '.join(VIEWS)}, all")
    return value


def _check_suffix(value: str | None) -> str | None:
    """A suffix only extends a file name: a path separator or ".." could put a result outside -o."""
    if value is not None and (any(c in value for c in "/\\\0") or ".." in value):
        raise typer.BadParameter(f"{value!r} is not a file-name suffix: no '/', '\\', '..' or NUL allowed")
    return value


def _views(value: str | None) -> tuple[str, ...]:
    names = [v.strip() for v in (value or "").split(",") if v.strip()]
    return tuple(VIEWS) if "all" in names else tuple(names)


def run(
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT", help="Photos and/or photo folders.")],
    out: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Folder for the results, mirroring the input folders (or, for one photo, "
        "the output file itself). Default: beside each photo as <stem>_deblurred.<ext>.")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Walk into subfolders.")] = False,
    model: ModelOption = DEFAULT_PRESET,
    weights: WeightsOption = None,
    device: SpreadDeviceOption = "auto",
    precision: PrecisionOption = "auto",
    tile: TileOption = "auto",
    tile_overlap: TileOverlapOption = 32,
    budget: BudgetOption = None,
    ensemble: EnsembleOption = 1,
    threads: ThreadsOption = None,
    max_megapixels: Annotated[float, typer.Option(
        "--max-megapixels", min=0.0, help="Refuse larger photos before decoding them: on a CPU a 100 MP "
        "photo takes many minutes. Raise it to run them (0: no limit).")] = 100.0,
    format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Output format; auto keeps each photo's own.")] = "auto",
    quality: Annotated[int, typer.Option(
        min=1, max=100, help="JPEG/WebP quality (WebP at 100: lossless).")] = 95,
    suffix: Annotated[str | None, typer.Option(
        callback=_check_suffix,
        help="Added to each output's stem. Default: _deblurred beside the photo, none with -o.")] = None,
    skip_existing: Annotated[bool, typer.Option(
        "--skip-existing", help="Skip photos whose output exists.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs.")] = False,
    viz: Annotated[str | None, typer.Option(
        callback=_check_views, help=f"Also draw these views, comma-separated: {', '.join(VIEWS)} or all; "
        "written as <output stem>.<view>.png.")] = None,
    cluster: ClusterOption = None,
    workers: WorkersOption = "auto",
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bar or summary; errors and warnings only.")] = False,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, help="More detail (-vv: debug).")] = 0,
) -> None:
    """Deblur photos, and folders of photos.

    Each result keeps its photo's size, bit depth, channels, ICC profile and EXIF. Inputs are never written
    to; outputs appear whole or not at all. Exit code: 0 all done, 1 some failed, 2 bad usage, 130 stopped.
    """
    if skip_existing and overwrite:
        raise typer.BadParameter("choose one of them", param_hint="'--skip-existing' / '--overwrite'")
    if suffix == "" and out is None:
        raise typer.BadParameter("an empty suffix needs -o DIR: the result would replace the photo",
                                 param_hint="'--suffix'")
    term = Terminal(quiet=quiet, verbose=verbose)
    engine = EngineOptions(model=model, weights=weights, device=device, precision=precision, tile=tile,
                           tile_overlap=tile_overlap, budget=budget, threads=threads, ensemble=ensemble)
    output = OutputOptions(out=out, format=format, quality=quality, suffix=suffix,
                           skip_existing=skip_existing, overwrite=overwrite, views=_views(viz))
    max_pixels = int(max_megapixels * 1e6) or None
    with term.logging():
        try:
            target = ClusterTarget(cluster, workers, verbose=term.verbose > 0) if cluster else None
            code = _run(inputs, recursive=recursive, engine=engine, output=output, max_pixels=max_pixels,
                        term=term, cluster=target)
        except KeyboardInterrupt:
            term.err.print("stopped before any photo was done", markup=False)
            code = 130
    raise typer.Exit(code)


def _run(inputs: list[Path], *, recursive: bool, engine: EngineOptions, output: OutputOptions,
         max_pixels: int | None, term: Terminal, cluster: ClusterTarget | None) -> int:
    try:
        plan = plan_batch(inputs, output, recursive=recursive, max_pixels=max_pixels)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    show = BatchView(term, untrained_means=UNTRAINED, done=lambda job: term.detail(f"wrote {job.target}"))
    try:
        deblur_batch(plan, engine, output, show, cluster=cluster)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except DeblurError as exc:
        term.error(str(exc))
        return 1
    except KeyboardInterrupt:
        term.err.print(f"stopped: {len(show.summary.done)} of {len(plan.todo)} photos done; no partial file "
                       "was left", markup=False)
        return 130
    finally:
        show.close()
    _report(plan.jobs, show.summary, term)
    return 1 if show.summary.failed else 0


def _report(jobs: list[Job], summary: Summary, term: Terminal) -> None:
    if len(jobs) == 1 and summary.done:
        if not term.verbose:  # -v has said it already
            term.say(f"wrote {jobs[0].target}")
        return
    if len(jobs) == 1 and not summary.skipped:
        return  # the one error is already on stderr
    term.say(f"{len(summary.done)} done, {len(summary.skipped)} skipped, {len(summary.failed)} failed")
    for path, reason in summary.skipped:
        term.say(f"  skipped {path}: {reason}")
    for _path, reason in summary.failed:
        term.say(f"  failed  {reason}")
