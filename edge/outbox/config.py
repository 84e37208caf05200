"""Outbox section (owned by the delivery stage, #6)."""
from __future__ import annotations

from pydantic import Field

from edge.configbase import Section


class OutboxConfig(Section):
    disk_budget_mb: int = Field(2048, ge=16, le=1_000_000)
