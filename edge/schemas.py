"""JSON Schemas of the published messages, derived from the record dataclasses.

Deriving them (instead of writing them by hand) keeps config/schemas/ and the
code from drifting apart; a test checks the committed files equal this output.
``python -m edge.schemas config/schemas`` rewrites them.
"""
from __future__ import annotations

import dataclasses
from collections import abc
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Mapping

from edge import records

_SCALARS = {int: {"type": "integer"}, float: {"type": "number"}, str: {"type": "string"},
            bool: {"type": "boolean"}}
_SKIP = {"image", "truth"}


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if tp is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type_schema(a, defs) for a in args]}
    if tp is type(None):
        return {"type": "null"}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0], defs) if args else {}}
    if origin in (dict, abc.Mapping) or tp in (dict, Mapping):
        value = _type_schema(args[1], defs) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value}
    if dataclasses.is_dataclass(tp):
        return _dataclass_ref(tp, defs)
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def _dataclass_ref(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    name = cls.__name__
    if name not in defs:
        defs[name] = {}
        defs[name] = _object_schema(cls, defs)
    return {"$ref": f"#/$defs/{name}"}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in _SKIP]
    props = {f.name: _type_schema(hints[f.name], defs) for f in fields}
    if cls is records.QualityReport:
        props["passed"] = {"type": "boolean"}
    return {"type": "object", "properties": props, "required": sorted(props),
            "additionalProperties": False}


def record_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    body = _object_schema(records.ParcelRecord, defs)
    body["properties"]["schema"] = {"const": records.RECORD_SCHEMA}
    return _document("parcel-record", "One parcel seen by a unit (topic <p>/parcels)", body, defs)


def alert_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    record_ref = _dataclass_ref(records.ParcelRecord, defs)
    props = {"schema": {"const": records.ALERT_SCHEMA}, "id": {"type": "string"},
             "unit": {"type": "string"}, "seq": {"type": "integer"},
             "time_utc": {"type": "string"}, "verdict": _dataclass_ref(records.Verdict, defs),
             "reference": {"anyOf": [_dataclass_ref(records.Reference, defs), {"type": "null"}]},
             "images": {"type": "array", "items": _dataclass_ref(records.ImageRef, defs)},
             "record": record_ref}
    body = {"type": "object", "properties": props, "required": sorted(props),
            "additionalProperties": False}
    return _document("alert", "A flagged parcel (topic <p>/alerts)", body, defs)


_INT = {"type": "integer"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}


def status_schema() -> dict[str, Any]:
    """The retained health message; open to additions so older consoles keep reading it."""
    outbox = {"type": "object", "required": ["depth", "oldest_age_s", "disk_bytes", "low_disk"],
              "properties": {"depth": _INT, "oldest_age_s": _NUM_OR_NULL, "disk_bytes": _INT,
                             "evicted_images": _INT, "dropped_acked": _INT,
                             "thumbnails": _INT,
                             "budget_bytes": _INT, "over_budget": {"type": "boolean"},
                             "free_bytes": _INT, "low_disk": {"type": "boolean"},
                             # undelivered items per kind; with no record left to send, a
                             # receiver holding less than last_record_seq has lost the tail
                             "depth_by_kind": {"type": "object", "additionalProperties": _INT},
                             "last_record_seq": _INT}}
    props = {"schema": {"const": records.STATUS_SCHEMA}, "unit": {"type": "string"},
             "time_utc": {"type": "string"}, "uptime_s": {"type": "number"}, "outbox": outbox,
             "disk": {"type": "object", "properties": {"total_bytes": _INT, "free_bytes": _INT}},
             "cpu_temp_c": _NUM_OR_NULL, "fps": _NUM_OR_NULL, "parcels": _INT_OR_NULL,
             "read": _INT_OR_NULL, "read_rate": _NUM_OR_NULL, "flagged": _INT_OR_NULL,
             "model": {"type": ["object", "null"]},
             "errors": {"type": "object", "additionalProperties": _INT},
             "delivery": {"type": "object"}, "stats": {"type": "object"},
             "software": {"type": ["object", "null"]}, "config": {"type": ["object", "null"]},
             "camera": {"type": ["object", "null"]}, "selftest": {"type": ["object", "null"]},
             "last_error": {"type": ["object", "null"]},
             "clock_synced": {"type": ["boolean", "null"]}}
    body = {"type": "object", "properties": props,
            "required": ["schema", "unit", "time_utc", "uptime_s", "outbox", "disk", "errors"]}
    return _document("status", "Unit health (topic <p>/status, retained)", body, {})


def command_reply_schema() -> dict[str, Any]:
    props = {"schema": {"const": records.COMMAND_REPLY_SCHEMA}, "command": {"type": "string"},
             "ok": {"type": "boolean"}, "error": {"type": "string"}, "result": {}}
    body = {"type": "object", "properties": props, "required": ["schema", "command", "ok"],
            "additionalProperties": False}
    return _document("cmd-reply", "Answer to a command (topic <p>/cmd/reply)", body, {})


def _document(name: str, title: str, body: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"parcel-edge/{name}/{records.SCHEMA_VERSION}", "title": title,
            **body, "$defs": dict(sorted(defs.items()))}


def all_schemas() -> dict[str, dict[str, Any]]:
    return {"parcel-record.schema.json": record_schema(), "alert.schema.json": alert_schema(),
            "status.schema.json": status_schema(), "cmd-reply.schema.json": command_reply_schema()}


def render(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("config/schemas")
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in all_schemas().items():
        (out / name).write_text(render(schema), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
