"""The hub's tables as SQLAlchemy Core objects, one definition for SQLite and PostgreSQL.

The schema itself is created and evolved by the Alembic migrations beside this
module (``migrations/versions``); these objects only build queries, and a test
checks that a migrated database matches them.
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint)

metadata = MetaData()

parcels = Table(
    "parcels", metadata,
    Column("change", Integer, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("unit", String(64), nullable=False),
    Column("prefix", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("time_utc", String(32), nullable=False),
    Column("received_utc", String(32), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("ref_kind", String(24), nullable=False, default=""),
    Column("ref_value", String(128), nullable=False, default=""),
    Column("ref_norm", String(128), nullable=False, default=""),
    Column("ref_valid", Boolean, nullable=False, default=False),
    Column("brand", String(64), nullable=False, default=""),
    Column("top_label", String(64), nullable=False, default=""),
    Column("top_score", Float, nullable=False, default=0.0),
    Column("model_version", String(64), nullable=False, default=""),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("record", Text, nullable=False),
    Column("alert", Boolean, nullable=False, default=False),
    Column("open", Boolean, nullable=False, default=True),
    Index("ix_parcels_queue", "open", "outcome", "change"),
    Index("ix_parcels_outcome", "outcome", "change"),
    Index("ix_parcels_ref", "ref_norm"),
    Index("ix_parcels_unit_seq", "unit", "seq"),
    Index("ix_parcels_unit_change", "unit", "change"),      # migration 0002
    Index("ix_parcels_time", "time_utc"),
    Index("ix_parcels_brand", "brand", "change"),
)

parcel_images = Table(
    "parcel_images", metadata,
    Column("parcel_id", String(128), primary_key=True),
    Column("view", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("bytes", Integer, nullable=False, default=0),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("redacted", Boolean, nullable=False, default=False),
    Index("ix_parcel_images_sha", "sha256"),
)

images = Table(
    "images", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("content_type", String(64), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("received_utc", String(32), nullable=False),
)

units = Table(
    "units", metadata,
    Column("unit", String(64), primary_key=True),
    Column("prefix", String(200), nullable=False),
    Column("online", Boolean, nullable=False, default=False),
    Column("last_seen_utc", String(32), nullable=False, default=""),
    Column("status", Text, nullable=False, default="{}"),
)

cases = Table(
    "cases", metadata,
    Column("reference", String(128), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("state", String(32), nullable=False),
    Column("decision", String(32), nullable=False, default=""),
    Column("opened_utc", String(32), nullable=False),
)

case_events = Table(
    "case_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("time_utc", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("parcel_id", String(128), nullable=False, default=""),
    Index("ix_case_events_ref", "reference", "id"),
)

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_utc", String(32), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("expires_utc", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_user", "username"),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_utc", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Two appends racing on the same predecessor: one fails and retries, the chain never forks.
    UniqueConstraint("prev_hash", name="uq_audit_prev"),
)
