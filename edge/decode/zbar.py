"""pyzbar (libzbar), the second decoder: a different 1D scanner that sometimes reads what zxing-cpp does not.

It cannot read Data Matrix and costs 30-40 ms on a full frame, so the reader
only hands it small regions (located barcodes) as the last rung of the ladder.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edge.decode.base import FORMAT_NAMES, RawSymbol
from edge.decode.config import DecodeConfig

SYMBOLS = ("CODE128", "QRCODE", "PDF417", "EAN13", "EAN8", "UPCA", "UPCE", "CODE39", "CODE93", "I25",
           "DATABAR", "DATABAR_EXP", "CODABAR")


class ZbarDecoder:
    name = "zbar"

    def __init__(self, pyzbar_module: Any) -> None:
        self._pz = pyzbar_module
        known = {s.name: s for s in pyzbar_module.ZBarSymbol}
        self._symbols = [known[s] for s in SYMBOLS if s in known]

    def decode(self, gray: np.ndarray) -> list[RawSymbol]:
        found = self._pz.decode(np.ascontiguousarray(gray), symbols=self._symbols)
        return [RawSymbol(FORMAT_NAMES.get(d.type, d.type), _text(d.data),
                          tuple((int(p.x), int(p.y)) for p in d.polygon)) for d in found]


def _text(data: bytes) -> str:
    """libzbar hands back UTF-8; bytes that are not UTF-8 are kept one character per byte (Latin-1)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def open(cfg: DecodeConfig) -> ZbarDecoder:  # noqa: A001 - the registry's backend entry point
    from pyzbar import pyzbar

    return ZbarDecoder(pyzbar)
