"""The exam-photo service the capture pages call: check, keep, file.

Built once by the hub's composition root (:func:`open_capture`), shared by the
web workers: label readers are per thread (the reader is not shared between
threads), the outbox is thread-safe, and a photo is checked before anything of
it is written.  Bad input raises :class:`PhotoError` with one line for the page
and a counter, and leaves nothing behind.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.decode import LabelReader
from edge.hub.photos.check import PhotoVerdict, case_reference, check_photo
from edge.hub.photos.config import CaptureConfig
from edge.hub.photos.decode import PhotoError, decode_photo
from edge.hub.photos.filing import Shot, build_exam_package, exam_record
from edge.hub.photos.staging import Staging
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.records import LabelReading, Package, QualityCheck, QualityReport, Reference, to_jsonable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewState:
    """One view of the standard for one set: the keys taken and the next key to fill."""

    name: str
    title: str
    instruction: str
    required: bool
    taken: tuple[str, ...]
    next_key: str | None


def slot_keys(name: str, max_count: int) -> tuple[str, ...]:
    """``exterior`` for a single view; ``mark-1`` .. ``mark-9`` for a repeatable one."""
    return (name,) if max_count == 1 else tuple(f"{name}-{i}" for i in range(1, max_count + 1))


class CaptureService:
    """Checks exam photos against the profile's views and files the passing set."""

    def __init__(self, cfg: CaptureConfig, outbox: Outbox, publisher: Any = None) -> None:
        self.cfg = cfg
        self.profile = cfg.quality
        self.outbox = outbox
        self.publisher = publisher
        self.staging = Staging(Path(cfg.data_dir), cfg.keep_unfiled_h * 3600)
        self.counters: Counter[str] = Counter()
        self._local = threading.local()
        self._filing = threading.Lock()

    # -- opening a case --------------------------------------------------------

    def reference(self, text: str) -> Reference:
        """A typed reference number, validated as the unit validates a decoded one."""
        found = case_reference(text)
        if found is None:
            self.counters["bad_reference"] += 1
            log.info("capture: reference %r refused", text[:40])
            raise PhotoError(f"{text.strip()[:40]!r} is not a valid reference number: "
                             "check it against the label")
        return found

    def reader(self) -> LabelReader:
        if getattr(self._local, "reader", None) is None:
            self._local.reader = LabelReader()
        return self._local.reader

    def read_label(self, data: bytes, content_type: str | None) -> Reference:
        """The reference on a photographed label, read by the unit's own reader and validated."""
        photo = self._decode(data, content_type)
        reading = self.reader().read_image(photo.image)
        if reading.reference is None or not reading.reference.valid:
            self.counters["label_unread"] += 1
            what = "no barcode" if not reading.symbols else "no valid reference number"
            raise PhotoError(f"{what} could be read on this label: fill the photo with the "
                             "label, hold the phone steady, or type the number")
        return reading.reference

    # -- checking a photo --------------------------------------------------------

    def views(self, officer: str, reference: Reference) -> list[ViewState]:
        staged = {s.key for s in self.staging.shots(officer, reference.value)}
        out = []
        for name, view in self.profile.exam_views.items():
            keys = slot_keys(name, view.max_count)
            taken = tuple(k for k in keys if k in staged)
            free = [k for k in keys if k not in staged]
            out.append(ViewState(name, view.title, view.instruction, view.required, taken,
                                 free[0] if free else None))
        return out

    def valid_key(self, key: str) -> str:
        name = key.split("-")[0]
        view = self.profile.exam_views.get(name)
        if view is None or key not in slot_keys(name, view.max_count):
            self.counters["bad_view"] += 1
            raise PhotoError(f"{key[:40]!r} is not a view of the standard")
        return name

    def _decode(self, data: bytes, content_type: str | None) -> Any:
        try:
            return decode_photo(data, content_type, max_bytes=self.cfg.max_bytes,
                                max_pixels=self.cfg.max_pixels)
        except PhotoError as exc:
            self.counters["bad_upload"] += 1
            log.warning("capture: upload refused (%s bytes, type %r): %s", len(data),
                        (content_type or "")[:40], exc)
            raise

    def check(self, officer: str, reference: Reference, key: str, data: bytes,
              content_type: str | None) -> PhotoVerdict:
        """Check one upload for view ``key``; a pass is kept for the set, a fail is not."""
        name = self.valid_key(key)
        started = time.perf_counter()
        photo = self._decode(data, content_type)
        verdict = check_photo(photo.image, name, self.profile, self.reader(), reference)
        self.counters["passed" if verdict.passed else "failed"] += 1
        if verdict.passed:
            self.staging.put(officer, reference.value, key, data, {
                "report": to_jsonable(verdict.report), "format": photo.format,
                "width": photo.width, "height": photo.height, "px_per_mm": verdict.px_per_mm,
                "content_type": content_type or ""})
        log.info("capture: %s %s %s in %.0f ms", reference.value, key,
                 "passed" if verdict.passed else "failed " + ",".join(verdict.report.failed),
                 (time.perf_counter() - started) * 1000)
        return verdict

    def discard(self, officer: str, reference: Reference, key: str) -> None:
        self.valid_key(key)
        self.staging.drop(officer, reference.value, key)

    def missing(self, officer: str, reference: Reference) -> list[str]:
        """Titles of required views with no accepted photo yet."""
        return [v.title for v in self.views(officer, reference) if v.required and not v.taken]

    # -- filing ------------------------------------------------------------------

    def _shot(self, staged: Any) -> Shot:
        """Re-read a kept photo; the reading is done again for redaction (boxes are not kept)."""
        photo = decode_photo(staged.path.read_bytes(), None, max_bytes=self.cfg.max_bytes,
                             max_pixels=self.cfg.max_pixels)
        rep = staged.report["report"]
        report = QualityReport(rep["profile"], rep["view"], tuple(
            QualityCheck(c["name"], c["value"], c["limit"], c["passed"]) for c in rep["checks"]))
        reading: LabelReading = self.reader().read_image(photo.image)
        return Shot(staged.key, photo.image, report, reading)

    def file(self, officer: str, reference: Reference) -> Package:
        """Build the set's package, make it durable in the outbox, then clear the set."""
        missing = self.missing(officer, reference)
        if missing:
            raise PhotoError("the set is not complete: still needed " + ", ".join(missing))
        with self._filing:
            shots = [self._shot(s) for s in self.staging.shots(officer, reference.value)]
            order = {n: i for i, n in enumerate(self.profile.exam_views)}
            shots.sort(key=lambda s: (order[s.key.split("-")[0]], s.key))
            record = exam_record(reference, shots, self.cfg.unit, self.outbox.next_seq(), officer)
            package = build_exam_package(record, shots, self.profile, self.cfg.package)
            self.outbox.commit(package)
            self.staging.drop(officer, reference.value)
        self.counters["filed"] += 1
        log.info("capture: filed %s for %s (%d photos) as record %s", reference.value, officer,
                 len(shots), package.record.id)
        return package

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        self.outbox.close()


def open_capture(cfg: CaptureConfig, broker: Any = None) -> CaptureService:
    """The service with its own outbox, and a publisher when the config (or the hub, as
    ``broker``, an :class:`edge.publish.config.MqttConfig`) names a broker."""
    root = Path(cfg.data_dir)
    outbox = Outbox(OutboxConfig(), root / "outbox")
    publisher = None
    mqtt = cfg.mqtt or broker
    if mqtt is not None:
        from edge.publish.publisher import Publisher

        publisher = Publisher(mqtt, outbox, unit=cfg.unit)
        publisher.start()
    service = CaptureService(cfg, outbox, publisher)
    service.staging.sweep()
    return service
