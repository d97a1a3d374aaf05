"""Running a planned batch where it was asked to run: in this process, over several devices
(`--device cuda:0,cuda:1`) or on a Ray cluster (`--cluster`). Each reports through the same events."""

from __future__ import annotations

from ..errors import DeblurError, DiskFullError
from .cluster import ClusterTarget, deblur_on_cluster
from .events import (
    OnEvent,
    PhotoDone,
    PhotoFailed,
    PhotoSkipped,
    PhotoStarted,
    Started,
    Stopped,
    TilesDone,
    Untrained,
    failure_reason,
)
from .options import EngineOptions, OutputOptions
from .photo import PHOTO_ERRORS, deblur_one
from .plan import Job, Plan
from .spread import deblur_spread, split_devices


def deblur_batch(plan: Plan, engine: EngineOptions, output: OutputOptions, on_event: OnEvent, *,
                 cluster: ClusterTarget | None = None) -> None:
    """Report the plan's unlisted folders, skipped and refused photos, then restore the rest: on `cluster`
    when given, over the devices of a comma-separated `engine.device`, else in this process.

    Raises:
        ValueError: an engine option, or the cluster's workers, do not fit.
        DeblurError: the work cannot start (weights, device, Ray or the cluster not available, or a
            figure's `output.stage` beyond the network's stages).
    """
    for folder, reason in plan.unlisted:
        on_event(PhotoFailed(folder, reason))
    for job in plan.jobs:
        if job.skipped:
            on_event(PhotoSkipped(job.item.path, job.skipped))
        elif job.failed:
            on_event(PhotoFailed(job.item.path, job.failed))
    todo = plan.todo
    if not todo:
        return
    if cluster is not None:
        deblur_on_cluster(todo, engine, output, cluster, on_event)
    elif isinstance(engine.device, str) and "," in engine.device:
        deblur_spread(todo, engine, split_devices(engine.device), output, on_event)
    else:
        _deblur_here(todo, engine, output, on_event)


def _deblur_here(todo: list[Job], engine: EngineOptions, output: OutputOptions, on_event: OnEvent) -> None:
    """One photo after another in this process, with tile progress; a full disk stops the batch."""
    deblurrer = engine.load()
    if deblurrer.untrained:
        on_event(Untrained(engine.model))
    if output.stage is not None and output.stage > (stages := deblurrer.model.config.stages):
        raise DeblurError(f"stage must be between 2 and {stages} for {engine.model}, got {output.stage}")
    on_event(Started(len(todo)))
    for number, job in enumerate(todo):
        on_event(PhotoStarted(job))
        try:
            deblur_one(job, deblurrer, output, lambda done, total: on_event(TilesDone(done, total)))
        except PHOTO_ERRORS as exc:
            on_event(PhotoFailed(job.item.path, failure_reason(job.item.path, exc)))
            if isinstance(exc, DiskFullError):
                on_event(Stopped("the disk is full", tuple(later.item.path for later in todo[number + 1:])))
                return
        else:
            on_event(PhotoDone(job))
