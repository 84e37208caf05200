"""What the officers' web app calls: one façade over store, cases, sharing, audit and users.

The web layer (``edge.hub.web``) renders and checks the session; everything
that reads or changes hub state goes through :class:`HubServices`, so each
officer action is validated and audited in one place whatever page caused it.
Methods raise :class:`ServiceError` (its message is safe to show) for bad
requests; they never return partial effects.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from edge.hub import audit as audit_log
from edge.hub import cases as case_book
from edge.hub import sharing
from edge.hub.store.base import (AUDIENCES, QUEUE_OUTCOMES, ROLES, AuditEntry, Case, ParcelDetail,
                                 PrecisionRow, QueueRow, SearchQuery, Store, UnitRow, User,
                                 image_path)
from edge.identify import identify

log = logging.getLogger(__name__)

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

# What each role may do; the web app checks ``allowed(user.role, permission)`` per route.
PERMISSIONS: Mapping[str, frozenset[str]] = {
    "officer": frozenset({"view", "act", "share", "capture"}),
    "supervisor": frozenset({"view", "act", "share", "capture", "users", "audit", "fleet"}),
    "maintainer": frozenset({"view", "fleet", "audit"}),
    "readonly": frozenset({"view"}),
}


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` grants ``permission`` (view, act, share, capture, users, audit, fleet)."""
    return permission in PERMISSIONS.get(role, frozenset())


class ServiceError(ValueError):
    """A request the hub refuses; the message is plain words, safe to show an officer."""


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    user: User | None
    reason: str                  # "", "unknown", "bad_password", "locked", "disabled"


@dataclass(frozen=True)
class SharePackage:
    name: str                    # a safe file name for the download (…zip)
    data: bytes
    manifest: Mapping[str, Any]
    sha256: str                  # of the zip itself (recorded in the audit log)


@dataclass(frozen=True)
class Lockout:
    max_failures: int = 5
    lock_s: float = 900.0


