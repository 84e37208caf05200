"""Phone photos in, BGR pixels out: limits first, then decoding, orientation honoured.

An upload is untrusted bytes with an untrusted content type.  The size of the
upload is refused before it is read in full (the route streams at most
``max_bytes``); the format is recognised from the bytes themselves and must agree
with the declared type; the pixel count comes from the header and is checked
before any pixel is decoded, so a 30,000 x 30,000 "pixel bomb" costs
microseconds.  Phones store portrait photos as landscape pixels plus an EXIF
orientation tag; it is applied here so the checks and the package see what the
officer saw.  HEIC (iPhones' default) is read through pillow-heif.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from edge.imageio import ImageError, probe

MAX_PIXELS = 50_000_000
MAX_BYTES = 30 * 1024 * 1024
FORMATS = ("jpeg", "png", "heic")
CONTENT_TYPES = {
    "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/pjpeg": "jpeg",
    "image/png": "png",
    "image/heic": "heic", "image/heif": "heic", "image/heic-sequence": "heic",
    "image/heif-sequence": "heic",
}
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
EXIF_ORIENTATION = 0x0112


class PhotoError(ValueError):
    """An upload that is not a usable photo; the message is one line for the officer."""


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded upload: BGR uint8 pixels upright, and what the file was."""

    image: np.ndarray
    format: str
    width: int
    height: int
    orientation: int
    bytes: int


def sniff(data: bytes) -> str:
    """The format from the first bytes: ``jpeg``, ``png`` or ``heic``; else :class:`PhotoError`."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "heic"
    if not data:
        raise PhotoError("the file is empty: take the photo again")
    raise PhotoError("this is not a photo (JPEG, PNG or HEIC): take the photo with the camera")


def check_type(declared: str | None, fmt: str) -> None:
    """The declared content type must name the format the bytes are (or be absent)."""
    kind = (declared or "").split(";")[0].strip().lower()
    if kind in ("", "application/octet-stream"):
        return
    if kind not in CONTENT_TYPES:
        raise PhotoError(f"content type {kind[:40]!r} is not a photo type "
                         "(image/jpeg, image/png, image/heic)")
    if CONTENT_TYPES[kind] != fmt:
        raise PhotoError(f"the file says {kind[:40]} but is {fmt.upper()}: upload the photo "
                         "as the camera saved it")


def _header_size(data: bytes, fmt: str) -> tuple[int, int]:
    """Width and height from the header alone (JPEG/PNG via the unit's own prober)."""
    if fmt in ("jpeg", "png"):
        try:
            info = probe(data)
        except ImageError as exc:
            raise PhotoError(f"the photo is damaged ({exc}): take it again") from None
        return info.width, info.height
    return _heic_size(data)


def _heic_size(data: bytes) -> tuple[int, int]:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        return int(heif.size[0]), int(heif.size[1])
    except (ValueError, RuntimeError, OSError) as exc:
        raise PhotoError(f"the HEIC photo is damaged ({str(exc)[:80]}): take it again") from None


def _open(data: bytes, fmt: str) -> Image.Image:
    if fmt == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    return Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "HEIF"])


def _pixels(data: bytes, fmt: str, max_pixels: int) -> tuple[np.ndarray, int]:
    """Decode (Pillow refuses truncated data), apply the EXIF orientation, return BGR."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(data, fmt) as im:
            if im.width * im.height > max_pixels:
                raise PhotoError(f"the photo is {im.width}x{im.height} px, over the limit of "
                                 f"{max_pixels:,} pixels")
            orientation = int(im.getexif().get(EXIF_ORIENTATION, 1) or 1)
            upright = ImageOps.exif_transpose(im)
            rgb = np.asarray(upright if upright.mode == "RGB" else upright.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), orientation


def decode_photo(data: bytes, content_type: str | None = None, *, max_bytes: int = MAX_BYTES,
                 max_pixels: int = MAX_PIXELS) -> Photo:
    """A checked, upright photo from an upload, or :class:`PhotoError` with one line."""
    if len(data) > max_bytes:
        raise PhotoError(f"the file is {len(data):,} bytes, over the limit of {max_bytes:,}")
    fmt = sniff(data)
    check_type(content_type, fmt)
    width, height = _header_size(data, fmt)
    if width < 1 or height < 1:
        raise PhotoError("the photo has no pixels: take it again")
    if width * height > max_pixels:
        raise PhotoError(f"the photo is {width}x{height} px, over the limit of "
                         f"{max_pixels:,} pixels")
    try:
        image, orientation = _pixels(data, fmt, max_pixels)
    except PhotoError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise PhotoError(f"the photo is damaged ({str(exc)[:80]}): take it again") from None
    return Photo(image, fmt, int(image.shape[1]), int(image.shape[0]), orientation, len(data))
