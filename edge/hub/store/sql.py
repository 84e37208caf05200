"""The hub's store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Exactly-once: a record's id is unique; its insert uses ``ON CONFLICT DO
NOTHING`` and every effect of a new record (its images, its case, the case's
automatic events) is written in the same transaction, only when the insert
took.  Whichever hub process gets a message, and however often, the database
changes once.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import and_, case, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from edge.hub.cases import FINAL_STATES
from edge.hub.store import rows
from edge.hub.store.base import (QUEUE_OUTCOMES, AuditEntry, CaseEvent, Gap, ImageIn,
                                 IngestResult, ParcelDetail, PrecisionRow, QueueRow, RecordIn,
                                 SearchQuery, StatusIn, UnitRow, User)
from edge.hub.store.tables import (audit, case_events, cases, images, parcel_images, parcels,
                                   sessions, units, users)
from edge.rules.aed import normalize_id

log = logging.getLogger(__name__)


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)

MIGRATIONS = Path(__file__).with_name("migrations")
PAGE_COLUMNS = [c for c in parcels.c if c.name != "record"]
ROW_COLUMNS = PAGE_COLUMNS + [cases.c.state]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (safe to run on every start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if not log.isEnabledFor(logging.DEBUG):
        logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per start is enough
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SqlStore:
    """:class:`edge.hub.store.base.Store` on an engine; thread-safe (one connection per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self._insert = insert

    def close(self) -> None:
        self.engine.dispose()

    # --- ingest --------------------------------------------------------------------------
    def ingest(self, items: Sequence[RecordIn | ImageIn | StatusIn],
               received_utc: str) -> tuple[IngestResult, ...]:
        """A batch in one transaction, a few set-wise statements whatever its size."""
        recs = [i for i in items if isinstance(i, RecordIn)]
        imgs = [i for i in items if isinstance(i, ImageIn)]
        with self.engine.begin() as conn:
            new_ids = self._records(conn, recs, received_utc) if recs else set()
            new_shas = self._images(conn, imgs, received_utc) if imgs else set()
            for item in items:
                if isinstance(item, StatusIn):
                    self._status(conn, item, received_utc)
        return tuple(self._result(i, new_ids, new_shas) for i in items)

    @staticmethod
    def _result(item: Any, new_ids: set[str], new_shas: set[str]) -> IngestResult:
        if isinstance(item, RecordIn):
            rid = item.record["id"]
            new = rid in new_ids
            new_ids.discard(rid)          # a second copy in the same batch is a duplicate
            return IngestResult("record", rid, new)
        if isinstance(item, ImageIn):
            new = item.sha256 in new_shas
            new_shas.discard(item.sha256)
            return IngestResult("image", item.sha256, new)
        return IngestResult("status", item.unit, True)

    def _records(self, conn: Connection, recs: list[RecordIn], received: str) -> set[str]:
        values: dict[str, dict[str, Any]] = {}
        for item in recs:
            v = rows.parcel_values(item.record, item.unit, item.prefix, received, item.alert)
            if v["id"] in values:
                values[v["id"]]["alert"] |= v["alert"]
            else:
                values[v["id"]] = v
        found = conn.execute(self._insert(parcels).on_conflict_do_nothing(index_elements=["id"])
                             .returning(parcels.c.id), list(values.values()))
        new = {r.id for r in found}
        alerts = [i for i, v in values.items() if v["alert"] and i not in new]
        if alerts:
            conn.execute(update(parcels).where(parcels.c.id.in_(alerts), parcels.c.alert.is_(False))
                         .values(alert=True))
        fresh = [values[i] for i in values if i in new]
        pics = [img for v in fresh for img in rows.image_values(json.loads(v["record"]))]
        if pics:
            conn.execute(self._insert(parcel_images).on_conflict_do_nothing(), pics)
        self._open_cases(conn, [v for v in fresh if v["ref_valid"]])
        return new

    def _open_cases(self, conn: Connection, fresh: list[dict[str, Any]]) -> None:
        """The automatic part of cases: created on first sight, seen/flagged events."""
        if not fresh:
            return
        heads: dict[str, dict[str, Any]] = {}
        events = []
        for v in fresh:
            flagged = v["outcome"] == "flag"
            heads.setdefault(v["ref_norm"], {"reference": v["ref_norm"], "kind": v["ref_kind"],
                                             "state": "seen", "decision": "",
                                             "opened_utc": v["received_utc"]})
            for kind in ("seen", "flagged") if flagged else ("seen",):
                events.append({"reference": v["ref_norm"], "kind": kind, "actor": f"unit:{v['unit']}",
                               "time_utc": v["time_utc"] or v["received_utc"],
                               "note": v.get("note", v["outcome"]), "parcel_id": v["id"]})
        conn.execute(self._insert(cases).on_conflict_do_nothing(), list(heads.values()))
        conn.execute(case_events.insert(), events)
        flagged_refs = sorted({v["ref_norm"] for v in fresh if v["outcome"] == "flag"})
        if flagged_refs:
            conn.execute(update(cases).where(cases.c.reference.in_(flagged_refs),
                                             cases.c.state == "seen").values(state="flagged"))
        closed = select(cases.c.reference).where(cases.c.reference.in_(list(heads)),
                                                   cases.c.state.in_(FINAL_STATES))
        conn.execute(update(parcels).where(parcels.c.id.in_([v["id"] for v in fresh]),
                                           parcels.c.ref_norm.in_(closed)).values(open=False))

    def key_reference(self, parcel_id: str, kind: str, value: str, note: str) -> bool:
        """A reference an officer read off the label of a parcel the unit could not read: the
        parcel joins that reference's case (opened if new).  False if it has a valid one."""
        norm = normalize_id(value)
        with self.engine.begin() as conn:
            row = conn.execute(select(parcels).where(parcels.c.id == parcel_id,
                                                     parcels.c.ref_valid.is_(False))).first()
            if row is None:
                return False
            keyed = {"ref_kind": kind, "ref_value": value, "ref_norm": norm, "ref_valid": True}
            conn.execute(update(parcels).where(parcels.c.id == parcel_id).values(**keyed))
            self._open_cases(conn, [{**row._mapping, **keyed, "note": note}])
        return True

    def _images(self, conn: Connection, imgs: list[ImageIn], received: str) -> set[str]:
        values = {i.sha256: {"sha256": i.sha256, "content_type": i.content_type[:64],
                             "bytes": i.size, "received_utc": received} for i in imgs}
        found = conn.execute(self._insert(images).on_conflict_do_nothing()
                             .returning(images.c.sha256), list(values.values()))
        return {r.sha256 for r in found}

    def _status(self, conn: Connection, item: StatusIn, received: str) -> None:
        values: dict[str, Any] = {"prefix": item.prefix, "last_seen_utc": received}
        if item.status is not None:
            values["status"] = json.dumps(item.status, sort_keys=True)[:200_000]
        if item.online is not None:
            values["online"] = item.online
        elif item.status is not None:
            values["online"] = True
        conn.execute(self._insert(units).values(unit=item.unit, **{
            "online": False, "status": "{}", **values}).on_conflict_do_update(
            index_elements=["unit"], set_=values))

    def gaps(self, window: int = 10_000) -> tuple[Gap, ...]:
        """Holes in each unit's last ``window`` sequence numbers, and its tail (what its status
        says it committed past the newest stored).  A count per unit first (an
        index range each); only a unit whose count falls short is walked number by number."""
        out: list[Gap] = []
        with self.engine.connect() as conn:
            highs = conn.execute(select(parcels.c.unit, func.max(parcels.c.seq))
                                 .group_by(parcels.c.unit)).all()
            for unit, high in highs:
                low = high - window
                n, first = conn.execute(select(func.count(func.distinct(parcels.c.seq)),
                                               func.min(parcels.c.seq)).where(
                    parcels.c.unit == unit, parcels.c.seq > low)).one()
                if n < high - first + 1:
                    out.extend(self._unit_gaps(conn, unit, low))
            out.extend(self._tail_gaps(conn, dict(highs), window))
        return tuple(out)

    @staticmethod
    def _tail_gaps(conn: Connection, highs: dict[str, int], window: int) -> list[Gap]:
        """The numbers a unit's status says it committed past the newest one stored here."""
        found = [(u, p, rows.settled_last_seq(s)) for u, p, s in
                 conn.execute(select(units.c.unit, units.c.prefix, units.c.status))]
        return [Gap(u, p, max(highs.get(u, 0) + 1, last - window + 1), last)
                for u, p, last in found if last > highs.get(u, 0)]

    @staticmethod
    def _unit_gaps(conn: Connection, unit: str, low: int) -> list[Gap]:
        lead = func.lead(parcels.c.seq).over(order_by=parcels.c.seq)
        inner = select(parcels.c.prefix, parcels.c.seq, lead.label("next")).where(
            parcels.c.unit == unit, parcels.c.seq > low).subquery()
        rows_ = conn.execute(select(inner).where(inner.c.next > inner.c.seq + 1)
                             .order_by(inner.c.seq))
        return [Gap(unit, r.prefix, r.seq + 1, r.next - 1) for r in rows_]

    # --- pages ---------------------------------------------------------------------------
    def change_counter(self) -> int:
        with self.engine.connect() as conn:
            a = conn.execute(select(func.max(parcels.c.change))).scalar() or 0
            b = conn.execute(select(func.max(case_events.c.id))).scalar() or 0
        return int(a) + int(b)

    def _rows(self) -> Any:
        return select(*ROW_COLUMNS).select_from(parcels.outerjoin(
            cases, and_(parcels.c.ref_valid.is_(True), cases.c.reference == parcels.c.ref_norm)))

    def _page(self, conn: Connection, where: list[Any], order: str, limit: int,
              offset: int = 0) -> list[QueueRow]:
        """The page of parcels first (its own index, LIMIT), then their cases: the join
        touches only the rows shown, however many match."""
        col = parcels.c.time_utc if order == "time" else parcels.c.change
        page = select(*PAGE_COLUMNS).where(*where).order_by(col.desc()).limit(limit) \
            .offset(offset).subquery()
        q = select(page, cases.c.state).select_from(page.outerjoin(cases, and_(
            page.c.ref_valid.is_(True), cases.c.reference == page.c.ref_norm))) \
            .order_by(page.c[col.name].desc())
        return [rows.queue_row(r._mapping) for r in conn.execute(q)]

    def queue(self, outcomes: Sequence[str] = QUEUE_OUTCOMES, limit: int = 100,
              after: int = 0, open_only: bool = True) -> tuple[QueueRow, ...]:
        """Per outcome in urgency order, newest first: each part walks its own index."""
        out: list[QueueRow] = []
        with self.engine.connect() as conn:
            for outcome in outcomes:
                if len(out) >= limit:
                    break
                where = [parcels.c.outcome == outcome, parcels.c.change > after]
                if open_only:
                    where.append(parcels.c.open.is_(True))
                out.extend(self._page(conn, where, "change", limit - len(out)))
        return tuple(out)

    def parcel(self, parcel_id: str) -> ParcelDetail | None:
        q = select(*ROW_COLUMNS, parcels.c.record).select_from(parcels.outerjoin(
            cases, and_(parcels.c.ref_valid.is_(True), cases.c.reference == parcels.c.ref_norm))
        ).where(parcels.c.id == parcel_id)
        imgs = select(parcel_images, images.c.content_type).select_from(parcel_images.outerjoin(
            images, images.c.sha256 == parcel_images.c.sha256)).where(
            parcel_images.c.parcel_id == parcel_id).order_by(parcel_images.c.view)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
            if row is None:
                return None
            found = [r._mapping for r in conn.execute(imgs)]
        return rows.parcel_detail(row._mapping, found)

    def search(self, query: SearchQuery) -> tuple[QueueRow, ...]:
        where: list[Any] = []
        ref = normalize_id(query.reference)
        if ref:
            where += [parcels.c.ref_norm >= ref, parcels.c.ref_norm < ref + "\x7f"]
        for column, value in ((parcels.c.unit, query.unit), (parcels.c.brand, query.brand),
                              (parcels.c.outcome, query.outcome)):
            if value:
                where.append(column == value[:128])
        if query.since_utc:
            where.append(parcels.c.time_utc >= query.since_utc[:32])
        if query.until_utc:
            where.append(parcels.c.time_utc < query.until_utc[:32])
        # A time range reads newest-in-range first down its own index; otherwise newest stored.
        order = "time" if query.since_utc or query.until_utc else "change"
        with self.engine.connect() as conn:
            return tuple(self._page(conn, where, order, max(1, min(query.limit, 1000)),
                                    max(0, query.offset)))

    def fleet(self) -> tuple[UnitRow, ...]:
        missing: dict[str, int] = {}
        for gap in self.gaps():
            missing[gap.unit] = missing.get(gap.unit, 0) + gap.last - gap.first + 1
        with self.engine.connect() as conn:
            found = conn.execute(select(units).order_by(units.c.unit)).mappings().all()
        return tuple(rows.unit_row(r, missing.get(r["unit"], 0)) for r in found)

    def precision(self) -> tuple[PrecisionRow, ...]:
        confirmed = func.sum(case((cases.c.decision.in_(("detained", "seized")), 1), else_=0))
        cleared = func.sum(case((cases.c.decision == "released", 1), else_=0))
        q = select(parcels.c.brand, parcels.c.model_version, func.count().label("n"),
                   confirmed.label("yes"), cleared.label("no")).select_from(parcels.outerjoin(
                       cases, and_(parcels.c.ref_valid.is_(True),
                                   cases.c.reference == parcels.c.ref_norm))
        ).where(parcels.c.outcome == "flag").group_by(parcels.c.brand, parcels.c.model_version) \
            .order_by(parcels.c.brand, parcels.c.model_version)
        with self.engine.connect() as conn:
            found = conn.execute(q).all()
        return tuple(PrecisionRow(r.brand, r.model_version, int(r.n), int(r.yes or 0), int(r.no or 0),
                                  (r.yes or 0) / ((r.yes or 0) + (r.no or 0)) if (r.yes or r.no) else None)
                     for r in found)

    # --- cases ---------------------------------------------------------------------------
    def case_head(self, reference: str) -> tuple[str, str, str] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(cases).where(cases.c.reference == reference)).first()
        return (r.kind, r.state, r.opened_utc) if r else None

    def case_events(self, reference: str) -> tuple[CaseEvent, ...]:
        q = select(case_events).where(case_events.c.reference == reference).order_by(case_events.c.id)
        with self.engine.connect() as conn:
            return tuple(rows.case_event(r) for r in conn.execute(q).mappings())

    def case_parcels(self, reference: str) -> tuple[QueueRow, ...]:
        q = self._rows().where(parcels.c.ref_norm == reference, parcels.c.ref_valid.is_(True)) \
            .order_by(parcels.c.change.desc()).limit(500)
        with self.engine.connect() as conn:
            return tuple(rows.queue_row(r._mapping) for r in conn.execute(q))

    def add_case_event(self, reference: str, kind: str, actor: str, note: str, parcel_id: str,
                       time_utc: str, transition: Callable[[str, str], tuple[str, str]]) -> CaseEvent:
        with self.engine.begin() as conn:
            head = conn.execute(select(cases.c.state, cases.c.decision)
                                .where(cases.c.reference == reference)
                                .with_for_update()).first()
            if head is None:
                raise LookupError("no such case")
            state, decision = transition(head.state, head.decision)
            conn.execute(update(cases).where(cases.c.reference == reference)
                         .values(state=state, decision=decision))
            conn.execute(update(parcels).where(parcels.c.ref_norm == reference,
                                               parcels.c.ref_valid.is_(True))
                         .values(open=state not in FINAL_STATES))
            new_id = conn.execute(case_events.insert().values(
                reference=reference, kind=kind, time_utc=time_utc, actor=actor[:128], note=note,
                parcel_id=parcel_id[:128]).returning(case_events.c.id)).scalar_one()
        return CaseEvent(new_id, reference, kind, time_utc, actor[:128], note, parcel_id[:128])

    # --- users ---------------------------------------------------------------------------
    def add_user(self, username: str, role: str, password_hash: str) -> User:
        from edge.records import utc_now
        with self.engine.begin() as conn:
            conn.execute(users.insert().values(username=username, role=role,
                                               password_hash=password_hash, failed_logins=0,
                                               locked_until=None, disabled=False,
                                               created_utc=utc_now()))
        found = self.user(username)
        assert found is not None
        return found

    def user(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
        return rows.user(r) if r else None

    def users(self) -> tuple[User, ...]:
        with self.engine.connect() as conn:
            return tuple(rows.user(r) for r in conn.execute(
                select(users).order_by(users.c.username)).mappings())

    def update_user(self, username: str, **changes: Any) -> User | None:
        allowed = {"role", "password_hash", "failed_logins", "locked_until", "disabled"}
        if not changes.keys() <= allowed:
            raise ValueError(f"cannot change {sorted(changes.keys() - allowed)}")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.username == username).values(**changes))
        return self.user(username)

    # --- sessions (shared by every hub process: logout anywhere ends it everywhere) -----
    def create_session(self, token_sha256: str, username: str, expires: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_utc < _utcnow()))
            conn.execute(sessions.insert().values(token_sha256=token_sha256, username=username,
                                                  expires_utc=expires))

    def session_user(self, token_sha256: str, now: datetime) -> User | None:
        q = select(sessions.c.username, sessions.c.expires_utc).where(
            sessions.c.token_sha256 == token_sha256)
        with self.engine.connect() as conn:
            r = conn.execute(q).first()
        if r is None or _aware(r.expires_utc) <= now:
            return None
        return self.user(r.username)

    def end_session(self, token_sha256: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_sha256 == token_sha256))

    def end_sessions_of(self, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.username == username))

    # --- audit ---------------------------------------------------------------------------
    def audit_append(self, make: Callable[[str], Mapping[str, Any]]) -> AuditEntry:
        """``make(prev_hash)`` gives the entry's columns; a lost race on the chain retries."""
        for _ in range(50):
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)).scalar()
                    values = dict(make(last or ""))
                    new_id = conn.execute(audit.insert().values(**values)
                                          .returning(audit.c.id)).scalar_one()
                return rows.audit_entry({"id": new_id, **values})
            except IntegrityError:
                continue
        raise RuntimeError("audit log busy: could not append after 50 tries")

    def audit_entries(self, after_id: int = 0, limit: int = 1000) -> tuple[AuditEntry, ...]:
        q = select(audit).where(audit.c.id > after_id).order_by(audit.c.id).limit(limit)
        with self.engine.connect() as conn:
            return tuple(rows.audit_entry(r) for r in conn.execute(q).mappings())

    def execute_text(self, sql: str) -> list[Any]:
        """For tests and the bench only: raw SQL on a connection (never with outside input)."""
        with self.engine.begin() as conn:
            result = conn.execute(text(sql))
            return list(result) if result.returns_rows else []
