"""Coordinates between the frame, its reduced copy and the crops the reader decodes; what symbols' corners say.

Plain functions the ladder in :mod:`edge.decode.reader` maps corners with,
so a label box drawn from any rung lands on the frame where the label is.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from edge.decode import deblur, locate
from edge.records import Box, Symbol

Corners = tuple[tuple[int, int], ...]
Mapper = Callable[[Corners], Corners]


def whole_quad(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape[:2]
    return np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])


def small(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return gray
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def scaled(scale: float) -> Mapper | None:
    if scale >= 1.0:
        return None
    return lambda corners: tuple((int(round(x / scale)), int(round(y / scale))) for x, y in corners)


def rows_to_crop(corners: Corners, shape: tuple[int, ...]) -> Corners:
    """A drawn restoration's corners (its quiet zone dropped) as the band of the crop it was averaged from."""
    xs = [min(max(x - deblur.QUIET, 0), shape[1] - 1) for x, _ in corners]
    top, bottom = shape[0] // 5, shape[0] - shape[0] // 5
    return ((min(xs), top), (max(xs), top), (max(xs), bottom), (min(xs), bottom))


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller area of two quadrilaterals."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    small = min(cv2.contourArea(a), cv2.contourArea(b))
    return float(inter) / small if small > 0 else 0.0


def crop_mapper(quad: np.ndarray, pad: float, zoom: float) -> Mapper:
    return lambda corners: locate.back_to_frame(corners, quad, pad, zoom)


def shift(corners: Corners, origin: np.ndarray) -> Corners:
    return tuple((int(x + origin[0]), int(y + origin[1])) for x, y in corners)


def label_box(symbols: list[Symbol]) -> Box | None:
    """The box around every decoded symbol: where the label is, for the quality stage and crops."""
    pts = [p for s in symbols for p in s.corners]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def code128_modules(text: str) -> int:
    """Modules of a Code 128 symbol for ``text``: start, check and stop plus 11 per codeword."""
    digits = sum(c.isdigit() for c in text)
    others = len(text) - digits - text.count("(") - text.count(")")
    codewords = others + (digits + 1) // 2 + text.count("(")
    return 11 * (codewords + 2) + 13


def module_px(symbols: list[Symbol]) -> float | None:
    """Pixels per module of the first Code 128 symbol: the number the exposure and focus must keep above 2."""
    for s in symbols:
        if s.format == "Code128" and len(s.corners) >= 2:
            (x0, y0), (x1, y1) = s.corners[0], s.corners[1]
            length = float(np.hypot(x1 - x0, y1 - y0))
            if length > 0:
                return round(length / code128_modules(s.text), 2)
    return None
