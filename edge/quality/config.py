"""The photographic standard as a config section: every limit the unit enforces.

The same object renders the officers' one-page standard
(:mod:`edge.quality.standard_doc`), so what is enforced and what is published
cannot drift apart.  Defaults suit a 1280x960 frame of a 600 mm wide belt.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from edge.configbase import Section, safe_id

View = Literal["parcel", "label"]


class QualityProfile(Section):
    """Limits of the photographic standard; the ``name`` goes into every image's metadata."""

    name: str = "imf-default-v1"
    file_type: Literal["jpeg"] = "jpeg"
    jpeg_quality: int = Field(90, ge=50, le=100)
    colour_space: Literal["sRGB"] = "sRGB"
    bit_depth: Literal[8] = 8
    min_width: int = Field(640, ge=16, le=16384)
    min_height: int = Field(480, ge=16, le=16384)
    max_width: int = Field(4096, ge=16, le=16384)
    max_height: int = Field(4096, ge=16, le=16384)
    analysis_px: int = Field(640, ge=160, le=2048)
    min_sharpness: float = Field(3.0, ge=0, le=1000)
    min_brightness: float = Field(60.0, ge=0, le=255)
    max_brightness: float = Field(235.0, ge=0, le=255)
    clip_low: int = Field(8, ge=0, le=127)
    clip_high: int = Field(250, ge=128, le=255)
    max_shadows: float = Field(0.25, ge=0, le=1)
    max_highlights: float = Field(0.10, ge=0, le=1)
    max_glare: float = Field(0.04, ge=0, le=1)
    glare_delta: int = Field(70, ge=10, le=255)
    frame_margin: float = Field(0.01, ge=0, le=0.25)
    view_margin: float = Field(0.05, ge=0, le=0.5)
    min_module_px: float = Field(2.0, ge=0.5, le=20)
    views: tuple[View, ...] = ("parcel", "label")

    _name = field_validator("name")(safe_id)

    @field_validator("views")
    @classmethod
    def _views_unique(cls, views: tuple[str, ...]) -> tuple[str, ...]:
        if not views or len(set(views)) != len(views):
            raise ValueError("views must list 'parcel' and/or 'label' once each")
        return views

    @model_validator(mode="after")
    def _ranges(self) -> "QualityProfile":
        if self.min_width > self.max_width or self.min_height > self.max_height:
            raise ValueError("min_width/min_height must not exceed max_width/max_height")
        if self.min_brightness >= self.max_brightness:
            raise ValueError("min_brightness must be below max_brightness")
        if self.clip_low >= self.clip_high:
            raise ValueError("clip_low must be below clip_high")
        return self
