"""`python -m deblur_cli` runs the `deblur` command."""

from .cli import main

main()
