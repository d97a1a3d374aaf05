"""`deblur info` and the root command's own options."""

from __future__ import annotations

import re
from importlib.metadata import version

import torch
from typer.testing import CliRunner

from deblur_cli import __version__
from deblur_cli.cli import app, with_default_command
from deblur_cli.cli.info import SHA_SHOWN
from deblur_cli.model import DEFAULT_PRESET, list_presets
from deblur_cli.weights import CARD_NAME, WEIGHTS_NAME, bundled_dir, get_record, sha256_file


def test_info_lists_versions_devices_and_presets() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert __version__ in result.stdout and torch.__version__ in result.stdout
    assert "threads" in result.stdout
    mps = torch.backends.mps.is_available()
    expected = "cuda:0" if torch.cuda.is_available() else "mps" if mps else "cpu"
    assert f"runs on {expected}" in result.stdout
    if expected == "cpu":
        assert "runs on cpu in fp32 (no native bf16)" in result.stdout  # conftest's CPU
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


def test_version_and_checksums_agree_everywhere() -> None:
    """`deblur --version`, the installed distribution, `deblur info`, the records, the bundled files and
    whatever a model card states about them tell one story."""
    assert version("deblur-cli") == __version__
    shown = CliRunner().invoke(app, ["info"], env={"COLUMNS": "200"}).stdout
    assert CliRunner().invoke(app, ["--version"]).stdout.strip() == f"deblur {__version__}"
    for preset in list_presets():
        record = get_record(preset)
        folder = bundled_dir(preset)
        assert record.sha256 and folder is not None
        assert sha256_file(folder / WEIGHTS_NAME) == record.sha256
        row = next(line for line in shown.splitlines() if f" {preset} " in line)
        assert "bundled" in row and record.sha256[:SHA_SHOWN] in row
        card = (folder / CARD_NAME).read_text()
        named = set(re.findall(r"\b[0-9a-f]{64}\b", card))
        assert named <= {record.sha256}, f"{preset}'s card names another sha256"
        stated = set(re.findall(r"\bdeblur(?:-cli)? v?(\d+\.\d+\.\d+)", card))
        assert stated <= {__version__}, f"{preset}'s card names deblur {stated}"
