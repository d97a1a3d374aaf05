"""Adding iCCP (ICC profile) and eXIf (EXIF) chunks to an encoded PNG.

OpenCV writes 16-bit colour PNGs that Pillow cannot, but it drops metadata; this puts it back.
"""

from __future__ import annotations

import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR_END = len(_SIGNATURE) + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
_EXIF_HEADER = b"Exif\x00\x00"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def add_png_metadata(png: bytes, *, icc_profile: bytes | None, exif: bytes | None) -> bytes:
    """Return `png` with an iCCP and/or eXIf chunk placed right after IHDR (before any image data).

    Raises:
        ValueError: `png` does not start with a PNG signature and IHDR chunk.
    """
    if not png.startswith(_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG stream")
    extra = b""
    if icc_profile:
        extra += _chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    if exif:
        extra += _chunk(b"eXIf", exif.removeprefix(_EXIF_HEADER))
    return png[:_IHDR_END] + extra + png[_IHDR_END:]
