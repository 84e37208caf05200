"""The checks of the photographic standard, each a small pure function.

A check takes what was measured and the profile and returns a
:class:`QualityCheck` carrying the measured value, the limit in words and
pass/fail, so an officer reading a record sees why a photo was refused.
Measures work on a downscaled grey copy (see :func:`analysis_gray`): area
averaging also averages out sensor noise, which otherwise inflates sharpness.
"""
from __future__ import annotations

import cv2
import numpy as np

from edge.quality.config import QualityProfile
from edge.records import Box, QualityCheck

MAX_FOCUS_SIDE = 768
MIN_CONTRAST = 16.0
_D2X = np.array([[1, -2, 1]], np.float32)
_OPEN = np.ones((3, 3), np.uint8)
_PRINT_SHARE = 0.01


def _check(name: str, value: float, limit: str, passed: bool) -> QualityCheck:
    return QualityCheck(name=name, value=round(float(value), 4), limit=limit, passed=bool(passed))


def analysis_gray(image: np.ndarray, analysis_px: int) -> tuple[np.ndarray, float]:
    """Grey copy whose longer side is at most ``analysis_px``, and the scale applied."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    scale = min(1.0, analysis_px / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, scale


def _scaled(box: Box, scale: float, width: int, height: int) -> Box:
    return Box(int(box.x * scale), int(box.y * scale),
               int(np.ceil(box.w * scale)), int(np.ceil(box.h * scale))).clip(width, height)


def region(gray: np.ndarray, box: Box | None, scale: float) -> np.ndarray:
    """The part of the analysis copy under ``box`` (frame coordinates); all of it if none."""
    if box is None:
        return gray
    b = _scaled(box, scale, gray.shape[1], gray.shape[0])
    if b.w < 2 or b.h < 2:
        return gray
    return gray[b.y:b.y + b.h, b.x:b.x + b.w]


def packaging_mask(gray: np.ndarray, parcel_box: Box | None, label_box: Box | None,
                   scale: float) -> np.ndarray:
    """Mask of the parcel without its label: white label paper may sit at the sensor's
    maximum without losing anything, packaging and brand marks may not."""
    h, w = gray.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    p = _scaled(parcel_box, scale, w, h) if parcel_box is not None else Box(0, 0, w, h)
    if p.w < 2 or p.h < 2:
        p = Box(0, 0, w, h)
    mask[p.y:p.y + p.h, p.x:p.x + p.w] = 255
    if label_box is not None:
        lb = _scaled(label_box, scale, w, h)
        mask[lb.y:lb.y + lb.h, lb.x:lb.x + lb.w] = 0
    return mask


def _bright_level(gray: np.ndarray, mask: np.ndarray, p: QualityProfile) -> int:
    """Far above most of the packaging (its upper quartile, since a tilted parcel's box
    also holds dark belt), or clipped, whichever comes first."""
    typical = float(np.searchsorted(np.cumsum(histogram(gray, mask)), 0.75))
    return int(min(p.clip_high, typical + p.glare_delta))


def drop_printed_paper(gray: np.ndarray, mask: np.ndarray, p: QualityProfile) -> np.ndarray:
    """``mask`` without bright regions that enclose dark print: label paper, wherever it
    is, even when no label was located.  A reflection has no print inside it."""
    if not cv2.countNonZero(mask):
        return mask
    level = _bright_level(gray, mask, p)
    bright = cv2.bitwise_and(cv2.inRange(gray, level, 255), mask)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = mask.copy()
    smallest = 0.002 * cv2.countNonZero(mask)
    for contour in contours:
        if cv2.contourArea(contour) < smallest:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        inside = np.zeros((h, w), np.uint8)
        cv2.drawContours(inside, [contour - (x, y)], -1, 255, -1)
        print_px = np.count_nonzero((inside > 0) & (gray[y:y + h, x:x + w] < level // 2))
        if print_px > _PRINT_SHARE * np.count_nonzero(inside):
            out[y:y + h, x:x + w][inside > 0] = 0
    return out


def glare_share(gray: np.ndarray, mask: np.ndarray, p: QualityProfile) -> float:
    """The largest patch far brighter than most of the packaging, as a share of it.

    A specular reflection is one such patch; texture and print are specks that
    the opening removes.
    """
    area = cv2.countNonZero(mask)
    if area == 0:
        return 0.0
    bright = cv2.bitwise_and(cv2.inRange(gray, _bright_level(gray, mask, p), 255), mask)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, _OPEN)
    if not cv2.countNonZero(bright):
        return 0.0
    x, y, w, h = cv2.boundingRect(bright)
    n, _, stats, _ = cv2.connectedComponentsWithStats(bright[y:y + h, x:x + w], connectivity=8)
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / area if n > 1 else 0.0


def histogram(gray: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """256-bin luma histogram as fractions of the region's (masked) pixels."""
    hist = cv2.calcHist([gray], [0], mask, [256], [0, 256]).ravel()
    return hist / max(1.0, float(hist.sum()))


