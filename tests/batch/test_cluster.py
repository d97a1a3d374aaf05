"""`deblur run --cluster`: a Ray cluster started here (2 CPUs, once for the module) restores a generated
folder tree with one broken file exactly as a local run does, and survives a worker lost mid-run."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner, Result

from deblur_cli.batch.cluster_worker import CRASH_HOOK
from deblur_cli.cli import app, with_default_command


def deblur(*args: object) -> Result:
    return CliRunner().invoke(app, with_default_command([str(a) for a in args]))


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)  # the local reference run, like each 1-core worker


@pytest.fixture(scope="module")
def crash_trigger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Ray cluster for this module; its workers see the crash hook, armed by writing a photo's name to
    the returned path."""
    ray = pytest.importorskip("ray")
    trigger = tmp_path_factory.mktemp("hook") / "crash-after"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {CRASH_HOOK: str(trigger), "OMP_NUM_THREADS": "1"}})
    yield trigger
    ray.shutdown()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Photos in a folder and a subfolder (8- and 16-bit, grey, JPEG) and one truncated PNG."""
    root = tmp_path_factory.mktemp("photos")
    (root / "sub").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).save(root / "a.png")
    Image.fromarray(rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)).save(root / "b.jpg", quality=92)
    cv2.imwrite(str(root / "sub" / "deep.png"), rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16))
    Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(root / "sub" / "grey.png")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root


@pytest.fixture(scope="module")
def local_run(tree: Path, weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tree restored by a plain local run: the reference outputs."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("local")
    result = deblur("run", tree, "-r", "-o", out, "-m", "saphnet-test", "-w", weights, "--device", "cpu")
    assert result.exit_code == 1, result.output
    return out


def _files(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones included) by relative path, with its content's digest."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _on_cluster(tree: Path, out: Path, weights: Path, *extra: object) -> Result:
    return deblur("run", tree, "-r", "-o", out, "-m", "saphnet-test", "-w", weights, "--cluster", "auto",
                  "--workers", "2", *extra)


def test_cluster_run_equals_a_local_run_even_when_a_worker_is_lost(
        crash_trigger: Path, tree: Path, weights: Path, local_run: Path, tmp_path: Path) -> None:
    crash_trigger.write_text("sub/deep.png")  # its worker dies after writing it; Ray retries the photo
    out = tmp_path / "out"
    result = _on_cluster(tree, out, weights)
    assert not crash_trigger.exists(), "the crash hook did not fire"
    assert result.exit_code == 1, result.output
    assert "4 done, 0 skipped, 1 failed" in result.stdout  # the retry found deep.png written: not an error
    assert "photos/s on 2 1-core workers" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(tree / "sub" / "broken.png") in errors[0]
    assert _files(out) == _files(local_run) and len(_files(out)) == 4  # complete, no temp file beside them


def test_a_rerun_with_skip_existing_writes_nothing(
        crash_trigger: Path, tree: Path, weights: Path, local_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(local_run, out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = _on_cluster(tree, out, weights, "--skip-existing")
    assert again.exit_code == 1, again.output
    assert "0 done, 4 skipped, 1 failed" in again.stdout  # only the broken photo is tried again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_without_ray_cluster_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(np.zeros((40, 56, 3), np.uint8)).save(tmp_path / "p.png")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    result = deblur("run", tmp_path / "p.png", "-o", tmp_path / "out", "-m", "saphnet-test",
                    "--cluster", "local")
    assert result.exit_code == 1
    assert "pip install 'deblur-cli[ray]'" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()
