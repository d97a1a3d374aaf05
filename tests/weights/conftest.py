"""Fixtures for the weights tests: tiny exported weights, a local Hub on 127.0.0.1, and a Hugging Face
environment (endpoint, cache, offline flag) pointing at them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants

from deblur_cli.model import create_model
from deblur_cli.weights import (
    CARD_NAME,
    CONFIG_NAME,
    PRETRAINED,
    WEIGHTS_NAME,
    model_card,
    resolve,
    save_pretrained,
)

from .hub_server import LocalHub

PRESET = "saphnet-test"
REPO = "test-org/saphnet-test"


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def no_bundled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the bundled `weights/` root at an empty temp folder: the checkout's own files never interfere."""
    root = tmp_path / "bundled"
    monkeypatch.setattr(resolve, "bundled_dir", lambda preset: root / preset)
    return root


@dataclasses.dataclass
class Export:
    """A saved saphnet-test weights folder and what the Hub should serve for it."""

    folder: Path
    sha256: str

    @property
    def files(self) -> dict[str, bytes]:
        return {name: (self.folder / name).read_bytes() for name in (CARD_NAME, CONFIG_NAME, WEIGHTS_NAME)}


@pytest.fixture
def export(tmp_path: Path) -> Export:
    torch.manual_seed(0)
    model = create_model(PRESET)
    folder = tmp_path / "export"
    card = model_card(PRESET, model.config, summary="Randomly initialised weights for tests.")
    return Export(folder, save_pretrained(model, folder, preset=PRESET, card=card))


@pytest.fixture
def local_hub() -> Iterator[LocalHub]:
    with LocalHub() as hub:
        yield hub


@dataclasses.dataclass
class HubEnv:
    """The Hugging Face environment a test runs under, as variables for subprocesses."""

    env: dict[str, str]
    cache: Path
    monkeypatch: pytest.MonkeyPatch

    def offline(self, flag: bool) -> None:
        """Switch HF_HUB_OFFLINE for this process (the library reads it at import) and for subprocesses."""
        self.env["HF_HUB_OFFLINE"] = "1" if flag else "0"
        self.monkeypatch.setenv("HF_HUB_OFFLINE", self.env["HF_HUB_OFFLINE"])
        self.monkeypatch.setattr(constants, "HF_HUB_OFFLINE", flag)


@pytest.fixture
def hf_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, local_hub: LocalHub) -> HubEnv:
    """HF_ENDPOINT -> the local Hub, HF_HOME -> a temp folder, online, no token.

    huggingface_hub copies these variables into `huggingface_hub.constants` when first imported, so for calls
    in this process the same values are set there too; subprocesses get them as real environment variables.
    """
    home = tmp_path / "hf_home"
    env = {"HF_ENDPOINT": local_hub.url, "HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub"),
           "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_ETAG_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", local_hub.url)
    template = local_hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return HubEnv(env=env, cache=home / "hub", monkeypatch=monkeypatch)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch, local_hub: LocalHub, export: Export) -> str:
    """Serve the export as REPO and record it as the saphnet-test preset's weights; returns the commit sha."""
    commit = local_hub.add_repo(REPO, export.files)
    record = dataclasses.replace(PRETRAINED[PRESET], repo_id=REPO, revision=commit, sha256=export.sha256)
    monkeypatch.setitem(PRETRAINED, PRESET, record)
    return commit
