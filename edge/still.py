"""Finding the parcel in a single photograph, where there is no belt background to learn.

Hand photos and re-processed files reach the path without a trigger's box.
Treating the whole picture as the parcel fails framing and mis-measures
exposure (the belt or the bench around it), so the parcel is taken as the
largest region that differs from the picture's border colour.
"""
from __future__ import annotations

import cv2
import numpy as np

from edge.records import Box

WORK_SIDE = 320
MIN_FRACTION = 0.03
MAX_FRACTION = 0.97
COLOUR_DISTANCE = 40.0


def _border_colour(small: np.ndarray) -> np.ndarray:
    edges = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    return np.median(edges.reshape(-1, 3), axis=0)


def locate_parcel(image: np.ndarray) -> Box | None:
    """The parcel's box in full-frame pixels, or None when nothing stands out from the border."""
    h, w = image.shape[:2]
    scale = WORK_SIDE / max(h, w)
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    distance = np.linalg.norm(small - _border_colour(small), axis=2)
    mask = (distance > COLOUR_DISTANCE).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    x, y, bw, bh = cv2.boundingRect(max(contours, key=cv2.contourArea))
    fraction = (bw * bh) / float(mask.shape[0] * mask.shape[1])
    if not MIN_FRACTION <= fraction <= MAX_FRACTION:
        return None
    return Box(int(x / scale), int(y / scale), int(bw / scale), int(bh / scale)).clip(w, h)
