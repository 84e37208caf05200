"""Records as the unit publishes them, for hub tests and the hub bench (built by the unit's code)."""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from typing import Any

from edge.records import (Classification, ImageRef, ModelInfo, Package, PackageFile, ParcelRecord,
                          Reference, Symbol, Verdict, alert_payload, to_jsonable)

VIEWS = {"parcel": 60_000, "label": 12_000, "parcel-redacted": 60_000}


def package(seq: int, unit: str = "unit-01", outcome: str = "flag", ref: str | None = None,
            brand: str = "acme", version: str = "1.1.0", views: dict[str, int] | None = None,
            text: str = "") -> Package:
    files, refs = [], []
    for view, size in (VIEWS if views is None else views).items():
        data = os.urandom(size)
        digest = hashlib.sha256(data).hexdigest()
        files.append(PackageFile(f"{view}.jpg", view, data, digest, "image/jpeg"))
        refs.append(ImageRef(view, f"{view}.jpg", digest, size, 1280, 960, view.endswith("redacted")))
    value = ref if ref is not None else f"RR{seq % 100000000:08d}9DE"
    reference = Reference("upu_s10", value, True) if value else None
    cls = Classification(ModelInfo("parcel-logo", version, "ab" * 32), {"suspect_logo": 0.91},
                         top="suspect_logo", brand=brand, brand_score=0.88, packaging="poly_mailer")
    reasons = ("Acme mark on a poly mailer; Acme ships only in boxes",) if outcome == "flag" else ()
    record = ParcelRecord(
        id=uuid.uuid4().hex, unit=unit, seq=seq,
        time_utc=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        reference=reference, symbols=(Symbol("Code128", text or value or "x"),),
        verdict=Verdict(outcome, reasons, ("suspect_logo",) if outcome == "flag" else ()),
        classification=cls, quality=(), images=tuple(refs))
    return Package(record, tuple(files))


def record_json(pkg: Package) -> dict[str, Any]:
    return to_jsonable(pkg.record)


def alert_json(pkg: Package) -> dict[str, Any]:
    return alert_payload(pkg.record)
