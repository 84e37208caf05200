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
CELL = 5


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


def find_bars(gray: np.ndarray, limit: int, min_len: int = 40) -> list[np.ndarray]:
    """Regions of strong, single-direction gradients (1D codes, blurred ones too), largest first.

    OpenCV's detector splits a smeared barcode into pieces or misses it; the
    structure tensor does not care about blur: over a window, bars give much
    gradient energy all in one direction (coherence near 1), print and
    cardboard give less or in every direction.  Computed at half resolution.
    """
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    size = (max(1, small.shape[1] // CELL), max(1, small.shape[0] // CELL))
    cell = [cv2.resize(a, size, interpolation=cv2.INTER_AREA) for a in (gx * gx, gy * gy, gx * gy, gx, gy, np.abs(gx) + np.abs(gy))]
    jxx, jyy, jxy, mx, my, mabs = (cv2.blur(a, (3, 3)) for a in cell)
    energy = jxx + jyy
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / (energy + 1e-3)
    # bars alternate dark/light: their signed gradients cancel over a window, a box's edge does not
    net = np.hypot(mx, my) / (mabs + 1e-3)
    strong = energy > max(float(np.percentile(energy, 90)) * 0.5, 400.0)
    mask = (strong & (coherence > 0.6) & (net < 0.5)).astype(np.uint8)
    mask = cv2.resize(mask, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    quads = []
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] < 40:
            continue
        ys, xs = np.nonzero(labels[stats[i, 1]:stats[i, 1] + stats[i, 3], stats[i, 0]:stats[i, 0] + stats[i, 2]] == i)
        rect = cv2.minAreaRect(np.column_stack([xs + stats[i, 0], ys + stats[i, 1]]).astype(np.float32))
        (_, _), (w, h), _ = rect
        if max(w, h) * 2 < min_len or min(w, h) < 4 or stats[i, cv2.CC_STAT_AREA] < 0.5 * w * h:
            continue
        quads.append(cv2.boxPoints(rect).astype(np.float32) * 2.0)
    quads.sort(key=lambda q: -cv2.contourArea(q))
    return quads[:limit]
