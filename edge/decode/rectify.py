"""Finding the label's quadrilateral and straightening it: perspective undone before decoding.

A parcel's top tilts towards or away from the camera and the label is seen as
a trapezoid; its bars converge and change width along the symbol, which a
row scan cannot follow.  The label is the largest bright, four-cornered
patch on the parcel (paper is lighter than cardboard and belt); mapping its
corners onto a rectangle gives every bar one width again.
"""
from __future__ import annotations

import cv2
import numpy as np

MAX_SIDE = 2400


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left (by coordinate sums and differences)."""
    pts = pts.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def label_quads(gray: np.ndarray, limit: int = 2, min_frac: float = 0.01) -> list[np.ndarray]:
    """Up to ``limit`` bright four-cornered patches covering at least ``min_frac`` of the image, largest first."""
    small = cv2.GaussianBlur(gray, (5, 5), 0)
    _, mask = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area_min = min_frac * gray.shape[0] * gray.shape[1]
    quads = []
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:6]:
        if cv2.contourArea(c) < area_min:
            break
        hull = cv2.convexHull(c)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) != 4 or cv2.contourArea(approx) > 0.9 * gray.shape[0] * gray.shape[1]:
            continue
        quads.append(order_corners(approx))
        if len(quads) == limit:
            break
    return quads


def homography(quad: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, int, int]:
    """The map from ``quad`` (in frame pixels times ``scale``) onto an upright rectangle, and its size."""
    tl, tr, br, bl = quad * scale
    w = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    h = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    shrink = min(1.0, MAX_SIDE / max(w, h, 1))
    w, h = max(8, int(w * shrink)), max(8, int(h * shrink))
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    return cv2.getPerspectiveTransform(np.float32([tl, tr, br, bl]), dst), w, h


def straighten_label(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The label warped upright (bilinear), and the inverse map back into ``gray``'s pixels."""
    m, w, h = homography(quad)
    warped = cv2.warpPerspective(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, np.linalg.inv(m)


def map_back(corners: tuple[tuple[int, int], ...], inverse: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Corners found in the straightened label mapped back into the frame."""
    if not corners:
        return corners
    pts = cv2.perspectiveTransform(np.float32(corners).reshape(-1, 1, 2), inverse).reshape(-1, 2)
    return tuple((int(round(x)), int(round(y))) for x, y in pts)
