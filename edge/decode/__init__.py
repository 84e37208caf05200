"""Reading the label: barcodes to one validated reference number (issue #3).

``LabelReader(cfg).read(capture)`` for a parcel, ``.read_image(image)`` for a
file; decoder backends live one per module (``zxing``, ``zbar``) behind
:data:`DECODERS`.
"""
from __future__ import annotations

from edge.decode.config import DecodeConfig
from edge.decode.reader import DECODERS, LabelReader
from edge.decode.view import to_gray

__all__ = ["DecodeConfig", "LabelReader", "DECODERS", "to_gray"]
