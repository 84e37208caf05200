"""SQLite: the hub's embedded default, one file beside the images.

WAL lets pages read while ingest writes and lets two hub processes share the
file; ``synchronous=FULL`` because the broker forgets a message once the hub
acknowledged it, so a commit must be on disk before the acknowledgement.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from edge.configbase import Section


class SqliteConfig(Section):
    type: Literal["sqlite"] = "sqlite"
    path: Path = Path("hub.db")
    busy_timeout_ms: int = Field(10_000, ge=100, le=600_000)


def engine(cfg: SqliteConfig, root: Path) -> Any:
    """A SQLAlchemy engine on the file (relative paths are under the hub's data folder)."""
    from sqlalchemy import create_engine, event

    path = cfg.path if cfg.path.is_absolute() else root / cfg.path
    path.parent.mkdir(parents=True, exist_ok=True)
    eng = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False,
                                                           "timeout": cfg.busy_timeout_ms / 1000})

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(cfg.busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(eng, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two processes never deadlock upgrading.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return eng
