"""The weights that ship inside the package, and presets that are not published: found with
importlib.resources, verified, and never a reason to touch the network."""

from __future__ import annotations

import dataclasses
import json
from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deblur_cli.cli import app
from deblur_cli.errors import WeightsError
from deblur_cli.model import list_presets
from deblur_cli.weights import (
    CARD_NAME,
    CONFIG_NAME,
    PRETRAINED,
    WEIGHTS_NAME,
    PretrainedRecord,
    bundled_dir,
    load_model,
    resolve,
    sha256_file,
)
from deblur_cli.weights.bundle import BUNDLE_PACKAGE
from deblur_cli.weights.resolve import local_files, resolves_from

from .conftest import PRESET, HubEnv
from .hub_server import LocalHub


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_ships_inside_the_package_and_matches_its_record(preset: str) -> None:
    folder = bundled_dir(preset)  # the real bundle: conftest only hides it from `resolve`
    assert folder is not None and folder.parent == Path(str(files(BUNDLE_PACKAGE)))
    assert all((folder / name).is_file() for name in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME))
    assert json.loads((folder / CONFIG_NAME).read_text())["preset"] == preset
    assert sha256_file(folder / WEIGHTS_NAME) == PRETRAINED[preset].sha256


def test_a_published_record_is_pinned_and_checksummed() -> None:
    with pytest.raises(ValueError, match="commit sha"):
        PretrainedRecord(preset=PRESET, repo_id="org/name", revision="main", sha256="0" * 64)
    with pytest.raises(ValueError, match="needs its sha256"):
        PretrainedRecord(preset=PRESET, repo_id="org/name", revision="0" * 40)
    with pytest.raises(ValueError, match="without a repo_id"):
        PretrainedRecord(preset=PRESET, revision="0" * 40)
    assert not PretrainedRecord(preset=PRESET).published


@pytest.fixture
def lost_bundle(monkeypatch: pytest.MonkeyPatch, hf_env: HubEnv) -> str:
    """The test preset recorded as trained but not published, with no bundled file: the state a wheel
    without its weights would be in. The Hub of `hf_env` answers anything asked of it."""
    monkeypatch.setitem(PRETRAINED, PRESET, dataclasses.replace(PRETRAINED[PRESET], sha256="0" * 64))
    return PRESET


def test_neither_bundled_nor_published_fails_at_once_without_the_network(lost_bundle: str,
                                                                         local_hub: LocalHub) -> None:
    with pytest.raises(WeightsError, match="not bundled with this install and not published") as info:
        load_model(preset=lost_bundle)
    assert "\n" not in str(info.value)
    with pytest.raises(WeightsError, match="not published on the Hub: there is no revision"):
        load_model(preset=lost_bundle, revision="v1")
    assert resolves_from(lost_bundle, local_files(lost_bundle)) == "missing"
    row = next(line for line in CliRunner().invoke(app, ["weights", "list", "--all"]).stdout.splitlines()
               if lost_bundle in line)
    assert "missing" in row and "not published" in row
    assert local_hub.count() == 0


def test_pulling_an_unpublished_preset_is_one_line(lost_bundle: str, local_hub: LocalHub) -> None:
    result = CliRunner().invoke(app, ["weights", "pull", lost_bundle])
    assert result.exit_code == 1 and result.stderr.strip().splitlines() == [
        f"error: {lost_bundle} is not published on the Hub: nothing to pull (name a repository with --repo)"]
    assert local_hub.count() == 0


def test_pulling_a_bundled_preset_needs_nothing(monkeypatch: pytest.MonkeyPatch, local_hub: LocalHub,
                                                hf_env: HubEnv) -> None:
    monkeypatch.setattr(resolve, "bundled_dir", bundled_dir)  # the real bundle, which conftest hides
    result = CliRunner().invoke(app, ["weights", "pull", "saphnet-s"])
    assert result.exit_code == 0 and "ships inside the package (bundled)" in result.stdout
    assert local_hub.count() == 0


def test_weights_list_shows_the_users_presets_only() -> None:
    listed = CliRunner().invoke(app, ["weights", "list"])
    assert listed.exit_code == 0 and "saphnet-test" not in listed.stdout
    assert "saphnet-test" in CliRunner().invoke(app, ["weights", "list", "--all"]).stdout
