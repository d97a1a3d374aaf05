"""Writing a result image atomically, keeping its bit depth, channels, alpha, ICC profile and EXIF."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..errors import DiskFullError, ImageWriteError, OutputExistsError
from .formats import SIXTEEN_BIT_FORMATS, format_for_path, normalise_format
from .png_chunks import add_png_metadata
from .reader import ImageData

logger = logging.getLogger(__name__)

_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def write_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    like: ImageData | None = None,
    format: str | None = None,
    quality: int = 95,
    overwrite: bool = False,
) -> Path:
    """Write `pixels` (H x W [x C], C in 1/3/4) to `path` atomically and return the path written.

    The format comes from `format` ("png", "jpg", "tiff", "webp", "bmp") or else from the extension.
    uint16 stays 16-bit in PNG and TIFF and becomes 8-bit elsewhere; float arrays are read as [0, 1] and
    written at 16 bits where the format allows, else 8. Grayscale stays grayscale (WebP, which has none,
    gets RGB), and so does 8-bit grey + alpha read from such a file (`like.grey_alpha`). Alpha is kept,
    except in JPEG, where the image is flattened onto white with a logged warning. JPEG and WebP use
    `quality` (WebP at 100 is lossless). ICC profile and EXIF come from `like`. The bytes go to a temp
    file in the same folder, are fsynced and renamed over `path`, so no partial file is ever left, even on
    KeyboardInterrupt.

    Raises:
        OutputExistsError: `path` exists and `overwrite` is False.
        DiskFullError: the disk or quota is full (an ImageWriteError).
        ImageWriteError: the file system refused the write.
        ValueError: unknown format, bad quality, or an array that is not an image.
    """
    path = Path(path)
    fmt = normalise_format(format) if format else format_for_path(path)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    array = _as_image_array(pixels, sixteen_bit_ok=fmt in SIXTEEN_BIT_FORMATS)
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path}: already exists")
    icc_profile = like.icc_profile if like is not None else None
    exif = like.exif if like is not None else None
    if like is not None and like.grey_alpha:
        array = _grey_alpha(array)
    data = _encode(array, fmt, icc_profile=icc_profile, exif=exif, quality=quality, path=path)
    try:
        _replace_atomically(path, data, overwrite=overwrite)
    except OSError as exc:
        error = DiskFullError if exc.errno in _DISK_FULL else ImageWriteError
        raise error(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def _as_image_array(pixels: np.ndarray, *, sixteen_bit_ok: bool) -> np.ndarray:
    array = np.asarray(pixels)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected an H x W x C image with C in 1, 3, 4; got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating):
        dtype = np.uint16 if sixteen_bit_ok else np.uint8
        scale = np.iinfo(dtype).max
        return (np.clip(array, 0.0, 1.0) * scale + 0.5).astype(dtype)
    if array.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected uint8, uint16 or float pixels, got {array.dtype}")
    return array


def _encode(
    array: np.ndarray, fmt: str, *, icc_profile: bytes | None, exif: bytes | None, quality: int, path: Path
) -> bytes:
    if array.dtype == np.uint16 and fmt not in SIXTEEN_BIT_FORMATS:
        array = ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if fmt == "JPEG" and array.shape[2] in (2, 4):
        logger.warning("%s: JPEG has no alpha channel; the image is flattened onto white", path)
        array = _flatten_on_white(array)
    if fmt == "WEBP" and array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    if fmt == "BMP" and array.shape[2] == 2:  # Pillow writes no grey + alpha BMP
        array = np.concatenate([np.repeat(array[:, :, :1], 3, axis=2), array[:, :, 1:]], axis=2)
    if array.dtype == np.uint16 and array.shape[2] > 1:
        return _encode_colour16(array, fmt, icc_profile=icc_profile, exif=exif, path=path)

    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    options: dict[str, Any] = {}
    if fmt == "BMP":
        if icc_profile or exif:
            logger.info("%s: BMP cannot hold an ICC profile or EXIF; they are not carried", path)
    else:
        options = {k: v for k, v in (("icc_profile", icc_profile), ("exif", exif)) if v}
    if fmt == "JPEG":
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        options.update(quality=quality, lossless=quality == 100, exact=True)
    elif fmt == "TIFF":
        options.update(compression="tiff_adobe_deflate")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _encode_colour16(
    array: np.ndarray, fmt: str, *, icc_profile: bytes | None, exif: bytes | None, path: Path
) -> bytes:
    """16-bit RGB(A), which Pillow cannot hold: OpenCV encodes it (it wants BGR order)."""
    code = cv2.COLOR_RGBA2BGRA if array.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, encoded = cv2.imencode(".png" if fmt == "PNG" else ".tiff", cv2.cvtColor(array, code))
    if not ok:
        raise ImageWriteError(f"{path}: cannot encode a 16-bit {fmt} image")
    if fmt == "PNG":
        return add_png_metadata(encoded.tobytes(), icc_profile=icc_profile, exif=exif)
    if icc_profile or exif:
        logger.warning("%s: 16-bit colour TIFF is written without the input's ICC profile and EXIF", path)
    return encoded.tobytes()


def _flatten_on_white(array: np.ndarray) -> np.ndarray:
    """Grey + alpha or RGBA -> grey or RGB over a white background."""
    top = float(np.iinfo(array.dtype).max)
    alpha = array[:, :, -1:].astype(np.float32) / top
    colour = array[:, :, :-1].astype(np.float32) * alpha + top * (1.0 - alpha)
    return (colour + 0.5).astype(array.dtype)


def _grey_alpha(array: np.ndarray) -> np.ndarray:
    """RGBA -> grey + alpha (the mean of the colour channels), for results of grey + alpha photos. 16-bit
    stays RGBA: neither Pillow nor OpenCV writes 16-bit grey + alpha."""
    if array.shape[2] != 4 or array.dtype != np.uint8:
        return array
    grey = (array[:, :, :3].astype(np.uint16).sum(axis=2, keepdims=True) + 1) // 3
    return np.concatenate([grey.astype(np.uint8), array[:, :, 3:]], axis=2)


def _replace_atomically(path: Path, data: bytes, *, overwrite: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, _new_file_mode())
        if not overwrite and path.exists():
            raise OutputExistsError(f"{path}: already exists")
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _new_file_mode() -> int:
    """Permissions a plain new file gets under the current umask (mkstemp's own are owner-only)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
