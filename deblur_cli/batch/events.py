"""What a batch tells its caller as it runs: one event per step (the CLI draws bars and prints lines from
them), the `Summary` they add up to, and the one-line text of a failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .plan import Job


@dataclass(frozen=True)
class Started:
    """The work begins on `photos` photos; `where` names the devices or workers ("" for this process)."""

    photos: int
    where: str = ""


@dataclass(frozen=True)
class PhotoStarted:
    """This process starts restoring `job` (the multi-device and cluster runs do not say)."""

    job: Job


@dataclass(frozen=True)
class TilesDone:
    """`done` of the current photo's `total` tiles are restored."""

    done: int
    total: int


@dataclass(frozen=True)
class PhotoDone:
    """`job`'s outputs are written."""

    job: Job


@dataclass(frozen=True)
class PhotoSkipped:
    """The plan skips the photo at `path`, for `reason` (e.g. its output exists)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class PhotoFailed:
    """The photo (or folder) at `path` failed; `reason` is one line that names it."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Untrained:
    """The network of preset `model` has no trained weights: its results are not deblurred."""

    model: str


@dataclass(frozen=True)
class Stopped:
    """The batch ends early for `reason` (one line); the photos at `left` were not started and fail."""

    reason: str
    left: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Throughput:
    """The cluster run restored `photos` photos in `seconds` on `where`."""

    photos: int
    seconds: float
    where: str


Event = (Started | PhotoStarted | TilesDone | PhotoDone | PhotoSkipped | PhotoFailed | Untrained | Stopped
         | Throughput)
OnEvent = Callable[[Event], None]


@dataclass
class Summary:
    """The photos done, skipped and failed (each with its reason), added up from a batch's events."""

    done: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, event: Event) -> None:
        """Count `event` if it is a photo's outcome."""
        if isinstance(event, PhotoDone):
            self.done.append(event.job.item.path)
        elif isinstance(event, PhotoSkipped):
            self.skipped.append((event.path, event.reason))
        elif isinstance(event, PhotoFailed):
            self.failed.append((event.path, event.reason))
        elif isinstance(event, Stopped):
            self.failed.extend((path, f"{path}: not started ({event.reason})") for path in event.left)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (white space collapsed), or its type's name when it has none."""
    return " ".join(str(exc).split()) or type(exc).__name__


def failure_reason(path: Path, exc: BaseException) -> str:
    """The one line a failed photo gets in the summary, naming the photo once."""
    text = "out of memory" if isinstance(exc, MemoryError) and not str(exc).strip() else one_line(exc)
    return text if str(path) in text else f"{path}: {text}"
