"""The append-only audit log: every officer action, each entry chained to the one before.

An entry's hash is SHA-256 over its predecessor's hash and its own canonical
JSON (time, actor, action, subject, detail), so changing, removing or
reordering any entry breaks every hash after it; ``verify`` walks the chain
from the first entry and names the first one that does not hold.  The first
entry chains to the empty string.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from edge.hub.store.base import AuditEntry, Store

PAGE = 5000


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    bad_id: int | None           # the first entry that does not hold
    reason: str


def entry_hash(prev_hash: str, time_utc: str, actor: str, action: str, subject: str,
               detail: Mapping[str, Any]) -> str:
    body = json.dumps({"time_utc": time_utc, "actor": actor, "action": action,
                       "subject": subject, "detail": detail},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(store: Store, actor: str, action: str, subject: str, detail: Mapping[str, Any],
           time_utc: str) -> AuditEntry:
    """One entry at the end of the chain (the store retries if another process won the race)."""
    detail = json.loads(json.dumps(dict(detail), sort_keys=True, default=str))
    actor, action, subject = actor[:128], action[:64], subject[:255]

    def make(prev: str) -> dict[str, Any]:
        return {"time_utc": time_utc, "actor": actor, "action": action, "subject": subject,
                "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
                "prev_hash": prev,
                "hash": entry_hash(prev, time_utc, actor, action, subject, detail)}
    return store.audit_append(make)


def verify(store: Store) -> Verification:
    """Walks the whole chain in pages; ok only if every link and every hash holds."""
    prev, count, after = "", 0, 0
    while True:
        page = store.audit_entries(after, PAGE)
        for e in page:
            if e.prev_hash != prev:
                return Verification(False, count, e.id, "does not chain to the entry before it")
            if e.hash != entry_hash(e.prev_hash, e.time_utc, e.actor, e.action, e.subject, e.detail):
                return Verification(False, count, e.id, "its content does not match its hash")
            prev, count, after = e.hash, count + 1, e.id
        if len(page) < PAGE:
            return Verification(True, count, None, "")
