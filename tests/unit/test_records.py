"""Records serialize to JSON that validates against the committed JSON Schemas."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from edge import records as r
from edge.schemas import all_schemas, render

SCHEMAS = Path(__file__).resolve().parents[2] / "config" / "schemas"


def sample_record() -> r.ParcelRecord:
    check = r.QualityCheck("sharpness", 120.5, ">= 40", True)
    return r.ParcelRecord(
        id="6f1c", unit="unit-01", seq=7, time_utc="2026-11-23T02:00:00.000Z",
        reference=r.Reference("upu_s10", "RR123456785GB", True, 0.98, 3),
        symbols=(r.Symbol("Code128", "RR123456785GB", "zxing", 3, ((1, 2), (3, 4))),),
        verdict=r.Verdict("flag", ("Mark of watchlisted brand looks misspelled",), ("suspect",)),
        classification=r.Classification(r.ModelInfo("m", "1", "ab" * 32), {"none": 0.1}, "none"),
        quality=(r.QualityReport("imf-default-v1", "parcel", (check,)),),
        images=(r.ImageRef("parcel", "a.jpg", "cd" * 32, 1000, 1280, 960),),
        timings_ms={"decode": 5.0})


def test_committed_schemas_are_current() -> None:
    for name, schema in all_schemas().items():
        assert (SCHEMAS / name).read_text() == render(schema), f"run: make schemas ({name})"


def test_record_and_alert_validate() -> None:
    rec = sample_record()
    doc = json.loads(r.dumps(rec))
    jsonschema.validate(doc, json.loads((SCHEMAS / "parcel-record.schema.json").read_text()))
    alert = json.loads(json.dumps(r.alert_payload(rec)))
    jsonschema.validate(alert, json.loads((SCHEMAS / "alert.schema.json").read_text()))
    assert doc["schema"] == r.RECORD_SCHEMA and doc["quality"][0]["passed"] is True


def test_schema_rejects_a_record_missing_its_sequence() -> None:
    doc = json.loads(r.dumps(sample_record()))
    del doc["seq"]
    schema = json.loads((SCHEMAS / "parcel-record.schema.json").read_text())
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)


def test_dumps_is_deterministic_and_ascii() -> None:
    rec = sample_record()
    assert r.dumps(rec) == r.dumps(rec)
    odd = r.Symbol("QR", "caf\u00e9\x1d")
    assert r.dumps(odd).isascii()


def test_a_real_status_payload_validates(tmp_path: Path) -> None:
    from collections import Counter

    from edge.outbox import Outbox
    from edge.outbox.config import OutboxConfig
    from edge.publish.status import StatusReporter
    from edge.stats import Stats

    stats = Stats()
    stats.incr("parcels", 3)
    stats.incr("read", 2)
    stats.gauge("model", {"name": "m", "version": "1", "sha256": "00"})
    box = Outbox(OutboxConfig(), tmp_path / "outbox")
    try:
        body = StatusReporter("unit-01", 30, tmp_path, stats.snapshot).payload(
            box.stats(), {"connected": True}, Counter())
    finally:
        box.close()
    schema = json.loads((SCHEMAS / "status.schema.json").read_text())
    jsonschema.validate(json.loads(json.dumps(body)), schema)
    assert body["read_rate"] == round(2 / 3, 4) and body["model"]["name"] == "m"


def test_a_real_command_reply_validates() -> None:
    from edge.publish.commands import CommandRouter
    from edge.publish.topics import Topics

    router = CommandRouter(Topics("parcel-edge/u1"), {"test-capture": lambda args: {"queued": 1}})
    schema = json.loads((SCHEMAS / "cmd-reply.schema.json").read_text())
    for name in ("test-capture", "format-disk"):
        reply = router.handle(f"parcel-edge/u1/cmd/{name}", b"{}", None)
        jsonschema.validate(json.loads(reply.payload), schema)


def test_two_boxes_share_the_area_where_they_meet_and_none_apart() -> None:
    a = r.Box(10, 10, 100, 50)
    assert a.overlap(r.Box(60, 40, 100, 100)) == 50 * 20 == r.Box(60, 40, 100, 100).overlap(a)
    assert a.overlap(r.Box(110, 10, 20, 20)) == 0      # touching edges share nothing
    assert a.overlap(r.Box(500, 500, 5, 5)) == 0
    assert a.overlap(a) == a.area
