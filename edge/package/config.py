"""Package section (owned by the packaging stage, #5): redaction and file limits."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.configbase import Section


class PackageConfig(Section):
    """How a parcel's images are packaged; the image standard itself is the quality profile."""

    redact: bool = Field(True, description="make redacted copies for sharing outside customs")
    redaction_style: Literal["black", "pixelate"] = Field(
        "black", description="how label text is hidden in the redacted copies")
    label_margin_px: int = Field(8, ge=0, le=200, description="margin around the label view, px")
    max_image_bytes: int = Field(4_000_000, ge=50_000, le=50_000_000,
                                 description="a view over this is scaled down until it fits")
