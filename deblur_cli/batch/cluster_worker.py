"""The Ray side of `deblur run --cluster`: one `PhotoDeblurrer` actor per GPU (or share of CPU cores), each
restoring photos with the same `deblur_one` a local run uses. The driver wraps these classes for Ray, so
the module loads without the `ray` extra.

Ray replaces a lost worker and retries its photos. A retry may follow a worker that died after its
result was renamed into place; the photo then counts as done and is not written a second time (outputs
appear whole or not at all, so a file that is there is complete), unless the worker died before writing
the photo's views: then the photo is redone, its result replaced atomically by the same bytes. A photo
whose worker dies on every try is given up after `MAX_TRIES` and reported like any failed photo.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DeblurError
from .events import failure_reason, one_line
from .options import EngineOptions, OutputOptions
from .photo import PHOTO_ERRORS, deblur_one
from .plan import Job

#: Tries per photo before it is reported as failed (each one lost its worker).
MAX_TRIES = 3
#: Test hook: the path of a file naming one photo (its path relative to its input folder). The first
#: worker to restore that photo deletes the file and exits abruptly after writing the result.
CRASH_HOOK = "DEBLUR_CLUSTER_CRASH_AFTER"


def photo_row(index: int, job: Job) -> dict[str, Any]:
    """`job` (which must have a target) as a row of the Ray dataset, with absolute paths for the other nodes.

    `stamp` identifies the output file that was there when the run was planned ("" for none), so a retry
    can tell a result written by an earlier try of this run from a file `--overwrite` is to replace.
    """
    if job.target is None:
        raise ValueError(f"{job.item.path}: no output planned")
    item = replace(job.item, path=job.item.path.absolute())
    target = job.target.absolute()
    return {"index": index, "job": replace(job, item=item, target=target), "stamp": file_stamp(target)}


def file_stamp(path: Path) -> str:
    """The identity of the file now at `path` (inode and modification time; a rename changes both), or ""."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return ""
    return f"{status.st_ino}:{status.st_mtime_ns}"


class TryCounter:
    """Counts the tries of each photo over the whole pool (a Ray actor of its own), so that a photo that
    keeps killing its worker is given up instead of retried for ever."""

    def __init__(self) -> None:
        self.tries: dict[int, int] = {}

    def begin(self, index: int) -> int:
        """Record one more try of photo `index` and return how many it has had, this one included."""
        self.tries[index] = self.tries.get(index, 0) + 1
        return self.tries[index]


class PhotoDeblurrer:
    """A Ray Data actor: loads the model once, then restores batches of photo rows into their outputs.

    Each batch comes back as rows of `index`, `failure` ("" when the photo was written) and `untrained`.
    A model that cannot load fails each photo with the reason, as the local multi-device workers do.
    """

    def __init__(self, *, engine: EngineOptions, output: OutputOptions, counter: Any) -> None:
        self.output = output
        self.counter = counter
        self.load_error = ""
        self.untrained = False
        try:
            self.deblurrer = engine.load()
            self.untrained = self.deblurrer.untrained
        except (DeblurError, ValueError) as exc:
            self.load_error = one_line(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Restore every photo of `batch`; a failure is a reason in the result, never an exception."""
        rows = zip(batch["index"], batch["job"], batch["stamp"], strict=True)
        failures = [self._restore(int(index), job, str(stamp)) for index, job, stamp in rows]
        return {"index": batch["index"], "failure": np.array(failures, dtype=object),
                "untrained": np.full(len(failures), self.untrained)}

    def _restore(self, index: int, job: Job, stamp: str) -> str:
        if job.target is None:
            return f"{job.item.path}: no output planned"
        output = self.output
        if file_stamp(job.target) not in ("", stamp):  # an earlier try wrote it, then lost its worker
            if all(path.exists() for path in job.outputs(output)):
                return ""
            output = replace(output, overwrite=True)  # its views are missing: redo them (same result)
        if self.load_error:
            return f"{job.item.path}: the worker could not load the model: {self.load_error}"
        import ray  # present wherever this actor runs

        if ray.get(self.counter.begin.remote(index)) > MAX_TRIES:
            return f"{job.item.path}: its worker was lost on each of {MAX_TRIES} tries"
        try:
            deblur_one(job, self.deblurrer, output)
        except PHOTO_ERRORS as exc:
            return failure_reason(job.item.path, exc)
        _crash_if_asked(job.item.relative.as_posix())
        return ""


def _crash_if_asked(relative: str) -> None:
    """The test hook (`CRASH_HOOK`): die once, abruptly, right after writing the named photo."""
    trigger = os.environ.get(CRASH_HOOK)
    if not trigger:
        return
    try:
        if Path(trigger).read_text().strip() != relative:
            return
        os.unlink(trigger)  # only one worker wins the unlink: the crash happens once
    except FileNotFoundError:
        return
    os._exit(1)
