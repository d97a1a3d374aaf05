"""One photo of a `deblur run` batch: what the plan says about it, and the work of reading, restoring and
writing it (shared by the in-process loop and the per-device workers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..engine import Deblurrer
from ..engine.tiling import Progress
from ..io import InputFile, read_image, write_image
from ..viz import write_visualisations
from .options import OutputOptions


@dataclass
class Job:
    """One input and what the plan says about it: its output, or why it is skipped or cannot run."""

    item: InputFile
    target: Path | None = None
    skipped: str | None = None
    failed: str | None = None


def deblur_one(job: Job, deblurrer: Deblurrer, output: OutputOptions, views: tuple[str, ...],
               progress: Progress | None = None) -> None:
    """Read, restore and write one photo (and its views); raises on failure, leaves no partial file."""
    if job.target is None:
        raise ValueError(f"{job.item.path}: no output planned")
    image = read_image(job.item.path)
    if views:
        result, maps = deblurrer.restore_with_maps(image.pixels, progress=progress)
    else:
        result = deblurrer.restore(image.pixels, progress=progress)
    fmt = None if output.format == "auto" else output.format
    write_image(job.target, result, like=image, format=fmt, quality=output.quality,
                overwrite=output.overwrite)
    if views:
        write_visualisations(image.pixels, result, maps, job.target.with_suffix(""), views,
                             overwrite=output.overwrite)


def failure_reason(path: Path, exc: BaseException) -> str:
    """The one line a failed photo gets in the summary, naming the photo once."""
    text = " ".join(str(exc).split())
    if not text:
        text = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
    return text if str(path) in text else f"{path}: {text}"
