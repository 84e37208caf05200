"""Package section (owned by the packaging stage, #5): redaction and file limits."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.configbase import Section


class PackageConfig(Section):
    """How a parcel's images are packaged; the image standard itself is the quality profile."""

    redact: bool = True
    redaction_style: Literal["black", "pixelate"] = "black"
    label_margin_px: int = Field(8, ge=0, le=200)
    max_image_bytes: int = Field(4_000_000, ge=50_000, le=50_000_000)
