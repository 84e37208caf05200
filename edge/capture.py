"""From a stream of (frame, presence) to one :class:`ParcelCapture` per parcel.

While a parcel is in view every frame is scored as it arrives and only the
best are held (``max_frames``, and never more than the ``best_frames`` that
go downstream: at 12 MP a frame is 37 MB, and a frame held but never passed on
is memory spent for nothing), so a slow or stalled parcel costs bounded
memory and the frame it ends with is not favoured over a sharper one it
passed through.  When it leaves, the held frames go downstream, best first
(the decoder and the quality check try them in that order).

The score is sharpness times framing, measured on the frame's low-resolution
copy (:func:`with_lores`: the camera's ``lores`` stream, or the frame halved
until it is at most ``SHARPNESS_SIDE`` pixels), so scoring never touches the
full frame.  Sharpness is the variance of the Laplacian over the parcel
region: motion blur and defocus flatten it, and it costs well under a
millisecond.
Framing prefers a parcel wholly inside the frame (a cut-off parcel may have
its label outside, and fails the photographic standard) and near the centre
(least lens distortion and glare).  The cut-off penalty is steep because a
clipped region holds mostly label and so scores sharper than the whole
parcel: at 0.4 the unit kept choosing half-out frames.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge.pyramid import halve, scale_box
from edge.records import Box, Frame, ParcelCapture
from edge.trigger import Presence

if TYPE_CHECKING:
    from edge.config import CaptureConfig

log = logging.getLogger(__name__)

SHARPNESS_SIDE = 640
CROP_FROM_PX = 4_000_000
"""Frames this large are held as the parcel's part only (a 12 MP frame is 37 MB)."""
CROP_MARGIN = 0.1
CROP_MARGIN_PX = 64
MARGIN_FRACTION = 0.02
CUT_OFF_PENALTY = 0.05


def parcel_part(frame: Frame, box: Box) -> tuple[Frame, Box]:
    """A large frame cut to the parcel with a margin, and the box in the cut; others as they are.

    The margin (a tenth of the parcel, at least ``CROP_MARGIN_PX``) covers the
    decoder's margin and the parcel view's, so every later stage sees what it
    would have seen in the whole frame; ``origin`` and ``sensor`` keep the
    frame's geometry for the framing and size checks.
    """
    height, width = frame.image.shape[:2]
    if width * height < CROP_FROM_PX or frame.origin != (0, 0) or frame.sensor is not None:
        return frame, box
    m = max(CROP_MARGIN_PX, int(CROP_MARGIN * max(box.w, box.h)))
    cut = Box(box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m).clip(width, height)
    if cut.area >= 0.8 * width * height:
        return frame, box
    image = np.array(frame.image[cut.y:cut.y + cut.h, cut.x:cut.x + cut.w])
    part = dataclasses.replace(frame, image=image, origin=(cut.x, cut.y), sensor=(width, height))
    return part, Box(box.x - cut.x, box.y - cut.y, box.w, box.h)


def with_lores(frame: Frame, side: int = SHARPNESS_SIDE) -> Frame:
    """``frame`` with a low-resolution copy for presence and scoring, made if the camera gave none.

    Down by powers of two until the longer side is at most ``side``: a
    bilinear step to twice that size, then one 2x2 area average (about 2 ms
    for a 12 MP frame here), once, where the trigger and the scorer used to
    shrink the full frame each on their own.
    """
    if frame.lores is not None:
        return frame
    small = frame.image
    steps = 0
    while max(small.shape[:2]) >> steps > side and min(small.shape[:2]) >> steps >= 4:
        steps += 1
    if steps >= 2:
        # Bilinear at exactly a quarter of the last size but one reads 2x2 of every 4x4
        # pixels (as the motion trigger always did), a quarter of the work of area halvings.
        h, w = small.shape[:2]
        small = cv2.resize(small, (w >> (steps - 1), h >> (steps - 1)), interpolation=cv2.INTER_LINEAR)
        steps = 1
    if steps == 1:
        small = halve(small)
    return dataclasses.replace(frame, lores=small)


def lores_sharpness(frame: Frame, box: Box) -> float:
    """:func:`sharpness` of the parcel region on the frame's low-resolution copy."""
    if frame.lores is None:
        return sharpness(frame.image, box)
    height, width = frame.image.shape[:2]
    small = frame.lores
    f = small.shape[1] / width
    region = scale_box(box, f).clip(small.shape[1], small.shape[0])
    return laplacian_variance(small[region.y:region.y + region.h, region.x:region.x + region.w])


def laplacian_variance(region: np.ndarray) -> float:
    """Variance of the Laplacian of a grey or BGR region (0 for an empty one)."""
    import cv2

    if region.size == 0 or min(region.shape[:2]) < 2:
        return 0.0
    grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY) if region.ndim == 3 else region
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_32F))
    return float(std[0, 0] ** 2)


