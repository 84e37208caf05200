"""Database rows to page rows (frozen dataclasses), and records to database values.

Everything read here came from a unit over the network: lengths are capped and
types checked, so a record with odd fields still stores and shows, never crashes
a page.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from edge.hub.store.base import (AuditEntry, CaseEvent, ImageInfo, ParcelDetail, QualityRow,
                                 QueueRow, UnitRow, User)
from edge.rules.aed import normalize_id


def _text(value: Any, cap: int = 128) -> str:
    return value[:cap] if isinstance(value, str) else ""


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parcel_values(record: Mapping[str, Any], unit: str, prefix: str, received: str,
                  alert: bool) -> dict[str, Any]:
    """The ``parcels`` row of a validated record."""
    ref = _dict(record.get("reference"))
    verdict = _dict(record.get("verdict"))
    cls = _dict(record.get("classification"))
    scores = {k: _num(v) for k, v in _dict(cls.get("scores")).items()}
    top = _text(cls.get("top"), 64) or (max(scores, key=scores.get) if scores else "")
    valid = bool(ref.get("valid")) and bool(normalize_id(_text(ref.get("value"))))
    return {
        "id": record["id"], "unit": unit, "prefix": prefix, "seq": record["seq"],
        "time_utc": _text(record.get("time_utc"), 32), "received_utc": received,
        "outcome": _text(verdict.get("outcome"), 24), "ref_kind": _text(ref.get("kind"), 24),
        "ref_value": _text(ref.get("value")), "ref_norm": normalize_id(_text(ref.get("value"))),
        "ref_valid": valid, "brand": _text(cls.get("brand"), 64), "top_label": top,
        "top_score": scores.get(top, 0.0), "model_version": _model(cls).get("version", ""),
        "reasons": json.dumps([_text(r, 500) for r in _list(verdict.get("reasons"))][:20]),
        "record": json.dumps(record, sort_keys=True), "alert": alert, "open": True,
    }


def _model(cls: Mapping[str, Any]) -> dict[str, str]:
    model = _dict(cls.get("model"))
    return {k: _text(model.get(k), 128) for k in ("name", "version", "sha256")}


def image_values(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One ``parcel_images`` row per image the record references (its hashes come from here)."""
    out = []
    for img in _list(record.get("images"))[:16]:
        img = _dict(img)
        view, sha = _text(img.get("view"), 64), _text(img.get("sha256"), 64)
        if view and len(sha) == 64:
            out.append({"parcel_id": record["id"], "view": view, "sha256": sha,
                        "name": _text(img.get("name"), 255), "bytes": int(_num(img.get("bytes"))),
                        "width": int(_num(img.get("width"))), "height": int(_num(img.get("height"))),
                        "redacted": bool(img.get("redacted"))})
    return out


def queue_row(r: Mapping[str, Any]) -> QueueRow:
    return QueueRow(change=r["change"], parcel_id=r["id"], unit=r["unit"], seq=r["seq"],
                    time_utc=r["time_utc"], outcome=r["outcome"], reference_kind=r["ref_kind"],
                    reference=r["ref_value"], reference_valid=bool(r["ref_valid"]),
                    brand=r["brand"], top_label=r["top_label"], top_score=r["top_score"],
                    reasons=tuple(json.loads(r["reasons"])), case_state=r["state"] or "",
                    has_alert=bool(r["alert"]))


