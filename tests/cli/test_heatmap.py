"""`deblur heatmap` end to end through Typer's CliRunner, on small images made here, with the tiny preset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner, Result

from deblur_cli.cli import app

TEST_MODEL = ("--model", "saphnet-test", "--device", "cpu")
FIGURES = ("heatmap", "sampled", "attention", "offsets")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def deblur(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def _photo(path: Path, h: int = 40, w: int = 56, mode: str = "RGB") -> Path:
    rng = np.random.default_rng(0)
    shape = (h, w) if mode == "L" else (h, w, len(mode))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


def test_writes_the_four_figures_and_raw_maps(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "in" / "shot.png")
    out = tmp_path / "figs"
    result = deblur("heatmap", photo, "-o", out, "--raw", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"shot.{v}.png" for v in FIGURES] + ["shot.maps.npz"])
    for view in FIGURES:
        with Image.open(out / f"shot.{view}.png") as im:
            im.load()
            assert im.format == "PNG" and im.mode == "RGB"
            assert im.width > 56 and im.height >= 40  # the photo's panel plus legend / colour bar
    with Image.open(out / "shot.heatmap.png") as im:
        assert im.height == max(40, im.height)
    with np.load(out / "shot.maps.npz") as raw:
        cells = (-(-40 // 8), -(-56 // 8))  # saphnet-test: 8-pixel cells, 3 stages
        assert raw["difficulty"].shape == (2, *cells)
        assert raw["chosen"].shape == (2, *cells) and raw["chosen"].dtype == bool
        assert np.all((raw["difficulty"] >= 0) & (raw["difficulty"] <= 1))
        assert any(k.startswith("attention/") for k in raw.files)
        assert any(k.startswith("offsets/") for k in raw.files)
    assert "shot.heatmap.png" in result.stdout


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def test_ensemble_changes_the_compared_result_not_the_maps(tmp_path: Path, weights: Path) -> None:
    photo = _photo(tmp_path / "shot.png", 48, 64)
    figures = {}
    for passes in ("1", "2"):
        out = tmp_path / passes
        result = deblur("heatmap", photo, "-o", out, "--compare", "--raw", "--ensemble", passes,
                        "-w", weights, "--device", "cpu")
        assert result.exit_code == 0, result.output
        figures[passes] = {name: _pixels(out / f"shot.{name}.png") for name in ("heatmap", "compare")}
        with np.load(out / "shot.maps.npz") as raw:
            figures[passes]["difficulty"] = raw["difficulty"]
    assert np.array_equal(figures["1"]["heatmap"], figures["2"]["heatmap"])
    assert np.array_equal(figures["1"]["difficulty"], figures["2"]["difficulty"])
    assert not np.array_equal(figures["1"]["compare"], figures["2"]["compare"])
    assert deblur("heatmap", photo, "-o", tmp_path / "3", "--ensemble", "3", *TEST_MODEL).exit_code == 2


def test_batch_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _photo(folder / "good.png")
    _photo(folder / "sub" / "gray.png", 24, 30, mode="L")
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "figs"
    result = deblur("heatmap", folder, "-o", out, "--recursive", "--compare", "--stage", "3", *TEST_MODEL)
    assert result.exit_code == 1
    assert "broken.png" in result.stderr and result.stderr.count("error:") == 1
    assert {p.name for p in out.iterdir() if p.is_file()} == {f"good.{v}.png" for v in (*FIGURES, "compare")}
    with Image.open(out / "sub" / "gray.heatmap.png") as im:
        assert im.mode == "RGB" and im.width > 30
    assert "2 done, 1 failed" in result.stdout


def test_existing_figures_are_kept_unless_overwrite(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "shot.png")
    out = tmp_path / "figs"
    out.mkdir()
    (out / "shot.offsets.png").write_bytes(b"keep")
    result = deblur("heatmap", photo, "-o", out, *TEST_MODEL)
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    assert (out / "shot.offsets.png").read_bytes() == b"keep" and not (out / "shot.heatmap.png").exists()
    result = deblur("heatmap", photo, "-o", out, "--overwrite", "-q", *TEST_MODEL)
    assert result.exit_code == 0 and result.stdout == ""
    assert (out / "shot.offsets.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_stage_and_capm_fail_per_photo(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "shot.png")
    result = deblur("heatmap", photo, "-o", tmp_path / "a", "--stage", "9", *TEST_MODEL)
    assert result.exit_code == 1 and "stage must be between 2 and 3" in result.stderr
    result = deblur("heatmap", photo, "-o", tmp_path / "b", "--capm", "no.such.capm", *TEST_MODEL)
    assert result.exit_code == 1 and "no single recorded map" in result.stderr


def test_a_device_list_is_bad_usage(tmp_path: Path) -> None:
    photo = _photo(tmp_path / "shot.png")
    result = deblur("heatmap", photo, "-o", tmp_path / "maps", "--device", "cpu,cpu", *TEST_MODEL[:2])
    assert result.exit_code == 2 and not (tmp_path / "maps").exists()
    flat = " ".join(result.output.replace("│", " ").split())  # Typer's box around usage errors removed
    assert "only `deblur run` spreads photos over devices" in flat


def test_no_images_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = deblur("heatmap", tmp_path / "empty", "-o", tmp_path / "figs", *TEST_MODEL)
    assert result.exit_code == 2
