"""What every decoder backend returns, and the small interface the reader calls.

A backend turns a grayscale image into raw symbols; it knows nothing of
frames, ids or sanitizing, so swapping zxing-cpp for another library touches
one module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Both libraries' format names mapped to one vocabulary (zxing-cpp's enum names).
FORMAT_NAMES = {
    "CODE128": "Code128", "QRCODE": "QRCode", "PDF417": "PDF417", "EAN13": "EAN13",
    "EAN8": "EAN8", "UPCA": "UPCA", "UPCE": "UPCE", "CODE39": "Code39", "CODE93": "Code93",
    "I25": "ITF", "DATABAR": "DataBar", "DATABAR_EXP": "DataBarExp", "CODABAR": "Codabar",
    "ISBN13": "EAN13", "ISBN10": "EAN13", "SQCODE": "SQCode",
}


@dataclass(frozen=True)
class RawSymbol:
    """One decode as the library gave it: ``text`` is still untrusted and unescaped."""

    format: str
    text: str
    corners: tuple[tuple[int, int], ...] = ()


class Decoder(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[RawSymbol]:
        """Every symbol found in a uint8 grayscale image (H, W), never raising on a bad image."""
        ...
