"""`deblur info` and the root command's own options."""

from __future__ import annotations

import torch
from typer.testing import CliRunner

from deblur_cli import __version__
from deblur_cli.cli import app, with_default_command
from deblur_cli.model import DEFAULT_PRESET, list_presets


def test_info_lists_versions_devices_and_presets() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert __version__ in result.stdout and torch.__version__ in result.stdout
    assert "threads" in result.stdout
    mps = torch.backends.mps.is_available()
    expected = "cuda:0" if torch.cuda.is_available() else "mps" if mps else "cpu"
    assert f"runs on {expected}" in result.stdout
    for preset in list_presets():
        assert preset in result.stdout
    assert f"{DEFAULT_PRESET} (default)" in result.stdout and f"default: {DEFAULT_PRESET} (" in result.stdout


def test_version_and_default_command() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"deblur {__version__}"
    assert with_default_command(["photo.png", "-q"]) == ["run", "photo.png", "-q"]
    assert with_default_command(["info"]) == ["info"]
    assert with_default_command(["--help"]) == ["--help"]
    assert with_default_command([]) == []
