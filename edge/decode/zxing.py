"""zxing-cpp, the primary decoder: every symbology on a parcel label, 1D at any angle from 2D finders.

The frame is read at full resolution only (``try_downscale`` off): labels
are printed at about two pixels per module and a downscaled pyramid level
never reads what the full one missed, it only costs time.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edge.decode.base import RawSymbol
from edge.decode.config import DecodeConfig

FORMATS = ("Code128", "DataMatrix", "QRCode", "PDF417", "EAN13", "EAN8", "UPCA", "UPCE", "Code39")


class ZxingDecoder:
    name = "zxing"

    def __init__(self, zxingcpp: Any, try_rotate: bool = True) -> None:
        self._z = zxingcpp
        self._formats = zxingcpp.barcode_formats_from_str(",".join(FORMATS))
        self._try_rotate = try_rotate

    def decode(self, gray: np.ndarray) -> list[RawSymbol]:
        found = self._z.read_barcodes(
            np.ascontiguousarray(gray), formats=self._formats, try_rotate=self._try_rotate,
            try_downscale=False, try_invert=False, text_mode=self._z.TextMode.HRI)
        return [RawSymbol(b.format.name, b.text, _corners(b.position)) for b in found if b.valid]


def _corners(pos: Any) -> tuple[tuple[int, int], ...]:
    pts = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    return tuple((int(p.x), int(p.y)) for p in pts)


def open(cfg: DecodeConfig) -> ZxingDecoder:  # noqa: A001 - the registry's backend entry point
    import zxingcpp

    return ZxingDecoder(zxingcpp)
