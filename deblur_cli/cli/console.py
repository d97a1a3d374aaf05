"""What the CLI shows and where: results on stdout, errors, warnings, logs and progress on stderr."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler


class Terminal:
    """The two Rich consoles of one command run, and how talkative it is (-q / -v)."""

    def __init__(self, *, quiet: bool = False, verbose: int = 0) -> None:
        self.quiet = quiet
        self.verbose = 0 if quiet else verbose
        self.out = Console(soft_wrap=True, highlight=False)
        self.err = Console(stderr=True, soft_wrap=True, highlight=False)

    def say(self, message: str) -> None:
        """A result line on stdout (silenced by -q)."""
        if not self.quiet:
            self.out.print(message, markup=False)

    def detail(self, message: str) -> None:
        """A line on stdout shown only with -v."""
        if self.verbose:
            self.out.print(message, markup=False)

    def warn(self, message: str) -> None:
        """A warning line on stderr (shown even with -q: it is about the results being wrong)."""
        self.err.print(f"warning: {message}", markup=False, style="yellow")

    def error(self, message: str) -> None:
        """One error line on stderr."""
        self.err.print(f"error: {message}", markup=False, style="red")

    @contextmanager
    def logging(self) -> Iterator[None]:
        """Route the package's log records to stderr for the length of one command, then restore."""
        logger = logging.getLogger("deblur_cli")
        levels = (logging.WARNING, logging.INFO, logging.DEBUG)
        level = levels[min(self.verbose, 2)]  # -q keeps warnings: they say a result is not what was asked
        handler = RichHandler(console=self.err, show_time=False, show_path=False, markup=False)
        handler.setLevel(level)
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(min(level, old_level) if old_level else level)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
