"""The weights that ship inside the package: the repository's `weights/<preset>/` folders, installed as the
data package `deblur_cli.weights_data` (pyproject.toml maps them there), so a wheel, pipx or an editable
install finds them the same way, from any working directory and without the network."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

BUNDLE_PACKAGE = "deblur_cli.weights_data"
"""The data package holding one folder per shipped preset (config.json, model.safetensors, README.md)."""


def bundled_dir(preset: str) -> Path | None:
    """The installed folder of a preset's shipped weights (which may not exist: not every preset ships),
    or None when deblur_cli runs from a source tree that was never installed (the mapping is the installer's).
    """
    try:
        root = files(BUNDLE_PACKAGE)
    except ModuleNotFoundError:
        return None
    return Path(str(root)) / preset
