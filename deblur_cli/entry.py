"""The `deblur` console script: loads the command line (and torch with it), answering Ctrl-C during
that second or more with exit 130 and one line instead of a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("deblur: interrupted\n")
        raise SystemExit(130) from None
    run()
