"""Planning a batch before any work: find the photos, name each one's outputs, and tell which are skipped
or cannot run (an output exists, two photos share one, a folder cannot be written). One planner serves
`deblur run` and `deblur heatmap`; they differ only in their `OutputOptions`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DeblurError
from ..io import IMAGE_EXTENSIONS, InputFile, check_output_folder, find_inputs, output_path
from ..io.formats import format_for_path, normalise_format
from ..viz import VIEWS, raw_maps_path, view_path
from .options import OutputOptions


@dataclass
class Job:
    """One input and what the plan says about it: its output, or why it is skipped or cannot run.

    `target` names the restored photo (written only when `OutputOptions.photo`); its figures go beside it
    as `<target stem>.<view>.png`. `max_pixels` refuses a larger photo before it is decoded (None: no limit).
    """

    item: InputFile
    target: Path | None = None
    skipped: str | None = None
    failed: str | None = None
    max_pixels: int | None = None

    def outputs(self, output: OutputOptions) -> list[Path]:
        """Every file this photo writes: its result, the figures beside it and its raw maps."""
        if self.target is None:
            return []
        stem = self.target.with_suffix("")
        return ([self.target] if output.photo else []) + [view_path(stem, v) for v in output.views] + (
            [raw_maps_path(stem)] if output.raw else [])


@dataclass
class Plan:
    """A job per photo found, and the folders that could not be listed (each with its one-line reason)."""

    jobs: list[Job]
    unlisted: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def todo(self) -> list[Job]:
        """The jobs to run: neither skipped nor failed."""
        return [job for job in self.jobs if job.target is not None and not job.skipped and not job.failed]


def plan_batch(inputs: Sequence[Path], output: OutputOptions, *, recursive: bool = False,
               max_pixels: int | None = None) -> Plan:
    """Find the photos `inputs` name (walking folders, into subfolders if `recursive`) and plan each one.

    Raises:
        ValueError: no photo found, or `-o` names one photo's output file in another format than asked.
    """
    file_target = _single_file_target(inputs, output)
    unlisted: list[tuple[Path, str]] = []
    items = find_inputs(inputs, recursive=recursive, exclude=_excluded(inputs, output.out, file_target),
                        on_error=lambda folder, reason: unlisted.append((folder, reason)))
    if not items and not unlisted:
        hint = "" if recursive else " (--recursive walks subfolders)"
        raise ValueError(f"no images found in {', '.join(map(str, inputs))}{hint}")
    jobs = [Job(item, max_pixels=max_pixels) for item in items]
    for job in jobs:
        try:
            job.target = file_target or _target(job.item, output)
        except DeblurError as exc:
            job.failed = str(exc)
    results = _earlier_results(jobs)
    claimed: dict[Path, Path] = {}
    folders: dict[Path, str | None] = {}
    for job in jobs:
        source = results.get(job.item.path.resolve())
        if source is not None:
            job.skipped, job.target = f"a result of {source}", None
        elif job.target is not None and not job.failed:
            _check(job, job.target, output, claimed, folders)
    return Plan(jobs, unlisted)


def _target(item: InputFile, output: OutputOptions) -> Path:
    """The photo's output; with figures only, named after the photo (`-o` or beside it), never written."""
    if output.photo:
        return output_path(item, out_dir=output.out, suffix=output.suffix, format=output.format)
    folder = output.out / item.relative.parent if output.out is not None else item.path.parent
    return folder / item.path.name


def _single_file_target(inputs: Sequence[Path], output: OutputOptions) -> Path | None:
    """`-o photo.png` with one input photo names the output file itself rather than a folder; its
    extension must then agree with --format."""
    out = output.out
    if not output.photo or out is None or len(inputs) != 1 or inputs[0].is_dir() or out.is_dir():
        return None
    if out.suffix.lower() not in IMAGE_EXTENSIONS:
        return None
    if output.format != "auto" and format_for_path(out) != normalise_format(output.format):
        raise ValueError(f"{out} names a {format_for_path(out)} file, not {output.format}")
    return out


def _excluded(inputs: Sequence[Path], out: Path | None, file_target: Path | None) -> list[Path]:
    """The output folder is not walked for inputs, unless it is an input folder or holds one: then the
    plan tells earlier results from photos."""
    if out is None or file_target is not None:
        return []
    folder = out.resolve()
    if any(p.is_dir() and p.resolve().is_relative_to(folder) for p in inputs):
        return []
    return [out]


def _earlier_results(jobs: list[Job]) -> dict[Path, Path]:
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


def _check(job: Job, target: Path, output: OutputOptions, claimed: dict[Path, Path],
           folders: dict[Path, str | None]) -> None:
    """Skip or fail a planned photo before anything is restored: its output is its input or another
    photo's, it or one of its figures exists, or its folder cannot be written."""
    path, outputs = job.item.path, job.outputs(output)
    shared = next((p for p in outputs if p.resolve() in claimed), None)
    existing = [p for p in outputs if p.exists()]
    if output.photo and target.resolve() == path.resolve():
        job.failed = f"{path}: its output would overwrite the input"
    elif shared is not None:
        hint = "; use --format auto" if output.format != "auto" else ""
        job.failed = f"{path}: same output {shared} as {claimed[shared.resolve()]}{hint}"
    elif target.exists() and output.skip_existing:
        job.skipped = f"{target} exists"
    elif existing and not output.overwrite:
        job.failed = f"{existing[0]}: already exists (use --overwrite to replace it)"
    else:
        if target.parent not in folders:
            folders[target.parent] = _folder_problem(target.parent)
        if folders[target.parent]:
            job.failed = f"{path}: {folders[target.parent]}"
    for name in outputs:
        claimed.setdefault(name.resolve(), path)


def _folder_problem(folder: Path) -> str | None:
    try:
        check_output_folder(folder)
    except DeblurError as exc:
        return str(exc)
    return None
