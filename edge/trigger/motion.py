"""Trigger `motion`: parcel presence from the frames themselves, against a learned belt.

It runs on every camera frame, so it must cost almost nothing (budget: 2 ms
for a 1280x960 frame here, the Pi being 3-4x slower): the frame is shrunk by
``scale`` (8 by default) and everything happens on that thumbnail.

The belt is learned as a running average, and only where no parcel is, so a
slow parcel is never absorbed into the background while the empty belt keeps
tracking slow lighting drift.  Presence has hysteresis (more changed pixels
to enter than to stay, and several frames in a row either way) so a parcel's
ragged edge does not flicker the trigger.  Three escapes keep an unattended
unit from sticking.  A change that has not moved for ``absorb_frames``
frames becomes belt, pixel by pixel (a ghost left by a parcel that was in
view while the belt was learned, a strap left lying).  A change over almost
the whole view (lights switched, camera knocked) and a "parcel" present
longer than ``max_present_s`` (a jam) both relearn the whole background.

While the trigger waits out its leave hysteresis with too little of a parcel
in view to frame, it answers present with the empty box :data:`NOWHERE`, so
the assembler keeps the parcel open without holding pictures of bare belt.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from edge.configbase import Section
from edge.records import Box, Frame
from edge.trigger import Presence

log = logging.getLogger(__name__)

NOWHERE = Box(0, 0, 0, 0)
"""The box while a parcel is still "present" (leave hysteresis) but nothing of it is in view."""


class Config(Section):
    type: Literal["motion"] = "motion"
    scale: int = Field(8, ge=2, le=16, description="work on a frame this many times smaller")
    threshold: int = Field(24, ge=1, le=255, description="grey-level change that counts")
    enter_fraction: float = Field(0.01, gt=0, le=0.9, description="changed share of the view to enter")
    leave_fraction: float = Field(0.004, ge=0, le=0.9, description="changed share below which it leaves")
    enter_frames: int = Field(2, ge=1, le=30)
    leave_frames: int = Field(3, ge=1, le=60)
    learn_frames: int = Field(5, ge=1, le=1000, description="frames of empty belt learned at start")
    learn_rate: float = Field(0.05, gt=0, le=1.0)
    relearn_fraction: float = Field(0.95, gt=0, le=1.0, description="a change this wide is lighting")
    absorb_frames: int = Field(150, ge=1, le=100000,
                               description="a change that stays put this many frames is belt; "
                                           "keep it above the frames the longest parcel is in view")
    max_present_s: float = Field(30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _hysteresis(self) -> "Config":
        if self.leave_fraction >= self.enter_fraction:
            raise ValueError("leave_fraction must be below enter_fraction (hysteresis)")
        return self


class MotionTrigger:
    """Background subtraction on a thumbnail; the box is scaled back to the full frame."""

    def __init__(self, cfg: Config) -> None:
        import cv2

        self.cfg = cfg
        self._cv2 = cv2
        self._kernel = np.ones((3, 3), np.uint8)
        self._bg: np.ndarray | None = None
        self._bg8: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._still: np.ndarray | None = None
        self._learned = 0
        self._present = False
        self._streak = 0
        self._since = 0.0
        self.relearned = 0

    def observe(self, frame: Frame) -> Presence:
        started = time.perf_counter()
        small = self._thumbnail(frame)
        box = None
        if self._bg is None or self._bg.shape != small.shape or self._learned < self.cfg.learn_frames:
            self._learn(small)
        else:
            box = self._detect(small, frame)
        self._prev = small
        return Presence(self._present, box, (time.perf_counter() - started) * 1000.0)

    def close(self) -> None:
        """Nothing to release."""

    def _thumbnail(self, frame: Frame) -> np.ndarray:
        """Grey thumbnail ``scale`` times smaller than the frame.

        From the frame's low-resolution copy when it has one (picamera2's
        ``lores`` stream, or the pipeline's halvings), so the full frame is
        never read; else a cheap bilinear halving pass, then an area average.
        """
        cv2, s = self._cv2, self.cfg.scale
        h, w = frame.image.shape[:2]
        size = (max(1, w // s), max(1, h // s))
        if frame.lores is not None and frame.lores.shape[1] >= size[0]:
            lores = frame.lores
            grey = lores if lores.ndim == 2 else cv2.cvtColor(lores, cv2.COLOR_BGR2GRAY)
            if grey.shape[1] == size[0] and grey.shape[0] == size[1]:
                return grey
            return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        half = cv2.resize(frame.image, (max(2, 2 * w // s), max(2, 2 * h // s)),
                          interpolation=cv2.INTER_LINEAR)
        grey = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
        return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)

    def _learn(self, small: np.ndarray) -> None:
        """Average the first frames as the empty belt."""
        if self._bg is None or self._bg.shape != small.shape:
            self._bg, self._learned = small.astype(np.float32), 0
            self._still = np.zeros(small.shape, np.uint32)
        self._learned += 1
        self._cv2.accumulateWeighted(small, self._bg, 1.0 / self._learned)
        self._bg8 = self._cv2.convertScaleAbs(self._bg)

    def _relearn(self, small: np.ndarray, why: str) -> None:
        self.relearned += 1
        log.warning("motion trigger: relearning the belt (%s)", why)
        self._bg = small.astype(np.float32)
        self._bg8 = small.copy()
        self._still = np.zeros(small.shape, np.uint32)
        self._present, self._streak = False, 0

    def _detect(self, small: np.ndarray, frame: Frame) -> Box | None:
        cv2 = self._cv2
        diff = cv2.absdiff(small, self._bg8)
        _, changed = cv2.threshold(diff, self.cfg.threshold, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(changed, cv2.MORPH_OPEN, self._kernel)
        fraction = cv2.countNonZero(mask) / mask.size
        if fraction >= self.cfg.relearn_fraction:
            self._relearn(small, "most of the view changed at once")
            return None
        self._absorb_still(small, changed)
        self._update_state(fraction, frame.t_mono)
        if self._present and frame.t_mono - self._since > self.cfg.max_present_s:
            self._relearn(small, "present for longer than max_present_s")
            return None
        cv2.accumulateWeighted(small, self._bg, self.cfg.learn_rate, mask=cv2.bitwise_not(changed))
        self._bg8 = cv2.convertScaleAbs(self._bg)
        if not self._present:
            return None
        return self._box(mask, frame.image.shape) if fraction >= self.cfg.leave_fraction else NOWHERE

    def _absorb_still(self, small: np.ndarray, changed: np.ndarray) -> None:
        """Count how long each changed pixel has stayed put; long enough, and it is belt."""
        cv2 = self._cv2
        moved = cv2.absdiff(small, self._prev if self._prev is not None else small) > self.cfg.threshold
        still = (changed > 0) & ~moved
        self._still = np.where(still, self._still + 1, 0).astype(np.uint32)
        ghost = self._still >= self.cfg.absorb_frames
        if ghost.any():
            self._bg[ghost] = small[ghost]
            self._still[ghost] = 0

    def _update_state(self, fraction: float, t: float) -> None:
        """Hysteresis: enter and leave thresholds, each held for a number of frames."""
        if self._present:
            leaving = fraction < self.cfg.leave_fraction
            self._streak = self._streak + 1 if leaving else 0
            if self._streak >= self.cfg.leave_frames:
                self._present, self._streak = False, 0
            return
        entering = fraction >= self.cfg.enter_fraction
        self._streak = self._streak + 1 if entering else 0
        if self._streak >= self.cfg.enter_frames:
            self._present, self._streak, self._since = True, 0, t

    def _box(self, mask: np.ndarray, shape: tuple[int, ...]) -> Box:
        """The changed region's bounds, one thumbnail pixel of margin, in full-frame pixels."""
        x, y, w, h = self._cv2.boundingRect(mask)
        fh, fw = shape[:2]
        sx, sy = fw / mask.shape[1], fh / mask.shape[0]
        box = Box(int((x - 1) * sx), int((y - 1) * sy), int((w + 2) * sx), int((h + 2) * sy))
        return box.clip(fw, fh)


def open(cfg: Config, ctx: Any) -> MotionTrigger:  # noqa: A001 - registry entry point
    return MotionTrigger(cfg)
