"""`deblur heatmap`: draw where and how the network worked on each photo (parse, call, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import DeblurError
from ..io import InputFile, check_output_folder, find_inputs, read_image
from ..model import DEFAULT_PRESET
from ..viz import raw_maps_path, save_raw_maps, view_path, write_visualisations
from .console import Terminal
from .jobs import nothing_new_on_failure
from .options import (
    BudgetOption,
    DeviceOption,
    EngineOptions,
    ModelOption,
    ThreadsOption,
    TileOption,
    WeightsOption,
    load_engine,
)

HEATMAP_VIEWS: tuple[str, ...] = ("heatmap", "sampled", "attention", "offsets")


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
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing figures.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only.")] = False,
) -> None:
    """Draw the sampling heatmap, the chosen cells, attention maps and filter offsets of each photo.

    Writes <stem>.heatmap.png, <stem>.sampled.png, <stem>.attention.png and <stem>.offsets.png into the
    output folder (and <stem>.maps.npz with --raw). Exit code: 0 all done, 1 some failed, 2 bad usage.
    """
    term = Terminal(quiet=quiet)
    views = HEATMAP_VIEWS + (("compare",) if compare else ())
    engine = EngineOptions(model=model, weights=weights, device=device, tile=tile, budget=budget,
                           threads=threads)
    with term.logging():
        code = _heatmap(inputs, out, recursive=recursive, views=views, raw=raw, stage=stage, capm=capm,
                        overwrite=overwrite, engine=engine, term=term)
    raise typer.Exit(code)


def _heatmap(inputs: list[Path], out: Path, *, recursive: bool, views: tuple[str, ...], raw: bool,
             stage: int | None, capm: str | None, overwrite: bool, engine: EngineOptions,
             term: Terminal) -> int:
    failed: list[str] = []

    def unreadable(folder: Path, reason: str) -> None:
        failed.append(reason)
        term.error(reason)

    items = find_inputs(inputs, recursive=recursive, exclude=[out], on_error=unreadable)
    if not items and not failed:
        where = ", ".join(map(str, inputs)) + ("" if recursive else " (use --recursive for subfolders)")
        raise typer.BadParameter(f"no images found in {where}", param_hint="INPUTS")
    try:
        check_output_folder(out)
    except DeblurError as exc:
        term.error(str(exc))
        return 1
    todo, refused = _plan(items, out, views, raw, overwrite)
    for reason in refused:
        term.error(reason)
    failed += refused
    done = 0
    if todo:
        deblurrer = load_engine(engine, term, "the maps show an UNTRAINED network")
        if deblurrer is None:
            return 1
        stages = deblurrer.model.config.stages
        if stage is not None and stage > stages:
            term.error(f"stage must be between 2 and {stages} for {engine.model}, got {stage}")
            return 1
        for item, stem in todo:
            try:
                image = read_image(item.path)
                result, maps = deblurrer.restore_with_maps(image.pixels)
                with nothing_new_on_failure(_targets(stem, views, raw)):
                    written = write_visualisations(image.pixels, result, maps, stem, views,
                                                   overwrite=overwrite, stage=stage, attention=capm,
                                                   offsets=capm)
                    if raw:
                        written.append(save_raw_maps(maps, stem, overwrite=overwrite))
            except (DeblurError, ValueError, MemoryError) as exc:
                text = " ".join(str(exc).split()) or type(exc).__name__
                failed.append(text if str(item.path) in text else f"{item.path}: {text}")
                term.error(failed[-1])
                continue
            done += 1
            term.say(f"{item.path}: wrote {', '.join(p.name for p in written)} in {stem.parent}")
    if len(items) > 1 or len(failed) > 1:
        term.say(f"{done} done, {len(failed)} failed")
    return 1 if failed else 0


def _targets(stem: Path, views: tuple[str, ...], raw: bool) -> list[Path]:
    """The files one photo's figures go to."""
    return [view_path(stem, v) for v in views] + ([raw_maps_path(stem)] if raw else [])


def _plan(items: list[InputFile], out: Path, views: tuple[str, ...], raw: bool,
          overwrite: bool) -> tuple[list[tuple[InputFile, Path]], list[str]]:
    """Each photo's output stem, or why it cannot run (an output exists, or two photos share a stem)."""
    todo: list[tuple[InputFile, Path]] = []
    failed: list[str] = []
    claimed: dict[Path, Path] = {}
    for item in items:
        stem = out / item.relative.parent / item.path.stem
        existing = [t for t in _targets(stem, views, raw) if t.exists()]
        key = stem.resolve()
        if key in claimed:
            failed.append(f"{item.path}: its figures would have the same names as those of {claimed[key]}")
        elif existing and not overwrite:
            failed.append(f"{item.path}: {existing[0]} exists (use --overwrite to replace it)")
        else:
            todo.append((item, stem))
        claimed.setdefault(key, item.path)
    return todo, failed
