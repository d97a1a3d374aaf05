"""Reading a photo into a numpy array with the metadata needed to write its result faithfully."""

from __future__ import annotations

import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageReadError, ImageSizeError
from .formats import normalise_format
from .orientation import ORIENTATION_TAG, apply_orientation

logger = logging.getLogger(__name__)

# TIFF keeps its EXIF-like tags in the image's own directory; only these describe the photo rather than
# the file's layout (strips, sample formats, ...), so only these are carried to an output.
_TIFF_DESCRIPTIVE_TAGS = frozenset({
    270, 271, 272, ORIENTATION_TAG, 282, 283, 296, 305, 306, 315, 33432, 34665, 34853,
})
_GRAY16_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
_UNSUPPORTED_HINTS = {
    "CMYK": "CMYK (convert it to RGB first)",
    "F": "F (32-bit float)",
    "I": "I (32-bit integer)",
}


@dataclass(frozen=True, eq=False)
class ImageData:
    """A decoded photo: upright pixels plus the metadata its output should carry.

    `pixels` is H x W x C (C = 1 grayscale, 3 RGB, 4 RGBA), uint8 or uint16; `exif` has its orientation
    reset to 1 because the pixels are already upright. A grey + alpha file comes as RGBA with equal colour
    channels (what the network takes) and `grey_alpha` set, so its result is written as grey + alpha again.
    """

    pixels: np.ndarray
    format: str
    bit_depth: int
    icc_profile: bytes | None = None
    exif: bytes | None = None
    path: Path | None = None
    grey_alpha: bool = False

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


def read_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> ImageData:
    """Decode `path` into an upright H x W x C array; 16-bit PNG and TIFF stay 16-bit.

    Only regular files are opened (a FIFO would block forever), and only single images: an animation or a
    multi-page file is refused rather than cut to its first frame. `max_pixels` refuses larger images
    before their pixels are decoded.

    Raises:
        ImageReadError: the file is missing, unreadable, not a regular file, truncated, not an image, has
            several frames, or is in a mode this tool cannot process.
        ImageSizeError: the image has more than `max_pixels` pixels, or more than Pillow's
            decompression-bomb limit.
    """
    path = Path(path)
    _refuse_special_file(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Pillow warns from 89 MP on; judging the size is `max_pixels`'s job, not a warning's.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return _open(path, max_pixels)
        finally:
            _log_decoder_warnings(path, caught)


def _open(path: Path, max_pixels: int | None) -> ImageData:
    try:
        with Image.open(path) as im:
            fmt = _format_of(path, im)
            _check_size(path, im, max_pixels)
            _check_single_frame(path, im)
            im.load()  # decodes everything now, so a truncated file fails here and not later
            return _decode(path, im, fmt)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise ImageReadError(f"{path}: not readable (permission denied)") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image, or a format this tool cannot read") from None
    except Image.DecompressionBombError as exc:
        raise ImageSizeError(f"{path}: too large to read safely ({_one_line(exc)})") from None
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        raise ImageReadError(f"{path}: cannot decode ({_one_line(exc)})") from None


def _log_decoder_warnings(path: Path, caught: list[warnings.WarningMessage]) -> None:
    """The decoders' warnings (corrupt EXIF, truncated tags) as one log line each, naming the file."""
    for message in dict.fromkeys(_one_line(w.message) for w in caught):
        logger.warning("%s: %s", path, message)


def _refuse_special_file(path: Path) -> None:
    """ImageReadError for a FIFO, socket or device: opening one may block forever or never end."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: opening it says which
    for test, kind in _SPECIAL_FILES:
        if test(mode):
            raise ImageReadError(f"{path}: {kind}, not a regular file; only files are read")


def _check_size(path: Path, im: Image.Image, max_pixels: int | None) -> None:
    width, height = im.size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageSizeError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} MP, more than the "
                             f"limit of {max_pixels / 1e6:g} MP")


def _check_single_frame(path: Path, im: Image.Image) -> None:
    """Refuse animations and multi-page files. MPO (a JPEG with extra pictures, as cameras store previews
    and depth maps) is the exception: its first picture is the photo itself."""
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":
        raise ImageReadError(f"{path}: has {frames} frames (an animation or a multi-page file); only single "
                             "images are deblurred, so save the frames as separate files first")


def _format_of(path: Path, im: Image.Image) -> str:
    try:
        return normalise_format(im.format or "unknown")
    except ValueError:
        supported = "png, jpeg, tiff, webp, bmp"
        raise ImageReadError(f"{path}: {im.format} images are not supported ({supported})") from None


def _decode(path: Path, im: Image.Image, fmt: str) -> ImageData:
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
    grey_alpha = im.mode in ("LA", "La") and pixels.dtype == np.uint8

    return ImageData(
        pixels=apply_orientation(pixels, orientation),
        format=fmt,
        bit_depth=bit_depth,
        icc_profile=im.info.get("icc_profile") or None,
        exif=_carried_exif(exif, fmt),
        path=path,
        grey_alpha=grey_alpha,
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
