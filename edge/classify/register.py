"""Print out of register: a faint second copy of the strokes beside the print.

A cheap press lays its colour plates a few pixels apart, so each stroke gets
a fainter twin a fixed step off it; blur alone cannot say so (the camera
blurs every mark), nor holes (the ink may be solid).  Blur widens both edges
of every stroke alike; a second impression widens only the edges that face
its step.  So partial ink (between PARTIAL of the strong ink near it) is
counted beside full ink on one side and on the opposite side, for every step
within REACH of the letter height, and the largest difference, per pixel of
full ink, is the share measured.

Each pixel's print level is the strongest ink near it, not the line's
strongest: a name printed fainter than a bold emblem beside it is not all
partial ink.  On four held-out dev splits (4242 / 4343 / 4444 / 4545) the
genuine-print marks read (genuine, wrongly packed, wrong colour, misspelt,
distorted; 770) measured a median of 0.05, 11 of them 0.15 or more, none
over 0.26; the cheap prints (127) a median of 0.20, 88 of them 0.15 or
more.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.classify.ink import BAND_FILL, MIN_INK_PIXELS, LineInk, ink_extent, strongest_near

# Shares of the line's strong ink (its 90th percentile): at FULL or more a pixel is print,
# between PARTIAL partly inked (an edge's blur, or a second impression).
STRONG = 90
FULL = 0.8
PARTIAL = (0.3, 0.75)
# A pixel's strong ink is that of the print near it, never under this share of the line's.
LEAST = 0.5
# The second impression is looked for this far off the print, in letter heights (a press's
# plates drift a few pixels; further off, the next letter's strokes would answer).
REACH = (0.04, 0.3)


@dataclass(frozen=True)
class Doubling:
    """The largest one-sided partial ink found, per pixel of print, and the step (in letter
    heights) it lies off the strokes."""

    share: float
    step: float


def doubled_print(ink: LineInk | None) -> Doubling | None:
    """The line's print measured for a second impression; None with too little print."""
    if ink is None:
        return None
    dist = ink.dist.astype(np.float32)
    across = _bands(ink.mask)
    printed = ink.mask & ~across
    if printed.sum() < MIN_INK_PIXELS:
        return None
    height = ink_extent(ink.mask)[1]
    near, far = max(2, round(REACH[0] * height)), max(3, round(REACH[1] * height))
    level = _local_level(dist, printed, far)
    inked = dist >= PARTIAL[0] * level
    band = across | _bands(inked)
    full = ((dist >= FULL * level) & ~band).astype(np.float32)
    if full.sum() < MIN_INK_PIXELS:
        return None
    # a band's own blurred edge is partial ink with the letters it runs along on one side
    # only: it is left out as far as the nearest step looked at
    beside_band = cv2.dilate(band.astype(np.uint8), np.ones((2 * near + 1,) * 2, np.uint8))
    partial = inked & (dist < PARTIAL[1] * level) & ~beside_band.astype(bool)
    return _one_sided(full, partial.astype(np.float32), near, far, height)


def _local_level(dist: np.ndarray, printed: np.ndarray, far: int) -> np.ndarray:
    """Each pixel's strong ink: the strongest print within ``far`` of it, and no less than
    LEAST of the line's own (paper far from any print stays paper).  Against the line's
    strongest alone, a name printed fainter than a bold emblem beside it was all partial
    ink, on the emblem's side only."""
    strong = float(np.percentile(dist[printed], STRONG))
    near = strongest_near(dist, printed, 2 * far + 1)
    return np.maximum(np.minimum(near, strong), LEAST * strong)


def _bands(inked: np.ndarray) -> np.ndarray:
    """Rows and columns of the cut nearly all inked: tape or the surface's edge, no print."""
    return (inked.mean(axis=1) >= BAND_FILL)[:, None] | (inked.mean(axis=0) >= BAND_FILL)[None, :]


def _one_sided(full: np.ndarray, partial: np.ndarray, near: int, far: int,
               height: float) -> Doubling:
    """For each step s, partial ink with print at -s less that with print at +s: the two
    edges of a blurred stroke cancel, a second impression's do not."""
    padded = cv2.copyMakeBorder(full, far, far, far, far, cv2.BORDER_CONSTANT, value=0)
    # beside[dy, dx]: partial ink with print (dy - far, dx - far) away
    beside = cv2.matchTemplate(padded, partial, cv2.TM_CCORR)
    one_sided = np.abs(beside - beside[::-1, ::-1])
    dy, dx = np.mgrid[-far:far + 1, -far:far + 1]
    one_sided[(np.hypot(dy, dx) < near) | (np.hypot(dy, dx) > far)] = 0
    at = np.unravel_index(int(np.argmax(one_sided)), one_sided.shape)
    step = float(np.hypot(at[0] - far, at[1] - far)) / max(height, 1.0)
    return Doubling(round(float(one_sided[at]) / float(full.sum()), 4), round(step, 3))
