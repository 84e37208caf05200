"""Advance electronic data: what the sender declared for each item, from a file the unit re-reads.

The file is dropped by central systems (CSV with a header, or JSON) and may be
replaced while the unit runs; the table is reloaded when its modification time
changes, checked at most every ``refresh_s`` seconds so a busy belt does not
stat the disk per parcel.  A file that fails to parse keeps the last good
table in use: a half-written upload must not wipe the data.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

log = logging.getLogger(__name__)

_ID_CLEAN = re.compile(r"[^A-Z0-9]")
MAX_FIELD = 200


class AedError(ValueError):
    """An AED file that cannot be used."""


@dataclass(frozen=True)
class Declaration:
    item_id: str
    contents: str
    value: float | None
    origin: str


def normalize_id(text: str) -> str:
    """Item ids compare without spaces, dashes or case (S10 ids are printed with spaces)."""
    return _ID_CLEAN.sub("", text.upper())[:64]


class AedTable:
    """Declarations by item id, reloaded when the file changes."""

    def __init__(self, path: Path, refresh_s: float = 10.0, max_bytes: int = 50_000_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.refresh_s = refresh_s
        self.max_bytes = max_bytes
        self._clock = clock
        self._checked = float("-inf")
        self._mtime: int | None = None
        self._rows: dict[str, Declaration] = {}
        self._lock = threading.Lock()  # path workers look up concurrently; reload once
        self.error = ""

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, item_id: str) -> Declaration | None:
        self.refresh()
        return self._rows.get(normalize_id(item_id))

    def refresh(self) -> None:
        """Reload if the file's mtime changed since the last look (rate-limited)."""
        with self._lock:
            now = self._clock()
            if now - self._checked < self.refresh_s:
                return
            self._checked = now
            try:
                mtime = self.path.stat().st_mtime_ns
            except OSError as exc:
                self._fail(None, f"cannot stat: {exc.strerror or exc}")
                return
            if mtime != self._mtime:
                self._reload(mtime)

    def _reload(self, mtime: int) -> None:
        try:
            data = self.path.read_bytes()
            if len(data) > self.max_bytes:
                raise AedError(f"{len(data)} bytes is over the limit")
            rows = parse(data.decode("utf-8-sig"), self.path.suffix.lower())
        except (OSError, UnicodeDecodeError, AedError) as exc:
            self._fail(mtime, str(exc))
            return
        self._rows, self._mtime, self.error = rows, mtime, ""
        log.info("AED %s loaded: %d declarations", self.path, len(rows))

    def _fail(self, mtime: int | None, why: str) -> None:
        """Keep the last good table; log once per version of the file."""
        if mtime != self._mtime or not self.error:
            log.warning("AED %s not (re)loaded, keeping %d declarations: %s",
                        self.path, len(self._rows), why)
        self._mtime, self.error = mtime, why


def parse(text: str, suffix: str) -> dict[str, Declaration]:
    """CSV (header ``item_id,contents,value,origin``) or JSON (list of objects, or id -> object)."""
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AedError(f"not valid JSON: {exc}") from None
        records = _json_records(data)
    else:
        records = list(csv.DictReader(io.StringIO(text)))
        if records and "item_id" not in records[0]:
            raise AedError("CSV header must name item_id, contents, value, origin")
    out: dict[str, Declaration] = {}
    for i, rec in enumerate(records):
        decl = _declaration(rec, i)
        if decl is not None:
            out[decl.item_id] = decl
    return out


def _json_records(data: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(data, dict):
        return [{**v, "item_id": k} for k, v in data.items() if isinstance(v, dict)]
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    raise AedError("JSON must be a list of declarations or an object keyed by item id")


def _declaration(rec: Mapping[str, Any], index: int) -> Declaration | None:
    item_id = normalize_id(str(rec.get("item_id") or ""))
    if not item_id:
        log.debug("AED row %d has no item id, skipped", index)
        return None
    return Declaration(item_id=item_id,
                       contents=str(rec.get("contents") or "").strip()[:MAX_FIELD],
                       value=_number(rec.get("value")),
                       origin=str(rec.get("origin") or "").strip().upper()[:8])


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 and number == number else None
