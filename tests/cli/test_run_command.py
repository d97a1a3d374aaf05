"""`deblur run` end to end through Typer's CliRunner, on small images made here, with the tiny preset."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms
from typer.testing import CliRunner, Result

from deblur_cli.cli import app, with_default_command
from deblur_cli.io import read_image

TEST_MODEL = ("--model", "saphnet-test")
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def deblur(*args: object) -> Result:
    """Run the CLI as `deblur ARGS...` would (including the implicit `run`)."""
    return CliRunner().invoke(app, with_default_command([str(a) for a in args]))


def _rgb(path: Path, h: int = 40, w: int = 56, seed: int = 0, **save: object) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **save)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_single_photo_without_subcommand(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "photo.png")
    before = _digest(photo)
    result = deblur(photo, *TEST_MODEL)
    assert result.exit_code == 0, result.output
    out = tmp_path / "photo_deblurred.png"
    assert f"wrote {out}" in result.stdout
    assert "UNTRAINED" in result.stderr
    data = read_image(out)
    assert data.pixels.shape == (40, 56, 3) and data.pixels.dtype == np.uint8
    assert _digest(photo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "photo_deblurred.png"]


def test_folder_to_output_dir_mirrors_tree_and_recursive(tmp_path: Path) -> None:
    src = tmp_path / "in"
    _rgb(src / "a.png")
    _rgb(src / "sub" / "b.jpg", seed=1)
    flat = deblur("run", src, "-o", tmp_path / "flat", *TEST_MODEL, "-q")
    assert flat.exit_code == 0, flat.output
    assert [p.relative_to(tmp_path / "flat").as_posix() for p in sorted((tmp_path / "flat").rglob("*"))] == [
        "a.png"]
    deep = deblur("run", src, "-o", tmp_path / "deep", "--recursive", *TEST_MODEL)
    assert deep.exit_code == 0, deep.output
    assert read_image(tmp_path / "deep" / "sub" / "b.jpg").format == "JPEG"
    assert (tmp_path / "deep" / "a.png").is_file()
    assert "2 done, 0 skipped, 0 failed" in deep.stdout


def test_suffix_and_format(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    result = deblur("run", photo, "--suffix", "_sharp", "--format", "jpg", "--quality", "90", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "p_sharp.jpg").format == "JPEG"


def test_output_file_for_one_photo(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    result = deblur("run", photo, "-o", tmp_path / "result.webp", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "result.webp").format == "WEBP"


def test_bit_depth_channels_alpha_orientation_and_icc_survive(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(3)
    rgb16 = rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16)
    cv2.imwrite(str(src / "deep16.png"), rgb16[:, :, ::-1])
    gray16 = rng.integers(0, 65536, (40, 56), dtype=np.uint16)
    cv2.imwrite(str(src / "gray16.tif"), gray16)
    Image.fromarray(rng.integers(0, 256, (40, 56), dtype=np.uint8)).save(src / "gray.png")
    rgba = rng.integers(0, 256, (40, 56, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(src / "alpha.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    exif[0x010F] = "TestCam"
    _rgb(src / "turned.jpg", icc_profile=SRGB_ICC, exif=exif.tobytes())

    result = deblur("run", src, "-o", tmp_path / "out", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    deep = read_image(out / "deep16.png")
    assert deep.pixels.dtype == np.uint16 and deep.bit_depth == 16 and deep.channels == 3
    assert len(np.unique(deep.pixels)) > 256  # really 16-bit data, not 8-bit values scaled up
    gray_deep = read_image(out / "gray16.tif")
    assert gray_deep.pixels.shape == (40, 56, 1) and gray_deep.pixels.dtype == np.uint16
    assert read_image(out / "gray.png").pixels.shape == (40, 56, 1)
    alpha = read_image(out / "alpha.png")
    np.testing.assert_array_equal(alpha.pixels[:, :, 3], rgba[:, :, 3])
    turned = read_image(out / "turned.jpg")
    assert turned.pixels.shape == (56, 40, 3) and turned.icc_profile == SRGB_ICC
    carried = Image.Exif()
    carried.load(turned.exif)
    assert carried[0x0112] == 1 and carried[0x010F] == "TestCam"


def test_existing_output_refused_overwritten_or_skipped(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    existing = tmp_path / "p_deblurred.png"
    existing.write_bytes(b"mine")
    refused = deblur("run", photo, *TEST_MODEL)
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    assert existing.read_bytes() == b"mine"
    skipped = deblur("run", photo, "--skip-existing", *TEST_MODEL)
    assert skipped.exit_code == 0 and "0 done, 1 skipped, 0 failed" in skipped.stdout
    assert existing.read_bytes() == b"mine"
    replaced = deblur("run", photo, "--overwrite", *TEST_MODEL)
    assert replaced.exit_code == 0, replaced.output
    assert read_image(existing).pixels.shape == (40, 56, 3)


def test_input_is_never_written(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    before = _digest(photo)
    same_dir = deblur("run", photo, "-o", tmp_path, *TEST_MODEL)
    assert same_dir.exit_code == 1 and "overwrite the input" in same_dir.stderr
    same_file = deblur("run", photo, "-o", photo, "--overwrite", *TEST_MODEL)
    assert same_file.exit_code == 1 and "overwrite the input" in same_file.stderr
    assert _digest(photo) == before and [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_corrupt_file_in_batch_others_done_summary_exit_1(tmp_path: Path) -> None:
    _rgb(tmp_path / "a.png")
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((40, 56, 3), np.uint8)).save(buffer, "PNG")
    (tmp_path / "b.png").write_bytes(buffer.getvalue()[:60])
    (tmp_path / "c.jpg").write_text("not a photo")
    _rgb(tmp_path / "d.png", seed=2)
    result = deblur("run", tmp_path, *TEST_MODEL)
    assert result.exit_code == 1
    assert (tmp_path / "a_deblurred.png").is_file() and (tmp_path / "d_deblurred.png").is_file()
    assert not (tmp_path / "b_deblurred.png").exists() and not (tmp_path / "c_deblurred.jpg").exists()
    assert "2 done, 0 skipped, 2 failed" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "b.png" in errors[0] and "c.jpg" in errors[1]


def test_ctrl_c_stops_cleanly_without_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = _rgb(tmp_path / "p.png")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)  # Ctrl-C arriving while the result is being written
    result = deblur("run", photo, *TEST_MODEL)
    assert result.exit_code == 130 and "no partial file" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_tiled_run_keeps_shape(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png", h=72, w=90)
    result = deblur("run", photo, "--tile", "32", "--tile-overlap", "8", "--device", "cpu",
                    "--precision", "fp32", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert read_image(tmp_path / "p_deblurred.png").pixels.shape == (72, 90, 3)


@pytest.mark.parametrize(
    "args",
    [
        ("--model", "no-such-model"),
        ("--tile", "big"),
        ("--precision", "fp8"),
        ("--viz", "heatmap,nonsense"),
        ("--skip-existing", "--overwrite"),
        ("--suffix", ""),
        ("--quality", "0"),
        ("--ensemble", "3"),
        ("--no-such-option",),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    photo = _rgb(tmp_path / "p.png")
    result = deblur("run", photo, *args)
    assert result.exit_code == 2, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]


@pytest.mark.parametrize("workers", ["0", "cpu:", "cpu:0", "gpu", "-1"])
def test_bad_workers_value_is_bad_usage(tmp_path: Path, workers: str) -> None:
    result = deblur("run", tmp_path, "--cluster", "local", "--workers", workers)
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_empty_folder_is_bad_usage(tmp_path: Path) -> None:
    result = deblur("run", tmp_path, *TEST_MODEL)
    assert result.exit_code == 2 and "no images found" in result.output


def test_python_m_entry_point(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "deblur_cli", str(photo), *TEST_MODEL, "-q"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert read_image(tmp_path / "p_deblurred.png").pixels.shape == (40, 56, 3)


def test_viz_writes_the_requested_views_beside_the_result(tmp_path: Path) -> None:
    photo = _rgb(tmp_path / "p.png")
    result = deblur("run", photo, "--viz", "heatmap,compare", *TEST_MODEL)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p.png", "p_deblurred.compare.png", "p_deblurred.heatmap.png", "p_deblurred.png"]
    again = deblur("run", tmp_path, "--skip-existing", *TEST_MODEL)  # outputs are not taken as inputs
    assert again.exit_code == 0 and "0 done, 4 skipped, 0 failed" in again.stdout
    assert again.stdout.count(f"a result of {photo}") == 3
