"""One photo of a batch: read it, restore it, and write its result and figures, all or nothing. The
in-process loop, the per-device workers and the cluster's workers all call `deblur_one`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from ..engine import Deblurrer
from ..engine.tiling import Progress
from ..errors import DeblurError
from ..io import read_image, write_image
from ..viz import save_raw_maps, write_visualisations
from .options import OutputOptions
from .plan import Job

PHOTO_ERRORS: tuple[type[BaseException], ...] = (DeblurError, ValueError, MemoryError,
                                                 torch.cuda.OutOfMemoryError)
"""What fails one photo and lets the batch go on (anything else is a bug, or Ctrl-C)."""


def deblur_one(job: Job, deblurrer: Deblurrer, output: OutputOptions,
               progress: Progress | None = None) -> None:
    """Read, restore and write one photo (and its figures); raises on failure, leaving no new file behind."""
    if job.target is None:
        raise ValueError(f"{job.item.path}: no output planned")
    image = read_image(job.item.path, max_pixels=job.max_pixels)
    if output.views or output.raw:
        result, maps = deblurrer.restore_with_maps(image.pixels, progress=progress)
    else:
        result = deblurrer.restore(image.pixels, progress=progress)
    stem = job.target.with_suffix("")
    with _nothing_new_on_failure(job.outputs(output)):
        if output.photo:
            fmt = None if output.format == "auto" else output.format
            write_image(job.target, result, like=image, format=fmt, quality=output.quality,
                        overwrite=output.overwrite)
        if output.views:
            write_visualisations(image.pixels, result, maps, stem, output.views, overwrite=output.overwrite,
                                 stage=output.stage, attention=output.capm, offsets=output.capm)
        if output.raw:
            save_raw_maps(maps, stem, overwrite=output.overwrite)


@contextlib.contextmanager
def _nothing_new_on_failure(paths: Sequence[Path]) -> Iterator[None]:
    """Remove those of `paths` that did not exist before if the block raises (Ctrl-C included): a photo
    that fails leaves no result or figure of its own behind."""
    new = [p for p in paths if not p.exists()]
    try:
        yield
    except BaseException:
        for path in new:
            path.unlink(missing_ok=True)
        raise