class HubServices:
    """The hub's operations for the web app (thread-safe; the store serialises writes)."""

    def __init__(self, store: Store, images: Path, *, lockout: Lockout = Lockout(),
                 publish: Callable[[str, Mapping[str, Any]], None] | None = None,
                 aed: Any = None, facility: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.images = images
        self.lockout = lockout
        self._publish = publish
        self._aed = aed
        self.facility = dict(facility or {})
        self._clock = clock
        self._hasher = hasher or PasswordHasher()   # argon2id, the library's (RFC 9106) defaults

    # --- reading -------------------------------------------------------------------------
    def change_counter(self) -> int:
        """Increases with every stored parcel or case event: poll it for live queue updates."""
        return self.store.change_counter()

    def queue(self, outcomes: Sequence[str] = QUEUE_OUTCOMES, limit: int = 100,
              after: int = 0) -> tuple[QueueRow, ...]:
        """Open work, most urgent outcome first then newest; ``after`` gives only newer rows."""
        return self.store.queue(tuple(outcomes), max(1, min(limit, 1000)), after)

    def parcel(self, parcel_id: str) -> ParcelDetail | None:
        detail = self.store.parcel(parcel_id[:128])
        if detail is None or self._aed is None or not detail.row.reference_valid:
            return detail
        return case_book.with_aed(detail, self._aed)

    def search(self, query: SearchQuery) -> tuple[QueueRow, ...]:
        return self.store.search(query)

    def image_path(self, sha256: str) -> Path | None:
        """The stored file of a verified image, or None (bad hex never reaches the disk)."""
        if not SHA256_HEX.match(sha256):
            return None
        path = image_path(self.images, sha256)
        return path if path.is_file() else None

    def case(self, reference: str) -> Case | None:
        return case_book.load(self.store, reference, self._today())

    def case_for_parcel(self, parcel_id: str) -> Case | None:
        detail = self.store.parcel(parcel_id[:128])
        if detail is None or not detail.row.reference_valid:
            return None
        return self.case(detail.row.reference)

    def fleet(self) -> tuple[UnitRow, ...]:
        return self.store.fleet()

    def precision(self) -> tuple[PrecisionRow, ...]:
        return self.store.precision()

    def audit_log(self, after_id: int = 0, limit: int = 200) -> tuple[AuditEntry, ...]:
        return self.store.audit_entries(after_id, max(1, min(limit, 5000)))

    def verify_audit(self) -> audit_log.Verification:
        return audit_log.verify(self.store)

    # --- acting (each audited) -----------------------------------------------------------
    def audit(self, actor: str, action: str, subject: str = "",
              detail: Mapping[str, Any] | None = None) -> AuditEntry:
        """Record an action the web layer did itself (login, logout, export viewed …)."""
        return audit_log.append(self.store, actor, action, subject, dict(detail or {}),
                                self._now_text())

    def add_case_event(self, reference: str, kind: str, actor: str, note: str = "",
                       parcel_id: str = "") -> Case:
        """Move a case on (detained, released, …); checks the transition, audits, publishes."""
        try:
            event = case_book.add_event(self.store, reference, kind, actor, note[:2000],
                                        parcel_id, self._now_text())
        except case_book.CaseError as exc:
            raise ServiceError(str(exc)) from None
        self.audit(actor, f"case.{kind}", reference, {"note": note[:2000], "parcel": parcel_id,
                                                       "event": event.id})
        if kind in case_book.DISPOSITIONS and self._publish is not None:
            self._publish("dispositions", case_book.disposition(self.store, event))
        case = self.case(reference)
        assert case is not None
        return case

    def key_reference(self, parcel_id: str, text: str, actor: str) -> Case:
        """The reference an officer read off the label photo of a parcel the unit could not
        read, checked by the unit's own rules: the parcel then moves on with that case."""
        found = identify(text)
        if found.kind is None or not found.valid:
            raise ServiceError("That is not a valid reference number: check it against the label.")
        if not self.store.key_reference(parcel_id, found.kind, found.value, f"reference keyed by {actor}"):
            raise ServiceError("This parcel already has a valid reference number.")
        self.audit(actor, "parcel.reference_keyed", parcel_id, {"kind": found.kind, "reference": found.value})
        case = self.case(found.value)
        assert case is not None
        return case

    def build_share(self, reference: str, audience: str, actor: str) -> SharePackage:
        """The importer's or rights holder's zip (manifest + SHA-256 of every file), audited."""
        if audience not in AUDIENCES:
            raise ServiceError(f"unknown audience (one of {', '.join(AUDIENCES)})")
        case = self.case(reference)
        if case is None:
            raise ServiceError("no case with that reference number")
        try:
            name, data, manifest = sharing.build(case, audience, self.store, self.images,
                                                 self.facility, self._now_text())
        except sharing.ShareError as exc:
            raise ServiceError(str(exc)) from None
        package = SharePackage(name, data, manifest, sharing.sha256(data))
        self.audit(actor, f"share.{audience}", reference,
                   {"file": name, "sha256": package.sha256, "files": len(manifest["files"])})
        return package

    # --- users ---------------------------------------------------------------------------
    def add_user(self, username: str, password: str, role: str, actor: str) -> User:
        if not USERNAME.match(username):
            raise ServiceError("user names are 1-64 letters, digits, '_', '.', '@' or '-'")
        if role not in ROLES:
            raise ServiceError(f"unknown role (one of {', '.join(ROLES)})")
        if len(password) < 10:
            raise ServiceError("passwords need at least 10 characters")
        if self.store.user(username) is not None:
            raise ServiceError("that user exists already")
        user = self.store.add_user(username, role, self._hasher.hash(password))
        self.audit(actor, "user.add", username, {"role": role})
        return user

    def set_password(self, username: str, password: str, actor: str) -> User:
        if len(password) < 10:
            raise ServiceError("passwords need at least 10 characters")
        user = self.store.update_user(username, password_hash=self._hasher.hash(password),
                                      failed_logins=0, locked_until=None)
        if user is None:
            raise ServiceError("no such user")
        self.store.end_sessions_of(username)
        self.audit(actor, "user.password", username)
        return user

    def set_role(self, username: str, role: str, actor: str) -> User:
        if role not in ROLES:
            raise ServiceError(f"unknown role (one of {', '.join(ROLES)})")
        user = self.store.update_user(username, role=role)
        if user is None:
            raise ServiceError("no such user")
        self.audit(actor, "user.role", username, {"role": role})
        return user

    def set_disabled(self, username: str, disabled: bool, actor: str) -> User:
        """Disabling ends the user's sessions at once; enabling also lifts a lockout."""
        if disabled and username == actor:
            raise ServiceError("you cannot disable yourself")
        changes: dict[str, Any] = {"disabled": disabled}
        if not disabled:
            changes.update(failed_logins=0, locked_until=None)
        user = self.store.update_user(username, **changes)
        if user is None:
            raise ServiceError("no such user")
        if disabled:
            self.store.end_sessions_of(username)
        self.audit(actor, "user.disable" if disabled else "user.enable", username)
        return user

    def user(self, username: str) -> User | None:
        return self.store.user(username[:64])

    def users(self) -> tuple[User, ...]:
        return self.store.users()

    def authenticate(self, username: str, password: str) -> LoginResult:
        """Checks a password with lockout after repeated failures; every attempt is audited."""
        user = self.store.user(username[:64]) if USERNAME.match(username) else None
        result = self._check(user, password)
        self.audit(username[:64] if user else "-", "login.ok" if result.ok else "login.fail",
                   username[:64], {"reason": result.reason})
        return result

    def create_session(self, token_sha256: str, username: str, expires: datetime) -> None:
        """Server-side sessions: the web app stores the SHA-256 of its random token."""
        self.store.create_session(token_sha256, username, expires)

    def session_user(self, token_sha256: str) -> User | None:
        """The session's user if the session lives and the user is not disabled or locked."""
        user = self.store.session_user(token_sha256, self._clock())
        return None if user is None or user.disabled else user

    def end_session(self, token_sha256: str) -> None:
        self.store.end_session(token_sha256)

    def _check(self, user: User | None, password: str) -> LoginResult:
        if user is None:
            self._hasher.hash(password[:256])  # same cost as a real check: no user probing
            return LoginResult(False, None, "unknown")
        if user.disabled:
            return LoginResult(False, None, "disabled")
        now = self._clock()
        if user.locked_until is not None and user.locked_until > now:
            return LoginResult(False, None, "locked")
        try:
            self._hasher.verify(user.password_hash, password[:1024])
        except (VerificationError, InvalidHashError):
            return LoginResult(False, None, self._failed(user, now))
        fresh = self.store.update_user(user.username, failed_logins=0, locked_until=None)
        return LoginResult(True, fresh, "")

    def _failed(self, user: User, now: datetime) -> str:
        failures = user.failed_logins + 1
        locked = now + timedelta(seconds=self.lockout.lock_s) \
            if failures >= self.lockout.max_failures else None
        self.store.update_user(user.username, failed_logins=0 if locked else failures,
                               locked_until=locked)
        if locked:
            log.warning("user %s locked out after %s failed logins", user.username, failures)
            return "locked"
        return "bad_password"

    # --- helpers -------------------------------------------------------------------------
    def _now_text(self) -> str:
        return self._clock().astimezone(timezone.utc).isoformat(timespec="milliseconds") \
            .replace("+00:00", "Z")

    def _today(self) -> Any:
        return self._clock().date()
