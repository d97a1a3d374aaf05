"""Finding a preset's weights (a path, the bundle inside the package, the Hugging Face cache, a download),
checking them against the preset's record, and building the network from them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import deblur_cli

from ..errors import WeightsError
from ..model import DEFAULT_PRESET, SAPHNet, SAPHNetConfig, create_model, get_config
from . import hub
from .bundle import bundled_dir
from .format import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, load_weights, read_config
from .registry import PretrainedRecord, get_record, sha256_file

logger = logging.getLogger(__name__)

SourceKind = Literal["path", "bundled", "cache", "download", "untrained"]
CheckState = Literal["ok", "mismatch", "unrecorded"]


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights `load_model` used came from, and whether their checksum was verified."""

    kind: SourceKind
    preset: str | None
    """Preset the network's config declares (None for a custom config)."""
    path: Path | None = None
    """The weights file loaded (None when untrained)."""
    repo_id: str | None = None
    revision: str | None = None
    sha256: str | None = None
    """sha256 of the file loaded."""
    verified: bool = False
    """True when `sha256` matched the preset's record; False for user files and repos without a record."""

    def describe(self) -> str:
        """One line for logs and the CLI, e.g. 'bundled .../saphnet-s/model.safetensors (sha256 verified)'."""
        check = "sha256 verified" if self.verified else "unverified"
        if self.kind == "untrained":
            return f"untrained {self.preset} (it has no trained weights)"
        if self.kind in ("path", "bundled"):
            return f"{self.kind} {self.path} ({check})"
        verb = "cached" if self.kind == "cache" else "downloaded"
        return f"{self.repo_id}@{self.revision} {verb} at {self.path} ({check})"


@dataclass(frozen=True)
class LocalFile:
    """A preset's weights file found on this machine, with its checksum state against the record."""

    kind: Literal["bundled", "cache"]
    path: Path
    size: int
    sha256: str
    state: CheckState


def _check(path: Path, record: PretrainedRecord | None) -> tuple[str, CheckState]:
    digest = sha256_file(path)
    if record is None or record.sha256 is None:
        return digest, "unrecorded"
    return digest, "ok" if digest == record.sha256 else "mismatch"


def _verified(path: Path, record: PretrainedRecord | None, kind: str) -> tuple[str, bool]:
    """Hash `path`; refuse it (WeightsError) when a record exists and the checksum differs."""
    digest, state = _check(path, record)
    if state == "mismatch" and record is not None:
        if kind == "bundled":
            fix = "re-export it or update the record in deblur_cli/weights/registry.py"
        else:
            fix = f"left in place, unused; get a fresh copy: deblur weights pull {record.preset} --force"
        what = {"bundled": "bundled file", "cache": "cached file", "download": "downloaded file"}.get(kind)
        raise WeightsError(f"{what or 'file'} {path} has sha256 {digest[:16]}..., not the {record.preset} "
                           f"record's {record.sha256[:16]}... (corrupt, truncated or tampered); {fix}")
    return digest, state == "ok"


def _config_for(config_path: Path | None, preset: str) -> tuple[SAPHNetConfig, str]:
    if config_path is not None and config_path.is_file():
        config, declared = read_config(config_path)
        return config, declared or preset
    logger.info("no %s found; using the %s preset's architecture", CONFIG_NAME, preset)
    return get_config(preset), preset


def _load_file(weights: Path, config_path: Path | None, preset: str, record: PretrainedRecord | None,
               kind: SourceKind, repo_id: str | None = None, revision: str | None = None,
               ) -> tuple[SAPHNet, WeightsSource]:
    digest, verified = _verified(weights, record, kind)
    config, declared = _config_for(config_path, preset)
    model = load_weights(config, weights)
    source = WeightsSource(kind=kind, preset=declared, path=weights, repo_id=repo_id, revision=revision,
                           sha256=digest, verified=verified)
    logger.info("loaded %s", source.describe())
    return model, source


def _load_path(path: Path, preset: str) -> tuple[SAPHNet, WeightsSource]:
    if path.is_dir():
        weights = path / WEIGHTS_NAME
        if not weights.is_file():
            raise WeightsError(f"{path} has no {WEIGHTS_NAME}")
        return _load_file(weights, path / CONFIG_NAME, preset, None, "path")
    return _load_file(path, path.with_name(CONFIG_NAME), preset, None, "path")