def sharpness(image: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian of the grey box, after halving the frame to at most ``SHARPNESS_SIDE``.

    The number of halvings depends on the frame, not the box, so every frame
    of a parcel is measured at the same scale and their scores compare.  A
    bilinear resize to exactly half is a 2x2 average and OpenCV's fastest
    shrink; other factors cost a millisecond or more on a full frame.
    """
    import cv2

    region = image[box.y:box.y + box.h, box.x:box.x + box.w]
    longest = max(image.shape[:2])
    while longest > SHARPNESS_SIDE and min(region.shape[:2]) >= 4:
        half = (region.shape[1] // 2, region.shape[0] // 2)
        region = cv2.resize(region, half, interpolation=cv2.INTER_LINEAR)
        longest //= 2
    return laplacian_variance(region)


def framing(box: Box, width: int, height: int) -> float:
    """1.0 for a parcel inside the margin and centred, less when cut off or off-centre."""
    margin = MARGIN_FRACTION * min(width, height)
    inside = (box.x >= margin and box.y >= margin and box.x + box.w <= width - margin
              and box.y + box.h <= height - margin)
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    off = max(abs(cx - width / 2.0) / (width / 2.0), abs(cy - height / 2.0) / (height / 2.0))
    centred = 1.0 - 0.5 * min(1.0, off)
    return centred * (1.0 if inside else CUT_OFF_PENALTY)


def single_frame(frame: Frame, trigger: str, box: Box | None = None,
                 capture_id: int = 0) -> ParcelCapture:
    """One frame taken as a whole parcel (a test capture, a photo); the box defaults to the frame."""
    height, width = frame.image.shape[:2]
    return ParcelCapture(capture_id, (frame,), (box or Box(0, 0, width, height),), (0.0,),
                         trigger=trigger)


@dataclass(order=True)
class _Scored:
    score: float
    order: int
    frame: Frame = field(compare=False)
    box: Box = field(compare=False)


class ParcelAssembler:
    """Feed every frame with its presence; a capture comes back when a parcel has left."""

    def __init__(self, cfg: CaptureConfig, trigger: str = "", first_id: int = 1) -> None:
        self.cfg = cfg
        self.trigger = trigger
        self._ids = itertools.count(first_id)
        self._order = itertools.count()
        self._held: list[_Scored] = []
        self._started: float | None = None
        self._seen = 0
        self._overlong = False
        self.emitted = 0
        self.too_short = 0
        self.overlong = 0

    def flush(self) -> ParcelCapture | None:
        """End of stream: the parcel still in view, if any, as a capture."""
        self._overlong = False
        return self._emit()

    def push(self, frame: Frame, presence: Presence) -> ParcelCapture | None:
        if not presence.present:
            self._overlong = False
            return self._emit()
        if self._overlong:
            return None
        if self._started is None:
            self._started = frame.t_mono
        self._seen += self._hold(frame, presence.box)
        if frame.t_mono - self._started > self.cfg.max_parcel_s:
            self.overlong += 1
            self._overlong = True
            log.warning("parcel in view for more than %.1f s: capture cut short; ignoring frames "
                        "until the view clears", self.cfg.max_parcel_s)
            return self._emit()
        return None

    def _hold(self, frame: Frame, box: Box | None) -> bool:
        """Score the frame and keep it if it is among the ``max_frames`` best so far.

        No box means the trigger cannot tell where (photo eye, interval): the
        whole frame is the region.  An empty box means the parcel is present
        but nothing of it is in view (motion trigger leaving): nothing to hold.
        """
        height, width = frame.image.shape[:2]
        region = Box(0, 0, width, height) if box is None else box.clip(width, height)
        if region.area == 0:
            return False
        score = lores_sharpness(frame, region) * framing(region, width, height)
        full = len(self._held) >= min(self.cfg.max_frames, self.cfg.best_frames)
        order = -next(self._order)
        if full and (score, order) <= (self._held[0].score, self._held[0].order):
            return True  # not among the best: nothing is cut or held
        frame, region = parcel_part(frame, region)
        item = _Scored(score, order, frame, region)
        if full:
            heapq.heapreplace(self._held, item)
        else:
            heapq.heappush(self._held, item)
        return True

    def _emit(self) -> ParcelCapture | None:
        held, seen = self._held, self._seen
        self._held, self._seen, self._started = [], 0, None
        if not held:
            return None
        if seen < self.cfg.min_frames:
            self.too_short += 1
            log.info("parcel seen in %d frame(s) dropped (min_frames %d)", seen, self.cfg.min_frames)
            return None
        best = sorted(held, reverse=True)[:self.cfg.best_frames]
        self.emitted += 1
        return ParcelCapture(capture_id=next(self._ids), frames=tuple(s.frame for s in best),
                             boxes=tuple(s.box for s in best), sharpness=tuple(s.score for s in best),
                             trigger=self.trigger)
