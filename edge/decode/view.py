"""One parcel's reading in progress: the frames as the ladder sees them, and the work done.

A :class:`View` is a frame's region of interest with its grey and reduced
copies made only when a rung asks for them; an :class:`Attempt` is what the
ladder has read and spent so far (the budget counts decoder calls and
pixels, not time).  Kept apart from the ladder in :mod:`edge.decode.reader`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.pyramid import grey_of
from edge.records import Reference, Symbol


@dataclass
class Attempt:
    """The state of one parcel's reading while the ladder runs; the budget counts work done."""

    max_attempts: int
    max_px: float
    symbols: list[Symbol] = field(default_factory=list)
    seen: set[tuple[str, str, str, int]] = field(default_factory=set)
    attempts: int = 0
    pixels: int = 0
    reference: Reference | None = None
    frame_seq: int = -1
    quads: dict[tuple[int, str], list[np.ndarray]] = field(default_factory=dict)

    def spent(self) -> bool:
        return self.attempts >= self.max_attempts or self.pixels >= self.max_px

    def done(self) -> bool:
        return self.reference is not None or self.spent()


class View:
    """One frame's region of interest (as given), where it sits, and a reduced gray copy for finding things.

    The full-resolution gray is kept only once something asks for all of it:
    a 12 MP frame whose label is found on the reduced copy is converted only
    where it is cut (keeping every view's gray cost the unit 20-35 MB of peak
    memory at 12 MP).  The reduced copy is made on first use, so a parcel read
    on its sharpest frame never reduces the other two; it is shrunk from a
    passing gray: greying the region (3 ms at 12 MP) and shrinking one channel
    (9 ms) cost half of shrinking three (24 ms).
    """

    def __init__(self, image: np.ndarray, dx: int, dy: int, seq: int, finder_width: int,
                 frame_width: int) -> None:
        self.image, self.dx, self.dy, self.seq = image, dx, dy, seq
        self.sensor_width = frame_width <= finder_width  # the whole frame, e.g. a 1280x960 camera
        width = image.shape[1]
        self._step = int(np.ceil(width / finder_width)) if width > finder_width else 1
        # whole-pixel steps: the fast area-averaging path
        self.scale = (width // self._step) / width if self._step > 1 else 1.0
        self._gray: np.ndarray | None = None
        self._small: np.ndarray | None = None

    @property
    def small(self) -> np.ndarray:
        if self._small is None:
            if self._step == 1:
                self._small = self.gray
            else:
                gray = self._gray if self._gray is not None else to_gray(self.image)
                h, w = gray.shape[:2]
                self._small = cv2.resize(gray, (w // self._step, h // self._step),
                                         interpolation=cv2.INTER_AREA)
        return self._small

    @property
    def gray(self) -> np.ndarray:
        if self._gray is None:
            self._gray = to_gray(self.image)
        return self._gray

    def gray_part(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """Full-resolution gray of one rectangle (from the whole gray when it exists already)."""
        if self._gray is not None:
            return self._gray[y0:y1, x0:x1]
        return to_gray(np.ascontiguousarray(self.image[y0:y1, x0:x1]))


def check_image(image: object) -> np.ndarray:
    """The array itself if it is an 8-bit gray, BGR or BGRA image; ValueError otherwise."""
    if not isinstance(image, np.ndarray) or image.size == 0 or image.ndim not in (2, 3):
        raise ValueError("not an image array")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must have 1, 3 or 4 channels, got {image.shape[2]}")
    return image


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale from a BGR, BGRA or gray array; ValueError for anything that is not an image."""
    return grey_of(check_image(image))
