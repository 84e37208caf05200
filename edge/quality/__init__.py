"""The photographic standard: measure a frame against the profile, pick the frame that meets it.

Exposure is judged on the parcel (a dark belt around it is not underexposure),
clipping and glare on its packaging (white label paper may be at the sensor's
maximum), sharpness at full resolution on the label where one was found (that
is what must stay legible), legibility on the module size the decoder measured.
A check that cannot be measured (no parcel box, no label) is left out of the
report rather than passed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from edge.pyramid import Pyramid
from edge.quality import checks
from edge.quality.config import QualityProfile
from edge.records import Box, LabelReading, ParcelCapture, QualityCheck, QualityReport

__all__ = ["QualityProfile", "assess", "choose_frame"]


def assess(image: np.ndarray, profile: QualityProfile, parcel_box: Box | None = None,
           reading: LabelReading | None = None, view: str = "parcel",
           pyramid: Pyramid | None = None, sensor: tuple[int, int] | None = None,
           origin: tuple[int, int] = (0, 0), focus_box: Box | None = None) -> QualityReport:
    """The standard's report for one BGR frame; ``reading`` boxes are in this frame.

    ``pyramid`` (the frame's, shared with the other stages) supplies the
    reduced grey copy, so a 12 MP frame is not greyed and shrunk again here.
    When ``image`` is the parcel's part of a larger frame, ``sensor`` is that
    frame's (width, height) and ``origin`` where the part lies in it: size
    and framing are judged on the whole frame.  ``focus_box`` says where
    sharpness is measured when no label was read (an exam photo's most
    detailed part); by default the parcel.
    """
    height, width = image.shape[:2]
    frame_w, frame_h = sensor or (width, height)
    label_box = reading.label_box if reading is not None else None
    if label_box is not None and label_box.area <= 0:
        label_box = None
    gray, scale = (pyramid or Pyramid(image)).grey_at_most(profile.analysis_px)
    hist = checks.histogram(checks.region(gray, parcel_box, scale))
    mask = checks.drop_printed_paper(
        gray, checks.packaging_mask(gray, parcel_box, label_box, scale), profile)
    focus = checks.focus_region(image, label_box if label_box is not None else focus_box or parcel_box)
    found: list[QualityCheck] = [
        checks.check_width(frame_w, profile),
        checks.check_height(frame_h, profile),
        checks.check_sharpness(checks.sharpness(focus), profile),
        checks.check_brightness(hist, profile),
        checks.check_shadows(hist, profile),
        checks.check_highlights(checks.histogram(gray, mask), profile),
        checks.check_glare(checks.glare_share(gray, mask, profile), profile),
    ]
    if reading is not None and reading.module_px is not None:
        found.append(checks.check_legibility(reading.module_px, profile))
    if parcel_box is not None and width > 0 and height > 0:
        placed = Box(parcel_box.x + origin[0], parcel_box.y + origin[1], parcel_box.w, parcel_box.h)
        found.append(checks.check_framing(placed, frame_w, frame_h, profile))
    return QualityReport(profile=profile.name, view=view, checks=tuple(found))


def _reading_for(capture: ParcelCapture, index: int,
                 reading: LabelReading | None) -> LabelReading | None:
    """The reading as it applies to frame ``index``: its label box only belongs to its own frame."""
    if reading is None or reading.label_box_in(capture, index) is reading.label_box:
        return reading
    return dataclasses.replace(reading, label_box=None)


def _order(capture: ParcelCapture, reading: LabelReading | None) -> list[int]:
    """The decoded frame first (its label was read), then the rest best-first."""
    order = list(range(len(capture.frames)))
    if reading is not None and reading.frame_seq >= 0:
        hit = [i for i, f in enumerate(capture.frames) if f.seq == reading.frame_seq]
        order = hit[:1] + [i for i in order if i not in hit[:1]]
    return order


def choose_frame(capture: ParcelCapture, reading: LabelReading | None,
                 profile: QualityProfile) -> tuple[int, QualityReport]:
    """The first frame that meets the standard, else the one failing the fewest checks."""
    if not capture.frames:
        raise ValueError("a parcel capture without frames has nothing to choose from")
    tried: list[tuple[int, int, int, QualityReport]] = []
    for rank, i in enumerate(_order(capture, reading)):
        box = capture.boxes[i] if i < len(capture.boxes) else None
        pyramid = capture.pyramids[i] if i < len(capture.pyramids) else None
        frame = capture.frames[i]
        report = assess(frame.image, profile, box, _reading_for(capture, i, reading),
                        pyramid=pyramid, sensor=frame.sensor, origin=frame.origin)
        if report.passed:
            return i, report
        tried.append((len(report.failed), rank, i, report))
    _, _, index, report = min(tried, key=lambda t: (t[0], t[1]))
    return index, report
