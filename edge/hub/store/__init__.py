"""The hub's store: a registry of database engines chosen by the config's ``type``.

Each engine is one small module with its own config class; their drivers are
imported only when that engine is opened.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Union

from pydantic import Field

from edge.hub.store.postgres import PostgresConfig
from edge.hub.store.sqlite import SqliteConfig

DatabaseConfig = Annotated[Union[SqliteConfig, PostgresConfig], Field(discriminator="type")]
ENGINES = {"sqlite": "edge.hub.store.sqlite", "postgres": "edge.hub.store.postgres"}


def open_store(cfg: SqliteConfig | PostgresConfig, root: Path, migrate: bool = True):  # type: ignore[no-untyped-def]
    """The store for ``cfg``, its schema migrated to the newest revision first."""
    from edge.hub.store.sql import SqlStore, migrate as run_migrations

    engine = importlib.import_module(ENGINES[cfg.type]).engine(cfg, root)
    if migrate:
        run_migrations(engine)
    return SqlStore(engine)
