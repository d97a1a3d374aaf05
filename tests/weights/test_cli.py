"""`deblur weights ...` end to end against a local Hub on 127.0.0.1. Runs that must prove the HF_* variables
are honoured are fresh processes with them set in the real environment; the rest use CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from deblur_cli.cli import app

from .conftest import PRESET, REPO, Export, HubEnv
from .hub_server import LocalHub

DRIVER = Path(__file__).with_name("cli_driver.py")


def deblur(env: HubEnv, *args: str, record: dict | None = None) -> subprocess.CompletedProcess[str]:
    """Run `deblur ARGS` in a subprocess under `env`, with the saphnet-test record changed by `record`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))} | env.env
    return subprocess.run([sys.executable, str(DRIVER), json.dumps(record or {}), *args], env=environ,
                          capture_output=True, text=True, timeout=120)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line_error(code: int, stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert code == 1, stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def test_pull_into_the_env_cache_then_offline_again(hf_env: HubEnv, local_hub: LocalHub,
                                                    export: Export) -> None:
    commit = local_hub.add_repo(REPO, export.files)
    record = {"repo_id": REPO, "revision": commit, "sha256": export.sha256}
    first = deblur(hf_env, "weights", "pull", PRESET, record=record)
    assert first.returncode == 0, first.stderr
    assert f"downloaded {REPO}@{commit}" in first.stdout and "sha256 verified" in first.stdout
    assert ("GET", f"/{REPO}/resolve/{commit}/model.safetensors") in local_hub.requests
    assert list(hf_env.cache.glob("models--test-org--saphnet-test/snapshots/*/README.md"))
    before = local_hub.count()
    hf_env.offline(True)
    again = deblur(hf_env, "weights", "pull", PRESET, record=record)
    assert again.returncode == 0 and "sha256 verified" in again.stdout, again.stderr
    assert "already in the cache" in again.stdout and "downloaded" not in again.stdout
    assert local_hub.count() == before


def test_offline_with_an_empty_cache_fails_in_one_line(hf_env: HubEnv, local_hub: LocalHub,
                                                        export: Export) -> None:
    commit = local_hub.add_repo(REPO, export.files)
    hf_env.offline(True)
    record = {"repo_id": REPO, "revision": commit, "sha256": export.sha256}
    result = deblur(hf_env, "weights", "pull", PRESET, record=record)
    assert "offline mode is on" in one_line_error(result.returncode, result.stderr)
    assert local_hub.count() == 0


def test_push_without_a_token_fails_in_one_line(hf_env: HubEnv, export: Export) -> None:
    result = deblur(hf_env, "weights", "push", PRESET, "--repo", "test-org/x", "--folder", str(export.folder))
    assert "needs a Hugging Face token" in one_line_error(result.returncode, result.stderr)


def test_list_and_verify_after_a_pull(hf_env: HubEnv, local_hub: LocalHub, published: str,
                                      export: Export) -> None:
    row = next(line for line in invoke("weights", "list", "--all").stdout.splitlines() if PRESET in line)
    assert "download" in row and "recorded" in row
    assert invoke("weights", "verify", PRESET).exit_code == 1  # nothing to verify yet
    assert invoke("weights", "pull", PRESET).exit_code == 0
    before = local_hub.count()
    row = next(line for line in invoke("weights", "list", "--all").stdout.splitlines() if PRESET in line)
    assert "cache" in row and "ok" in row and "KiB" in row
    verify = invoke("weights", "verify", PRESET)
    assert verify.exit_code == 0 and f"cache\tok\t{export.sha256}" in verify.stdout
    assert local_hub.count() == before  # list and verify never use the network


def test_tampered_pull_fails_and_verify_flags_it(hf_env: HubEnv, local_hub: LocalHub, published: str) -> None:
    local_hub.repos[REPO].faults["model.safetensors"] = "tampered"
    pulled = invoke("weights", "pull", PRESET)
    line = one_line_error(pulled.exit_code, pulled.stderr)
    assert "sha256" in line and "left in place, unused" in line
    verify = invoke("weights", "verify")
    assert verify.exit_code == 1 and f"{PRESET}\tcache\tmismatch" in verify.stdout
    assert "1 file(s) do not match" in verify.stderr
    row = next(line for line in invoke("weights", "list", "--all").stdout.splitlines() if PRESET in line)
    assert "refused" in row and "mismatch" in row


def test_unknown_repo_fails_in_one_line(hf_env: HubEnv, local_hub: LocalHub) -> None:
    result = invoke("weights", "pull", PRESET, "--repo", "nobody/nothing")
    line = one_line_error(result.exit_code, result.stderr)
    assert f"repository nobody/nothing not found on {local_hub.url}" in line


def test_weights_group_is_registered_and_bad_usage_exits_2() -> None:
    result = invoke("weights", "--help")
    assert result.exit_code == 0 and all(cmd in result.output for cmd in ("list", "pull", "verify", "push"))
    assert invoke("weights", "pull", "saphnet-xl").exit_code == 2
    assert invoke("weights", "push", PRESET).exit_code == 2  # --repo is required
