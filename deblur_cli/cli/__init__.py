"""The `deblur` command line: the Typer app only (parse, call, print)."""

from __future__ import annotations

import typer

from .weights import app as weights_app

app = typer.Typer(
    name="deblur",
    help="Remove motion blur from photos with SAPHNet, and show where the network worked.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(weights_app, name="weights")


def main() -> None:
    """Console-script entry point."""
    app()
