"""Fuzzing read_image: mutated PNG, JPEG, TIFF, WebP and BMP files are either read or refused with the
project's own error (DeblurError), never another exception, a raw warning or a hang."""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from deblur_cli.errors import DeblurError
from deblur_cli.io import read_image

SEED = 20240526
MUTANTS_PER_SEED = 40
SECONDS_PER_FILE = 5


@functools.cache
def _seeds() -> dict[str, bytes]:
    """Small valid files of every format and the modes the reader treats differently."""
    rng = np.random.default_rng(SEED)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    seeds: dict[str, bytes] = {}
    for name, image, fmt, options in [
        ("rgb.png", Image.fromarray(rgb), "PNG", {}),
        ("la.png", Image.fromarray(rgb).convert("LA"), "PNG", {}),
        ("p.png", Image.fromarray(rgb).convert("P"), "PNG", {"transparency": 0}),
        ("rgb.jpg", Image.fromarray(rgb), "JPEG", {"exif": _exif()}),
        ("rgb.tif", Image.fromarray(rgb), "TIFF", {"compression": "tiff_adobe_deflate"}),
        ("rgba.webp", Image.fromarray(rgb).convert("RGBA"), "WEBP", {"lossless": True}),
        ("rgb.bmp", Image.fromarray(rgb), "BMP", {}),
    ]:
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        seeds[name] = buffer.getvalue()
    deep = rng.integers(0, 65536, (12, 16, 3), dtype=np.uint16)
    for ext in (".png", ".tif"):  # 16-bit colour goes through OpenCV, not Pillow
        ok, encoded = cv2.imencode(ext, deep)
        assert ok
        seeds[f"deep{ext}"] = encoded.tobytes()
    example = Path(__file__).resolve().parents[2] / "examples" / "scene_sharp.png"
    if example.is_file():  # a real photo's PNG, as the project ships it
        seeds[example.name] = example.read_bytes()
    return seeds


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "FuzzCam"
    return exif.tobytes()


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to four random edits: flipped bytes, a cut, an inserted or deleted run, a repeated run."""
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(0, 5))
        at = int(rng.integers(0, max(1, len(out))))
        if kind == 0:
            for _ in range(int(rng.integers(1, 9))):
                out[int(rng.integers(0, len(out)))] = int(rng.integers(0, 256))
        elif kind == 1:
            del out[at:]
        elif kind == 2:
            out[at:at] = rng.integers(0, 256, int(rng.integers(1, 32)), dtype=np.uint8).tobytes()
        elif kind == 3:
            del out[at : at + int(rng.integers(1, 32))]
        else:
            out[at:at] = out[at : at + int(rng.integers(1, 64))]
        if not out:
            break
    return bytes(out)


@pytest.mark.parametrize("name", sorted(_seeds()))
def test_mutated_files_are_read_or_refused_with_our_error(tmp_path: Path, name: str, deadline) -> None:
    seed = _seeds()[name]
    rng = np.random.default_rng([SEED, sum(name.encode())])
    outcomes = {"read": 0, "refused": 0}
    for index in range(MUTANTS_PER_SEED):
        path = tmp_path / f"{index}{Path(name).suffix}"
        path.write_bytes(_mutate(seed, rng))
        with deadline(SECONDS_PER_FILE), warnings.catch_warnings():
            warnings.simplefilter("error")  # a decoder's raw warning must not reach the user either
            try:
                data = read_image(path)
            except DeblurError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc)
                outcomes["refused"] += 1
                continue
        assert data.pixels.ndim == 3 and data.pixels.shape[2] in (1, 3, 4)
        assert data.pixels.dtype in (np.uint8, np.uint16)
        outcomes["read"] += 1
    assert outcomes["refused"] > 0  # the mutations really do break files
