"""`deblur run`: deblur photos and folders of photos (parse, call, print; the work is in engine and io)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..engine import Deblurrer
from ..errors import DeblurError, DiskFullError
from ..io import IMAGE_EXTENSIONS, InputFile, check_output_folder, find_inputs, output_path
from ..io.formats import format_for_path, normalise_format
from ..model import DEFAULT_PRESET
from ..viz import VIEWS, view_path
from .cluster import ClusterOption, ClusterTarget, WorkersOption, deblur_on_cluster
from .console import Terminal
from .jobs import Job, deblur_one, failure_reason
from .options import (
    BudgetOption,
    EngineOptions,
    ModelOption,
    OutputOptions,
    PrecisionOption,
    SpreadDeviceOption,
    ThreadsOption,
    TileOption,
    TileOverlapOption,
    WeightsOption,
    load_engine,
    warn_untrained,
)
from .spread import deblur_spread, split_devices

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


@dataclass
class _Summary:
    done: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


class _TileProgress:
    """The `progress(done_tiles, total_tiles)` callback: a sub-bar shown only for images cut into tiles."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: int | None = None

    def __call__(self, done: int, total: int) -> None:
        if total <= 1:
            return
        if self.task is None:
            self.task = self.progress.add_task("  tiles", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def finish(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None


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
                           tile_overlap=tile_overlap, budget=budget, threads=threads)
    output = OutputOptions(out=out, format=format, quality=quality, suffix=suffix,
                           skip_existing=skip_existing, overwrite=overwrite)
    max_pixels = int(max_megapixels * 1e6) or None
    with term.logging():
        try:
            code = _run(inputs, recursive=recursive, engine=engine, output=output, views=_views(viz),
                        max_pixels=max_pixels, term=term,
                        cluster=ClusterTarget(cluster, workers) if cluster else None)
        except KeyboardInterrupt:
            term.err.print("stopped before any photo was done", markup=False)
            code = 130
    raise typer.Exit(code)


def _run(inputs: list[Path], *, recursive: bool, engine: EngineOptions, output: OutputOptions,
         views: tuple[str, ...], max_pixels: int | None, term: Terminal,
         cluster: ClusterTarget | None = None) -> int:
    file_target = _single_file_target(inputs, output)
    summary = _Summary()

    def unreadable(folder: Path, reason: str) -> None:
        summary.failed.append((folder, reason))
        term.error(reason)

    items = find_inputs(inputs, recursive=recursive, exclude=_excluded(inputs, output.out, file_target),
                        on_error=unreadable)
    if not items and not summary.failed:
        hint = "" if recursive else " (--recursive walks subfolders)"
        where = ", ".join(map(str, inputs))
        raise typer.BadParameter(f"no images found in {where}{hint}", param_hint="INPUTS")
    jobs = _plan(items, output, file_target, views, max_pixels)
    for job in jobs:
        if job.skipped:
            summary.skipped.append((job.item.path, job.skipped))
        elif job.failed:
            summary.failed.append((job.item.path, job.failed))
            term.error(job.failed)
    todo = [job for job in jobs if job.target is not None and not job.skipped and not job.failed]
    try:
        if todo and cluster is not None:
            if not deblur_on_cluster(todo, engine, output, views, term, summary, cluster,
                                     untrained_means=UNTRAINED):
                return 1
        elif todo and "," in engine.device:
            try:
                devices = split_devices(engine.device)
            except DeblurError as exc:
                term.error(str(exc))
                return 1
            _spread_all(todo, engine, devices, output, views, term, summary)
        elif todo:
            deblurrer = load_engine(engine, term, UNTRAINED)
            if deblurrer is None:
                return 1
            _deblur_all(todo, deblurrer, output, views, term, summary)
    except KeyboardInterrupt:
        term.err.print(f"stopped: {len(summary.done)} of {len(todo)} photos done; no partial file was left",
                       markup=False)
        return 130
    _report(jobs, summary, term)
    return 1 if summary.failed else 0


def _single_file_target(inputs: list[Path], output: OutputOptions) -> Path | None:
    """`-o photo.png` with one input photo names the output file itself rather than a folder; its
    extension must then agree with --format (bad usage otherwise)."""
    out = output.out
    if out is None or len(inputs) != 1 or inputs[0].is_dir() or out.is_dir():
        return None
    if out.suffix.lower() not in IMAGE_EXTENSIONS:
        return None
    if output.format != "auto" and format_for_path(out) != normalise_format(output.format):
        raise typer.BadParameter(f"{out} names a {format_for_path(out)} file, not {output.format}",
                                 param_hint="'--format' / '--output'")
    return out


def _excluded(inputs: list[Path], out: Path | None, file_target: Path | None) -> list[Path]:
    """The output folder is not walked for inputs, unless it is an input folder or holds one: then the
    plan tells earlier results from photos."""
    if out is None or file_target is not None:
        return []
    folder = out.resolve()
    if any(p.is_dir() and p.resolve().is_relative_to(folder) for p in inputs):
        return []
    return [out]


def _plan(items: list[InputFile], output: OutputOptions, file_target: Path | None, views: tuple[str, ...],
          max_pixels: int | None) -> list[Job]:
    jobs = [Job(item, max_pixels=max_pixels) for item in items]
    for job in jobs:
        try:
            job.target = file_target or output_path(job.item, out_dir=output.out, suffix=output.suffix,
                                                    format=output.format)
        except DeblurError as exc:
            job.failed = str(exc)
    results = _earlier_results(jobs, views)
    claimed: dict[Path, Path] = {}
    folders: dict[Path, str | None] = {}
    for job in jobs:
        source = results.get(job.item.path.resolve())
        if source is not None:
            job.skipped, job.target = f"a result of {source}", None
        elif job.target is not None and not job.failed:
            _check(job, job.target, output, views, claimed, folders)
    return jobs


def _earlier_results(jobs: list[Job], views: tuple[str, ...]) -> dict[Path, Path]:
    """Every file this run's plan would write for a photo, in any format, and its views: an input so named
    is an earlier result of that photo, not a photo of its own."""
    results: dict[Path, Path] = {}
    for job in jobs:
        if job.target is None:
            continue
        stem = job.target.with_suffix("")
        names = [stem.with_name(stem.name + ext) for ext in IMAGE_EXTENSIONS]
        names += [view_path(stem, v) for v in VIEWS]
        for name in names:
            if name.resolve() != job.item.path.resolve():
                results.setdefault(name.resolve(), job.item.path)
    return results


def _check(job: Job, target: Path, output: OutputOptions, views: tuple[str, ...], claimed: dict[Path, Path],
           folders: dict[Path, str | None]) -> None:
    """Skip or fail a planned photo before anything is restored: its output is its input or another
    photo's, it or one of its views exists, or its folder cannot be written."""
    path, key = job.item.path, target.resolve()
    existing = [p for p in job.outputs(views) if p.exists()]
    if key == path.resolve():
        job.failed = f"{path}: its output would overwrite the input"
    elif key in claimed:
        job.failed = f"{path}: same output {target} as {claimed[key]}; use --format auto or a --suffix"
    elif target.exists() and output.skip_existing:
        job.skipped = f"{target} exists"
    elif existing and not output.overwrite:
        job.failed = f"{existing[0]}: already exists (use --overwrite to replace it or --skip-existing)"
    else:
        if target.parent not in folders:
            folders[target.parent] = _folder_problem(target.parent)
        if folders[target.parent]:
            job.failed = f"{path}: {folders[target.parent]}"
    claimed.setdefault(key, path)


def _folder_problem(folder: Path) -> str | None:
    try:
        check_output_folder(folder)
    except DeblurError as exc:
        return str(exc)
    return None


def _progress(term: Terminal) -> Progress:
    """The files bar on stderr, shown only on a terminal and without -q."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=term.err,
                    disable=term.quiet or not term.err.is_terminal)


def _deblur_all(todo: list[Job], deblurrer: Deblurrer, output: OutputOptions, views: tuple[str, ...],
                term: Terminal, summary: _Summary) -> None:
    with _progress(term) as progress:
        files = progress.add_task("deblurring", total=len(todo))
        tiles = _TileProgress(progress)
        for job in todo:
            progress.update(files, description=job.item.relative.as_posix())
            try:
                deblur_one(job, deblurrer, output, views, tiles)
                summary.done.append(job.item.path)
                term.detail(f"wrote {job.target}")
            except (DeblurError, ValueError, MemoryError) as exc:
                reason = failure_reason(job.item.path, exc)
                summary.failed.append((job.item.path, reason))
                term.error(reason)
                if isinstance(exc, DiskFullError):
                    _stop_for_full_disk(todo, job, summary, term)
                    return
            finally:
                tiles.finish()
                progress.advance(files)


def _stop_for_full_disk(todo: list[Job], failed: Job, summary: _Summary, term: Terminal) -> None:
    """A full disk fails every later photo the same way: they are reported not done, and the batch ends."""
    rest = todo[todo.index(failed) + 1 :]
    term.error(f"the disk is full: stopping; {len(rest)} photos not started")
    summary.failed.extend((job.item.path, f"{job.item.path}: not started (disk full)") for job in rest)


def _spread_all(todo: list[Job], engine: EngineOptions, devices: list[str], output: OutputOptions,
                views: tuple[str, ...], term: Terminal, summary: _Summary) -> None:
    """The batch over several devices, one worker process each; the summary is filled as photos finish."""
    with _progress(term) as bar:
        files = bar.add_task(f"deblurring on {', '.join(devices)}", total=len(todo))

        def finished(index: int, reason: str | None) -> None:
            job = todo[index]
            if reason is None:
                summary.done.append(job.item.path)
                term.detail(f"wrote {job.target}")
            else:
                summary.failed.append((job.item.path, reason))
                term.error(reason)
            bar.advance(files)

        deblur_spread(todo, engine, devices, output, views, on_result=finished,
                      on_untrained=lambda: warn_untrained(engine, term, UNTRAINED))


def _report(jobs: list[Job], summary: _Summary, term: Terminal) -> None:
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
