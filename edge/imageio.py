"""Safe image loading for every command that reads image files.

Files come from cameras, officers' phones and replay folders, so any of them
may be empty, truncated, corrupt or absurdly large.  The header is parsed
first and the pixel count checked *before* the decoder allocates anything, so
a 30000x30000 file is refused in microseconds instead of eating the Pi's memory.
Whatever decodes comes back as one shape: BGR, 8 bits per channel.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MAX_PIXELS = 50_000_000
MAX_FILE_BYTES = 64 * 1024 * 1024
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageError(ValueError):
    """An image that cannot be used; the message is one line meant for a person."""


@dataclass(frozen=True)
class ImageInfo:
    """What the file says about itself, read from its header without decoding pixels."""

    format: str
    width: int
    height: int
    channels: int
    bit_depth: int


def _png_info(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageError("truncated PNG header")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(colour)
    if channels is None:
        raise ImageError(f"PNG colour type {colour} is not valid")
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise ImageError("truncated PNG (no IEND chunk)")
    return ImageInfo("png", width, height, channels, depth)


def _jpeg_info(data: bytes) -> ImageInfo:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageError("corrupt JPEG (bad marker)")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF_MARKERS:
            if pos + 10 > len(data):
                break
            depth, height, width, comps = struct.unpack(">BHHB", data[pos + 4:pos + 10])
            if data.rfind(b"\xff\xd9") < pos:
                raise ImageError("truncated JPEG (no end-of-image marker)")
            return ImageInfo("jpeg", width, height, comps, depth)
        if marker == 0xDA or length < 2:
            break
        pos += 2 + length
    raise ImageError("truncated or corrupt JPEG (no frame header)")


def _bmp_info(data: bytes) -> ImageInfo:
    if len(data) < 30:
        raise ImageError("truncated BMP header")
    width, height = struct.unpack("<ii", data[18:26])
    (bpp,) = struct.unpack("<H", data[28:30])
    return ImageInfo("bmp", abs(width), abs(height), max(1, bpp // 8), 8)


def probe(data: bytes) -> ImageInfo:
    """Format and dimensions from the header alone; raises :class:`ImageError`."""
    if not data:
        raise ImageError("empty file (0 bytes)")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_info(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_info(data)
    if data.startswith(b"BM"):
        return _bmp_info(data)
    raise ImageError("not a JPEG, PNG or BMP image")


def bgr8(image: np.ndarray) -> np.ndarray:
    """A uint8 grey, BGR or BGRA array as BGR; anything else is refused.

    Cameras, files and callers hand over grey or 4-channel data now and then;
    every stage after capture assumes (H, W, 3) BGR uint8, so it is fixed here.
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise ImageError("not a non-empty pixel array")
    if image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    channels = 1 if image.ndim == 2 else (image.shape[2] if image.ndim == 3 else 0)
    if channels == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if channels == 3:
        return image
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise ImageError(f"unsupported image shape {image.shape}")


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded file's array as BGR uint8: :func:`bgr8`, with 16 bits scaled down first."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    return bgr8(image)


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, ImageInfo]:
    """Decode bytes into BGR uint8 after the header passed the size checks."""
    info = probe(data)
    if info.width < 1 or info.height < 1:
        raise ImageError(f"image has no pixels ({info.width}x{info.height})")
    if info.width * info.height > max_pixels:
        raise ImageError(f"image too large: {info.width}x{info.height} px "
                         f"exceeds the limit of {max_pixels} pixels")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError(f"corrupt {info.format.upper()} data (decoder refused it)")
    return to_bgr8(image), info


def read_bytes(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, refusing directories, missing files and oversized files."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise ImageError("not a regular file")
        if size > max_bytes:
            raise ImageError(f"file too large ({size} bytes, limit {max_bytes})")
        return p.read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None


def load_image_info(path: str | Path, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, ImageInfo]:
    """Like :func:`load_image`, also returning what the header said (format, depth, channels)."""
    return decode_image(read_bytes(path), max_pixels)


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A BGR uint8 image from a file, or :class:`ImageError` with a one-line reason."""
    return load_image_info(path, max_pixels)[0]
