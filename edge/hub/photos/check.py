"""One exam photo against its view of the standard, with the conveyor's own checks.

The conveyor's :func:`edge.quality.assess` measures exposure, clipping, glare,
sharpness and (where a barcode was read) legibility; this module only chooses
what to hand it for a photo taken by hand: the view's own minimums, where to
measure sharpness (the most detailed part of the photo: a phone focuses on the
item, not on the table), the label read by the unit's own reader, and the scale
card.  Checks the conveyor has no use for (a barcode that must be read, the
case's reference, the scale card) are :class:`QualityCheck` rows of the same
report, so every verdict reads the same way wherever the photo came from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge.decode import LabelReader
from edge.hub.photos import scale
from edge.hub.photos.bars import estimate_module_px
from edge.hub.photos.advice import advise
from edge.identify import identify
from edge.quality import assess, checks
from edge.quality.checks import MAX_FOCUS_SIDE
from edge.quality.config import QualityProfile
from edge.quality.exam import ExamView
from edge.records import Box, LabelReading, QualityCheck, QualityReport, Reference
from edge.still import locate_parcel

_FOCUS_WORK_PX = 512
MAX_SIDE = 16384


@dataclass(frozen=True)
class PhotoVerdict:
    """The report of one photo, what was read on it (barcode views) and, per failed check,
    what to do."""

    view: str
    report: QualityReport
    reading: LabelReading | None
    px_per_mm: float | None
    advice: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.report.passed


def view_profile(profile: QualityProfile, view: ExamView, width: int, height: int) -> QualityProfile:
    """The profile with the view's minimums, oriented like the photo (portrait or landscape).

    Larger photos are fine (packaging scales them down), so the maximum is the bound.
    """
    long_w = width >= height
    return profile.model_copy(update={
        "min_width": view.min_long_side if long_w else view.min_short_side,
        "min_height": view.min_short_side if long_w else view.min_long_side,
        "max_width": MAX_SIDE, "max_height": MAX_SIDE,
        "min_sharpness": view.min_sharpness, "min_module_px": view.min_module_px})


def focus_box(image: np.ndarray, side: int = MAX_FOCUS_SIDE) -> Box:
    """The ``side``-square window with the most fine detail: where the item in focus is."""
    h, w = image.shape[:2]
    f = min(1.0, _FOCUS_WORK_PX / max(h, w))
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    energy = np.abs(cv2.Laplacian(small.astype(np.float32), cv2.CV_32F))
    win = max(3, int(side * f) | 1)
    summed = cv2.boxFilter(energy, -1, (win, win), normalize=True, borderType=cv2.BORDER_REPLICATE)
    y, x = np.unravel_index(int(np.argmax(summed)), summed.shape)
    cx, cy = int(x / f), int(y / f)
    bw, bh = min(side, w), min(side, h)
    return Box(min(max(0, cx - bw // 2), w - bw), min(max(0, cy - bh // 2), h - bh), bw, bh)


def _row(name: str, value: float, limit: str, passed: bool) -> QualityCheck:
    return QualityCheck(name=name, value=round(float(value), 4), limit=limit, passed=bool(passed))


def _barcode_rows(reading: LabelReading, view: ExamView,
                  case: Reference | None) -> list[QualityCheck]:
    rows = [_row("barcode", float(len(reading.symbols)), "at least one barcode read",
                 bool(reading.symbols))]
    ref = reading.reference
    if case is not None and ref is not None and ref.valid:
        rows.append(_row("reference", 1.0 if ref.value == case.value else 0.0,
                         f"the case's reference {case.value}", ref.value == case.value))
    return rows


def _reflection_row(image: np.ndarray, profile: QualityProfile, view: ExamView) -> QualityCheck:
    """The conveyor's glare measure with "bright" meaning clipped, over the whole photo.

    The conveyor's own glare check leaves out bright regions with print inside (label
    paper); a reflection on a printed mark is exactly that, so the exam also measures the
    largest patch clipped to white, wherever it lies.
    """
    gray, _ = checks.analysis_gray(image, profile.analysis_px)
    mask = np.full(gray.shape, 255, np.uint8)
    clipped = profile.model_copy(update={"glare_delta": 255})
    share = checks.glare_share(gray, mask, clipped)
    return _row("reflection", share, f"largest patch at or above {profile.clip_high} <= "
                f"{view.max_reflection:g} of the photo", share <= view.max_reflection)


def _scale_rows(image: np.ndarray, view: ExamView) -> tuple[list[QualityCheck], float | None]:
    if not view.scale_required:
        return [], None
    measured = scale.px_per_mm(image)
    value = measured or 0.0
    return [_row("scale", value, f">= {view.min_px_per_mm:g} px per mm on the scale card",
                 measured is not None and value >= view.min_px_per_mm)], measured


def _read_label(image: np.ndarray, reader: LabelReader) -> LabelReading:
    """The label read; when nothing is, the bars' estimated size, so legibility can say why."""
    reading = reader.read_image(image)
    if reading.symbols or reading.module_px is not None:
        return reading
    return replace(reading, module_px=estimate_module_px(checks.analysis_gray(image, MAX_SIDE)[0]))


def check_photo(image: np.ndarray, view_name: str, profile: QualityProfile, reader: LabelReader,
                case: Reference | None = None) -> PhotoVerdict:
    """The verdict on one upright BGR photo for view ``view_name`` of the profile."""
    view = profile.exam_views[view_name]
    h, w = image.shape[:2]
    # Only a barcode view needs its label read now; filing reads every photo for redaction.
    reading = _read_label(image, reader) if view.barcode else None
    parcel = locate_parcel(image) if view_name == "exterior" else None
    report = assess(image, view_profile(profile, view, w, h), parcel_box=parcel,
                    reading=reading if view.barcode else None, view=view_name,
                    focus_box=focus_box(image))
    extra = _barcode_rows(reading, view, case) if view.barcode else []
    extra.append(_reflection_row(image, profile, view))
    scale_rows, measured = _scale_rows(image, view)
    report = QualityReport(report.profile, view_name, report.checks + tuple(extra + scale_rows))
    advice = tuple(advise(c, view, profile) for c in report.checks if not c.passed)
    return PhotoVerdict(view_name, report, reading, measured, advice)


def case_reference(text: str) -> Reference | None:
    """A typed or decoded reference number, validated by the unit's own rules; None if not."""
    found = identify(text)
    if found.kind is None or not found.valid:
        return None
    return Reference(kind=found.kind, value=found.value, valid=True)
