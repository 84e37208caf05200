"""Outbox section (owned by the delivery stage, #6).

The budget is what the outbox may occupy on the unit's storage (spool files
plus the SQLite files); a Pi's SD card is shared with the OS and logs, so the
default leaves most of a 32 GB card alone.
"""
from __future__ import annotations

from pydantic import Field, field_validator

from edge.configbase import Section, safe_id


class OutboxConfig(Section):
    disk_budget_mb: float = Field(2048, ge=1, le=1_000_000)
    # Eviction frees down to this share of the budget so it does not run on every commit.
    evict_to_pct: int = Field(90, ge=50, le=99)
    # Views of cleared parcels kept when full-size images are evicted: thumbnails and the
    # label crops (small, and they carry the reference for a later re-read).
    keep_views: tuple[str, ...] = ("thumb", "label", "label-redacted")
    # Keep acknowledged data as a local cache until the budget needs the room.
    retain_acked: bool = True
    # Below this much free space on the file system, status reports low disk and the outbox
    # frees space in its eviction order (acknowledged data, then cleared full-size images).
    min_free_mb: float = Field(256, ge=0, le=1_000_000)
    # How often an idle unit enforces the budget and free space (a busy one does on each commit).
    housekeeping_s: float = Field(60.0, ge=1, le=3600)

    @field_validator("keep_views")
    @classmethod
    def _views(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(safe_id(v) for v in value)

    @property
    def budget_bytes(self) -> int:
        return int(self.disk_budget_mb * 1024 * 1024)
