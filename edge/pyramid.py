"""One frame at every size the stages need, each size made at most once per parcel.

At 12 MP a single full-resolution pass costs milliseconds (a grey conversion
about 10, a non-integer area resize 90), and the path used to make several per
parcel: quality, the classifier's thumbnail, the label locator, the redaction
plan each shrank or greyed the full frame on their own.  A pyramid of exact
halvings is the cheap way down: a 2x2 area average of a 12 MP frame costs about
6 ms and every further level a quarter of that, and an area average of area
averages is the area average of the whole, so a level is what a direct
resize would have given.

Levels are made lazily and cached on the object, so a stage that needs only a
thumbnail never pays for a bigger level.  A camera that delivers a
low-resolution stream beside the full one (picamera2's ``lores``) hands it
over as :attr:`edge.records.Frame.lores`; it then serves as the smallest level
for presence and capture scoring without touching the full frame at all.
Coordinates: a box at level ``k`` is the full-frame box times ``scale(k)``.
"""
from __future__ import annotations

import dataclasses
import threading

import cv2
import numpy as np

from edge.records import Box, ParcelCapture

MODEL_SIDE = 1280
"""Longer side of the frames the classifier and the quality limits were built at."""
MODEL_PX_PER_MM = 6.4
"""Their resolution on the parcel (1280 px over 200 mm): the brand check's letter heights and
ink-edge measures mean what they were tuned to mean only at about this many pixels per mm."""


def halve(image: np.ndarray) -> np.ndarray:
    """A 2x2 area average: OpenCV's fastest shrink.

    An odd side's last row or column is left out: OpenCV takes its fast path
    only for an exact factor of two, and its general area resize of an odd
    size costs several times as much (8 ms instead of 2 for a 2.5 MP crop).
    """
    h, w = image.shape[:2]
    if h >= 2 and w >= 2 and (h % 2 or w % 2):
        image = image[:h - h % 2, :w - w % 2]
    return cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def grey_of(image: np.ndarray) -> np.ndarray:
    """uint8 grey from BGR (the luma weights OpenCV and the decoders use) or grey."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def scale_box(box: Box, f: float) -> Box:
    """``box`` in a copy of the frame scaled by ``f``; grows outward so nothing is cut."""
    x0, y0 = int(np.floor(box.x * f)), int(np.floor(box.y * f))
    x1, y1 = int(np.ceil((box.x + box.w) * f)), int(np.ceil((box.y + box.h) * f))
    return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


class Pyramid:
    """A frame's colour and grey images, full and halved, made on first use and shared.

    Safe to share between threads: a level is made under a lock, once.
    """

    def __init__(self, image: np.ndarray, lores: np.ndarray | None = None) -> None:
        self.image = image
        self.lores = lores
        self._colour: dict[int, np.ndarray] = {0: image}
        self._grey: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()
        self._seed(lores)

    def _seed(self, lores: np.ndarray | None) -> None:
        """A low-resolution copy the size of a level stands in for that level."""
        if lores is None:
            return
        level = 0
        while (self.width >> level) > lores.shape[1]:
            level += 1
        if level and lores.shape[:2] == (self.height >> level, self.width >> level):
            if lores.ndim == 3 and lores.shape[2] == 3:
                self._colour[level] = lores
            else:
                self._grey[level] = grey_of(lores)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def scale(self, level: int) -> float:
        """Width of level ``level`` over the full width (exactly 2**-level for even sizes)."""
        return (self.width >> level) / self.width if level else 1.0

    def colour(self, level: int = 0) -> np.ndarray:
        """The frame halved ``level`` times (level 0 is the frame itself), from the nearest
        larger level already made."""
        with self._lock:
            made = self._colour.get(level)
            if made is not None:
                return made
            below = max(k for k in self._colour if k < level)
            image = self._colour[below]
            for k in range(below + 1, level + 1):
                image = self._colour[k] = halve(image)
            return image

    def grey(self, level: int = 0) -> np.ndarray:
        """Grey of level ``level``, converted from its colour level once."""
        cached = self._grey.get(level)
        if cached is not None:
            return cached
        made = grey_of(self.colour(level))
        with self._lock:
            return self._grey.setdefault(level, made)

    def level_for(self, side: int) -> int:
        """The smallest level whose longer side is still at least ``side`` (0 if the frame is smaller)."""
        longest, level = max(self.width, self.height), 0
        while (longest >> (level + 1)) >= side and (min(self.width, self.height) >> (level + 1)) >= 2:
            level += 1
        return level

    def grey_at_most(self, side: int) -> tuple[np.ndarray, float]:
        """The largest grey level whose longer side is at most ``side``, and its scale.

        A level, never a resize to exactly ``side``: a non-integer area resize
        costs more than the whole pyramid (14 ms for 1014 to 640 px here).
        """
        level = self.level_for(side)
        if max(self.width, self.height) >> level > side:
            level += 1
        return self.grey(level), self.scale(level)

    def model_level(self, px_per_mm: float | None = None) -> int:
        """The level nearest above the frames the classifier was built at: in resolution on the
        parcel when the frame's ``px_per_mm`` is known, else in size.

        Over a 600 mm belt a 12 MP frame's 2028 px level shows the parcel at half the
        classifier's resolution: letters half as tall, and a camera's one or two pixels of
        edge blur twice the share of them (genuine marks read as badly printed).
        """
        if px_per_mm is None:
            return self.level_for(MODEL_SIDE)
        return self.level_at_least(px_per_mm, MODEL_PX_PER_MM)

    def level_at_least(self, px_per_mm: float, want: float) -> int:
        """The smallest level of a frame at ``px_per_mm`` still showing ``want`` (else level 0)."""
        level = 0
        while px_per_mm * self.scale(level + 1) >= want and \
                min(self.width, self.height) >> (level + 1) >= 64:
            level += 1
        return level

    def region(self, box: Box, level: int = 0, grey: bool = False) -> tuple[np.ndarray, Box]:
        """The part of level ``level`` under ``box`` (full-frame coordinates), and that part's box."""
        image = self.grey(level) if grey else self.colour(level)
        local = scale_box(box, self.scale(level)).clip(image.shape[1], image.shape[0])
        return image[local.y:local.y + local.h, local.x:local.x + local.w], local


