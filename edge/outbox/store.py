"""The outbox: a parcel's record, alert and images on disk before it counts as processed.

paho-mqtt keeps its queue in memory and brokers drop messages in several
configurations, so the unit keeps its own durable queue: image bytes in a
spool folder (written atomically: temporary file, fsync, rename, fsync of the
folder) and rows in SQLite (WAL, ``synchronous=FULL`` for what must survive a
power cut).  A row leaves the pending set only when the broker acknowledged it.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Iterator

from edge.durable import fsync_dir, make_dirs, write_atomic
from edge.configbase import safe_id
from edge.outbox.config import OutboxConfig
from edge.outbox.evict import Evictor
from edge.records import Package, PackageFile, alert_payload, dumps

log = logging.getLogger(__name__)

SAFE_MSG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# Drain order: alerts jump the queue; within a parcel its images go before its record.
PRIO = {"alert": 0, "image": 1, "record": 1}
ORDER = {"alert": 0, "image": 1, "record": 2}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('alert', 'record', 'image')),
    parcel TEXT NOT NULL,
    seq INTEGER NOT NULL,
    prio INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    view TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    payload BLOB,
    path TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'evicted')),
    acked REAL,
    UNIQUE (kind, id)
);
CREATE INDEX IF NOT EXISTS items_drain ON items (state, prio, seq, ord);
CREATE INDEX IF NOT EXISTS items_parcel ON items (parcel);
"""

COLUMNS = "n, id, kind, parcel, seq, view, content_type, sha256, bytes, created, payload, path"


class OutboxError(RuntimeError):
    """A package the outbox cannot take (unsafe id or view, bad digest)."""


@dataclass(frozen=True)
class OutboxItem:
    """One message waiting for the broker's acknowledgement."""

    n: int
    id: str
    kind: str
    parcel: str
    seq: int
    view: str
    content_type: str
    sha256: str
    bytes: int
    created: float
    payload: bytes | None
    path: Path | None

    def read(self) -> bytes:
        """The message body: JSON for records and alerts, the spool file for images."""
        if self.payload is not None:
            return self.payload
        assert self.path is not None
        return self.path.read_bytes()


def images_of(package: Package) -> tuple[PackageFile, ...]:
    """The files that travel as images; the package's JSON sidecar is the record itself,
    which goes on the parcels topic, so it is not stored twice."""
    return tuple(f for f in package.files if f.content_type.startswith("image/"))


def _check_ids(package: Package) -> None:
    rec = package.record
    if not SAFE_MSG_ID.match(rec.id):
        raise OutboxError(f"record id {rec.id[:40]!r} is not a safe identifier")
    views = [f.view for f in images_of(package)]
    if len(set(views)) != len(views):
        raise OutboxError("two files of one package share a view")
    for f in images_of(package):
        try:
            safe_id(f.view)
        except ValueError:
            raise OutboxError(f"view {f.view[:40]!r} is not a safe identifier") from None
        if not SHA256_HEX.match(f.sha256):
            raise OutboxError(f"file {f.view} has no hex SHA-256")


