"""What ingest accepts: each message off the broker checked before anything is stored.

Anyone who can publish on the broker can publish on a unit's topics, so a
message is refused (a counter, a log line, nothing stored) when its topic is
not ``<root>/<known unit>/…``, its schema is not one we read, its fields are
missing or out of range, its unit disagrees with its topic, it is too large,
or an image's bytes do not hash to the SHA-256 it announced.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from edge.hub.config import ANY_UNIT, IngestConfig
from edge.hub.store.base import OUTCOMES, RecordIn, StatusIn
from edge.publish.topics import SAFE_PART, split_received
from edge.records import ALERT_SCHEMA, RECORD_SCHEMA, STATUS_SCHEMA

MAX_SEQ = 2**62


class Refused(ValueError):
    """A message ingest will not store; ``reason`` names the counter."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Where:
    prefix: str
    unit: str
    kind: str            # parcels, alerts, images, status, availability
    parcel: str
    view: str


def where(topic: str, root: str, cfg: IngestConfig) -> Where:
    """The message's unit and kind from its topic, or Refused."""
    parts = split_received(topic)
    if parts is None:
        raise Refused("bad_topic", "not a unit topic")
    prefix, kind, parcel, view = parts
    head, _, unit = prefix.rpartition("/")
    if head != root or not SAFE_PART.match(unit):
        raise Refused("bad_topic", "not under the hub's topic root")
    if ANY_UNIT not in cfg.units and unit not in cfg.units:
        raise Refused("unknown_unit", f"unit {unit[:40]!r} is not in the hub's list")
    return Where(prefix, unit, kind, parcel, view)


def _json(payload: bytes, cfg: IngestConfig, schema: str) -> dict[str, Any]:
    if len(payload) > cfg.max_json_bytes:
        raise Refused("too_large", f"{len(payload)} bytes of JSON")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("malformed", "not JSON") from None
    if not isinstance(body, dict) or body.get("schema") != schema:
        raise Refused("wrong_schema", f"expected {schema}")
    return body


def _record(record: Any, unit: str) -> Mapping[str, Any]:
    if not isinstance(record, dict):
        raise Refused("malformed", "record is not an object")
    if not isinstance(record.get("id"), str) or not SAFE_PART.match(record["id"]):
        raise Refused("malformed", "missing or unsafe id")
    seq = record.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < MAX_SEQ:
        raise Refused("malformed", "missing or out-of-range seq")
    if record.get("unit") != unit:
        raise Refused("unit_mismatch", "record's unit differs from its topic")
    verdict = record.get("verdict")
    if not isinstance(verdict, dict) or verdict.get("outcome") not in OUTCOMES:
        raise Refused("malformed", "missing or unknown verdict outcome")
    if not isinstance(record.get("time_utc"), str) or len(record["time_utc"]) > 40:
        raise Refused("malformed", "missing time_utc")
    return record


def record(w: Where, payload: bytes, cfg: IngestConfig) -> RecordIn:
    body = _json(payload, cfg, RECORD_SCHEMA)
    return RecordIn(_record(body, w.unit), w.unit, w.prefix, alert=False)


def alert(w: Where, payload: bytes, cfg: IngestConfig) -> RecordIn:
    body = _json(payload, cfg, ALERT_SCHEMA)
    inner = body.get("record")
    if not isinstance(inner, dict) or inner.get("schema") != RECORD_SCHEMA:
        raise Refused("wrong_schema", f"alert without a {RECORD_SCHEMA} record")
    rec = _record(inner, w.unit)
    if body.get("id") != rec["id"] or body.get("seq") != rec["seq"]:
        raise Refused("malformed", "alert's id or seq differs from its record's")
    return RecordIn(rec, w.unit, w.prefix, alert=True)


def status(w: Where, payload: bytes, cfg: IngestConfig) -> StatusIn:
    if w.kind == "availability":
        text = payload.decode("ascii", "replace").strip()
        if text not in ("online", "offline"):
            raise Refused("malformed", "availability is online or offline")
        return StatusIn(w.unit, w.prefix, None, text == "online")
    body = _json(payload, cfg, STATUS_SCHEMA)
    if body.get("unit") != w.unit:
        raise Refused("unit_mismatch", "status's unit differs from its topic")
    return StatusIn(w.unit, w.prefix, body, None)
