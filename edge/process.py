"""The path of one parcel after capture: decode, quality, classify, rules, package, commit.

A plain function over a :class:`Stages` bundle, so the run loop, ``process``
on files, the demo and the bench all push a parcel through the same code.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from edge.records import (Box, Classification, LabelReading, Outcome, Package, ParcelCapture,
                          ParcelRecord, QualityReport, Verdict, utc_now)
from edge.stats import Stats

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where a finished package goes; ``commit`` returns only once it is durable."""

    def commit(self, package: Package) -> None: ...


@dataclass(frozen=True)
class Stages:
    """The per-parcel stages as plain callables, bound to their config by the composition root.

    Holding callables rather than configs keeps this module free of any stage's
    imports and lets tests put a double in any one place.
    """

    unit: str
    read: Callable[[ParcelCapture], LabelReading]
    choose: Callable[[ParcelCapture, LabelReading], tuple[int, QualityReport]]
    classify: Callable[[np.ndarray, Box], Classification]
    decide: Callable[[LabelReading, QualityReport, Classification], Verdict]
    package: Callable[[ParcelRecord, np.ndarray, Box | None, Box | None], Package]
    next_seq: Callable[[], int]
    sinks: tuple[Sink, ...]
    serial: threading.Lock = field(default_factory=threading.Lock, compare=False)


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


def _analyse(capture: ParcelCapture, stages: Stages, clock: _Clock
             ) -> tuple[LabelReading, int, QualityReport, Classification, Verdict]:
    reading = stages.read(capture)
    clock.lap("decode")
    index, report = stages.choose(capture, reading)
    clock.lap("quality")
    frame, box = capture.frames[index], capture.boxes[index]
    classification = stages.classify(frame.image, box)
    clock.lap("classify")
    verdict = stages.decide(reading, report, classification)
    clock.lap("rules")
    return reading, index, report, classification, verdict


def process_parcel(capture: ParcelCapture, stages: Stages, stats: Stats) -> Package:
    """Run one captured parcel through the path; the package is durable when this returns.

    Several workers may analyse parcels at once; numbering, packaging and
    committing hold ``stages.serial`` so sequence numbers reach the outbox in
    order and a receiver's gap detection sees no false gaps.
    """
    clock = _Clock(stats)
    reading, index, report, classification, verdict = _analyse(capture, stages, clock)
    with stages.serial:
        clock.lap("wait")
        package = _finish(capture, index, reading, report, classification, verdict, stages, clock)
    _count(package, reading, stats)
    return package


def _finish(capture: ParcelCapture, index: int, reading: LabelReading, report: QualityReport,
            classification: Classification, verdict: Verdict, stages: Stages,
            clock: _Clock) -> Package:
    frame = capture.frames[index]
    record = ParcelRecord(
        id=str(uuid.uuid4()), unit=stages.unit, seq=stages.next_seq(),
        time_utc=frame.t_utc or utc_now(), reference=reading.reference,
        symbols=reading.symbols, verdict=verdict, classification=classification,
        quality=(report,), timings_ms=dict(clock.ms), trigger=capture.trigger)
    package = stages.package(record, frame.image, reading.label_box_in(capture, index),
                             capture.boxes[index])
    clock.lap("package")
    for sink in stages.sinks:
        sink.commit(package)
    clock.lap("commit")
    return package


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
