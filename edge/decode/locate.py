"""Finding barcodes at any angle and cutting them out upright.

zxing-cpp scans 1D codes along rows and columns only, so a label turned 30
degrees on the belt reads as nothing.  OpenCV's barcode detector finds 1D
symbols at any angle (it decodes no Code 128 itself); each region it returns
is cut out along its own axes with a generous quiet zone, which turns the
symbol horizontal (or vertical: zxing tries the 90-degree turn itself).
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

MIN_QUIET_PX = 24


class RegionFinder:
    """Wraps one OpenCV barcode detector; built once per reader (it loads no model)."""

    def __init__(self) -> None:
        factory = getattr(cv2, "barcode", None)
        make = factory.BarcodeDetector if factory is not None else cv2.barcode_BarcodeDetector
        self._detector: Any = make()

    def find(self, gray: np.ndarray, limit: int) -> list[np.ndarray]:
        """Up to ``limit`` quadrilaterals (4x2 float32), largest first; [] when none or on error."""
        try:
            ok, points = self._detector.detect(gray)
        except cv2.error:
            return []
        if not ok or points is None:
            return []
        quads = [np.asarray(q, np.float32).reshape(4, 2) for q in points]
        quads.sort(key=lambda q: -cv2.contourArea(q))
        return quads[:limit]


def _geometry(quad: np.ndarray, pad: float, zoom: float) -> tuple[np.ndarray, int, int, bool]:
    """The affine map from frame to upright crop, the crop size, and whether it is a pure pixel copy.

    A region within a degree of the frame axes is snapped onto them with an
    integer offset: resampling it at half-pixel offsets would average
    neighbouring pixels, which costs a 2-pixel module its contrast.
    """
    (cx, cy), (w, h), angle = cv2.minAreaRect(quad)
    if h > w:
        w, h, angle = h, w, angle + 90.0
    snapped = round(angle / 90.0) * 90.0
    exact = abs(angle - snapped) < 1.0 and zoom == 1.0
    if exact:
        angle, cx, cy = snapped, float(round(cx)), float(round(cy))
    out_w = int(round((w + 2 * max(MIN_QUIET_PX, pad * w)) * zoom))
    out_h = int(round((h + 2 * max(MIN_QUIET_PX, pad * h)) * zoom))
    if exact:
        out_w, out_h = out_w // 2 * 2, out_h // 2 * 2
    m = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    m[0, 2] += out_w / 2.0 - cx
    m[1, 2] += out_h / 2.0 - cy
    if exact:
        m = np.round(m)
    return m, out_w, out_h, exact


def straighten(gray: np.ndarray, quad: np.ndarray, pad: float, zoom: float = 1.0) -> np.ndarray | None:
    """The region of ``quad`` rotated upright, its long side horizontal, padded by a quiet zone.

    ``pad`` is a fraction of the region's long side added on both ends (and
    of its short side above and below); ``zoom`` > 1 upsamples with cubic
    interpolation for codes printed at under two pixels per module.
    """
    (_, _), (w, h), _ = cv2.minAreaRect(quad)
    if min(w, h) < 4:
        return None
    m, out_w, out_h, exact = _geometry(quad, pad, zoom)
    if out_w * out_h > 4_000_000:
        return None
    interp = cv2.INTER_NEAREST if exact else cv2.INTER_CUBIC
    return cv2.warpAffine(gray, m, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REPLICATE)


def back_to_frame(corners: tuple[tuple[int, int], ...], quad: np.ndarray,
                  pad: float, zoom: float = 1.0) -> tuple[tuple[int, int], ...]:
    """Corners found in a straightened crop mapped back into frame pixels (for label boxes)."""
    m, _, _, _ = _geometry(quad, pad, zoom)
    inv = cv2.invertAffineTransform(m)
    pts = np.asarray(corners, np.float32).reshape(-1, 1, 2)
    mapped = cv2.transform(pts, inv).reshape(-1, 2)
    return tuple((int(round(x)), int(round(y))) for x, y in mapped)


def padded_patch(gray: np.ndarray, quad: np.ndarray, pad: float) -> tuple[np.ndarray, np.ndarray]:
    """The axis-aligned patch around ``quad`` and its quiet zone, and the patch's origin in ``gray``.

    Filters that work along the frame's axes (motion deblur) run on this
    patch before it is straightened, not on the whole frame.
    """
    (_, _), (w, h), _ = cv2.minAreaRect(quad)
    margin = int(max(MIN_QUIET_PX, pad * max(w, h))) + 4
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + margin
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(gray.shape[1], int(x1)), min(gray.shape[0], int(y1))
    return gray[y0:y1, x0:x1], np.float32([x0, y0])
