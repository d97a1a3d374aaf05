"""The batch layer between the command line and the engine: plan a batch's inputs and outputs, restore
each photo in this process, over several devices or on a Ray cluster, and report it all as events."""

from .cluster import ClusterTarget
from .cluster_plan import check_workers
from .events import (
    Event,
    OnEvent,
    PhotoDone,
    PhotoFailed,
    PhotoSkipped,
    PhotoStarted,
    Started,
    Stopped,
    Summary,
    Throughput,
    TilesDone,
    Untrained,
)
from .options import EngineOptions, OutputOptions
from .plan import Job, Plan, plan_batch
from .run import deblur_batch

__all__ = [
    "ClusterTarget",
    "EngineOptions",
    "Event",
    "Job",
    "OnEvent",
    "OutputOptions",
    "PhotoDone",
    "PhotoFailed",
    "PhotoSkipped",
    "PhotoStarted",
    "Plan",
    "Started",
    "Stopped",
    "Summary",
    "Throughput",
    "TilesDone",
    "Untrained",
    "check_workers",
    "deblur_batch",
    "plan_batch",
]
