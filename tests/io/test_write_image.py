"""write_image: formats x modes round trip, metadata carried, atomicity and refusal to overwrite."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from deblur_cli.errors import DiskFullError, ImageWriteError, OutputExistsError
from deblur_cli.io import ImageData, read_image, write_image

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pixels(channels: int, dtype: type, seed: int = 0) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top + 1, (6, 10, channels), dtype=dtype)


def _like() -> ImageData:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 1
    return ImageData(pixels=_pixels(3, np.uint8), format="PNG", bit_depth=8, icc_profile=SRGB_ICC,
                     exif=exif.tobytes())


@pytest.mark.parametrize("ext", [".png", ".tiff"])
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lossless_formats_round_trip_exactly(tmp_path: Path, ext: str, channels: int, dtype: type) -> None:
    pixels = _pixels(channels, dtype)
    written = write_image(tmp_path / f"out{ext}", pixels)
    data = read_image(written)
    assert data.pixels.dtype == dtype and data.bit_depth == np.iinfo(dtype).bits
    np.testing.assert_array_equal(data.pixels, pixels)


def test_webp_lossless_keeps_alpha_and_bmp_is_exact(tmp_path: Path) -> None:
    rgba = _pixels(4, np.uint8)
    webp = write_image(tmp_path / "a.webp", rgba, quality=100)
    np.testing.assert_array_equal(read_image(webp).pixels, rgba)
    rgb = _pixels(3, np.uint8)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "a.bmp", rgb)).pixels, rgb)


def test_jpeg_gray_stays_gray_and_quality_matters(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (32, 1))[:, :, None]
    data = read_image(write_image(tmp_path / "g.jpg", ramp))
    assert data.pixels.shape == (32, 40, 1)
    assert np.abs(data.pixels.astype(int) - ramp).max() <= 3
    noisy = _pixels(3, np.uint8)
    high = (write_image(tmp_path / "hi.jpg", noisy, quality=95)).stat().st_size
    low = (write_image(tmp_path / "lo.jpg", noisy, quality=20)).stat().st_size
    assert high > low


def test_sixteen_bit_into_8_bit_format_is_scaled(tmp_path: Path) -> None:
    pixels = np.full((4, 4, 3), 257 * 200, dtype=np.uint16)
    data = read_image(write_image(tmp_path / "a.bmp", pixels))
    assert data.pixels.dtype == np.uint8 and (data.pixels == 200).all()


def test_float_pixels_use_the_format_depth(tmp_path: Path) -> None:
    pixels = np.full((4, 4, 3), 0.5, dtype=np.float32)
    assert read_image(write_image(tmp_path / "a.png", pixels)).pixels.max() == 32768
    assert read_image(write_image(tmp_path / "a.bmp", pixels)).pixels.max() == 128


def test_jpeg_flattens_alpha_on_white_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, :4, 3] = 255  # left half opaque black, right half fully transparent
    with caplog.at_level(logging.WARNING, logger="deblur_cli.io"):
        data = read_image(write_image(tmp_path / "a.jpg", rgba))
    assert "flattened onto white" in caplog.text
    assert data.channels == 3
    assert data.pixels[:, :2].max() < 20 and data.pixels[:, 6:].min() > 235


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.webp", "a.tiff"])
def test_icc_and_exif_carried_from_like(tmp_path: Path, name: str) -> None:
    data = read_image(write_image(tmp_path / name, _pixels(3, np.uint8), like=_like()))
    assert data.icc_profile == SRGB_ICC
    exif = Image.Exif()
    exif.load(data.exif)
    assert exif[0x010F] == "TestCam"


def test_icc_and_exif_carried_into_16_bit_colour_png(tmp_path: Path) -> None:
    data = read_image(write_image(tmp_path / "a.png", _pixels(3, np.uint16), like=_like()))
    assert data.bit_depth == 16 and data.icc_profile == SRGB_ICC
    exif = Image.Exif()
    exif.load(data.exif)
    assert exif[0x010F] == "TestCam"


def test_existing_output_refused_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError, match="already exists"):
        write_image(target, _pixels(3, np.uint8))
    assert target.read_bytes() == b"old"
    write_image(target, _pixels(3, np.uint8), overwrite=True)
    assert read_image(target).pixels.shape == (6, 10, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_interrupt_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "a.png", _pixels(3, np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_interrupt_keeps_the_old_file_when_overwriting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"old")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(target, _pixels(3, np.uint8), overwrite=True)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_creates_folders_and_uses_normal_permissions(tmp_path: Path) -> None:
    target = write_image(tmp_path / "x" / "y" / "a.png", _pixels(1, np.uint8))
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_format_argument_overrides_extension(tmp_path: Path) -> None:
    target = write_image(tmp_path / "a.img", _pixels(3, np.uint8), format="jpg")
    assert read_image(target).format == "JPEG"


@pytest.mark.parametrize(
    ("pixels", "kwargs", "match"),
    [
        (np.zeros((4, 4, 2), np.uint8), {}, "H x W x C"),
        (np.zeros((4, 4, 3), np.int32), {}, "uint8, uint16 or float"),
        (np.zeros((4, 4, 3), np.uint8), {"quality": 0}, "quality"),
        (np.zeros((4, 4, 3), np.uint8), {"format": "gif"}, "unknown image format"),
    ],
)
def test_bad_arguments_raise_value_error(
    tmp_path: Path, pixels: np.ndarray, kwargs: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        write_image(tmp_path / "a.png", pixels, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("code", "error"), [(errno.ENOSPC, DiskFullError), (errno.EIO, ImageWriteError)])
def test_a_full_disk_is_its_own_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, error: type
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(error, match="a.png: cannot write") as info:
        write_image(tmp_path / "a.png", _pixels(3, np.uint8))
    assert isinstance(info.value, DiskFullError) == (code == errno.ENOSPC)
    assert list(tmp_path.iterdir()) == []
