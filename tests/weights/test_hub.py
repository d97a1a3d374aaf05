"""Resolution through the Hugging Face cache and downloads, against a local Hub on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest
import torch
from huggingface_hub import constants

from deblur_cli.errors import WeightsError
from deblur_cli.weights import WEIGHTS_NAME, load_model, local_files, pull, sha256_file

from .conftest import PRESET, REPO, Export, HubEnv
from .hub_server import LocalHub


def _blobs(env: HubEnv) -> list[str]:
    return sorted(p.name for p in env.cache.glob("models--*/blobs/*"))


def test_preset_download_then_cache_without_requests(hf_env: HubEnv, local_hub: LocalHub, published: str,
                                                     export: Export) -> None:
    model, source = load_model(preset=PRESET)
    assert (source.kind, source.repo_id, source.revision) == ("download", REPO, published)
    assert source.verified
    assert source.sha256 == export.sha256 == sha256_file(source.path)
    assert str(source.path).startswith(str(hf_env.cache))
    assert ("GET", f"/{REPO}/resolve/{published}/{WEIGHTS_NAME}") in local_hub.requests
    before = local_hub.count()

    again, cached = load_model(preset=PRESET)
    assert (cached.kind, cached.verified, cached.path) == ("cache", True, source.path)
    assert local_hub.count() == before  # the second run asked the server nothing
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name])


def test_offline_use_from_the_cache(hf_env: HubEnv, local_hub: LocalHub, published: str) -> None:
    load_model(preset=PRESET)
    before = local_hub.count()
    hf_env.offline(True)
    assert constants.is_offline_mode()
    _, source = load_model(preset=PRESET)
    assert (source.kind, source.verified) == ("cache", True)
    _, source = load_model(preset=PRESET, offline=True)
    assert source.kind == "cache"
    assert local_hub.count() == before


def test_offline_with_an_empty_cache_is_one_line(hf_env: HubEnv, local_hub: LocalHub, published: str) -> None:
    hf_env.offline(True)
    with pytest.raises(WeightsError, match="not in the Hugging Face cache .* offline mode is on") as info:
        load_model(preset=PRESET)
    assert "\n" not in str(info.value)
    hf_env.offline(False)
    with pytest.raises(WeightsError, match="offline mode is on"):
        load_model(preset=PRESET, offline=True)
    assert local_hub.count() == 0


def test_repo_spec_with_revision_is_unverified(hf_env: HubEnv, local_hub: LocalHub, export: Export) -> None:
    commit = local_hub.add_repo("someone/my-weights", export.files)
    _, source = load_model(f"someone/my-weights@{commit}", preset="saphnet-s")
    assert (source.kind, source.preset, source.revision) == ("download", PRESET, commit)
    assert not source.verified
    assert "unverified" in source.describe()
    before = local_hub.count()
    _, source = load_model("someone/my-weights", revision=commit)
    assert source.kind == "cache" and local_hub.count() == before


def test_tampered_download_is_refused_and_kept_out_of_use(hf_env: HubEnv, local_hub: LocalHub, published: str,
                                                          export: Export) -> None:
    local_hub.repos[REPO].faults[WEIGHTS_NAME] = "tampered"
    with pytest.raises(WeightsError, match="downloaded file .* not the saphnet-test record's") as info:
        load_model(preset=PRESET)
    assert "\n" not in str(info.value) and "left in place, unused" in str(info.value)
    cached = [f for f in local_files(PRESET) if f.kind == "cache"]
    assert len(cached) == 1 and cached[0].state == "mismatch" and cached[0].path.exists()
    hf_env.offline(True)  # later runs find the bad file in the cache and still refuse it
    with pytest.raises(WeightsError, match="sha256"):
        load_model(preset=PRESET)
    with pytest.raises(WeightsError, match="sha256"):
        pull(PRESET)

    hf_env.offline(False)
    local_hub.repos[REPO].faults.clear()
    result = pull(PRESET, force=True)  # a forced pull replaces the bad blob with the good file
    assert result.verified and sha256_file(result.path) == export.sha256
    _, source = load_model(preset=PRESET)
    assert source.kind == "cache" and source.verified


def test_short_download_is_an_error_and_leaves_nothing(hf_env: HubEnv, local_hub: LocalHub,
                                                       published: str) -> None:
    local_hub.repos[REPO].faults[WEIGHTS_NAME] = "short"
    with pytest.raises(WeightsError, match="download of model.safetensors .* failed: Consistency check"):
        load_model(preset=PRESET)
    assert _blobs(hf_env) == []


def test_unknown_repo_revision_and_file(hf_env: HubEnv, local_hub: LocalHub, export: Export) -> None:
    with pytest.raises(WeightsError, match="repository nobody/nothing not found on http://127.0.0.1"):
        load_model("nobody/nothing")
    commit = local_hub.add_repo("someone/partial", {"config.json": export.files["config.json"]})
    with pytest.raises(WeightsError, match="revision 'v9' not found in someone/partial"):
        load_model("someone/partial@v9")
    with pytest.raises(WeightsError, match=f"someone/partial@{commit} has no file model.safetensors"):
        load_model(f"someone/partial@{commit}")


def test_unreachable_hub_is_one_line(hf_env: HubEnv, monkeypatch: pytest.MonkeyPatch, published: str) -> None:
    # huggingface_hub retries a refused connection with backoff (about 23 s of sleeps): skip the waiting.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(constants, "ENDPOINT", dead)
    template = dead + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    with pytest.raises(WeightsError, match="cannot reach the Hub at http://127.0.0.1:.* not in the Hugging"):
        load_model(preset=PRESET)


def test_pull_verifies_and_a_pinned_second_pull_makes_no_request(hf_env: HubEnv, local_hub: LocalHub,
                                                                 published: str, export: Export) -> None:
    result = pull(PRESET)
    assert (result.repo_id, result.revision, result.sha256) == (REPO, published, export.sha256)
    assert result.verified
    before = local_hub.count()
    assert pull(PRESET).path == result.path
    assert local_hub.count() == before  # pinned to a commit and cached: no HEAD, no GET
    other = pull(PRESET, repo_id=REPO, revision="main")  # a branch is checked with HEAD requests only
    assert other.path == result.path and not other.verified
    assert {method for method, _ in local_hub.requests[before:]} == {"HEAD"}
