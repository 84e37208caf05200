"""An exam set filed as a standard package: the conveyor's names, hashes, redaction and outbox.

The accepted photos of a case become one parcel record under the case's
reference number, from the hub's exam station unit, with one image per view
(``exterior``, ``label``, ``mark-2``...) and a redacted copy of each, built by
:mod:`edge.package` exactly as the conveyor builds its own, committed to an
:class:`edge.outbox.Outbox` and published by the unit's own publisher on the
same topics.  What central systems receive does not depend on what took the photo.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from edge.imageio import to_bgr8
from edge.package import naming, redact
from edge.package.build import PackageError, _image_file, _sidecar
from edge.package.config import PackageConfig
from edge.quality.config import QualityProfile
from edge.records import (LabelReading, Package, ParcelRecord, QualityReport, Reference, Symbol,
                          Verdict, utc_now)

EXAM_TRIGGER = "exam"
# The record is evidence for the case, not a verdict of the unit: it enters no work queue.
EXAM_OUTCOME = "clear"


@dataclass(frozen=True, eq=False)
class Shot:
    """One accepted photo of a set: its view key (``mark-2``), pixels, report and reading."""

    key: str
    image: np.ndarray
    report: QualityReport
    reading: LabelReading | None


def _redacted(image: np.ndarray, reading: LabelReading | None,
              cfg: PackageConfig) -> tuple[np.ndarray, str]:
    """The conveyor's redaction where a label was read; otherwise no label text to hide."""
    if reading is None or reading.label_box is None or reading.label_box.area <= 0:
        return image, "no label found: copied unchanged"
    label = redact.locate_label(image, reading.label_box)
    plan = redact.plan(image, label, reading.symbols, [])
    if plan.label is None:
        return image, "no label found: copied unchanged"
    return redact.apply(image, plan, cfg.redaction_style), plan.describe(cfg.redaction_style)


def _symbols(shots: Sequence[Shot]) -> tuple[Symbol, ...]:
    seen: dict[tuple[str, str], Symbol] = {}
    for shot in shots:
        for s in shot.reading.symbols if shot.reading else ():
            seen.setdefault((s.format, s.text), dataclasses.replace(s, corners=()))
    return tuple(seen.values())


def exam_record(reference: Reference, shots: Sequence[Shot], unit: str, seq: int,
                officer: str, when: str | None = None) -> ParcelRecord:
    """The record of a set before its images are added (the package builder adds them)."""
    if not reference.valid or naming.reference_part(reference) == naming.NOREAD:
        raise PackageError("an exam set is filed only under a validated reference number")
    views = ", ".join(s.key for s in shots)
    return ParcelRecord(
        id=str(uuid.uuid4()), unit=unit, seq=seq, time_utc=when or utc_now(),
        reference=reference, symbols=_symbols(shots),
        verdict=Verdict(EXAM_OUTCOME, (f"exam photographs ({views}) filed by {officer[:64]}",)),
        classification=None, quality=tuple(s.report for s in shots), trigger=EXAM_TRIGGER)


def build_exam_package(record: ParcelRecord, shots: Sequence[Shot], profile: QualityProfile,
                       cfg: PackageConfig) -> Package:
    """Each shot as a standard JPEG view plus its redacted copy, and the sidecar record."""
    if not shots or len({s.key for s in shots}) != len(shots):
        raise PackageError("an exam set needs photos with one view key each")
    built, notes = [], []
    for shot in shots:
        image = to_bgr8(np.ascontiguousarray(shot.image))
        built.append(_image_file(record, image, shot.key, False, profile, cfg))
        if cfg.redact:
            copy, note = _redacted(image, shot.reading, cfg)
            built.append(_image_file(record, copy, f"{shot.key}-redacted", True, profile, cfg))
            notes.append(f"{shot.key}: {note}")
    description = "; ".join(notes) if cfg.redact else "redaction disabled in the config"
    record = dataclasses.replace(record, images=tuple(ref for _, ref in built),
                                 redaction=description)
    return Package(record, tuple(f for f, _ in built) + (_sidecar(record),))
