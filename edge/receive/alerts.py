"""The officers' live console: each alert as it arrives, its images saved and verified.

An officer watches one or many units (MQTT wildcards in the prefixes).  Per
alert one line: time, unit, sequence, reference, verdict, reasons; the
flagged parcel's images are saved once their SHA-256 checks out.  Records are
followed quietly too, because only the record stream has every sequence
number: a gap there means a parcel the officer may never have seen.
"""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, TextIO

from edge.publish.wire import EXTENSIONS
from edge.publish.topics import split_received
from edge.receive.assemble import Assembler, Image, ImageError
from edge.receive.receiver import MessageError, parse_json, save, unit_dir
from edge.receive.sequence import SeqEvent, SeqTracker

log = logging.getLogger(__name__)

HELD_IMAGES = 64
RECORD = "(record)"


def _reference(alert: dict[str, Any]) -> str:
    ref = alert.get("reference")
    if not isinstance(ref, dict):
        return "no reference"
    text = f"{ref.get('value', '?')} ({ref.get('kind', '?')}{'' if ref.get('valid') else ', invalid'})"
    return text.encode("ascii", "backslashreplace").decode()[:80]


def alert_line(unit: str, alert: dict[str, Any]) -> str:
    """One human line; every field is escaped and capped (it came off the network)."""
    verdict = alert.get("verdict") if isinstance(alert.get("verdict"), dict) else {}
    reasons = verdict.get("reasons") if isinstance(verdict.get("reasons"), list) else []
    why = "; ".join(str(r) for r in reasons)[:300].encode("ascii", "backslashreplace").decode()
    return (f"{str(alert.get('time_utc', '?'))[:25]}  {unit}  #{alert['seq']}  {_reference(alert)}  "
            f"{str(verdict.get('outcome', '?')).upper()[:20]}  {why}")


class AlertConsole:
    """Turns messages into console lines and saved images; ``emit`` prints one output."""

    def __init__(self, save_dir: Path, emit: Callable[[str | dict[str, Any]], None]) -> None:
        self.save_dir = save_dir
        self._emit = emit
        self._assembler = Assembler()
        self._sequence = SeqTracker()
        self._alerts: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._held: OrderedDict[str, list[Image]] = OrderedDict()
        self._awaiting: dict[str, set[str]] = {}
        self._records: OrderedDict[str, None] = OrderedDict()
        self.alert_count = 0
        self.duplicates = 0

    def handle(self, topic: str, payload: bytes, props: Any) -> None:
        where = split_received(topic)
        if where is None:
            return
        try:
            if where[1] == "alerts":
                self._alert(unit_dir(where[0]), parse_json(payload, "parcel-edge/alert/"))
            elif where[1] == "parcels":
                self._record(unit_dir(where[0]), parse_json(payload, "parcel-edge/parcel/"))
            elif where[1] == "images":
                image = self._assembler.add(topic, payload, props)
                if image is not None:
                    self._image(image)
        except (MessageError, ImageError) as exc:
            self._emit({"event": "error", "topic": topic[:200], "error": str(exc)})

    def _alert(self, unit: str, alert: dict[str, Any]) -> None:
        if alert["id"] in self._alerts:
            self.duplicates += 1
            return
        self._alerts[alert["id"]] = (unit, alert["seq"])
        while len(self._alerts) > 10_000:
            self._alerts.popitem(last=False)
        self.alert_count += 1
        images = alert.get("images") if isinstance(alert.get("images"), list) else []
        awaiting = {str(i.get("view")) for i in images if isinstance(i, dict)}
        if alert["id"] not in self._records:
            awaiting.add(RECORD)
        self._awaiting[alert["id"]] = awaiting
        self._emit({"event": "alert", "unit": unit, "line": alert_line(unit, alert), "alert": alert})
        for image in self._held.pop(alert["id"], []):
            self._image(image)

    def settled(self) -> bool:
        """Every alert seen so far has its images saved and its record counted."""
        return not any(self._awaiting.values())

    def _record(self, unit: str, record: dict[str, Any]) -> None:
        self._records[record["id"]] = None
        while len(self._records) > 10_000:
            self._records.popitem(last=False)
        self._awaiting.get(record["id"], set()).discard(RECORD)
        event = self._sequence.see(unit, record["seq"])
        if event.kind in ("gap", "duplicate", "reset", "late"):
            self._emit(_seq_output(event))

    def _image(self, image: Image) -> None:
        owner = self._alerts.get(image.parcel)
        if owner is None:
            held = self._held.setdefault(image.parcel, [])
            if all(h.id != image.id for h in held):
                held.append(image)
            while len(self._held) > HELD_IMAGES:
                self._held.popitem(last=False)
            return
        unit, seq = owner
        name = f"{seq:010d}-{image.parcel}-{image.view}.{EXTENSIONS.get(image.content_type, 'bin')}"
        path = self.save_dir / unit / name
        self._awaiting.get(image.parcel, set()).discard(image.view)
        if not path.exists():
            save(path, image.data)
            self._emit({"event": "image", "unit": unit, "seq": seq, "view": image.view,
                        "path": str(path), "sha256": image.sha256})


def _seq_output(event: SeqEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"event": f"seq_{event.kind}", "unit": event.unit, "seq": event.seq}
    if event.missing:
        out["missing"] = list(event.missing[:50])
        out["missing_count"] = len(event.missing)
    return out


def printer(stream: TextIO, as_json: bool) -> Callable[[str | dict[str, Any]], None]:
    """Human lines for an officer, or one JSON object per line for tools."""
    def emit(item: str | dict[str, Any]) -> None:
        if as_json:
            stream.write(json.dumps(item, sort_keys=True, default=str) + "\n")
        elif isinstance(item, dict) and item.get("event") == "alert":
            stream.write(item["line"] + "\n")
        elif isinstance(item, dict) and item.get("event") == "image":
            stream.write(f"    saved {item['view']} -> {item['path']}\n")
        elif isinstance(item, dict):
            detail = {k: v for k, v in item.items() if k != "event"}
            stream.write(f"!! {item.get('event')}: {json.dumps(detail, default=str)}\n")
        stream.flush()
    return emit
