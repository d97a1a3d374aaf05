"""Reading a photo into a numpy array with the metadata needed to write its result faithfully."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageReadError, ImageSizeError
from .formats import normalise_format
from .orientation import ORIENTATION_TAG, apply_orientation

# TIFF keeps its EXIF-like tags in the image's own directory; only these describe the photo rather than
# the file's layout (strips, sample formats, ...), so only these are carried to an output.
_TIFF_DESCRIPTIVE_TAGS = frozenset({
    270, 271, 272, ORIENTATION_TAG, 282, 283, 296, 305, 306, 315, 33432, 34665, 34853,
})
_GRAY16_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
_UNSUPPORTED_HINTS = {
    "CMYK": "CMYK (convert it to RGB first)",
    "F": "F (32-bit float)",
    "I": "I (32-bit integer)",
}


@dataclass(frozen=True, eq=False)
class ImageData:
    """A decoded photo: upright pixels plus the metadata its output should carry.

    `pixels` is H x W x C (C = 1 grayscale, 3 RGB, 4 RGBA), uint8 or uint16; `exif` has its orientation
    reset to 1 because the pixels are already upright.
    """

    pixels: np.ndarray
    format: str
    bit_depth: int
    icc_profile: bytes | None = None
    exif: bytes | None = None
    path: Path | None = None

    @property
    def height(self) -> int:
        """Rows of pixels."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Columns of pixels."""
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        """1 (grayscale), 3 (RGB) or 4 (RGBA)."""
        return int(self.pixels.shape[2])


def read_image(path: str | os.PathLike[str]) -> ImageData:
    """Decode `path` into an upright H x W x C array; 16-bit PNG and TIFF stay 16-bit.

    Raises:
        ImageReadError: the file is missing, truncated, not an image, or in a mode this tool cannot process.
        ImageSizeError: the image is larger than Pillow's decompression-bomb limit.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()  # decodes everything now, so a truncated file fails here and not later
            return _decode(path, im)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image, or a format this tool cannot read") from None
    except Image.DecompressionBombError as exc:
        raise ImageSizeError(f"{path}: too large to read safely ({_one_line(exc)})") from None
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        raise ImageReadError(f"{path}: cannot decode ({_one_line(exc)})") from None


def _decode(path: Path, im: Image.Image) -> ImageData:
    try:
        fmt = normalise_format(im.format or "unknown")
    except ValueError:
        supported = "png, jpeg, tiff, webp, bmp"
        raise ImageReadError(f"{path}: {im.format} images are not supported ({supported})") from None
    exif = im.getexif()
    orientation = int(exif.get(ORIENTATION_TAG, 1) or 1)
    bit_depth = _file_bit_depth(path, im, fmt)

    if im.mode in _GRAY16_MODES:
        pixels = np.asarray(im).astype(np.uint16)[:, :, None]
        bit_depth = 16
    elif bit_depth == 16 and im.mode in ("RGB", "RGBA", "LA"):
        pixels = _decode_colour16(path, im)  # Pillow reduces 16-bit colour to 8 bits; OpenCV does not
    else:
        pixels = _pillow_pixels(path, im)
        bit_depth = 8

    return ImageData(
        pixels=apply_orientation(pixels, orientation),
        format=fmt,
        bit_depth=bit_depth,
        icc_profile=im.info.get("icc_profile") or None,
        exif=_carried_exif(exif, fmt),
        path=path,
    )


def _pillow_pixels(path: Path, im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        converted = im
    elif mode == "1":
        converted = im.convert("L")
    elif mode in ("LA", "PA", "RGBa", "La"):
        converted = im.convert("RGBA")
    elif mode == "P":
        converted = im.convert("RGBA" if im.has_transparency_data else "RGB")
    elif mode == "RGBX":
        converted = im.convert("RGB")
    else:
        raise ImageReadError(f"{path}: unsupported image mode {_UNSUPPORTED_HINTS.get(mode, mode)}")
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _decode_colour16(path: Path, im: Image.Image) -> np.ndarray:
    buffer = np.fromfile(path, dtype=np.uint8)  # imdecode, unlike imread, copes with any path encoding
    pixels = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    width, height = im.size
    if pixels is None or pixels.dtype != np.uint16 or pixels.shape[:2] != (height, width):
        raise ImageReadError(f"{path}: cannot decode its 16-bit colour data")
    if pixels.ndim == 2:
        return pixels[:, :, None]
    if pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def _file_bit_depth(path: Path, im: Image.Image, fmt: str) -> int:
    """Bits per channel stored in the file (Pillow's mode alone hides 16-bit colour)."""
    if fmt == "PNG":
        with open(path, "rb") as f:
            header = f.read(25)
        return header[24] if len(header) == 25 and header[12:16] == b"IHDR" else 8
    if fmt == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 if max(bits) == 16 else 8
    return 8


def _carried_exif(exif: Image.Exif, fmt: str) -> bytes | None:
    if fmt == "TIFF":
        for tag in [t for t in exif if t not in _TIFF_DESCRIPTIVE_TAGS]:
            del exif[tag]
    if len(exif) == 0:
        return None
    if ORIENTATION_TAG in exif:
        exif[ORIENTATION_TAG] = 1
    return exif.tobytes()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