def parcel_detail(r: Mapping[str, Any], images: list[Mapping[str, Any]]) -> ParcelDetail:
    record = json.loads(r["record"])
    cls = _dict(record.get("classification"))
    model = _model(cls)
    symbols = tuple((_text(s.get("format"), 32), _text(s.get("text"), 4096))
                    for s in map(_dict, _list(record.get("symbols"))[:64]))
    quality = tuple(QualityRow(_text(q.get("view"), 64), _text(c.get("name"), 64),
                               _num(c.get("value")), _text(c.get("limit"), 64), bool(c.get("passed")))
                    for q in map(_dict, _list(record.get("quality"))[:16])
                    for c in map(_dict, _list(q.get("checks"))[:64]))
    return ParcelDetail(
        row=queue_row(r), symbols=symbols,
        flagged_labels=tuple(_text(x, 64) for x in _list(_dict(record.get("verdict")).get("flagged_labels"))),
        scores={str(k)[:64]: _num(v) for k, v in _dict(cls.get("scores")).items()},
        brand_score=_num(cls.get("brand_score")), packaging=_text(cls.get("packaging"), 64),
        model_name=model["name"], model_version=model["version"], model_sha256=model["sha256"],
        quality=quality, images=tuple(image_info(i) for i in images), aed=None,
        received_utc=r["received_utc"], record=record)


def image_info(i: Mapping[str, Any]) -> ImageInfo:
    return ImageInfo(view=i["view"], sha256=i["sha256"], name=i["name"], bytes=i["bytes"],
                     width=i["width"], height=i["height"], redacted=bool(i["redacted"]),
                     content_type=i["content_type"] or "", stored=i["content_type"] is not None)


def case_event(r: Mapping[str, Any]) -> CaseEvent:
    return CaseEvent(id=r["id"], reference=r["reference"], kind=r["kind"], time_utc=r["time_utc"],
                     actor=r["actor"], note=r["note"], parcel_id=r["parcel_id"])


def user(r: Mapping[str, Any]) -> User:
    locked = r["locked_until"]
    if isinstance(locked, datetime) and locked.tzinfo is None:
        locked = locked.replace(tzinfo=timezone.utc)
    return User(username=r["username"], role=r["role"], password_hash=r["password_hash"],
                failed_logins=r["failed_logins"], locked_until=locked,
                disabled=bool(r["disabled"]), created_utc=r["created_utc"])


def audit_entry(r: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(id=r["id"], time_utc=r["time_utc"], actor=r["actor"], action=r["action"],
                      subject=r["subject"], detail=json.loads(r["detail"]),
                      prev_hash=r["prev_hash"], hash=r["hash"])


def unit_row(r: Mapping[str, Any], missing: int) -> UnitRow:
    status = json.loads(r["status"])
    outbox = _dict(status.get("outbox"))
    model = status.get("model")
    model = model if isinstance(model, dict) else {"version": model}
    errors = _dict(status.get("errors"))
    last_error = max(errors, key=lambda k: _num(errors[k]), default="") if errors else ""
    return UnitRow(
        unit=r["unit"], prefix=r["prefix"], online=bool(r["online"]),
        last_seen_utc=r["last_seen_utc"], parcels=int(_num(status.get("parcels"))),
        read_rate=_num(status["read_rate"]) if isinstance(status.get("read_rate"), (int, float)) else None,
        outbox_depth=int(_num(outbox["depth"])) if "depth" in outbox else None,
        oldest_item_age_s=_num(outbox["oldest_age_s"]) if isinstance(outbox.get("oldest_age_s"), (int, float)) else None,
        model_version=_text(model.get("version"), 64) or _text(model.get("name"), 64),
        catalogue_version=_text(model.get("catalogue_version") or model.get("catalogue"), 64),
        last_error=_text(str(last_error), 200), missing_seqs=missing, status=status)


def settled_last_seq(status_json: str) -> int:
    """The newest record a unit says it committed, once it has no record left to send (0
    otherwise): past that, whatever the hub lacks was lost on the way, not still coming."""
    try:
        outbox = _dict(_dict(json.loads(status_json)).get("outbox"))
    except ValueError:
        return 0
    last = outbox.get("last_record_seq")
    if _dict(outbox.get("depth_by_kind")).get("record") or not isinstance(last, int) \
            or isinstance(last, bool) or not 0 < last < 2**62:
        return 0
    return last
