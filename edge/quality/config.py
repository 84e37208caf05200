"""The photographic standard as a config section: every limit the unit enforces.

The same object renders the officers' one-page standard
(:mod:`edge.quality.standard_doc`), so what is enforced and what is published
cannot drift apart.  Defaults suit a 1280x960 frame of a 600 mm wide belt.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from edge.configbase import Section, safe_id
from edge.quality.exam import ExamView, check_exam_views, default_exam_views

View = Literal["parcel", "label"]


class QualityProfile(Section):
    """Limits of the photographic standard; the ``name`` goes into every image's metadata."""

    name: str = Field(
        "imf-default-v1",
        description="profile name, written into every image's XMP metadata and the record")
    file_type: Literal["jpeg"] = Field(
        "jpeg",
        description="file type of every image the unit produces")
    jpeg_quality: int = Field(90, ge=50, le=100, description="JPEG quality of every view")
    colour_space: Literal["sRGB"] = Field(
        "sRGB",
        description="colour space, declared in each image's XMP (exif:ColorSpace 1)")
    bit_depth: Literal[8] = Field(8, description="bits per colour channel")
    min_width: int = Field(
        640, ge=16, le=16384,
        description="smallest acceptable frame width, pixels")
    min_height: int = Field(
        480, ge=16, le=16384,
        description="smallest acceptable frame height, pixels")
    max_width: int = Field(
        4096, ge=16, le=16384,
        description="largest view width; larger views are scaled down before packaging")
    max_height: int = Field(
        4096, ge=16, le=16384,
        description="largest view height; larger views are scaled down before packaging")
    analysis_px: int = Field(
        640, ge=160, le=2048,
        description="longer side of the grey copy exposure and glare are measured on")
    min_sharpness: float = Field(
        3.0, ge=0, le=1000,
        description="second derivative along the belt per squared contrast x1000, "
                    "on the label at full resolution")
    min_brightness: float = Field(
        60.0, ge=0, le=255,
        description="lowest median luma of the parcel")
    max_brightness: float = Field(
        235.0, ge=0, le=255,
        description="highest median luma of the parcel")
    clip_low: int = Field(8, ge=0, le=127, description="luma at or below this is crushed shadow")
    clip_high: int = Field(
        250, ge=128, le=255,
        description="luma at or above this is clipped highlight")
    max_shadows: float = Field(
        0.25, ge=0, le=1,
        description="largest share of parcel pixels at or below clip_low")
    max_highlights: float = Field(
        0.10, ge=0, le=1,
        description="largest share of packaging pixels (label paper excluded) "
                    "at or above clip_high")
    max_glare: float = Field(
        0.04, ge=0, le=1,
        description="largest bright patch on the packaging, as a share of it")
    glare_delta: int = Field(
        70, ge=10, le=255,
        description="how far above the packaging's upper quartile a pixel counts as "
                    "bright (or clipped)")
    frame_margin: float = Field(
        0.01, ge=0, le=0.25,
        description="smallest gap between parcel and frame edge, as a share of that side")
    view_margin: float = Field(
        0.05, ge=0, le=0.5,
        description="margin around the parcel in the parcel view, as a share of its size")
    min_module_px: float = Field(
        2.0, ge=0.5, le=20,
        description="fewest pixels per barcode module where a barcode was read")
    views: tuple[View, ...] = Field(
        ("parcel", "label"),
        description="views packaged for every parcel (parcel, label)")
    exam_views: dict[str, ExamView] = Field(
        default_factory=default_exam_views,
        description="views an officer photographs at the exam table, in the order asked for")

    _name = field_validator("name")(safe_id)
    _exam_views = field_validator("exam_views")(check_exam_views)

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
