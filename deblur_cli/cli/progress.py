"""How the CLI shows a batch's events as they come: bars on stderr, one line per failure, a warning for an
untrained network; the `Summary` they add up to is printed by each command."""

from __future__ import annotations

from collections.abc import Callable

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..batch import (
    Event,
    Job,
    PhotoDone,
    PhotoFailed,
    PhotoStarted,
    Started,
    Stopped,
    Summary,
    Throughput,
    TilesDone,
    Untrained,
)
from .console import Terminal
from .options import warn_untrained


class BatchView:
    """The batch's event handler: a files bar and, for photos cut into tiles, a tiles bar on stderr (only on a
    terminal, without -q, and with `bars`); `done(job)` for each photo written; the untrained warning says
    `untrained_means`. The events add up in `summary`."""

    def __init__(self, term: Terminal, *, untrained_means: str, done: Callable[[Job], None],
                 bars: bool = True) -> None:
        self.term = term
        self.untrained_means = untrained_means
        self.done = done
        self.summary = Summary()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                                 TimeRemainingColumn(), console=term.err,
                                 disable=not bars or term.quiet or not term.err.is_terminal)
        self.files: TaskID | None = None
        self.tiles: TaskID | None = None

    def __call__(self, event: Event) -> None:
        """Show one event and count it."""
        self.summary.add(event)
        match event:
            case Started(photos=photos, where=where):
                self.progress.start()
                self.files = self.progress.add_task(f"deblurring on {where}" if where else "deblurring",
                                                    total=photos)
            case PhotoStarted(job=job) if self.files is not None:
                self.progress.update(self.files, description=job.item.relative.as_posix())
            case TilesDone(done=done, total=total) if total > 1:
                if self.tiles is None:
                    self.tiles = self.progress.add_task("  tiles", total=total)
                self.progress.update(self.tiles, completed=done, total=total)
            case PhotoDone(job=job):
                self.done(job)
                self._advance()
            case PhotoFailed(reason=reason):
                self.term.error(reason)
                self._advance()
            case Untrained(model=model):
                warn_untrained(model, self.term, self.untrained_means)
            case Stopped(reason=reason, left=left):
                self.term.error(f"{reason}: stopping; {len(left)} photos not started" if left else reason)
            case Throughput(photos=photos, seconds=seconds, where=where):
                self.close()
                rate = photos / seconds
                self.term.say(f"{photos} photos in {seconds:.1f} s: {rate:.2f} photos/s on {where}")

    def _advance(self) -> None:
        """One photo finished: drop its tiles bar and move the files bar (once the work has started)."""
        if self.tiles is not None:
            self.progress.remove_task(self.tiles)
            self.tiles = None
        if self.files is not None:
            self.progress.advance(self.files)

    def close(self) -> None:
        """Take the bars off the terminal."""
        if self.files is not None:
            self.progress.stop()
            self.files = None
