"""The path of one parcel after capture: decode, quality, classify, rules, package, commit.

A plain function over a :class:`Stages` bundle, so the run loop, ``process``
on files, the demo and the bench all push a parcel through the same code.
Each frame's :class:`edge.pyramid.Pyramid` is made here once and every stage
takes its grey and reduced images from it.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

import cv2
import numpy as np

from edge import pyramid
from edge.pyramid import Pyramid, Surface, scale_box
from edge.records import (Box, Classification, LabelReading, Outcome, Package, ParcelCapture,
                          ParcelRecord, QualityReport, Verdict, utc_now)
from edge.stats import Stats

log = logging.getLogger(__name__)
# A located label larger than this share of the parcel is the box's own paper (a white box),
# not a label: a 4x6" label covers half the top of a small parcel, a white box all of it.
MAX_LABEL_SHARE = 0.75
# Label print is black on white: ink this much darker than the paper (0-255) and no more
# coloured than this (largest minus smallest of B, G, R) is painted over; brand colours stay.
INK_DROP = 40
INK_CHROMA = 48
# In dim light the paper itself is dark: print is then ink this share darker than its paper.
INK_SHARE = 0.35
INK_FLOOR = 18  # sensor noise on a dark surface stays under this
# Wider than a label's strokes and bars (and a 2D code's solid blocks) at the model's level.
INK_WIDTH = 15


class Sink(Protocol):
    """Where a finished package goes; ``commit`` returns only once it is durable."""

    def commit(self, package: Package) -> None: ...


class Turns:
    """Tickets in capture order, and a turn per ticket for numbering and for committing.

    Workers analyse and package parcels at once; only taking a sequence
    number and committing wait for the parcel before, so numbers follow
    capture order, reach the outbox in order (a receiver's gap detection sees
    no false gaps), and a second worker really adds a core.  A parcel that
    fails passes its turns on (:meth:`release`), so none waits for it.
    """

    STEPS = ("number", "commit")

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._issued = 0
        self._next = dict.fromkeys(self.STEPS, 0)
        self._passed: dict[str, set[int]] = {step: set() for step in self.STEPS}

    def ticket(self) -> int:
        with self._cond:
            self._issued += 1
            return self._issued - 1

    @contextmanager
    def turn(self, step: str, ticket: int) -> Iterator[None]:
        """Wait until every earlier ticket has passed ``step``; pass it on leaving."""
        with self._cond:
            self._cond.wait_for(lambda: self._next[step] >= ticket)
        try:
            yield
        finally:
            self._pass(step, ticket)

    def release(self, ticket: int) -> None:
        """Pass every step ``ticket`` has not passed yet (it failed, or is done)."""
        for step in self.STEPS:
            self._pass(step, ticket)

    def _pass(self, step: str, ticket: int) -> None:
        with self._cond:
            if ticket < self._next[step] or ticket in self._passed[step]:
                return
            passed = self._passed[step]
            passed.add(ticket)
            while self._next[step] in passed:
                passed.discard(self._next[step])
                self._next[step] += 1
            self._cond.notify_all()


@dataclass(frozen=True)
class Stages:
    """The per-parcel stages as plain callables, bound to their config by the composition root.

    Holding callables rather than configs keeps this module free of any stage's
    imports and lets tests put a double in any one place.  ``package`` takes
    the chosen frame's pyramid as keyword ``pyramid``.
    """

    unit: str
    read: Callable[[ParcelCapture], LabelReading]
    choose: Callable[[ParcelCapture, LabelReading], tuple[int, QualityReport]]
    # (image, box, label) and optionally surface=edge.pyramid.Surface
    classify: Callable[..., Classification]
    decide: Callable[[LabelReading, QualityReport, Classification], Verdict]
    package: Callable[..., Package]
    next_seq: Callable[[], int]
    sinks: tuple[Sink, ...]
    turns: Turns = field(default_factory=Turns, compare=False)
    # The belt width a frame covers (conveyor.field_of_view_mm): a frame's width over it is its
    # pixels per millimetre, whatever camera made it.  None where the scale is unknown.
    field_of_view_mm: float | None = None


class _Clock:
    """Stage timings for the record and the stats, measured in one place."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.ms: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        ms = (now - self._t) * 1000.0
        self.ms[stage] = round(ms, 3)
        self.stats.time(stage, ms)
        self._t = now


@dataclass(frozen=True)
class _Analysis:
    reading: LabelReading
    report: QualityReport
    classification: Classification
    verdict: Verdict
    label: Box | None  # the label's paper in the chosen frame, followed once for both uses


