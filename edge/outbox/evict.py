"""Keeping the outbox inside its disk budget without dropping what matters.

A unit cut off from its broker for days fills its card; something has to go.
The order is fixed by what the facility can afford to lose: first data the
broker already acknowledged (a local cache), then full-size images of parcels
that were cleared.  Before a cleared parcel's full-size image goes, a
thumbnail (320 px, view ``thumb``) is made from it and queued in its place, so
every parcel keeps a picture; records, alerts, thumbnails and label crops, and
images of anything not cleared, are never evicted: when only those remain the
outbox goes over budget and says so on ``status``.  The same order frees space
when the file system runs below ``min_free_mb``.  Counters live in the
database, in the transaction that changes the rows, so they survive restarts.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from edge.durable import fsync_dir, write_atomic
from edge.outbox.config import OutboxConfig

log = logging.getLogger(__name__)

BATCH = 8
THUMB_PX = 320
THUMB_QUALITY = 80
COUNTERS = ("evicted_images", "dropped_acked", "thumbnails", "thumbnail_failed")

DONE_ROWS = """
SELECT n, path FROM items AS i WHERE i.state='acked'
   OR (i.state='evicted' AND NOT EXISTS (
        SELECT 1 FROM items AS r WHERE r.parcel=i.parcel AND r.kind='record' AND r.state='pending'))
ORDER BY n LIMIT ?
"""


def make_thumbnail(data: bytes, max_px: int = THUMB_PX) -> bytes | None:
    """A small JPEG of a full-size one (decoded at 1/4 scale: cheap on a Pi); None if unreadable."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_4)
    if image is None:
        return None
    h, w = image.shape[:2]
    scale = min(1.0, max_px / max(h, w))
    if scale < 1.0:
        image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))),
                           interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    return buf.tobytes() if ok else None


class Evictor:
    """Disk accounting and eviction; the caller holds the outbox lock."""

    def __init__(self, db: sqlite3.Connection, spool: Path, cfg: OutboxConfig) -> None:
        self._db = db
        self._spool = spool
        self._cfg = cfg
        self.spool_bytes = int(db.execute(
            "SELECT COALESCE(SUM(bytes), 0) FROM items WHERE path IS NOT NULL").fetchone()[0])
        rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN (%s)"
                               % ",".join("?" * len(COUNTERS)), COUNTERS).fetchall())
        self.counters = {k: int(rows.get(k, 0)) for k in COUNTERS}

    @property
    def evicted_images(self) -> int:
        return self.counters["evicted_images"]

    def _count(self, key: str, n: int) -> None:
        """Inside the caller's transaction: the counter commits with the rows it counts."""
        self.counters[key] += n
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (key, str(self.counters[key])))

    def added(self, n_bytes: int) -> None:
        self.spool_bytes += n_bytes

    def usage(self) -> int:
        """Spool files and the database's used pages.

        The write-ahead log is left out: checkpoints every 256 pages and a
        journal size limit keep it to a constant 1-2 MB, which would otherwise
        dominate small test budgets and say nothing about the queue.
        """
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return self.spool_bytes + (pages - free) * page_size

    def enforce(self, free_bytes: Callable[[], int] | None = None) -> None:
        """Evict in the fixed order until usage is back under the target share of the budget,
        and, given ``free_bytes``, until the file system has ``min_free_mb`` again."""
        min_free = self._cfg.min_free_mb * 1024 * 1024
        low = (lambda: free_bytes() < min_free) if free_bytes is not None else (lambda: False)
        if self.usage() <= self._cfg.budget_bytes and not low():
            return
        target = self._cfg.budget_bytes * self._cfg.evict_to_pct // 100
        while (self.usage() > target or low()) and self.drop_acked(BATCH):
            pass
        evicted = 0
        while self.usage() > target or low():
            n = self._evict_cleared_images()
            if not n:
                break
            evicted += n
        if evicted:
            log.warning("outbox over budget or low on disk: evicted %s full-size images of "
                        "cleared parcels (thumbnails kept)", evicted)
        if self.usage() > self._cfg.budget_bytes:
            log.warning("outbox over budget (%s bytes) with only unacknowledged data left", self.usage())
        if low():
            log.warning("file system below min_free_mb (%s MB) with nothing left to free",
                        self._cfg.min_free_mb)

    def drop_acked(self, limit: int = 1_000_000) -> int:
        """Delete acknowledged rows (and evicted images whose record is done), oldest first."""
        rows = self._db.execute(DONE_ROWS, (limit,)).fetchall()
        if not rows:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("DELETE FROM items WHERE n=?", [(r[0],) for r in rows])
        self._count("dropped_acked", len(rows))
        self._db.execute("COMMIT")
        self._unlink([r[1] for r in rows if r[1]])
        return len(rows)

    def _evict_cleared_images(self) -> int:
        keep = self._cfg.keep_views
        marks = ",".join("?" * len(keep)) or "''"
        rows = self._db.execute(
            "SELECT n, path, parcel, seq FROM items WHERE state='pending' AND kind='image' "
            f"AND outcome='clear' AND view NOT IN ({marks}) ORDER BY seq, n LIMIT 1",
            keep).fetchall()
        if not rows:
            return 0
        n, name, parcel, seq = rows[0]
        thumb = self._thumbnail(name, parcel, seq)
        self._db.execute("BEGIN IMMEDIATE")
        if thumb is not None:
            self._db.execute(
                "INSERT OR IGNORE INTO items (id, kind, parcel, seq, prio, ord, view, outcome, "
                "content_type, sha256, bytes, created, payload, path) "
                "VALUES (?, 'image', ?, ?, 1, 1, 'thumb', 'clear', 'image/jpeg', ?, ?, ?, NULL, ?)",
                (f"{parcel}.thumb", parcel, seq, thumb[0], thumb[1], time.time(), thumb[2]))
            self._count("thumbnails", 1)
        self._db.execute("UPDATE items SET state='evicted', path=NULL WHERE n=?", (n,))
        self._count("evicted_images", 1)
        self._db.execute("COMMIT")
        self._unlink([name] if name else [])
        return 1

    def _thumbnail(self, name: str | None, parcel: str, seq: int) -> tuple[str, int, str] | None:
        """(sha256, bytes, spool name) of a durable thumbnail, unless the parcel has one."""
        if name is None or self._db.execute(
                "SELECT 1 FROM items WHERE parcel=? AND kind='image' AND view='thumb'",
                (parcel,)).fetchone():
            return None
        try:
            data = make_thumbnail((self._spool / name).read_bytes())
        except OSError:
            data = None
        if data is None:
            self._db.execute("BEGIN IMMEDIATE")
            self._count("thumbnail_failed", 1)
            self._db.execute("COMMIT")
            log.warning("outbox: no thumbnail from %s (not a readable JPEG)", name)
            return None
        digest = hashlib.sha256(data).hexdigest()
        thumb_name = f"{seq:010d}-thumb-{digest[:16]}.jpg"
        write_atomic(self._spool / thumb_name, data)
        fsync_dir(self._spool)
        self.spool_bytes += len(data)
        return digest, len(data), thumb_name

    def _unlink(self, names: list[str]) -> None:
        """Files go after their rows: a crash in between leaves orphans that recovery removes."""
        for name in names:
            path = self._spool / name
            try:
                self.spool_bytes -= path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