def _load_repo(repo_id: str, revision: str, preset: str, record: PretrainedRecord | None, *, offline: bool,
               ) -> tuple[SAPHNet, WeightsSource]:
    weights = hub.cached(repo_id, WEIGHTS_NAME, revision=revision)
    kind: SourceKind = "cache"
    if weights is None:
        if offline:
            raise WeightsError(f"{WEIGHTS_NAME} of {repo_id}@{revision} is not in the Hugging Face cache "
                               f"({hub.cache_dir()}) and offline mode is on")
        weights = hub.fetch(repo_id, WEIGHTS_NAME, revision=revision)
        kind = "download"
    config = hub.cached(repo_id, CONFIG_NAME, revision=revision)
    if config is None and not offline:
        config = hub.fetch(repo_id, CONFIG_NAME, revision=revision, missing_ok=True)
    return _load_file(weights, config, preset, record, kind, repo_id, revision)


def _bundled_weights(preset: str) -> Path | None:
    """The preset's weights file inside the installed package, if it ships one."""
    folder = bundled_dir(preset)
    weights = folder / WEIGHTS_NAME if folder is not None else None
    return weights if weights is not None and weights.is_file() else None


def _unpublished(record: PretrainedRecord, revision: str | None) -> tuple[SAPHNet, WeightsSource]:
    """A preset with no Hub repository and no bundled file: untrained if it has no trained weights at all,
    else a one-line error at once (the network is never tried: there is nothing there to get)."""
    if revision is not None:
        raise WeightsError(f"{record.preset} is not published on the Hub: there is no revision {revision!r}")
    if record.trained:
        raise WeightsError(f"the {record.preset} weights are not bundled with this install and not published "
                           "on the Hub: reinstall deblur-cli, or give a weights file or folder (--weights)")
    logger.info("%s has no trained weights: untrained network", record.preset)
    return create_model(record.preset).eval(), WeightsSource(kind="untrained", preset=record.preset)


def load_model(spec: str | os.PathLike[str] | None = None, *, preset: str | None = None,
               revision: str | None = None, offline: bool | None = None) -> tuple[SAPHNet, WeightsSource]:
    """Build a SAPHNet (float32, CPU, eval mode) with weights resolved from `spec`; say where they came from.
    `preset` None is the default preset.

    `spec` is an existing `.safetensors` file (architecture from `config.json` beside it, else `preset`), an
    existing folder holding `model.safetensors` (+ `config.json`), or a Hub repo id ``org/name[@revision]``
    (the Hugging Face cache first, then a download). With `spec` None the preset's record decides: the bundle
    inside the package, then, for a published preset, the cache and a download at the record's pinned
    revision. A preset that is not published never touches the network: without its bundle it is an error,
    or, when it has no trained weights at all, an untrained network (kind "untrained"). Files from the
    preset's own repo or bundle are checked against the recorded sha256; other files are loaded "unverified".
    `offline` None follows HF_HUB_OFFLINE; True never touches the network.

    Raises:
        ValueError: unknown preset, or a revision given both in `spec` and as `revision`.
        WeightsError: nothing found (not bundled and not published, offline with an empty cache, unknown
            repo, revision or file, network error), a checksum mismatch (the file is left where it is and not
            loaded), a non-safetensors file, or tensors that do not match the config (missing/unexpected
            keys, wrong shapes).
    """
    preset = DEFAULT_PRESET if preset is None else preset
    record = get_record(preset)
    offline = hub.is_offline() if offline is None else offline
    if spec is None:
        bundled = _bundled_weights(preset) if revision is None else None
        if bundled is not None:
            return _load_file(bundled, bundled.with_name(CONFIG_NAME), preset, record, "bundled")
        if record.repo_id is None or record.revision is None:
            return _unpublished(record, revision)
        rev = revision or record.revision
        own = record if rev == record.revision else None
        return _load_repo(record.repo_id, rev, preset, own, offline=offline)
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.exists():
        return _load_path(path, preset)
    if isinstance(spec, os.PathLike) or text.endswith(".safetensors") or text.startswith((".", "/", "~")):
        raise WeightsError(f"{text}: no such weights file or folder")
    repo_id, spec_revision = hub.parse_repo_spec(text)
    if spec_revision is not None and revision is not None and spec_revision != revision:
        raise ValueError(f"two revisions given: {spec_revision!r} in {text!r} and revision={revision!r}")
    rev = spec_revision or revision or (record.revision if repo_id == record.repo_id else None) or "main"
    own = record if (repo_id, rev) == (record.repo_id, record.revision) else None
    return _load_repo(repo_id, rev, preset, own, offline=offline)