def _analyse(capture: ParcelCapture, stages: Stages,
             clock: _Clock) -> tuple[ParcelCapture, _Analysis]:
    """The analysis, and the capture narrowed to the frame chosen (its only frame)."""
    reading = stages.read(capture)
    clock.lap("decode")
    index, report = stages.choose(capture, reading)
    clock.lap("quality")
    seed = reading.label_box_in(capture, index)
    capture = chosen_only(capture, index)  # the other frames go back while classify runs
    pyramid, box = capture.pyramids[0], capture.boxes[0]
    paper = label_paper(pyramid, seed) if seed is not None else None
    whole = box.area if box is not None else pyramid.width * pyramid.height
    classification = classify_reduced(stages.classify, pyramid, box,
                                      not_the_box(paper, seed, whole),
                                      pyramid.width / stages.field_of_view_mm
                                      if stages.field_of_view_mm else None)
    clock.lap("classify")
    verdict = stages.decide(reading, report, classification)
    clock.lap("rules")
    return capture, _Analysis(reading, report, classification, verdict, paper)


def chosen_only(capture: ParcelCapture, index: int) -> ParcelCapture:
    """``capture`` with frame ``index`` alone (and its box, score and pyramid)."""
    return dataclasses.replace(
        capture, frames=(capture.frames[index],), boxes=(capture.boxes[index],),
        sharpness=capture.sharpness[index:index + 1], pyramids=(capture.pyramids[index],))


def classify_reduced(classify: Callable[..., Classification], pyramid: Pyramid,
                     box: Box | None, label: Box | None = None,
                     px_per_mm: float | None = None) -> Classification:
    """The classifier on the pyramid level nearest the frames it was built at (in pixels per
    mm when ``px_per_mm`` is known: see :meth:`edge.pyramid.Pyramid.model_level`).

    Its locator wants a thumbnail and its mark crops at most a few hundred
    pixels, so a 12 MP frame gives it nothing a 2 MP level does not, at a
    quarter of the resize work.  The mark box comes back in frame pixels.
    ``label`` (the label's paper, frame pixels) is blanked first (see :func:`blank_label`)
    and handed on, so packaging is not read from the label's paper.  With the frame's
    ``px_per_mm`` (from the conveyor's field of view) the whole pyramid goes along as a
    :class:`edge.pyramid.Surface`, for patches cut at a physical scale.
    """
    level = pyramid.model_level(px_per_mm)
    f = pyramid.scale(level) if level else 1.0
    image = pyramid.colour(level) if level else pyramid.image
    paper = scale_box(label, f) if label is not None else None
    if paper is not None:
        image = blank_label(image, paper)
    extra = {} if px_per_mm is None or box is None else \
        {"surface": Surface(pyramid, px_per_mm, box, label, (level, image))}
    if level == 0:
        return classify(image, box, paper, **extra)
    local = scale_box(box, f).clip(image.shape[1], image.shape[0]) if box is not None else None
    result = classify(image, local, paper, **extra)
    if result.mark_box is None:
        return result
    return dataclasses.replace(result, mark_box=scale_box(result.mark_box, 1.0 / f).clip(
        pyramid.width, pyramid.height))


def label_paper(pyramid: Pyramid, seed: Box) -> Box:
    """The label's paper around the codes read (the decode stage knows the codes, not the paper)."""
    from edge.package.redact import locate_label

    if seed.area <= 0:
        return seed
    return locate_label(pyramid.image, seed, pyramid.grey(2))


def not_the_box(paper: Box | None, seed: Box | None, whole: int) -> Box | None:
    """The paper to blank for the brand check; the codes alone where the paper runs on.

    On a white box the label's paper and the box (``whole``: the parcel's
    area) are one bright region, and blanking it would blank the mark with it.
    """
    if paper is None or seed is None:
        return paper
    return paper if paper.area <= MAX_LABEL_SHARE * whole else seed


def blank_label(image: np.ndarray, label: Box) -> np.ndarray:
    """A copy with the shipping label's print painted over in its paper's colour.

    The brand check reads the parcel's tallest lines of print, and on most
    parcels those are the label's: addressee, service, tracking.  They are
    never a brand mark, and each costs a recognition; without them the lines
    read are the marks and the handling print.  Only the label's ink is
    painted (darker than the paper and grey: labels are printed black), so a
    coloured mark that shares the "paper" (on a white mailer the paper runs
    on into the parcel) is still read, and the packaging keeps its look.
    The paper must be grey too: between a coloured mark's letters on a dark
    parcel the closing finds the mark's colour, and that gap is not print.

    Each stroke is painted in the paper around it (a closing wider than a bar
    or a stroke), not in one colour for the box: a tilted label's box takes in
    some of the parcel, and on a dark mailer one median colour left the
    address as light grey print on white, which still read.  A dark parcel
    region wider than the closing is its own background, so it is not ink.
    """
    label = label.clip(image.shape[1], image.shape[0])
    if label.w < 2 or label.h < 2 or image.ndim != 3 or image.shape[2] != 3:
        return image   # grey: no colour to tell a mark from the label's print by
    out = image.copy()
    region = out[label.y:label.y + label.h, label.x:label.x + label.w]
    paper = _background(image, label)
    lit = cv2.cvtColor(paper, cv2.COLOR_BGR2GRAY)
    drop = cv2.subtract(lit, cv2.cvtColor(region, cv2.COLOR_BGR2GRAY))
    # A dim label's print too, but not a dark belt's noise.  OpenCV's own element-wise calls:
    # numpy's float clip and masked copy cost 5 of this function's 9 ms at 12 MP.
    dark = drop > cv2.min(cv2.max(cv2.multiply(lit, INK_SHARE, dtype=cv2.CV_32F),
                                  float(INK_FLOOR)), float(INK_DROP))
    grey = (_chroma(region) < INK_CHROMA) & (_chroma(paper) < INK_CHROMA)
    ink = cv2.dilate((dark & grey).astype(np.uint8), np.ones((3, 3), np.uint8))
    cv2.copyTo(paper, ink, region)  # in place: ``region`` is a view of ``out``
    return out


