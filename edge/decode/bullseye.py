"""Finding a MaxiCode by its bullseye and cutting it out alone, as zxing-cpp needs it.

zxing-cpp reads MaxiCode only from a "pure" image: the symbol alone on
white, its black pixels' bounding box being the symbol.  On a UPS label the
symbol sits among text and boxes, so it is found by its finder pattern (three
concentric dark rings around a light centre: nested, nearly circular
contours sharing one centre), then cut out at the symbol's fixed size
by merging the dark modules around it into one blob and painting everything
else white.
"""
from __future__ import annotations

import cv2
import numpy as np

REACH = 26
MARGIN = 20


def bullseyes(gray: np.ndarray, limit: int = 2) -> list[tuple[float, float, float]]:
    """(x, y, ring spacing) of each bullseye: four or more nearly circular contours on one centre."""
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(bw, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    rings: list[tuple[float, float, float]] = []
    for c in contours:
        area, perim = cv2.contourArea(c), cv2.arcLength(c, True)
        if area > 20 and perim > 0 and 4 * np.pi * area / (perim * perim) > 0.75:
            (x, y), r = cv2.minEnclosingCircle(c)
            if r < min(gray.shape) / 4:
                rings.append((x, y, r))
    found: list[tuple[float, float, float]] = []
    for x, y, r in sorted(rings, key=lambda t: -t[2]):
        same = sorted(q[2] for q in rings if abs(q[0] - x) < 0.15 * r and abs(q[1] - y) < 0.15 * r and q[2] <= r)
        if len(same) >= 4 and not any(abs(f[0] - x) < 8 * f[2] and abs(f[1] - y) < 8 * f[2] for f in found):
            found.append((x, y, float(np.median(np.diff(same)))))
            if len(found) == limit:
                break
    return found


def cutouts(gray: np.ndarray, eye: tuple[float, float, float]) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """The symbol around one bullseye alone on white, with its origin in ``gray`` ([] if it leaves the frame).

    Dark pixels near the bullseye are merged (a dilation of about one ring
    spacing bridges the hexagon modules, not the quiet zone around the
    symbol); the merged blob holding the bullseye is the symbol, and
    everything outside it is painted white.
    """
    x, y, r = eye  # r: the spacing of the ring boundaries
    reach = int(REACH * r)
    x0, y0 = max(0, int(x) - reach), max(0, int(y) - reach)
    x1, y1 = min(gray.shape[1], int(x) + reach), min(gray.shape[0], int(y) + reach)
    patch = gray[y0:y1, x0:x1]
    _, bw = cv2.threshold(patch, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = max(3, int(round(1.2 * r)) | 1)
    merged = cv2.dilate(bw, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(merged)
    cy, cx, rr = int(y) - y0, int(x) - x0, int(3 * r)
    near = labels[max(0, cy - rr):cy + rr, max(0, cx - rr):cx + rr]
    votes = np.bincount(near.ravel(), minlength=count)
    votes[0] = 0
    blob = int(np.argmax(votes))
    if blob == 0:
        return []
    bx, by, bw_, bh = stats[blob, :4]
    if bx == 0 or by == 0 or bx + bw_ >= patch.shape[1] or by + bh >= patch.shape[0]:
        return []
    alone = np.where(labels == blob, patch, 255).astype(np.uint8)[by:by + bh, bx:bx + bw_]
    crop = cv2.copyMakeBorder(alone, MARGIN, MARGIN, MARGIN, MARGIN, cv2.BORDER_CONSTANT, value=255)
    out = [(crop, (x0 + int(bx) - MARGIN, y0 + int(by) - MARGIN))]
    angle = _tilt(labels[by:by + bh, bx:bx + bw_] == blob)
    if abs(angle) > 1.0:  # turned on the belt: the pure reader wants it upright (the frame's corners stay approximate)
        h, w = crop.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        size = int(np.hypot(w, h))
        m[:, 2] += ((size - w) / 2, (size - h) / 2)
        upright = cv2.warpAffine(crop, m, (size, size), flags=cv2.INTER_CUBIC, borderValue=255)
        out.append((upright, out[0][1]))
    return out


def _tilt(blob: np.ndarray) -> float:
    """The blob's tilt from the frame axes in degrees (-45..45), from its minimum-area rectangle."""
    ys, xs = np.nonzero(blob)
    _, _, angle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
    return float((angle + 45.0) % 90.0 - 45.0)