def local_files(preset: str) -> list[LocalFile]:
    """The preset's bundled and cached (record's repo and revision) weights, hashed; no network used."""
    record = get_record(preset)
    found: list[tuple[Literal["bundled", "cache"], Path]] = []
    bundled = _bundled_weights(preset)
    if bundled is not None:
        found.append(("bundled", bundled))
    if record.repo_id is not None and record.revision is not None:
        cached = hub.cached(record.repo_id, WEIGHTS_NAME, revision=record.revision)
        if cached is not None:
            found.append(("cache", cached))
    files = []
    for kind, path in found:
        digest, state = _check(path, record)
        files.append(LocalFile(kind=kind, path=path, size=path.stat().st_size, sha256=digest, state=state))
    return files


def resolves_from(preset: str, files: list[LocalFile]) -> Literal[SourceKind, "refused", "missing"]:
    """Where `load_model(preset=...)` would take the weights from, judged without the network: the first
    local file (bundled before cache; "refused" if its checksum is wrong), else "download" for a published
    preset, "untrained" for one with no trained weights, "missing" for one neither bundled nor published."""
    if files:
        return "refused" if files[0].state == "mismatch" else files[0].kind
    record = get_record(preset)
    if record.published:
        return "download"
    return "missing" if record.trained else "untrained"


@dataclass(frozen=True)
class PullResult:
    """What `pull` found in or fetched into the cache."""

    path: Path
    repo_id: str
    revision: str
    sha256: str
    verified: bool
    downloaded: bool
    """False when the cache already held this file (always so offline)."""


def pull(preset: str, *, repo_id: str | None = None, revision: str | None = None, force: bool = False,
         ) -> PullResult:
    """Download a preset's weights, config and card into the Hugging Face cache (unless it holds them), check
    the sha256 against the record (when fetching the record's own repo and revision) and that the tensors fit
    the config.

    Raises:
        ValueError: unknown preset.
        WeightsError: the preset is not published and no `repo_id` is given, any download failure (see
            `hub.fetch`), a checksum mismatch (the file stays in the cache, unused; nothing of the user's is
            deleted), or tensors not fitting the config.
    """
    record = get_record(preset)
    if repo_id is None or repo_id == record.repo_id:
        if record.repo_id is None or record.revision is None:
            raise WeightsError(f"{preset} is not published on the Hub: nothing to pull (name a repository "
                               "with --repo)")
        repo_id, revision = record.repo_id, revision or record.revision
    revision = revision or "main"
    own = record if (repo_id, revision) == (record.repo_id, record.revision) else None
    before = None if force else hub.cached(repo_id, WEIGHTS_NAME, revision=revision)
    weights = hub.fetch(repo_id, WEIGHTS_NAME, revision=revision, force=force)
    downloaded = before != weights
    # Checked first, so a bad file is reported as such.
    digest, verified = _verified(weights, own, "download" if downloaded else "cache")
    config_path = hub.fetch(repo_id, CONFIG_NAME, revision=revision, force=force, missing_ok=True)
    hub.fetch(repo_id, CARD_NAME, revision=revision, force=force, missing_ok=True)
    config, _ = _config_for(config_path, preset)
    load_weights(config, weights)
    return PullResult(path=weights, repo_id=repo_id, revision=revision, sha256=digest, verified=verified,
                      downloaded=downloaded)


def push(preset: str, repo_id: str, *, folder: Path | None = None, private: bool = False) -> str:
    """Publish a weights folder (default: the preset's bundle inside the package) to `repo_id`; returns the
    commit sha to record as the preset's pinned revision.

    Raises:
        ValueError: unknown preset.
        WeightsError: a malformed repo id, a folder lacking files, weights failing the record's checksum or
            not loading, no token, or a Hub error.
    """
    record = get_record(preset)
    if "@" in repo_id:
        raise WeightsError(f"push takes a repo id without a revision, got {repo_id!r}")
    hub.parse_repo_spec(repo_id)
    kind: SourceKind = "bundled" if folder is None else "path"
    folder = folder or bundled_dir(preset)
    if folder is None or not (folder / WEIGHTS_NAME).is_file() or not (folder / CONFIG_NAME).is_file():
        raise WeightsError(f"{folder or 'the bundle'} needs {WEIGHTS_NAME} and {CONFIG_NAME} to push")
    weights = folder / WEIGHTS_NAME
    _load_file(weights, folder / CONFIG_NAME, preset, record, kind)
    files = [name for name in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME) if (folder / name).is_file()]
    return hub.push_folder(folder, repo_id, files=files, private=private,
                           message=f"Upload {preset} weights (deblur {deblur_cli.__version__})")