def focus_region(image: np.ndarray, box: Box | None, max_side: int = MAX_FOCUS_SIDE) -> np.ndarray:
    """Full-resolution grey crop of ``box`` (centre-cropped to ``max_side``): fine detail is
    what a decoder needs, and a downscaled copy hides exactly the blur that defeats it."""
    h, w = image.shape[:2]
    b = Box(0, 0, w, h) if box is None else box.clip(w, h)
    if b.w < 3 or b.h < 3:
        b = Box(0, 0, w, h)
    cx, cy = b.x + b.w // 2, b.y + b.h // 2
    cw, ch = min(b.w, max_side), min(b.h, max_side)
    crop = image[cy - ch // 2:cy - ch // 2 + ch, cx - cw // 2:cx - cw // 2 + cw]
    return crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)


def sharpness(gray: np.ndarray) -> float:
    """Second derivative along the belt (x), normalised by contrast.

    Motion blur smears along the belt and defocus smears every way, so the x
    direction sees both; dividing by the squared ink-to-paper contrast makes a
    dim but sharp label score like a bright one.
    """
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    d2x = cv2.filter2D(gray, cv2.CV_16S, _D2X)
    _, std = cv2.meanStdDev(d2x)
    cum = np.cumsum(histogram(gray))
    contrast = float(np.searchsorted(cum, 0.95) - np.searchsorted(cum, 0.05))
    return 1000.0 * float(std[0, 0]) ** 2 / max(contrast, MIN_CONTRAST) ** 2


def check_width(width: int, p: QualityProfile) -> QualityCheck:
    return _check("width", width, f"{p.min_width}-{p.max_width} px",
                  p.min_width <= width <= p.max_width)


def check_height(height: int, p: QualityProfile) -> QualityCheck:
    return _check("height", height, f"{p.min_height}-{p.max_height} px",
                  p.min_height <= height <= p.max_height)


def check_sharpness(value: float, p: QualityProfile) -> QualityCheck:
    return _check("sharpness", value, f">= {p.min_sharpness:g}", value >= p.min_sharpness)


def check_brightness(hist: np.ndarray, p: QualityProfile) -> QualityCheck:
    """Median luma: a frame under a failed lamp or in full sun reads as out of range."""
    median = float(np.searchsorted(np.cumsum(hist), 0.5))
    return _check("brightness", median, f"{p.min_brightness:g}-{p.max_brightness:g}",
                  p.min_brightness <= median <= p.max_brightness)


def check_shadows(hist: np.ndarray, p: QualityProfile) -> QualityCheck:
    value = float(hist[:p.clip_low + 1].sum())
    return _check("shadows", value, f"<= {p.max_shadows:g} of pixels at or below {p.clip_low}",
                  value <= p.max_shadows)


def check_highlights(packaging_hist: np.ndarray, p: QualityProfile) -> QualityCheck:
    value = float(packaging_hist[p.clip_high:].sum())
    return _check("highlights", value,
                  f"<= {p.max_highlights:g} of packaging pixels at or above {p.clip_high}",
                  value <= p.max_highlights)


def check_glare(share: float, p: QualityProfile) -> QualityCheck:
    return _check("glare", share, f"largest patch {p.glare_delta} above the packaging's upper quartile "
                  f"(or clipped) <= {p.max_glare:g} of the packaging",
                  share <= p.max_glare)


def check_framing(box: Box, width: int, height: int, p: QualityProfile) -> QualityCheck:
    """Smallest gap between parcel and frame edge, as a fraction of that frame side."""
    gaps = (box.x / width, box.y / height,
            (width - box.x - box.w) / width, (height - box.y - box.h) / height)
    value = min(gaps)
    return _check("framing", value, f">= {p.frame_margin:g} of the frame on every side",
                  value >= p.frame_margin)


def check_legibility(module_px: float, p: QualityProfile) -> QualityCheck:
    return _check("legibility", module_px, f">= {p.min_module_px:g} px per barcode module",
                  module_px >= p.min_module_px)


def file_checks(fmt: str, channels: int, bit_depth: int, p: QualityProfile) -> list[QualityCheck]:
    """What only a file can fail: its type, colour channels and bit depth (what ``inspect`` sees)."""
    return [
        _check("file_type", 1.0 if fmt == p.file_type else 0.0, p.file_type.upper(),
               fmt == p.file_type),
        _check("colour", channels, f"3 channels ({p.colour_space})", channels == 3),
        _check("bit_depth", bit_depth, f"{p.bit_depth} bits per channel", bit_depth == p.bit_depth),
    ]
