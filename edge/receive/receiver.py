"""The reference receiver for central systems: records and images, each stored once.

Units deliver at least once, so the same record or image can arrive twice
(after a broker outage, a unit restart).  The receiver stores a message's file
atomically and then its id in SQLite; a message whose id is already there is
counted as a duplicate and changes nothing: exactly-once effect.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.durable import write_atomic
from edge.publish.wire import EXTENSIONS
from edge.publish.topics import SAFE_PART, split_received
from edge.receive.assemble import Assembler, Image, ImageError
from edge.receive.sequence import SeqTracker

log = logging.getLogger(__name__)

MAX_JSON = 4 * 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    kind TEXT NOT NULL, id TEXT NOT NULL, unit TEXT NOT NULL, seq INTEGER NOT NULL,
    parcel TEXT NOT NULL, path TEXT NOT NULL, received REAL NOT NULL DEFAULT (julianday('now')),
    PRIMARY KEY (kind, id));
"""


class MessageError(ValueError):
    """A message the receiver refuses (not JSON, unsafe id, wrong schema)."""


@dataclass(frozen=True)
class Stored:
    kind: str
    id: str
    unit: str
    seq: int
    new: bool


def unit_dir(prefix: str) -> str:
    """A folder name for a unit's topic prefix, from safe parts only."""
    parts = prefix.split("/")
    if not parts or not all(SAFE_PART.match(p) for p in parts):
        raise MessageError("unsafe topic prefix")
    return "__".join(parts)


def save(path: Path, data: bytes) -> None:
    """A received file, whole or not at all, in its unit's folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data, 0o644)


def parse_json(payload: bytes, schema_prefix: str) -> dict[str, Any]:
    if len(payload) > MAX_JSON:
        raise MessageError("JSON message too large")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MessageError("payload is not JSON") from None
    if not isinstance(body, dict) or not str(body.get("schema", "")).startswith(schema_prefix):
        raise MessageError(f"not a {schema_prefix} message")
    if not isinstance(body.get("id"), str) or not SAFE_PART.match(body["id"]):
        raise MessageError("missing or unsafe id")
    if not isinstance(body.get("seq"), int) or isinstance(body.get("seq"), bool):
        raise MessageError("missing seq")
    return body


class Receiver:
    """Stores what units publish under ``out``; ``handle`` is safe to call from paho's thread."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.out / "received.db", isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.assembler = Assembler()
        self.sequence = SeqTracker()
        self.counts = Counter[str]()

    def handle(self, topic: str, payload: bytes, props: Any) -> Stored | None:
        """Store one message; bad ones are counted and logged, never raised."""
        try:
            return self._handle(topic, payload, props)
        except (MessageError, ImageError) as exc:
            self.counts["rejected"] += 1
            log.warning("rejected message on %s: %s", topic[:200], exc)
            return None

    def _handle(self, topic: str, payload: bytes, props: Any) -> Stored | None:
        where = split_received(topic)
        if where is None:
            raise MessageError("topic not understood")
        prefix, kind = where[0], where[1]
        if kind == "images":
            image = self.assembler.add(topic, payload, props)
            return self._store_image(image) if image is not None else None
        if kind in ("parcels", "alerts"):
            body = parse_json(payload, "parcel-edge/parcel/" if kind == "parcels" else "parcel-edge/alert/")
            return self._store_json(kind, prefix, body, payload)
        return None

    def _store_json(self, kind: str, prefix: str, body: dict[str, Any], payload: bytes) -> Stored:
        unit = unit_dir(prefix)
        rel = f"{kind}/{unit}/{body['seq']:010d}-{body['id']}.json"
        stored = self._record(kind, body["id"], unit, body["seq"], body["id"], rel, payload)
        if kind == "parcels" and stored.new:
            event = self.sequence.see(unit, body["seq"])
            self.counts[f"seq_{event.kind}"] += 1
            if event.kind == "gap":
                log.warning("unit %s: sequence gap before %s (%s missing)", unit, event.seq,
                            len(event.missing))
        return stored

    def _store_image(self, image: Image) -> Stored:
        unit = unit_dir(image.prefix)
        ext = EXTENSIONS.get(image.content_type, "bin")
        rel = f"images/{unit}/{image.parcel}/{image.view}-{image.sha256[:16]}.{ext}"
        return self._record("images", image.id, unit, image.seq, image.parcel, rel, image.data)

    def _record(self, kind: str, msg_id: str, unit: str, seq: int, parcel: str, rel: str,
                data: bytes) -> Stored:
        with self._lock:
            seen = self._db.execute("SELECT 1 FROM received WHERE kind=? AND id=?",
                                    (kind, msg_id)).fetchone()
            if seen:
                self.counts[f"{kind}_duplicate"] += 1
                return Stored(kind, msg_id, unit, seq, False)
            save(self.out / rel, data)
            self._db.execute("INSERT INTO received (kind, id, unit, seq, parcel, path) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (kind, msg_id, unit, seq, parcel, rel))
            self.counts[kind] += 1
            return Stored(kind, msg_id, unit, seq, True)

    def ids(self, kind: str) -> list[tuple[str, int]]:
        """(id, seq) of every stored message of one kind, in sequence order."""
        with self._lock:
            return [(r[0], r[1]) for r in self._db.execute(
                "SELECT id, seq FROM received WHERE kind=? ORDER BY seq, id", (kind,))]

    def close(self) -> None:
        with self._lock:
            self._db.close()
