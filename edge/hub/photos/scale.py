"""The scale reference: the guide's printed scale card, found and measured in a photo.

The card carries one ArUco marker (OpenCV's own dictionary) of a known printed
side, so a photo that shows it says how many pixels one millimetre spans: that
is what lets an importer or a rights holder judge a mark's real size, and what
"close enough" means for a close-up.  Detection runs on a reduced copy first
(a marker close up is large) and at full resolution only when that finds
nothing (a marker beside a whole parcel may be small).
"""
from __future__ import annotations

import cv2
import numpy as np

from edge.quality.exam import SCALE_CARD_DICTIONARY, SCALE_CARD_MARKER_ID

MARKER_MM = 40.0
_STEPS = (1024, 2048, 0)
# A marker found smaller than this is measured again at a finer step: corners are whole pixels.
_PRECISE_PX = 96.0


def _detector() -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, SCALE_CARD_DICTIONARY))
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(dictionary, params)


def marker_image(side_px: int) -> np.ndarray:
    """The card's marker as a grey image (black modules, no quiet zone), for printing."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, SCALE_CARD_DICTIONARY))
    return cv2.aruco.generateImageMarker(dictionary, SCALE_CARD_MARKER_ID, side_px)


def _side_px(corners: np.ndarray) -> float:
    """Mean length of the marker's four sides (a tilted card foreshortens some)."""
    pts = corners.reshape(4, 2).astype(np.float64)
    return float(np.mean(np.linalg.norm(pts - np.roll(pts, 1, axis=0), axis=1)))


def px_per_mm(image: np.ndarray, marker_mm: float = MARKER_MM) -> float | None:
    """Pixels per millimetre on the scale card, or None when no card is in the photo."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    detector = _detector()
    longest = max(gray.shape[:2])
    for side in _STEPS:
        scale = 1.0 if side == 0 or longest <= side else side / longest
        work = gray if scale == 1.0 else cv2.resize(
            gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        corners, ids, _ = detector.detectMarkers(work)
        if ids is not None:
            found = [c for c, i in zip(corners, ids.ravel()) if int(i) == SCALE_CARD_MARKER_ID]
            side_px = max((_side_px(c) for c in found), default=0.0)
            if side_px >= _PRECISE_PX or (found and scale == 1.0):
                return round(side_px / scale / marker_mm, 3)
        if scale == 1.0:
            break
    return None
