"""The wheel as a user gets it: built from this checkout, installed into a fresh virtual environment, and run
offline from a folder outside the checkout. It must deblur with the weights it carries.

The fresh environment gets no torch of its own (gigabytes): a `.pth` line puts this environment's
site-packages after its own on sys.path, for the dependencies only. Lines of a `.pth` file add folders; the
`.pth` files inside those folders (such as this checkout's editable-install hook) are not run, so
`deblur_cli` can only come from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import deblur_cli
from deblur_cli.model import DEFAULT_PRESET, list_presets
from deblur_cli.weights import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "deblur_cli", "weights")
"""What the build reads: the project's metadata, the package and the shipped weights."""


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, check=False,
                          **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel . --no-deps` on a copy of the checkout (the build writes build/ and egg-info beside it)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: the test extra installs setuptools, so the build needs no network.
    built = _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                  "-w", out], cwd=source)
    assert built.returncode == 0, built.stdout + built.stderr
    return next(out.glob("deblur_cli-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel, with this environment's packages behind it for the dependencies."""
    env = tmp_path_factory.mktemp("venv") / "env"
    made = _run([sys.executable, "-m", "venv", "--without-pip", env])
    assert made.returncode == 0, made.stderr
    python = env / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                      "-q", wheel])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_path(kind) for kind in ("purelib", "platlib"))
    (site / "dependencies_from_the_test_env.pth").write_text("".join(f"{path}\n" for path in ours))
    return env


def test_the_wheel_holds_every_module_and_the_shipped_weights(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "deblur_cli").rglob("*.py")}
    assert modules <= names, f"add their packages to pyproject.toml: {sorted(modules - names)}"
    for preset in list_presets():
        for name in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME):
            assert f"deblur_cli/weights_data/{preset}/{name}" in names
    assert f"deblur_cli-{deblur_cli.__version__}.dist-info/METADATA" in names
    assert wheel.stat().st_size < 40 * 2**20  # fp16 weights keep the wheel small


def test_installed_wheel_deblurs_offline_from_another_folder(venv: Path, tmp_path: Path) -> None:
    python, deblur = venv / "bin" / "python", venv / "bin" / "deblur"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    found = "import importlib.util; print(importlib.util.find_spec('deblur_cli').origin)"  # without importing
    where = _run([python, "-c", found], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), "deblur_cli must come from the wheel"

    elsewhere = tmp_path / "photos"
    elsewhere.mkdir()
    rng = np.random.default_rng(0)
    photo = np.clip(np.linspace(0, 255, 96)[None, :, None] + rng.normal(0, 20, (64, 96, 3)), 0, 255)
    Image.fromarray(photo.astype(np.uint8)).save(elsewhere / "photo.png")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    environ |= {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "OMP_NUM_THREADS": "1",
                "COLUMNS": "500"}  # log lines unwrapped
    result = _run([deblur, "photo.png", "-o", "sharp", "-v"], cwd=elsewhere, env=environ)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = list((elsewhere / "sharp").iterdir())
    assert len(outputs) == 1 and Image.open(outputs[0]).size == (96, 64)
    bundled = site / "deblur_cli" / "weights_data" / DEFAULT_PRESET / WEIGHTS_NAME
    assert f"bundled {bundled} (sha256 verified)" in result.stderr, result.stderr
    assert not (tmp_path / "hf_home").exists()  # nothing was fetched or cached
