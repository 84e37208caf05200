"""Where to look: the parcel's region, then the mark inside it, cut upright.

A misspelt name or a colour plate a few pixels off is invisible in a whole
parcel shrunk to a thumbnail, so the locator finds the mark (centre, size and
the angle the parcel lies at) on a small view of the parcel, and the
classifier sees the mark cut from the full-resolution frame and turned
upright, because parcels lie on the belt at any angle.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.records import Box

PAD_BGR = (38, 36, 34)


@dataclass(frozen=True)
class MarkGuess:
    """The locator's best mark in frame pixels: centre, own size, angle (degrees), score 0..1.

    ``angle`` is the direction of the mark's baseline in image coordinates
    (y down): 0 is upright, 90 means the text runs downwards.
    """

    cx: float
    cy: float
    w: float
    h: float
    angle: float
    score: float

    @property
    def box(self) -> Box:
        """Axis-aligned bounds of the (rotated) mark, for records and drawing."""
        c, s = abs(math.cos(math.radians(self.angle))), abs(math.sin(math.radians(self.angle)))
        bw, bh = self.w * c + self.h * s, self.w * s + self.h * c
        return Box(int(round(self.cx - bw / 2)), int(round(self.cy - bh / 2)), int(round(bw)),
                   int(round(bh)))


def parcel_region(image: np.ndarray, box: Box | None, aspect: float) -> Box:
    """The parcel's box grown to ``aspect`` (w/h) around its centre; the frame if unknown.

    A fixed aspect keeps the thumbnail's scale equal on both axes, so angles
    and proportions the locator sees are the frame's.  It may reach outside
    the frame; :func:`cut_padded` fills that with belt colour.
    """
    height, width = image.shape[:2]
    if box is None or box.w < 16 or box.h < 16:
        box = Box(0, 0, width, height)
    w, h = float(box.w), float(box.h)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return Box(int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(w)), int(round(h)))


def cut_padded(image: np.ndarray, box: Box) -> np.ndarray:
    """``box`` of ``image``; parts outside the frame are belt-coloured."""
    height, width = image.shape[:2]
    inner = box.clip(width, height)
    piece = image[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w]
    top, left = inner.y - box.y, inner.x - box.x
    bottom, right = box.h - inner.h - top, box.w - inner.w - left
    if top == left == bottom == right == 0:
        return piece
    if inner.w == 0 or inner.h == 0:
        return np.full((max(1, box.h), max(1, box.w), 3), PAD_BGR, np.uint8)
    return cv2.copyMakeBorder(piece, top, bottom, left, right, cv2.BORDER_CONSTANT, value=PAD_BGR)


def decode_peaks(heat: np.ndarray, geom: np.ndarray, region: Box, stride: int,
                 count: int) -> list[MarkGuess]:
    """The ``count`` strongest local maxima of the heat map as marks in frame pixels, best first.

    The locator sees the parcel small, so tape print, label text and bubbles
    can outscore a faint or small mark; the classifier, which sees each
    candidate sharp, then picks among them.  ``heat`` is (h, w) in 0..1;
    ``geom`` is (6, h, w): the centre's offset in the cell (0..1), the mark's
    width and height as fractions of the region's width (0..1), and the
    cosine and sine of its angle.
    """
    peaks = np.argwhere(heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8)))
    order = np.argsort(-heat[peaks[:, 0], peaks[:, 1]], kind="stable")[:max(1, count)]
    return [_guess_at(heat, geom, region, stride, int(r), int(c)) for r, c in peaks[order]]


def _guess_at(heat: np.ndarray, geom: np.ndarray, region: Box, stride: int, row: int,
              col: int) -> MarkGuess:
    dx, dy, fw, fh, cos_a, sin_a = (float(v) for v in geom[:, row, col])
    scale = region.w / (heat.shape[1] * stride)
    return MarkGuess(cx=region.x + (col + dx) * stride * scale,
                     cy=region.y + (row + dy) * stride * scale,
                     w=max(4.0, fw * region.w), h=max(4.0, fh * region.w),
                     angle=math.degrees(math.atan2(sin_a, cos_a)), score=float(heat[row, col]))


def crop_mark(image: np.ndarray, guess: MarkGuess, margin: float,
              out_hw: tuple[int, int]) -> np.ndarray:
    """The mark turned upright, grown by ``margin`` a side and to the output's aspect.

    Keeping the aspect means a stretched mark (a suspect) stays stretched in
    the crop.  Large marks are first shrunk with area averaging so the
    rotation's bilinear sampling does not alias thin strokes.
    """
    out_h, out_w = out_hw
    w, h = guess.w * (1 + 2 * margin), guess.h * (1 + 2 * margin)
    if w / h < out_w / out_h:
        w = h * out_w / out_h
    px = w / out_w
    roi, cx, cy, shrink = _roi(image, guess, w, h, px)
    a = math.radians(guess.angle)
    step = px * shrink
    # Inverse map: output pixel (u, v) -> roi pixel, u along the baseline, v down the mark.
    m = np.float32([[math.cos(a) * step, -math.sin(a) * step, 0.0],
                    [math.sin(a) * step, math.cos(a) * step, 0.0]])
    m[:, 2] = (cx, cy) - m[:, :2] @ np.float32([out_w / 2 - 0.5, out_h / 2 - 0.5])
    return cv2.warpAffine(roi, m, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=PAD_BGR)


def _roi(image: np.ndarray, guess: MarkGuess, w: float, h: float,
         px: float) -> tuple[np.ndarray, float, float, float]:
    """The axis-aligned piece around the window, shrunk when it is much larger than the crop."""
    half = 0.5 * math.hypot(w, h) + 2
    box = Box(int(guess.cx - half), int(guess.cy - half), int(2 * half) + 1, int(2 * half) + 1)
    height, width = image.shape[:2]
    inner = box.clip(width, height)
    if inner.w < 2 or inner.h < 2:
        return np.full((2, 2, 3), PAD_BGR, np.uint8), 0.0, 0.0, 1.0
    roi = image[inner.y:inner.y + inner.h, inner.x:inner.x + inner.w]
    cx, cy = guess.cx - inner.x, guess.cy - inner.y
    shrink = 1.0
    if px > 1.5:
        shrink = 1.0 / px
        size = (max(2, int(round(inner.w * shrink))), max(2, int(round(inner.h * shrink))))
        roi = cv2.resize(roi, size, interpolation=cv2.INTER_AREA)
        shrink = size[0] / inner.w
        cx, cy = cx * shrink, cy * shrink
    return roi, cx, cy, shrink
