"""The `deblur` command line: the Typer app only (parse, call, print)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="deblur",
    help="Remove motion blur from photos with SAPHNet, and show where the network worked.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def main() -> None:
    """Console-script entry point."""
    app()
