"""Decode section (owned by the label-reading stage, #3)."""
from __future__ import annotations

from pydantic import Field

from edge.configbase import Section


class DecodeConfig(Section):
    decoders: tuple[str, ...] = ("zxing", "zbar")
    max_frames: int = Field(3, ge=1, le=12)
    budget_ms: float = Field(40.0, gt=0, le=2000)
