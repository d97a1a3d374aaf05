"""The `deblur` command line: the root Typer app (parse, call, print; no model or image logic here)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from .. import __version__
from .bench import bench
from .heatmap import heatmap
from .info import info
from .run import run
from .train import evaluate, train
from .weights import app as weights_app

app = typer.Typer(
    name="deblur",
    help="Remove motion blur from photos with SAPHNet, and show where the network worked. "
    "`deblur PHOTO...` is short for `deblur run PHOTO...`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("run")(run)
app.command("info")(info)
app.command("heatmap")(heatmap)
app.command("bench")(bench)
app.add_typer(weights_app, name="weights")
app.command("train")(train)
app.command("eval")(evaluate)

_ROOT_OPTIONS = frozenset({"-h", "--help", "--version"})


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"deblur {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Remove motion blur from photos with SAPHNet, and show where the network worked."""


def with_default_command(args: Sequence[str]) -> list[str]:
    """`deblur PHOTO ...` means `deblur run PHOTO ...`: insert "run" unless a command or root option leads."""
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    if args and args[0] not in commands and args[0] not in _ROOT_OPTIONS:
        return ["run", *args]
    return list(args)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (`deblur`)."""
    app(args=with_default_command(sys.argv[1:] if argv is None else argv), prog_name="deblur")
