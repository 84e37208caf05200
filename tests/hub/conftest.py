"""Hub fixtures: a real PostgreSQL server (one per test session, a fresh database per test)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg import pg_bin, start_server  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed")
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_migrated(pg_server) -> str:
    """One database with the hub's schema, shared by the session's tests (emptied per test)."""
    from edge.hub.store.postgres import PostgresConfig, engine
    from edge.hub.store.sql import migrate

    url = pg_server.new_database()
    eng = engine(PostgresConfig(url=url), Path("/tmp"))
    migrate(eng)
    eng.dispose()
    return url


@pytest.fixture
def pg_url(pg_migrated) -> str:
    """The migrated database, every table emptied and every id sequence restarted."""
    import psycopg

    from edge.hub.store.tables import metadata

    names = ", ".join(f'"{t}"' for t in metadata.tables)
    with psycopg.connect(pg_migrated, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY")
    return pg_migrated
