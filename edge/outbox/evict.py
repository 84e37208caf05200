"""Keeping the outbox inside its disk budget without dropping what matters.

A unit cut off from its broker for days fills its card; something has to go.
The order is fixed by what the facility can afford to lose: first data the
broker already acknowledged (a local cache), then full-size images of parcels
that were cleared (their records and thumbnails stay).  Unacknowledged
records and alerts, and images of anything not cleared, are never evicted:
when only those remain the outbox goes over budget and says so on ``status``.
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from edge.outbox.config import OutboxConfig

log = logging.getLogger(__name__)

BATCH = 8

DONE_ROWS = """
SELECT n, path FROM items AS i WHERE i.state='acked'
   OR (i.state='evicted' AND NOT EXISTS (
        SELECT 1 FROM items AS r WHERE r.parcel=i.parcel AND r.kind='record' AND r.state='pending'))
ORDER BY n LIMIT ?
"""


class Evictor:
    """Disk accounting and eviction; the caller holds the outbox lock."""

    def __init__(self, db: sqlite3.Connection, spool: Path, cfg: OutboxConfig) -> None:
        self._db = db
        self._spool = spool
        self._cfg = cfg
        self.spool_bytes = int(db.execute(
            "SELECT COALESCE(SUM(bytes), 0) FROM items WHERE path IS NOT NULL").fetchone()[0])
        self.evicted_images = 0

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

    def enforce(self) -> None:
        """Evict in the fixed order until usage is back under the target share of the budget."""
        if self.usage() <= self._cfg.budget_bytes:
            return
        target = self._cfg.budget_bytes * self._cfg.evict_to_pct // 100
        while self.usage() > target and self.drop_acked(BATCH):
            pass
        evicted = 0
        while self.usage() > target:
            n = self._evict_cleared_images()
            if not n:
                break
            evicted += n
        if evicted:
            log.warning("outbox over budget: evicted %s full-size images of cleared parcels", evicted)
        if self.usage() > self._cfg.budget_bytes:
            log.warning("outbox over budget (%s bytes) with only unacknowledged data left", self.usage())

    def drop_acked(self, limit: int = 1_000_000) -> int:
        """Delete acknowledged rows (and evicted images whose record is done), oldest first."""
        rows = self._db.execute(DONE_ROWS, (limit,)).fetchall()
        if not rows:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("DELETE FROM items WHERE n=?", [(r[0],) for r in rows])
        self._db.execute("COMMIT")
        self._unlink([r[1] for r in rows if r[1]])
        return len(rows)

    def _evict_cleared_images(self) -> int:
        keep = self._cfg.keep_views
        marks = ",".join("?" * len(keep)) or "''"
        rows = self._db.execute(
            "SELECT n, path FROM items WHERE state='pending' AND kind='image' AND outcome='clear' "
            f"AND view NOT IN ({marks}) ORDER BY seq, n LIMIT 1", keep).fetchall()
        if not rows:
            return 0
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("UPDATE items SET state='evicted', path=NULL WHERE n=?",
                             [(r[0],) for r in rows])
        self._db.execute("COMMIT")
        self._unlink([r[1] for r in rows if r[1]])
        self.evicted_images += len(rows)
        return len(rows)

    def _unlink(self, names: list[str]) -> None:
        """Files go after their rows: a crash in between leaves orphans that recovery removes."""
        for name in names:
            path = self._spool / name
            try:
                self.spool_bytes -= path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
