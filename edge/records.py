"""What flows along the parcel's path: frozen dataclasses and their JSON form.

Every stage takes and returns these, so a stage can be tested, replaced or
re-run on its own.  Published JSON carries a ``schema`` field so receivers can
refuse what they do not understand instead of misreading it.
"""
from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import numpy as np

SCHEMA_VERSION = 1
RECORD_SCHEMA = f"parcel-edge/parcel/{SCHEMA_VERSION}"
ALERT_SCHEMA = f"parcel-edge/alert/{SCHEMA_VERSION}"
STATUS_SCHEMA = f"parcel-edge/status/{SCHEMA_VERSION}"
COMMAND_REPLY_SCHEMA = f"parcel-edge/cmd-reply/{SCHEMA_VERSION}"


def utc_text(when: datetime) -> str:
    """The one time format every record carries: ISO 8601 UTC, milliseconds, ``Z``."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return utc_text(datetime.now(timezone.utc))


@dataclass(frozen=True)
class Box:
    """An axis-aligned region in pixel coordinates of the frame it belongs to."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    @staticmethod
    def around(boxes: "list[Box]") -> "Box | None":
        """The box around all of ``boxes`` (the codes read: where the label's paper is sought)."""
        if not boxes:
            return None
        x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
        x1, y1 = max(b.x + b.w for b in boxes), max(b.y + b.h for b in boxes)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def overlap(self, other: "Box") -> int:
        """The area this box shares with ``other`` (0 when they do not meet)."""
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return max(0, w) * max(0, h)

    def clip(self, width: int, height: int) -> "Box":
        """The part of this box that lies inside a ``width`` x ``height`` frame."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.x + self.w), min(height, self.y + self.h)
        return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


@dataclass(frozen=True, eq=False)
class Frame:
    """One camera frame.  ``image`` is BGR uint8 (H, W, 3), owned by this frame.

    ``truth`` is only set by the synthetic source: what is really in the frame,
    so benchmarks can score reading and classifying without hand labels.
    ``lores`` is a low-resolution copy of the same instant (picamera2's ``lores``
    stream, BGR or grey, any smaller size) when the camera delivers one:
    presence and capture scoring run on it and never touch ``image``.
    ``origin`` and ``sensor`` say where ``image`` lies in the sensor's frame
    and that frame's (width, height) when ``image`` is only the parcel's part
    of it (the assembler keeps only that much of a 12 MP frame).
    """

    seq: int
    t_mono: float
    t_utc: str
    image: np.ndarray
    source: str = ""
    truth: Mapping[str, Any] | None = None
    lores: np.ndarray | None = None
    origin: tuple[int, int] = (0, 0)
    sensor: tuple[int, int] | None = None

    @property
    def sensor_size(self) -> tuple[int, int]:
        """(width, height) of the whole sensor frame this image is part of."""
        return self.sensor or (int(self.image.shape[1]), int(self.image.shape[0]))


@dataclass(frozen=True, eq=False)
class ParcelCapture:
    """All frames of one parcel passing the camera, best first.

    ``boxes[i]`` is the parcel's region in ``frames[i]``; ``sharpness[i]`` the
    score the frame was ranked by.  ``pyramids[i]`` (an :class:`edge.pyramid.Pyramid`,
    made once per parcel by the path) holds ``frames[i]`` at the grey and reduced
    sizes the stages share; empty until the path adds them.
    """

    capture_id: int
    frames: tuple[Frame, ...]
    boxes: tuple[Box, ...]
    sharpness: tuple[float, ...]
    trigger: str = ""
    pyramids: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def best(self) -> Frame:
        return self.frames[0]


@dataclass(frozen=True)
class Symbol:
    """One decoded barcode.  ``text`` is exactly as decoded and untrusted: JSON escapes it; a name,
    topic or terminal line takes :func:`edge.identify.sanitize.safe_text` of it."""

    format: str
    text: str
    decoder: str = ""
    frame_seq: int = -1
    corners: tuple[tuple[int, int], ...] = ()


class RefKind(str, enum.Enum):
    UPU_S10 = "upu_s10"
    USPS_IMPB = "usps_impb"
    UPS = "ups"
    FEDEX = "fedex"
    DHL_EXPRESS = "dhl_express"
    CBP_ENTRY = "cbp_entry"
    GS1_SSCC = "gs1_sscc"


@dataclass(frozen=True)
class Reference:
    """The one number that follows the shipment.  ``value`` is canonical and validated."""

    kind: str
    value: str
    valid: bool
    confidence: float = 1.0
    votes: int = 1


@dataclass(frozen=True)
class LabelReading:
    """What the decode stage made of a parcel: every symbol, and the reference if any."""

    symbols: tuple[Symbol, ...]
    reference: Reference | None
    attempts: int = 0
    ms: float = 0.0
    frame_seq: int = -1
    label_box: Box | None = None
    module_px: float | None = None

    def label_box_in(self, capture: ParcelCapture, index: int) -> Box | None:
        """The label box as it applies to frame ``index``: only the frame it was found in
        has it (a reading tied to no frame counts as the capture's first)."""
        own = self.frame_seq if self.frame_seq >= 0 else capture.frames[0].seq
        return self.label_box if capture.frames[index].seq == own else None


@dataclass(frozen=True)
class QualityCheck:
    name: str
    value: float
    limit: str
    passed: bool


@dataclass(frozen=True)
class QualityReport:
    profile: str
    view: str
    checks: tuple[QualityCheck, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.passed)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class BrandFacts:
    """What the brand catalogue records for the brand a mark was read as (the rules' inputs)."""

    ships_in: tuple[str, ...] = ()
    min_value: float = 0.0
    origins: tuple[str, ...] = ()
    goods: bool = True
    watched: bool = True


@dataclass(frozen=True)
class Classification:
    """Calibrated scores per label.  ``available`` is False when no model is loaded.

    ``brand``/``packaging`` are what the image shows (the rules compare them with
    the brand table and the declaration); the thresholds are the ones the model
    was calibrated with, carried along so an updated model brings its own.
    """

    model: ModelInfo | None
    scores: Mapping[str, float]
    top: str = ""
    available: bool = True
    error: str = ""
    ms: float = 0.0
    brand: str = ""
    brand_score: float = 0.0
    packaging: str = ""
    packaging_score: float = 0.0
    # The probability of every packaging the model knows (``packaging`` is the likeliest): the
    # rules ask how likely the parcel is in none of the packagings its brand ships in.
    packaging_scores: Mapping[str, float] = field(default_factory=dict)
    # What the parcel's broad shading says of its material (edge.classify.shading): "flat" as
    # board lies, "draped" as film hangs over its contents, "" between or not measured.
    surface_drape: str = ""
    mark_box: Box | None = None
    flag_thresholds: Mapping[str, float] = field(default_factory=dict)
    review_thresholds: Mapping[str, float] = field(default_factory=dict)
    # Suspect scores that together reach this send a parcel no single label flags to review.
    review_total_suspect: float = 0.5
    # The brand catalogue the mark was checked against (name, version, SHA-256 of the folder).
    catalogue: ModelInfo | None = None
    # What the mark's words read (untrusted OCR text) and how they match the brand's name:
    # "exact", "emblem", "lookalike", "edit", "partial", "near", "covered" or "cut" ("" when no
    # catalogue name was read).
    mark_text: str = ""
    name_match: str = ""
    # Per label, what was measured, in words an officer can check on the mark_box crop.
    evidence: Mapping[str, str] = field(default_factory=dict)
    brand_facts: BrandFacts | None = None


class Outcome(str, enum.Enum):
    CLEAR = "clear"
    FLAG = "flag"
    REVIEW = "review"
    NO_READ = "no_read"
    QUALITY_REJECT = "quality_reject"


@dataclass(frozen=True)
class Verdict:
    outcome: str
    reasons: tuple[str, ...] = ()
    flagged_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageRef:
    """One image file of a package.  ``name`` is built from sanitized parts only."""

    view: str
    name: str
    sha256: str
    bytes: int
    width: int
    height: int
    redacted: bool = False


def _clock_synced() -> bool | None:
    from edge.clock import clock_synced

    return clock_synced()


@dataclass(frozen=True)
class ParcelRecord:
    """The record published per parcel and kept in its sidecar."""

    id: str
    unit: str
    seq: int
    time_utc: str
    reference: Reference | None
    symbols: tuple[Symbol, ...]
    verdict: Verdict
    classification: Classification | None
    quality: tuple[QualityReport, ...]
    images: tuple[ImageRef, ...] = ()
    redaction: str = ""
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    trigger: str = ""
    # Whether NTP had set the clock when the record was made (None: the OS cannot say); a Pi
    # has no battery-backed clock, so before sync ``time_utc`` is a guess.
    clock_synced: bool | None = field(default_factory=_clock_synced)
    schema: str = RECORD_SCHEMA


@dataclass(frozen=True, eq=False)
class PackageFile:
    """One file of a parcel's package, bytes in memory until the outbox makes them durable."""

    name: str
    view: str
    data: bytes
    sha256: str
    content_type: str


@dataclass(frozen=True, eq=False)
class Package:
    """A parcel's record and the files it references, ready for the outbox."""

    record: ParcelRecord
    files: tuple[PackageFile, ...]

    @property
    def flagged(self) -> bool:
        return self.record.verdict.outcome == Outcome.FLAG.value


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types for any record, recursively; enums become their values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)
               if f.name not in ("image", "truth", "lores", "pyramids")}
        if isinstance(obj, QualityReport):
            out["passed"] = obj.passed
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def dumps(obj: Any) -> str:
    """Compact, key-sorted JSON: the same record always gives the same bytes."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def alert_payload(record: ParcelRecord) -> dict[str, Any]:
    """The alert for a flagged parcel: the record, its reasons and its image references."""
    return {
        "schema": ALERT_SCHEMA,
        "id": record.id,
        "unit": record.unit,
        "seq": record.seq,
        "time_utc": record.time_utc,
        "verdict": to_jsonable(record.verdict),
        "reference": to_jsonable(record.reference),
        "images": to_jsonable(record.images),
        "record": to_jsonable(record),
    }