def _chroma(bgr: np.ndarray) -> np.ndarray:
    """Largest minus smallest of B, G, R: 0 for greys, over 100 for a brand's red."""
    b, g, r = cv2.split(bgr)
    return cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))


def _background(image: np.ndarray, box: Box) -> np.ndarray:
    """The paper under ``box``: dark strokes narrower than ``INK_WIDTH`` closed over, from a
    window a kernel wider (at the box's edge a label's corner would otherwise spread)."""
    pad = INK_WIDTH
    x0, y0 = max(0, box.x - pad), max(0, box.y - pad)
    x1, y1 = min(image.shape[1], box.x + box.w + pad), min(image.shape[0], box.y + box.h + pad)
    closed = cv2.morphologyEx(image[y0:y1, x0:x1], cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (INK_WIDTH, INK_WIDTH)))
    return closed[box.y - y0:box.y - y0 + box.h, box.x - x0:box.x - x0 + box.w]


class Handoff:
    """A capture passed on once: whoever takes it holds its only reference.

    The path keeps one frame (the chosen one) after the quality stage, and
    a 12 MP parcel part is about 10 MB: when the caller still held the
    capture, the frames not chosen stayed in memory through classify and
    packaging, the longest stages, on every worker.
    """

    def __init__(self, capture: ParcelCapture) -> None:
        self.capture_id, self.trigger = capture.capture_id, capture.trigger
        self._capture: ParcelCapture | None = capture

    def take(self) -> ParcelCapture:
        capture, self._capture = self._capture, None
        if capture is None:
            raise ValueError(f"capture {self.capture_id} was taken already")
        return capture


def process_parcel(capture: ParcelCapture | Handoff, stages: Stages, stats: Stats,
                   ticket: int | None = None) -> Package:
    """Run one captured parcel through the path; the package is durable when this returns.

    ``ticket`` is the capture's place in capture order (from
    ``stages.turns.ticket()`` when it was taken off the queue); without one the
    parcel takes the next.  Only numbering and committing wait their turn.
    A :class:`Handoff` lets the frames not chosen go once the quality stage chose.
    """
    turns = stages.turns
    ticket = turns.ticket() if ticket is None else ticket
    try:
        clock = _Clock(stats)
        chosen, analysis = _analyse(pyramid.of_capture(_taken(capture)), stages, clock)
        with turns.turn("number", ticket):
            clock.lap("wait")
            record = _record(chosen, analysis, stages, clock, stages.next_seq())
        package = _package(chosen, analysis, record, stages)
        clock.lap("package")
        with turns.turn("commit", ticket):
            clock.lap("commit_wait")
            for sink in stages.sinks:
                sink.commit(package)
            clock.lap("commit")
    finally:
        turns.release(ticket)
    _count(package, analysis.reading, stats)
    return package


def _taken(capture: ParcelCapture | Handoff) -> ParcelCapture:
    return capture.take() if isinstance(capture, Handoff) else capture


def _record(capture: ParcelCapture, a: _Analysis, stages: Stages, clock: _Clock,
            seq: int) -> ParcelRecord:
    frame = capture.best
    return ParcelRecord(
        id=str(uuid.uuid4()), unit=stages.unit, seq=seq,
        time_utc=frame.t_utc or utc_now(), reference=a.reading.reference,
        symbols=a.reading.symbols, verdict=a.verdict, classification=a.classification,
        quality=(a.report,), timings_ms=dict(clock.ms), trigger=capture.trigger)


def _package(capture: ParcelCapture, a: _Analysis, record: ParcelRecord,
             stages: Stages) -> Package:
    return stages.package(record, capture.best.image, a.label, capture.boxes[0],
                          pyramid=capture.pyramids[0])


def _count(package: Package, reading: LabelReading, stats: Stats) -> None:
    stats.incr("parcels")
    if reading.reference is not None and reading.reference.valid:
        stats.incr("read")
    outcome = package.record.verdict.outcome
    stats.incr(f"verdict.{outcome}")
    if outcome == Outcome.FLAG.value:
        stats.incr("flagged")
    log.debug("parcel seq=%s outcome=%s reference=%s", package.record.seq, outcome,
              reading.reference.value if reading.reference else None)
