"""read_image: bit depth, channels, orientation, metadata and one-line errors, on files made here."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from deblur_cli.errors import ImageReadError, ImageSizeError
from deblur_cli.io import read_image, write_image
from deblur_cli.io.png_chunks import add_png_metadata

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _rgb8(h: int = 6, w: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _rgb16(h: int = 6, w: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, (h, w, 3), dtype=np.uint16)


def test_rgb8_png_reads_exactly(tmp_path: Path) -> None:
    pixels = _rgb8()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    data = read_image(tmp_path / "a.png")
    assert data.format == "PNG" and data.bit_depth == 8 and data.pixels.dtype == np.uint8
    np.testing.assert_array_equal(data.pixels, pixels)
    assert (data.height, data.width, data.channels) == (6, 10, 3)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_rgb16_stays_16_bit_in_rgb_order(tmp_path: Path, ext: str) -> None:
    pixels = _rgb16()
    cv2.imwrite(str(tmp_path / f"a{ext}"), pixels[:, :, ::-1])
    data = read_image(tmp_path / f"a{ext}")
    assert data.bit_depth == 16 and data.pixels.dtype == np.uint16
    np.testing.assert_array_equal(data.pixels, pixels)


def test_rgba16_png_keeps_alpha(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 65536, (5, 7, 4), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA))
    np.testing.assert_array_equal(read_image(tmp_path / "a.png").pixels, pixels)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_gray16_is_one_channel_uint16(tmp_path: Path, ext: str) -> None:
    gray = np.random.default_rng(2).integers(0, 65536, (6, 10), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / f"g{ext}"), gray)
    data = read_image(tmp_path / f"g{ext}")
    assert data.pixels.shape == (6, 10, 1) and data.bit_depth == 16
    np.testing.assert_array_equal(data.pixels[:, :, 0], gray)


def test_gray8_and_rgba8(tmp_path: Path) -> None:
    gray = _rgb8()[:, :, 0]
    Image.fromarray(gray).save(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png").pixels.shape == (6, 10, 1)
    rgba = np.random.default_rng(3).integers(0, 256, (6, 10, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png").pixels, rgba)


def test_palette_with_transparency_becomes_rgba_and_bilevel_becomes_gray(tmp_path: Path) -> None:
    pal = Image.fromarray(_rgb8()).convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "p.png", transparency=0)
    assert read_image(tmp_path / "p.png").channels == 4
    Image.fromarray(_rgb8()[:, :, 0] > 128).save(tmp_path / "b.png")
    data = read_image(tmp_path / "b.png")
    assert data.channels == 1 and set(np.unique(data.pixels)) <= {0, 255}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_like_pillow_and_reset(tmp_path: Path, orientation: int) -> None:
    image = Image.fromarray(_rgb8(4, 7))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    image.save(tmp_path / "o.png", exif=exif.tobytes())
    data = read_image(tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as im:
        expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(data.pixels, expected)
    carried = Image.Exif()
    carried.load(data.exif)
    assert carried[0x0112] == 1 and carried[0x010F] == "TestCam"


def test_orientation_applied_on_16_bit_path(tmp_path: Path) -> None:
    pixels = _rgb16(4, 7)
    exif = Image.Exif()
    exif[0x0112] = 6
    ok, png = cv2.imencode(".png", pixels[:, :, ::-1])
    assert ok
    tagged = add_png_metadata(png.tobytes(), icc_profile=SRGB_ICC, exif=exif.tobytes())
    (tmp_path / "o.png").write_bytes(tagged)
    data = read_image(tmp_path / "o.png")
    np.testing.assert_array_equal(data.pixels, np.rot90(pixels, k=-1))
    assert data.icc_profile == SRGB_ICC and data.bit_depth == 16


def test_icc_profile_read(tmp_path: Path) -> None:
    Image.fromarray(_rgb8()).save(tmp_path / "c.jpg", icc_profile=SRGB_ICC)
    data = read_image(tmp_path / "c.jpg")
    assert data.icc_profile == SRGB_ICC and data.format == "JPEG" and data.exif is None


def test_tiff_layout_tags_are_not_carried_as_exif(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "TiffCam"
    Image.fromarray(_rgb8()).save(tmp_path / "t.tif", exif=exif)
    carried = Image.Exif()
    carried.load(read_image(tmp_path / "t.tif").exif)
    assert carried[0x010F] == "TiffCam"
    assert 273 not in carried and 256 not in carried  # StripOffsets, ImageWidth


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP", "BMP"])
def test_truncated_file_raises_one_line_naming_it(tmp_path: Path, fmt: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(_rgb8(40, 56)).save(buffer, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_not_an_image_missing_and_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(tmp_path / "notes.png")
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)


def test_unsupported_mode_and_format(tmp_path: Path) -> None:
    Image.fromarray(_rgb8()).convert("CMYK").save(tmp_path / "c.tif")
    with pytest.raises(ImageReadError, match="unsupported image mode CMYK"):
        read_image(tmp_path / "c.tif")
    Image.fromarray(_rgb8()).save(tmp_path / "g.gif")
    with pytest.raises(ImageReadError, match="GIF images are not supported"):
        read_image(tmp_path / "g.gif")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, deadline) -> None:
    os.mkfifo(tmp_path / "b.png")
    with deadline(5), pytest.raises(ImageReadError, match="FIFO, not a regular file"):
        read_image(tmp_path / "b.png")


def test_an_unreadable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(_rgb8()).save(tmp_path / "locked.png")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked.png"))

    monkeypatch.setattr(Image, "open", denied)  # chmod 000 does not stop root, who runs CI here
    with pytest.raises(ImageReadError, match=r"locked.png: not readable \(permission denied\)$"):
        read_image(tmp_path / "locked.png")


def _frames(path: Path, count: int, **save: object) -> Path:
    frames = [Image.fromarray(_rgb8(seed=i)) for i in range(count)]
    frames[0].save(path, save_all=True, append_images=frames[1:], **save)
    return path


@pytest.mark.parametrize("name", ["anim.png", "anim.webp", "pages.tif"])
def test_multi_frame_files_are_refused_not_cut_to_their_first_frame(tmp_path: Path, name: str) -> None:
    path = _frames(tmp_path / name, 3)
    with pytest.raises(ImageReadError, match="has 3 frames"):
        read_image(path)
    single = _frames(tmp_path / f"one-{name}", 1)
    assert read_image(single).pixels.shape == (6, 10, 3)


def test_grey_alpha_stays_grey_alpha(tmp_path: Path) -> None:
    la = np.random.default_rng(5).integers(0, 256, (6, 10, 2), dtype=np.uint8)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    data = read_image(tmp_path / "la.png")
    assert data.grey_alpha and data.channels == 4
    np.testing.assert_array_equal(data.pixels[:, :, 3], la[:, :, 1])
    for ext in ("png", "tif"):
        written = write_image(tmp_path / f"out.{ext}", data.pixels, like=data)
        with Image.open(written) as im:
            assert im.mode == "LA"
            np.testing.assert_array_equal(np.asarray(im), la)


def test_large_images_give_no_pillow_warning_and_max_pixels_refuses_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image.fromarray(_rgb8(40, 56)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1500)  # 40 x 56 is over it, under twice it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(tmp_path / "big.png").pixels.shape == (40, 56, 3)
    with pytest.raises(ImageSizeError, match="more than the limit of 0.002 MP"):
        read_image(tmp_path / "big.png", max_pixels=2000)
