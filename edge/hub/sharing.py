"""Share packages: what an importer and a rights holder may see of a case, as one zip.

The importer gets the unredacted images and the notice's data; the rights
holder gets redacted images and only the limited importation facts (date,
port, description, quantity, origin), plus the decision once there is one.
Each zip carries ``manifest.json`` listing every file with its SHA-256 and
size, so the receiver can check nothing changed on the way.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Mapping

from edge.hub.store.base import Case, Store, image_path

SCHEMA = "parcel-edge/share/1"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)     # zip entry times: the same package gives the same bytes


class ShareError(ValueError):
    """A package that cannot be built (no images yet, nothing decided …)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _images(case: Case, store: Store, root: Path, redacted: bool) -> list[tuple[str, bytes]]:
    out = []
    for row in case.parcels:
        detail = store.parcel(row.parcel_id)
        for img in detail.images if detail else ():
            if img.redacted != redacted or not img.stored:
                continue
            data = image_path(root, img.sha256).read_bytes()
            if sha256(data) != img.sha256:
                raise ShareError(f"stored image {img.sha256[:12]} no longer matches its hash")
            ext = "png" if img.content_type == "image/png" else "jpg"
            out.append((f"images/{row.parcel_id}_{img.view}.{ext}", data))
    return out


def _decision(case: Case) -> dict[str, Any] | None:
    final = [e for e in case.events if e.kind in ("detained", "seized", "released", "referred")]
    if not final:
        return None
    last = final[-1]
    return {"decision": last.kind, "time_utc": last.time_utc}


def _facts(case: Case, facility: Mapping[str, str], audience: str) -> dict[str, Any]:
    first = case.parcels[-1] if case.parcels else None
    facts: dict[str, Any] = {
        "reference": case.reference, "reference_kind": case.reference_kind,
        "date": (first.time_utc[:10] if first else case.opened_utc[:10]),
        "port": facility.get("port", ""),
        "description": facility.get("description", "") or "; ".join(
            sorted({p.brand for p in case.parcels if p.brand})),
        "quantity": len(case.parcels),
        "origin": facility.get("origin", ""),
    }
    if audience == "importer":
        facts["events"] = [{"kind": e.kind, "time_utc": e.time_utc} for e in case.events
                           if e.kind not in ("seen", "note")]
        facts["reasons"] = sorted({r for p in case.parcels for r in p.reasons})
        facts["state"] = case.state
    return facts


def build(case: Case, audience: str, store: Store, root: Path, facility: Mapping[str, str],
          now_utc: str) -> tuple[str, bytes, dict[str, Any]]:
    """``(file name, zip bytes, manifest)`` for ``audience`` (importer or rights_holder)."""
    files = _images(case, store, root, redacted=(audience == "rights_holder"))
    if not files:
        raise ShareError("no images of this case have arrived yet")
    doc_name = "notice.json" if audience == "importer" else "facts.json"
    docs = [(doc_name, _facts(case, facility, audience))]
    decision = _decision(case)
    if audience == "rights_holder" and decision is not None:
        docs.append(("decision_notice.json", {"reference": case.reference, **decision}))
    for name, body in docs:
        files.append((name, json.dumps(body, indent=2, sort_keys=True).encode()))
    manifest = {"schema": SCHEMA, "audience": audience, "reference": case.reference,
                "created_utc": now_utc,
                "files": [{"name": n, "sha256": sha256(d), "bytes": len(d)} for n, d in files]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files + [("manifest.json", json.dumps(manifest, indent=2).encode())]:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.startswith("images/") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return f"{case.reference}_{audience}.zip", buf.getvalue(), manifest
