"""A thin wrapper over `huggingface_hub`: download into (or find in) its cache, publish a folder, and turn
its errors into our one-line `WeightsError`. Its own environment (HF_ENDPOINT, HF_HOME / HF_HUB_CACHE,
HF_HUB_OFFLINE, HF_TOKEN and the stored token) is left to it; nothing here overrides those."""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path

from huggingface_hub import HfApi, constants, get_token, hf_hub_download, try_to_load_from_cache
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from ..errors import WeightsError

logger = logging.getLogger(__name__)

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Base errors of the HTTP client huggingface_hub uses (httpx2 in 2.x, httpx in 1.x, requests before)."""
    found: list[type[BaseException]] = []
    for module, name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except ImportError:
            continue
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


def is_offline() -> bool:
    """Whether huggingface_hub is in offline mode (HF_HUB_OFFLINE, read by the library itself)."""
    return constants.is_offline_mode()


def endpoint() -> str:
    """The Hub endpoint huggingface_hub talks to (HF_ENDPOINT or huggingface.co)."""
    return constants.ENDPOINT


def cache_dir() -> Path:
    """The Hugging Face hub cache folder in use (HF_HUB_CACHE, or HF_HOME/hub)."""
    return Path(constants.HF_HUB_CACHE)


def parse_repo_spec(spec: str) -> tuple[str, str | None]:
    """Split ``org/name`` or ``org/name@revision`` into (repo id, revision or None).

    Raises:
        WeightsError: the text is not a repo id.
    """
    repo_id, _, revision = spec.partition("@")
    if not _REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id or (spec.endswith("@")):
        raise WeightsError(f"{spec!r} is neither an existing path nor a Hub repo id (org/name[@revision])")
    return repo_id, revision or None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _reason(exc: BaseException, repo_id: str, filename: str, revision: str) -> str:
    """A one-line reason for a huggingface_hub failure to get `filename` of `repo_id` at `revision`."""
    where = f"{repo_id}@{revision}"
    if isinstance(exc, ValueError | LocalEntryNotFoundError) and isinstance(exc.__cause__, HfHubHTTPError):
        return _reason(exc.__cause__, repo_id, filename, revision)
    if isinstance(exc, OfflineModeIsEnabled) or (isinstance(exc, ValueError) and is_offline()):
        return f"cannot download {filename} of {where}: offline mode is on (HF_HUB_OFFLINE)"
    if isinstance(exc, LocalEntryNotFoundError):
        if is_offline():
            return (f"{filename} of {where} is not in the Hugging Face cache ({cache_dir()}) and offline "
                    "mode is on")
        return (f"cannot reach the Hub at {endpoint()} and {filename} of {where} is not in the Hugging Face "
                f"cache ({cache_dir()})")
    if isinstance(exc, RevisionNotFoundError):
        return f"revision {revision!r} not found in {repo_id} on {endpoint()}"
    if isinstance(exc, EntryNotFoundError):
        return f"{where} has no file {filename}"
    if isinstance(exc, GatedRepoError):
        return f"{repo_id} is gated: accept its terms on the Hub and log in (HF_TOKEN) to download it"
    if isinstance(exc, RepositoryNotFoundError):
        return (f"repository {repo_id} not found on {endpoint()} (if it is private, set HF_TOKEN or log in "
                "with `hf auth login`)")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return f"the Hub answered HTTP {status} for {filename} of {where}: {_first_line(exc)}"
    if isinstance(exc, HFValidationError):
        return f"invalid repo id or revision {where}: {_first_line(exc)}"
    return f"download of {filename} from {where} failed: {_first_line(exc)}"


def cached(repo_id: str, filename: str, *, revision: str) -> Path | None:
    """Path of `filename` from `repo_id` at `revision` if the Hugging Face cache holds it, else None.

    Reads the cache only (`try_to_load_from_cache`): unlike `hf_hub_download(local_files_only=True)` it builds
    no request headers, whose user-agent lookup in huggingface_hub 2.x may itself query the Hub once a day.

    Raises:
        WeightsError: `repo_id` or `revision` is malformed (HFValidationError).
    """
    try:
        path = try_to_load_from_cache(repo_id, filename, revision=revision)
    except (HFValidationError, ValueError) as exc:
        raise WeightsError(_reason(exc, repo_id, filename, revision)) from None
    return Path(path) if isinstance(path, str) else None


def fetch(repo_id: str, filename: str, *, revision: str, force: bool = False,
          missing_ok: bool = False) -> Path | None:
    """Path of `filename` from `repo_id` at `revision` in the Hugging Face cache, downloading it (with the
    Hub's progress bar) if needed or if `force`. Returns None only when `missing_ok` and the repository has
    no such file (or, offline, the cache has none).

    Raises:
        WeightsError: wrapping RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError,
            EntryNotFoundError, LocalEntryNotFoundError, OfflineModeIsEnabled, HfHubHTTPError, the HTTP
            client's connection/timeout errors, and OSError (e.g. a download shorter than announced).
    """
    try:
        path = hf_hub_download(repo_id, filename, revision=revision, force_download=force)
    except LocalEntryNotFoundError as exc:
        if missing_ok and is_offline():
            return None
        raise WeightsError(_reason(exc, repo_id, filename, revision)) from None
    except EntryNotFoundError as exc:
        if missing_ok:
            return None
        raise WeightsError(_reason(exc, repo_id, filename, revision)) from None
    except (HfHubHTTPError, OfflineModeIsEnabled, HFValidationError, OSError, ValueError,
            *_TRANSPORT_ERRORS) as exc:
        raise WeightsError(_reason(exc, repo_id, filename, revision)) from None
    return Path(path)


def push_folder(folder: Path, repo_id: str, *, files: list[str], private: bool = False,
                message: str = "Upload deblur weights") -> str:
    """Create `repo_id` if needed and upload `files` of `folder` in one commit; returns the commit sha.

    Raises:
        WeightsError: no token (HF_TOKEN or `hf auth login`), or any Hub/HTTP error, with a one-line reason.
    """
    token = get_token()
    if not token:
        raise WeightsError("pushing needs a Hugging Face token with write access: set HF_TOKEN or run "
                           "`hf auth login`")
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="model", allow_patterns=files,
                                 commit_message=message)
    except (HfHubHTTPError, HFValidationError, OSError, ValueError, *_TRANSPORT_ERRORS) as exc:
        raise WeightsError(f"push to {repo_id} on {endpoint()} failed: {_first_line(exc)}") from None
    logger.info("pushed %s to %s at %s", folder, repo_id, info.oid)
    return info.oid
