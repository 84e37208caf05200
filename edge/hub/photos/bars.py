"""How many pixels a barcode's narrowest bar spans, for a label photo nothing could read.

A label shot from too far reads as nothing, and "no barcode could be read" does
not tell the officer what to do; the bars are still found (OpenCV's detector, or
the decoder's own gradient finder for smeared ones), and the shortest runs of
ink and paper across them say how far below the standard's pixels per module
the photo is, so the advice can say "move closer" with the number.
"""
from __future__ import annotations

import cv2
import numpy as np

from edge.decode.locate import RegionFinder, find_bars, straighten

MIN_RUNS = 12
SCANLINES = 8


def estimate_module_px(gray: np.ndarray) -> float | None:
    """The narrowest bar width (px) of the largest barcode-like region; None when there is none."""
    quads = RegionFinder().find(gray, 1) or find_bars(gray, 1)
    if not quads:
        return None
    crop = straighten(gray, quads[0], 0.0)
    if crop is None:
        return None
    runs = _runs(crop[crop.shape[0] // 3: 2 * crop.shape[0] // 3])
    return float(np.percentile(runs, 10)) if len(runs) >= MIN_RUNS else None


def _runs(rows: np.ndarray) -> list[int]:
    """Lengths of the dark and light runs along a few rows, each cut at its own Otsu level."""
    runs: list[int] = []
    for row in rows[:: max(1, len(rows) // SCANLINES)]:
        _, bits = cv2.threshold(row.reshape(1, -1), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        runs += np.diff(np.flatnonzero(np.diff(bits.ravel()))).tolist()
    return runs
