"""PostgreSQL for a facility or a fleet, by database URL (psycopg 3).

Several hub processes share one server; exactly-once comes from the primary
keys and ``ON CONFLICT DO NOTHING`` in the same transaction as the effects.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from edge.configbase import Section


class PostgresConfig(Section):
    type: Literal["postgres"] = "postgres"
    # postgresql://user@/db?host=/run/postgresql (a socket) or postgresql://user:pw@host:5432/db
    url: str = Field(..., min_length=12, max_length=2000)
    pool_size: int = Field(5, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must be a postgresql:// URL")
        return value


def sqlalchemy_url(url: str) -> str:
    """The URL with psycopg 3 as the driver."""
    for head in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(head):
            return "postgresql+psycopg://" + url[len(head):]
    raise ValueError("not a postgresql URL")


def engine(cfg: PostgresConfig, root: Path) -> Any:
    from sqlalchemy import create_engine

    return create_engine(sqlalchemy_url(cfg.url), pool_size=cfg.pool_size, pool_pre_ping=True)
