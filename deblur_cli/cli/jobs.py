"""One photo of a `deblur run` batch: what the plan says about it, and the work of reading, restoring and
writing it (shared by the in-process loop and the per-device workers)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine import Deblurrer
from ..engine.tiling import Progress
from ..io import InputFile, read_image, write_image
from ..viz import view_path, write_visualisations
from .options import OutputOptions


@dataclass
class Job:
    """One input and what the plan says about it: its output, or why it is skipped or cannot run.

    `max_pixels` refuses a larger photo before it is decoded (None: no limit).
    """

    item: InputFile
    target: Path | None = None
    skipped: str | None = None
    failed: str | None = None
    max_pixels: int | None = None

    def outputs(self, views: Sequence[str]) -> list[Path]:
        """Every file this photo writes: its result and the view figures beside it."""
        if self.target is None:
            return []
        return [self.target, *(view_path(self.target.with_suffix(""), v) for v in views)]


def deblur_one(job: Job, deblurrer: Deblurrer, output: OutputOptions, views: tuple[str, ...],
               progress: Progress | None = None) -> None:
    """Read, restore and write one photo (and its views); raises on failure, leaving no new file behind."""
    if job.target is None:
        raise ValueError(f"{job.item.path}: no output planned")
    image = read_image(job.item.path, max_pixels=job.max_pixels)
    if views:
        result, maps = deblurrer.restore_with_maps(image.pixels, progress=progress)
    else:
        result = deblurrer.restore(image.pixels, progress=progress)
    fmt = None if output.format == "auto" else output.format
    with nothing_new_on_failure(job.outputs(views)):
        write_image(job.target, result, like=image, format=fmt, quality=output.quality,
                    overwrite=output.overwrite)
        if views:
            write_visualisations(image.pixels, result, maps, job.target.with_suffix(""), views,
                                 overwrite=output.overwrite)


@contextlib.contextmanager
def nothing_new_on_failure(paths: Sequence[Path]) -> Iterator[None]:
    """Remove those of `paths` that did not exist before if the block raises (Ctrl-C included): a photo
    that fails leaves no result or figure of its own behind."""
    new = [p for p in paths if not p.exists()]
    try:
        yield
    except BaseException:
        for path in new:
            path.unlink(missing_ok=True)
        raise


def failure_reason(path: Path, exc: BaseException) -> str:
    """The one line a failed photo gets in the summary, naming the photo once."""
    text = " ".join(str(exc).split())
    if not text:
        text = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
    return text if str(path) in text else f"{path}: {text}"
