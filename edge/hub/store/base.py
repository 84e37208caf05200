"""What the hub stores and what its pages show: frozen rows and the store protocol.

One protocol, two engines (SQLite embedded, PostgreSQL for a fleet) behind it,
so ingest, cases, sharing and the web app never see SQL.  Rows are plain frozen
dataclasses built from the database; every text in them came from a unit over
the network and is untrusted (escape it when rendering).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

# Outcomes that need a person, most urgent first (the queue's default).
QUEUE_OUTCOMES: tuple[str, ...] = ("flag", "review", "no_read", "quality_reject")
OUTCOMES: tuple[str, ...] = ("clear",) + QUEUE_OUTCOMES
ROLES: tuple[str, ...] = ("officer", "supervisor", "maintainer", "readonly")
AUDIENCES: tuple[str, ...] = ("importer", "rights_holder")


class StoreError(RuntimeError):
    """The database refused or failed (connection lost, schema out of date)."""


@dataclass(frozen=True)
class QueueRow:
    """One line of the work queue or of search results."""

    change: int                  # ingest order; rows with a higher change are newer
    parcel_id: str
    unit: str
    seq: int
    time_utc: str
    outcome: str
    reference_kind: str          # "" when no reference was read
    reference: str
    reference_valid: bool
    brand: str
    top_label: str
    top_score: float
    reasons: tuple[str, ...]
    case_state: str              # "" when no case (no valid reference) else the case state
    has_alert: bool


@dataclass(frozen=True)
class ImageInfo:
    """One image of a parcel.  ``stored`` is False until its bytes arrived and verified."""

    view: str                    # full, label, redacted, ... (the unit's package views)
    sha256: str
    name: str
    bytes: int
    width: int
    height: int
    redacted: bool
    content_type: str
    stored: bool


@dataclass(frozen=True)
class QualityRow:
    view: str
    check: str
    value: float
    limit: str
    passed: bool


@dataclass(frozen=True)
class AedInfo:
    """The advance electronic data declared for the reference, and what disagrees with it."""

    declared: Mapping[str, str]           # contents, value, origin (as declared)
    mismatches: tuple[str, ...]           # the verdict's AED reasons, in words


@dataclass(frozen=True)
class ParcelDetail:
    """Everything the parcel page shows."""

    row: QueueRow
    symbols: tuple[tuple[str, str], ...]  # (format, text) exactly as decoded
    flagged_labels: tuple[str, ...]
    scores: Mapping[str, float]
    brand_score: float
    packaging: str
    model_name: str
    model_version: str
    model_sha256: str
    quality: tuple[QualityRow, ...]
    images: tuple[ImageInfo, ...]
    aed: AedInfo | None
    received_utc: str
    record: Mapping[str, Any]             # the record as the unit sent it (JSON)


@dataclass(frozen=True)
class CaseEvent:
    id: int
    reference: str
    kind: str                    # see edge.hub.cases.EVENT_KINDS
    time_utc: str
    actor: str                   # user name, or "unit:<id>" / "hub" for automatic events
    note: str
    parcel_id: str


@dataclass(frozen=True)
class Clock:
    """One legal clock of a case (19 CFR 151.16 / 133.21)."""

    name: str                    # decide, notice, importer_response, exclusion
    label: str                   # in words, for the page
    rule: str                    # the citation
    start: date | None           # None while the clock has not started
    due: date | None
    done: bool
    overdue: bool
    days_left: int | None        # business days (calendar days for exclusion); <0 overdue


@dataclass(frozen=True)
class Case:
    """One case per reference number: its parcels, timeline and clocks."""

    reference: str
    reference_kind: str
    state: str
    opened_utc: str
    parcels: tuple[QueueRow, ...]
    events: tuple[CaseEvent, ...]
    clocks: tuple[Clock, ...] = ()
    actions: tuple[str, ...] = ()         # event kinds an officer may add next

    @property
    def overdue(self) -> bool:
        return any(c.overdue for c in self.clocks)


@dataclass(frozen=True)
class UnitRow:
    """One unit on the fleet page (from its retained status and availability)."""

    unit: str
    prefix: str
    online: bool
    last_seen_utc: str
    parcels: int
    read_rate: float | None
    outbox_depth: int | None
    oldest_item_age_s: float | None
    model_version: str
    catalogue_version: str
    last_error: str
    missing_seqs: int            # sequence numbers known missing (gap not healed yet)
    status: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    failed_logins: int
    locked_until: datetime | None         # UTC; None when not locked
    disabled: bool
    created_utc: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time_utc: str
    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class PrecisionRow:
    """Flags judged by officers: precision = confirmed / (confirmed + cleared)."""

    brand: str
    model_version: str
    flagged: int
    confirmed: int               # detained or seized
    cleared: int                 # released
    precision: float | None      # None until something is judged


@dataclass(frozen=True)
class SearchQuery:
    reference: str = ""          # any kind; spaces and case ignored; a prefix matches
    unit: str = ""
    since_utc: str = ""          # ISO 8601 UTC, inclusive
    until_utc: str = ""          # exclusive
    brand: str = ""
    outcome: str = ""
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class IngestResult:
    """What one stored message did: ``new`` False for a duplicate (no effect)."""

    kind: str
    id: str
    new: bool


@dataclass(frozen=True)
class RecordIn:
    """A validated record (or the record inside an alert) from ``unit`` under ``prefix``."""

    record: Mapping[str, Any]
    unit: str
    prefix: str
    alert: bool


@dataclass(frozen=True)
class ImageIn:
    """A verified image whose bytes are already durable under the content-addressed path."""

    sha256: str
    parcel_id: str
    view: str
    content_type: str
    size: int


@dataclass(frozen=True)
class StatusIn:
    unit: str
    prefix: str
    status: Mapping[str, Any] | None
    online: bool | None


@dataclass(frozen=True)
class Gap:
    """Sequence numbers ``first``..``last`` of ``unit`` the hub has not received."""

    unit: str
    prefix: str
    first: int
    last: int


class Store(Protocol):
    """The hub's database.  Thread-safe; every write is one transaction."""

    def close(self) -> None: ...

    # ingest: one transaction per batch; exactly once by id (a duplicate: new=False, no effect)
    def ingest(self, items: Sequence["RecordIn | ImageIn | StatusIn"],
               received_utc: str) -> tuple[IngestResult, ...]: ...
    def gaps(self, window: int = 10_000) -> tuple["Gap", ...]: ...

    # pages
    def change_counter(self) -> int: ...
    def queue(self, outcomes: Sequence[str] = QUEUE_OUTCOMES, limit: int = 100,
              after: int = 0, open_only: bool = True) -> tuple[QueueRow, ...]: ...
    def parcel(self, parcel_id: str) -> ParcelDetail | None: ...
    def search(self, query: SearchQuery) -> tuple[QueueRow, ...]: ...
    def fleet(self) -> tuple[UnitRow, ...]: ...
    def precision(self) -> tuple[PrecisionRow, ...]: ...

    # cases
    def case_events(self, reference: str) -> tuple[CaseEvent, ...]: ...
    def case_parcels(self, reference: str) -> tuple[QueueRow, ...]: ...
    def case_head(self, reference: str) -> tuple[str, str, str] | None: ...  # kind, state, opened
    def key_reference(self, parcel_id: str, kind: str, value: str, note: str) -> bool: ...
    def add_case_event(self, reference: str, kind: str, actor: str, note: str, parcel_id: str,
                       time_utc: str, transition: Callable[[str, str], tuple[str, str]]
                       ) -> CaseEvent: ...  # transition(state, decision) -> new ones, or raises

    # users
    def add_user(self, username: str, role: str, password_hash: str) -> User: ...
    def user(self, username: str) -> User | None: ...
    def users(self) -> tuple[User, ...]: ...
    def update_user(self, username: str, **changes: Any) -> User | None: ...

    # sessions (the web app keeps only the token's SHA-256 here)
    def create_session(self, token_sha256: str, username: str, expires: datetime) -> None: ...
    def session_user(self, token_sha256: str, now: datetime) -> User | None: ...
    def end_session(self, token_sha256: str) -> None: ...
    def end_sessions_of(self, username: str) -> None: ...

    # audit (append-only; the chain is computed by edge.hub.audit)
    def audit_append(self, make: Any) -> AuditEntry: ...
    def audit_entries(self, after_id: int = 0, limit: int = 1000) -> tuple[AuditEntry, ...]: ...


def image_path(root: Path, sha256: str) -> Path:
    """Where an image's bytes live: content-addressed, two-level fan-out; hex checked by caller."""
    return root / sha256[:2] / sha256[2:4] / sha256