@dataclasses.dataclass(frozen=True)
class Surface:
    """A parcel's surface in its frame's pyramid at a known resolution.

    The packaging network knows a material's relief (bubbles, flutes,
    wrinkles) at the millimetres per pixel it was trained at; the classifier's
    model level is the right size for marks but, over a 600 mm belt at 12 MP,
    half that resolution.  So the classifier is handed the whole pyramid and
    the frame's scale, and cuts its patches from the level that keeps the
    training's detail.  ``box`` and ``label`` are in full-frame pixels.
    """

    pyramid: Pyramid
    px_per_mm: float
    box: Box
    label: Box | None = None
    # One level with the label's print painted over (the classifier's picture), used in its
    # place when that level is the one chosen: patches beside the label then match training's.
    painted: tuple[int, np.ndarray] | None = None

    def colour(self, level: int) -> np.ndarray:
        if self.painted is not None and self.painted[0] == level:
            return self.painted[1]
        return self.pyramid.colour(level)

    def level_at_least(self, px_per_mm: float) -> int:
        """The smallest level still showing at least ``px_per_mm`` (level 0 if none does)."""
        return self.pyramid.level_at_least(self.px_per_mm, px_per_mm)


def of_capture(capture: ParcelCapture) -> ParcelCapture:
    """``capture`` with one pyramid per frame (kept if it already has them)."""
    if len(capture.pyramids) == len(capture.frames):
        return capture
    pyramids = tuple(Pyramid(f.image, f.lores) for f in capture.frames)
    return dataclasses.replace(capture, pyramids=pyramids)