class Outbox:
    """Durable queue between the parcel path and the publisher; safe to share between threads."""

    def __init__(self, cfg: OutboxConfig, data_dir: str | Path) -> None:
        """``data_dir`` is the outbox's own folder (the unit uses ``<unit data_dir>/outbox``)."""
        self.cfg = cfg
        self.root = Path(data_dir)
        self.spool = self.root / "spool"
        make_dirs(self.spool)
        self._lock = threading.RLock()
        self._halt = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        # Files of one package are fsync'd in parallel: ext4 folds them into one journal commit.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbox-spool")
        self._db = sqlite3.connect(self.root / "outbox.db", isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA wal_autocheckpoint=256")
        self._db.execute("PRAGMA journal_size_limit=2097152")
        self._db.executescript(SCHEMA)
        self._seq = self._load_seq()
        # The newest committed record: a receiver missing the tail of our stream learns of it
        # from the status (a gap is otherwise found only when a later number arrives).
        self._last_record = self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM items WHERE kind='record'").fetchone()[0]
        self._recover_spool()
        self._evictor = Evictor(self._db, self.spool, cfg)

    # -- transactions ------------------------------------------------------

    @contextmanager
    def _tx(self, durable: bool) -> Iterator[sqlite3.Connection]:
        """One transaction; ``durable`` waits for fsync (records, alerts, sequence numbers)."""
        with self._lock:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _load_seq(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()
        stored = int(row[0]) if row else 0
        top = self._db.execute("SELECT MAX(seq) FROM items").fetchone()[0] or 0
        return max(stored, int(top))

    def next_seq(self) -> int:
        """The next per-unit sequence number; never handed out twice for a committed record.

        Written without waiting for fsync: the WAL is sequential, so the commit
        that makes a record with this number durable makes this update durable
        too.  A power cut can only make a number that no durable record carries
        come back, which loses nothing and duplicates nothing.
        """
        with self._tx(durable=False) as db:
            self._seq += 1
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (str(self._seq),))
            return self._seq

    # -- commit ------------------------------------------------------------

    def _spool_file(self, seq: int, f: PackageFile) -> str:
        name = f"{seq:010d}-{f.view}-{f.sha256[:16]}.{EXTENSIONS.get(f.content_type, 'bin')}"
        write_atomic(self.spool / name, f.data)
        return name

    def _rows(self, package: Package, names: list[str], now: float) -> list[tuple[Any, ...]]:
        rec = package.record
        outcome = rec.verdict.outcome
        rows: list[tuple[Any, ...]] = []
        for f, name in zip(images_of(package), names):
            rows.append((f"{rec.id}.{f.view}", "image", rec.id, rec.seq, PRIO["image"], ORDER["image"],
                         f.view, outcome, f.content_type, f.sha256, len(f.data), now, None, name))
        body = dumps(rec).encode()
        rows.append((rec.id, "record", rec.id, rec.seq, PRIO["record"], ORDER["record"], "",
                     outcome, "application/json", "", len(body), now, body, None))
        if package.flagged:
            alert = dumps(alert_payload(rec)).encode()
            rows.append((rec.id, "alert", rec.id, rec.seq, PRIO["alert"], ORDER["alert"], "",
                         outcome, "application/json", "", len(alert), now, alert, None))
        return rows

    def commit(self, package: Package) -> None:
        """Make a parcel's files, record and alert durable; returns only once they are on disk."""
        _check_ids(package)
        if self._has_record(package.record.id):
            return
        seq = package.record.seq
        names = list(self._pool.map(lambda f: self._spool_file(seq, f), images_of(package)))
        if names:
            fsync_dir(self.spool)
        rows = self._rows(package, names, time.time())
        with self._tx(durable=True) as db:
            db.executemany(
                "INSERT OR IGNORE INTO items (id, kind, parcel, seq, prio, ord, view, outcome, "
                "content_type, sha256, bytes, created, payload, path) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if package.record.seq > self._seq:
                self._seq = package.record.seq
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)",
                           (str(self._seq),))
        with self._lock:
            self._last_record = max(self._last_record, seq)
            self._evictor.added(sum(len(f.data) for f in images_of(package)))
            self._evictor.enforce(self._free_bytes)
            self._bump()

    def _has_record(self, record_id: str) -> bool:
        """A package committed twice (a retry after an error) is stored once."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM items WHERE kind='record' AND id=?",
                                    (record_id,)).fetchone() is not None

    def _bump(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- draining ------------------------------------------------------------

    def pending(self, limit: int, skip: Collection[int] = ()) -> list[OutboxItem]:
        """Pending items in drain order, leaving out those in ``skip`` (already in flight)."""
        with self._lock:
            cur = self._db.execute(
                f"SELECT {COLUMNS} FROM items WHERE state='pending' "
                "ORDER BY prio, seq, ord, n LIMIT ?", (limit + len(skip),))
            rows = cur.fetchall()
        items = [self._item(r) for r in rows if r[0] not in skip]
        return items[:limit]

    def _item(self, r: tuple[Any, ...]) -> OutboxItem:
        path = self.spool / r[11] if r[11] else None
        return OutboxItem(n=r[0], id=r[1], kind=r[2], parcel=r[3], seq=r[4], view=r[5],
                          content_type=r[6], sha256=r[7], bytes=r[8], created=r[9],
                          payload=r[10], path=path)

    def evicted_views(self, parcel: str) -> list[str]:
        """Views of a parcel whose full-size image was evicted unsent (receivers stop waiting)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT view FROM items WHERE parcel=? AND kind='image' AND state='evicted' "
                "ORDER BY view", (parcel,)).fetchall()
        return [r[0] for r in rows]

    def ack(self, n: int) -> bool:
        """The broker acknowledged item ``n`` with a success code; False if it was already gone."""
        with self._tx(durable=False) as db:
            cur = db.execute("UPDATE items SET state='acked', acked=? WHERE n=? AND state='pending'",
                             (time.time(), n))
            done = cur.rowcount == 1
        if done and not self.cfg.retain_acked:
            with self._lock:
                self._evictor.drop_acked()
        return done

    def requeue(self, from_seq: int, to_seq: int, limit: int = 10_000) -> int:
        """Acknowledged items with ``from_seq <= seq <= to_seq`` go out again (a receiver's
        resend request after a gap); what the disk budget already evicted is gone."""
        with self._tx(durable=True) as db:
            cur = db.execute(
                "UPDATE items SET state='pending', acked=NULL WHERE n IN (SELECT n FROM items "
                "WHERE state='acked' AND seq BETWEEN ? AND ? ORDER BY seq, ord LIMIT ?)",
                (from_seq, to_seq, limit))
            count = cur.rowcount
        if count:
            self._bump()
        return count

    def add_listener(self, callback: Callable[[], None]) -> None:
        """``callback`` runs (in the committing thread) after each commit; it must not block."""
        with self._lock:
            self._listeners.append(callback)

    # -- status and housekeeping ------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Depth, oldest age and disk use, for the status topic."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, COUNT(*), MIN(created) FROM items WHERE state='pending' "
                "GROUP BY kind").fetchall()
            usage = self._evictor.usage()
        oldest = min((r[2] for r in rows), default=None)
        free = self._free_bytes()
        return {
            "depth": sum(r[1] for r in rows),
            "depth_by_kind": {r[0]: r[1] for r in rows},
            "last_record_seq": self._last_record,
            "oldest_age_s": round(time.time() - oldest, 1) if oldest is not None else None,
            "disk_bytes": usage,
            "budget_bytes": self.cfg.budget_bytes,
            "over_budget": usage > self.cfg.budget_bytes,
            **self._evictor.counters,
            "free_bytes": free,
            "low_disk": free < self.cfg.min_free_mb * 1024 * 1024,
        }

    def _free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def _recover_spool(self) -> None:
        """After a crash: drop half-written and unreferenced spool files, flag missing ones."""
        with self._lock:
            known = {r[0] for r in self._db.execute("SELECT path FROM items WHERE path IS NOT NULL")}
            for entry in self.spool.iterdir():
                if entry.name not in known:
                    entry.unlink(missing_ok=True)
            missing = [p for p in known if not (self.spool / p).exists()]
            for name in missing:
                log.error("outbox: spool file %s is missing; its image is marked evicted", name)
                self._db.execute("UPDATE items SET state='evicted', path=NULL WHERE path=?", (name,))

    def housekeep(self) -> None:
        """Budget and free space enforced without waiting for the next parcel (idle units)."""
        with self._lock:
            if not self._closed:
                self._evictor.enforce(self._free_bytes)

    def start_housekeeping(self, interval_s: float) -> None:
        """Run :meth:`housekeep` every ``interval_s`` on a thread of its own until ``close``."""
        def loop() -> None:
            while not self._halt.wait(interval_s):
                try:
                    self.housekeep()
                except (sqlite3.Error, OSError) as exc:  # a failed round is retried next time
                    log.warning("outbox housekeeping failed: %s", exc)

        self._housekeeper = threading.Thread(target=loop, name="outbox-housekeeping", daemon=True)
        self._housekeeper.start()

    def close(self) -> None:
        self._halt.set()
        if self._housekeeper is not None:
            self._housekeeper.join(5.0)
        self._pool.shutdown(wait=True)
        with self._lock:
            self._closed = True
            self._db.close()
