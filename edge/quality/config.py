"""Photographic standard profile (owned by the quality stage, #5)."""
from __future__ import annotations

from pydantic import Field

from edge.configbase import Section


class QualityProfile(Section):
    name: str = "imf-default-v1"
    jpeg_quality: int = Field(90, ge=50, le=100)
