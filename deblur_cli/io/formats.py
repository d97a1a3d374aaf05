"""Image formats the tool reads and writes, and how file extensions map onto them."""

from __future__ import annotations

from pathlib import Path

#: Canonical format name -> the extension a new file of that format gets.
FORMAT_EXTENSIONS: dict[str, str] = {
    "PNG": ".png",
    "JPEG": ".jpg",
    "TIFF": ".tiff",
    "WEBP": ".webp",
    "BMP": ".bmp",
}

_EXTENSION_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}

#: Extensions (lower case, with the dot) of the files picked up when walking folders.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(_EXTENSION_FORMATS)

#: Formats that can hold 16 bits per channel; the others get an 8-bit copy.
SIXTEEN_BIT_FORMATS: frozenset[str] = frozenset({"PNG", "TIFF"})

_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "MPO": "JPEG"}


def normalise_format(name: str) -> str:
    """Canonical format name ("PNG", "JPEG", "TIFF", "WEBP", "BMP") for a name like "jpg" or "tif".

    Raises:
        ValueError: the format is not one this tool writes.
    """
    canonical = _ALIASES.get(name.upper(), name.upper())
    if canonical not in FORMAT_EXTENSIONS:
        known = ", ".join(sorted(f.lower() for f in FORMAT_EXTENSIONS))
        raise ValueError(f"unknown image format {name!r} (known: {known})")
    return canonical


def format_for_path(path: Path) -> str:
    """The format a file's extension names.

    Raises:
        ValueError: the extension is not an image extension this tool knows.
    """
    fmt = _EXTENSION_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(IMAGE_EXTENSIONS))
        raise ValueError(f"{path}: cannot tell the image format from {path.suffix or 'no extension'!r} "
                         f"(known: {known})")
    return fmt
